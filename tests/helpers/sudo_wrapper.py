"""Run portcheck as if not root, with `tests`' fake sudo in the system directories.

--sudo resolves sudo and the tools from runner.SYSTEM_DIRS only, and no option or environment
variable can change that list; this wrapper (test code, run under a pty by test_live_sudo.py) puts
its first argument in front of the list and makes the process look unprivileged, then runs the real
entry point with the remaining arguments.
"""

from __future__ import annotations

import sys

from portcheck import platforms
from portcheck.live import runner


def _not_root() -> bool:
    return False


if __name__ == "__main__":
    runner.SYSTEM_DIRS = (sys.argv[1], *runner.SYSTEM_DIRS)
    platforms.is_elevated = _not_root
    from portcheck.cli import main

    main(sys.argv[2:])
