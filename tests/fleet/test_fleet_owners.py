"""Who holds the port on an ssh host (issue 16): the same facts as on this machine, from ONE extra remote
command for every PID of the answer (platforms.linux.OWNERS_SCRIPT), through the real ssh lab."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from portcheck.api.sockets import selection
from portcheck.core.portspec import parse_port_spec
from portcheck.fleet.fleet import Fleet, Request, ask_host, targets_from
from portcheck.fleet.remote import SSHExecutor
from portcheck.live.query import Answer
from tests.helpers.live import Holder, socket_holder
from tests.helpers.sshd import Lab, sshd_available

pytestmark = pytest.mark.skipif(sshd_available() is not None, reason=str(sshd_available()))


@pytest.fixture(scope="module")
def holder() -> Iterator[Holder]:
    with socket_holder("pc-fleet-owner") as held:
        yield held


def test_one_remote_command_tells_about_every_pid(lab: Lab, holder: Holder) -> None:
    spec = parse_port_spec(*holder.port_args)
    calls: list[list[str]] = []

    def job(executor: SSHExecutor) -> Answer:
        real = executor.run

        def counted(argv: list[str], **options: object) -> object:
            calls.append(list(argv))
            return real(argv, **options)  # type: ignore[arg-type]

        executor.run = counted  # type: ignore[assignment, method-assign]
        return ask_host(Request(spec, 20.0, selection(ports=spec)), executor)

    fleet = Fleet(targets_from(["srv0"], None), timeout=20.0, ssh_config=str(lab.config))
    (result,) = fleet.run(job)
    assert result.value is not None, result.failure
    rows = result.value.rows
    assert {(r.pid, r.cmdline, r.started) for r in rows} == {(holder.pid, holder.cmdline, holder.started)}
    tools = [argv[0] for argv in calls]
    assert tools[:2] == ["ss", "sh"] and tools.count("sh") == 1  # the query, then the owners of all its PIDs
    assert set(tools) <= {"ss", "sh", "getent"}  # (getent names uids when ss printed some)
    assert calls[1][-1:] == [str(holder.pid)]  # one script, the PIDs as its arguments
