"""The CPython interpreters of the versions portcheck supports (3.9 to 3.13) that this machine has.

    python3 scripts/interpreters.py [--except 3.11]

prints one line per version, tab-separated: the version, then the interpreter's path and full version,
or `-` and why there is none ("python3.10 not found"). Looked for in pyenv's versions
(PYENV_ROOT, else ~/.pyenv: the newest patch release of each), then as `python3.X` on PATH, then the
interpreter running this (macOS has a python3 but no python3.9 on PATH). A candidate counts only if it
runs, says it is that version, and can make a venv with pip (Debian splits venv and ensurepip into
python3.X-venv). .ci/run, benchmarks/bench_live.py and the zipapp's
test all ask this one module, so they agree on what "every interpreter here" means.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

SUPPORTED = ("3.9", "3.10", "3.11", "3.12", "3.13")

_PROBE = "import sys, venv, ensurepip; print('%d.%d.%d' % sys.version_info[:3])"


@dataclass(frozen=True)
class Interpreter:
    version: str
    """major.minor, e.g. "3.9" """
    path: str | None
    """None when this machine has no usable interpreter of the version"""
    detail: str
    """the full version (3.9.18) when found, else why not"""


def _pyenv_candidates(version: str) -> list[Path]:
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    pattern = re.compile(rf"{re.escape(version)}\.(\d+)")
    found = []
    if root.is_dir():
        for entry in root.iterdir():
            match = pattern.fullmatch(entry.name)
            if match and (entry / "bin" / f"python{version}").exists():
                found.append((int(match.group(1)), entry / "bin" / f"python{version}"))
    return [path for _, path in sorted(found, reverse=True)]


def _probe(path: str, version: str) -> str | None:
    """The full version if `path` is a working `version` with venv and ensurepip, else None."""
    try:
        result = subprocess.run([path, "-c", _PROBE], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    full = result.stdout.strip()
    return full if result.returncode == 0 and full.startswith(version + ".") else None


def find(version: str) -> Interpreter:
    candidates = [str(p) for p in _pyenv_candidates(version)]
    on_path = shutil.which(f"python{version}")
    if on_path:
        candidates.append(on_path)
    if f"{sys.version_info[0]}.{sys.version_info[1]}" == version:  # the one running this, whatever its name
        candidates.append(sys.executable)
    for candidate in candidates:
        full = _probe(candidate, version)
        if full is not None:
            return Interpreter(version, candidate, full)
    if candidates:
        return Interpreter(version, None, f"python{version} found but unusable (no venv/ensurepip?)")
    return Interpreter(version, None, f"python{version} not found")


def find_all(skip: tuple[str, ...] = ()) -> list[Interpreter]:
    return [find(version) for version in SUPPORTED if version not in skip]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--except", dest="skip", action="append", default=[], help="a version to leave out")
    args = parser.parse_args()
    for interpreter in find_all(tuple(args.skip)):
        print(f"{interpreter.version}\t{interpreter.path or '-'}\t{interpreter.detail}")


if __name__ == "__main__":
    main()
