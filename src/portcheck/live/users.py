"""User names for the uids that ss, `netstat -n` and /proc print, from this machine's password database."""

from __future__ import annotations

import os
from functools import cache


@cache
def user_name(uid: int) -> str:
    """The login name for a uid; the number itself when the machine has none (a container's uid)."""
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (KeyError, ImportError):
        return str(uid)


def current_user() -> str | None:
    """Who runs portcheck (None where uids do not exist, on Windows)."""
    getuid = getattr(os, "getuid", None)
    return user_name(getuid()) if getuid is not None else None
