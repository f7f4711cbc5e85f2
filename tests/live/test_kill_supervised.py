"""Kill that frees the port (issue 16): a holder that systemd would restart is named before the
question, `--stop-service` stops the unit instead, and a holder that comes back after a plain kill is
reported with who started it. Real processes in a real cgroup named like a unit's; only systemctl is a
fake (tests/helpers/services.py: systemd is not PID 1 here)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.helpers.services import Service, systemd_service

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="cgroups and /proc: Linux"),
    pytest.mark.skipif(os.geteuid() != 0, reason="creating a cgroup needs root"),
    pytest.mark.skipif(shutil.which("ss") is None, reason="ss lists the holder"),
]


NAME = Path(sys.executable).name[:15]
"""The servers' name (comm: the file the supervisor ran, as the kernel keeps it)."""


def kill(service: Service, *args: str) -> tuple[int, str, str]:
    path = f"{service.bin_dir}{os.pathsep}{os.environ['PATH']}"
    result = run_cli("kill", str(service.port), "--yes", "--grace", "2", *args, env={"PATH": path})
    assert "Traceback" not in result.stderr
    return result.code, result.stdout, result.stderr


def test_the_unit_is_read_from_the_real_cgroup(tmp_path: Path) -> None:
    with systemd_service(tmp_path) as service:
        main = service.main_pid()
        result = run_cli(str(service.port), "--json")
        (row,) = result.json()  # type: ignore[misc]
        assert (row["pid"], row["service"], row["container"]) == (main, service.unit, None)
        assert Path(f"/proc/{main}/cgroup").read_text().splitlines()[-1] == f"0::/system.slice/{service.unit}"
        table = run_cli(str(service.port))
        assert f"({service.unit})" in table.stdout  # PROCESS shows the unit beside the name


def test_a_restarted_holder_is_reported_with_its_supervisor(tmp_path: Path) -> None:
    with systemd_service(tmp_path) as service:
        main = service.main_pid()
        code, stdout, stderr = kill(service)
        assert (
            f"is {service.unit}'s main process, and systemd will restart it (Restart=always): "
            f"`systemctl stop {service.unit}`, or `portcheck kill {service.port} --stop-service`" in stderr
        )
        assert f"PID {main} ({NAME}): ended by SIGTERM" in stdout
        back = service.main_pid(other_than=main)
        assert (
            f"port {service.port} is held again: PID {back} ({NAME}), started again by systemd "
            f"({service.unit})" in stderr
        )
        assert code == 1
        assert [
            "systemctl",
            "show",
            "--property=Restart",
            "--property=MainPID",
            service.unit,
        ] in service.systemctl_calls()


def test_stop_service_stops_the_unit_and_frees_the_port(tmp_path: Path) -> None:
    with systemd_service(tmp_path) as service:
        main = service.main_pid()
        code, stdout, stderr = kill(service, "--stop-service")
        assert ["systemctl", "stop", service.unit] in service.systemctl_calls()
        assert (
            f"PID {main} ({NAME}): ended by `systemctl stop {service.unit}` (systemd service {service.unit})"
            in stdout
        )
        assert f"Port {service.port} is free." in stdout
        assert "will restart it" not in stderr  # the advice is what was done
        assert code == 0, stderr


def test_a_unit_that_does_not_restart_is_ended_by_the_signal(tmp_path: Path) -> None:
    with systemd_service(tmp_path, restart="no") as service:
        (service.state / "stopped").touch()  # the supervisor restarts nothing, as Restart=no
        main = service.main_pid()
        code, stdout, stderr = kill(service)
        assert (
            f"(systemd will not restart it: Restart=no); `systemctl stop {service.unit}` stops it" in stderr
        )
        assert f"PID {main} ({NAME}): ended by SIGTERM" in stdout
        assert code == 0, stderr
