"""Which hint a set of rows earns, and which it must not."""

from __future__ import annotations

from portcheck.core.model import Family, Proto, Socket, State
from portcheck.live.hints import (
    KERNEL_OWNED_HINT,
    NO_OWNERS_HINT,
    OWN_SOCKETS_HINT,
    SUDO_HINT,
    TIME_WAIT_HINT,
    WINDOWS_KERNEL_HINT,
    hints_for,
)


def sock(
    state: State = State.LISTEN, pid: int | None = None, process: str | None = None, user: str | None = None
) -> Socket:
    return Socket(Proto.TCP, Family.IPV4, "0.0.0.0", 80, None, None, state, pid, process, user, "ss")


def test_other_users_socket_without_pid_asks_for_sudo_once() -> None:
    rows = [sock(user="root"), sock(user="postgres")]
    assert hints_for(rows, privileged=False, user="alice") == [SUDO_HINT]


def test_own_socket_or_time_wait_without_pid_is_not_a_privilege_problem() -> None:
    assert hints_for([sock(user="alice")], privileged=False, user="alice") == []
    assert hints_for([sock(State.TIME_WAIT)], privileged=False, user="alice") == [TIME_WAIT_HINT]


def test_as_root_a_socket_without_process_is_the_kernels() -> None:
    assert hints_for([sock(user="root")], privileged=True, user="root") == [KERNEL_OWNED_HINT]
    assert hints_for([sock(pid=1, process="sshd")], privileged=True, user="root") == []


def test_windows_pid_4_and_pid_0() -> None:
    rows = [sock(pid=4, process="System"), sock(State.TIME_WAIT, pid=0, process="System Idle Process")]
    assert hints_for(rows, privileged=False, user=None, windows=True) == [TIME_WAIT_HINT, WINDOWS_KERNEL_HINT]


def test_forwarders_name_where_the_server_really_is() -> None:
    rows = [
        sock(pid=9, process="docker-proxy"),
        sock(pid=10, process="docker-proxy"),
        sock(pid=11, process="WSLRelay.exe"),
        sock(pid=12, process="kubectl"),
    ]
    hints = hints_for(rows, privileged=True, user="root")
    assert hints == [
        "docker-proxy only forwards this port: the real server runs in a Docker container (docker ps)",
        "wslrelay.exe only forwards this port: the real server runs in WSL "
        "(look inside the WSL distribution)",
        "kubectl only forwards this port: the real server runs in a Kubernetes pod "
        "(a `kubectl port-forward` left running)",
    ]


def test_lsof_without_root_and_tools_that_never_show_owners() -> None:
    assert hints_for([sock(pid=5, process="x")], privileged=False, user="a", own_sockets_only=True) == [
        OWN_SOCKETS_HINT
    ]
    assert hints_for([sock()], privileged=False, user="a", shows_owners=False) == [NO_OWNERS_HINT]
    assert hints_for([], privileged=False, user="a") == []
