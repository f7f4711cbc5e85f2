"""`enum.StrEnum` for every supported Python: the standard one from 3.11, an equivalent before.

macOS's system python3 is 3.9 and Ubuntu 22.04's is 3.10, so portcheck cannot import StrEnum from
`enum` unconditionally. The fallback behaves like 3.11's where portcheck relies on it: members are
str instances that compare, hash, print (`str()`, f-strings) and serialise (json) as their value.
"""

from __future__ import annotations

import sys
from enum import Enum

if sys.version_info >= (3, 11):
    from enum import StrEnum
else:

    class StrEnum(str, Enum):
        """A str whose members print as their value, as 3.11's enum.StrEnum."""

        def __str__(self) -> str:
            return str.__str__(self)

        def __format__(self, format_spec: str) -> str:
            return str.__format__(self, format_spec)


__all__ = ["StrEnum"]
