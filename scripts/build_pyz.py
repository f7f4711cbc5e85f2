"""Build dist/portcheck.pyz: portcheck and its pure-Python dependencies in one file that any Python 3.9+
runs with nothing installed (`python3 portcheck.pyz 60653`, also under `python3 -I`).

    python3 scripts/build_pyz.py [--output dist/portcheck.pyz] [--wheels DIR] [--compile-for PYTHON]...

The dependencies are the wheels pinned, with their sha256, in scripts/pyz-requirements.txt: pip
downloads them (or --wheels names a folder that holds them, for a machine without a package index) and
every wheel is checked against its pin.

Bytecode: zipimport never writes a cache, so from sources alone every run would compile typer, click
and portcheck again (about 0.2 s more than an installed portcheck). The archive therefore also holds,
for every supported interpreter this machine has (scripts/interpreters.py; --compile-for chooses), a
complete tree of bytecode, pyc/<cache tag>-<magic number>/, which __main__.py puts first on sys.path
when it is run by that interpreter; any other interpreter reads the sources at the top.

Reproducible: the archive is written member by member with zipfile, so the same sources, wheels and
interpreters give the same bytes: members sorted by name, one fixed timestamp and mode, bytecode
compiled with a fixed hash seed and without timestamps (unchecked-hash .pyc), and of each wheel's
metadata only its licence files, under licenses/.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import stat
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import NamedTuple

import interpreters  # scripts/interpreters.py, beside this file

ROOT = Path(__file__).resolve().parent.parent
PINS = ROOT / "scripts" / "pyz-requirements.txt"
SOURCE = ROOT / "src" / "portcheck"
OUTPUT = ROOT / "dist" / "portcheck.pyz"

SHEBANG = b"#!/usr/bin/env python3\n"
TIMESTAMP = (1980, 1, 1, 0, 0, 0)
"""Every member's date: the earliest a zip can hold, so the bytes never depend on when files were made."""

MAIN = '''\
"""Entry point of portcheck.pyz (scripts/build_pyz.py). Written for any Python, so that an old one
gets a sentence instead of a SyntaxError from the modules it cannot read."""
import os
import sys

if sys.version_info < (3, 9):
    sys.stderr.write(
        "portcheck: needs Python 3.9 or newer; this is Python %d.%d\\n" % sys.version_info[:2]
    )
    sys.exit(2)

COMPILED = {compiled!r}
"""The interpreters this archive holds bytecode for, in pyc/TAG: imported from there, nothing is
compiled at start-up. Any other interpreter (or a different bytecode format) reads the sources."""


def bytecode_tree():
    try:
        from _frozen_importlib_external import MAGIC_NUMBER
    except ImportError:  # not CPython
        return None
    tag = "%s-%s" % (sys.implementation.cache_tag, MAGIC_NUMBER.hex())
    return os.path.join(sys.path[0], "pyc", tag) if tag in COMPILED else None


tree = bytecode_tree()
if tree is not None:
    sys.path.insert(0, tree)

from portcheck.cli import main

main()
'''

_COMPILE = """
import compileall, importlib.util, py_compile, sys
tree, ddir = sys.argv[1], sys.argv[2]
ok = compileall.compile_dir(
    tree, ddir=ddir, quiet=1, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH
)
print(sys.implementation.cache_tag, importlib.util.MAGIC_NUMBER.hex())
sys.exit(0 if ok else 1)
"""
"""Run by each interpreter: compile every module of the tree into __pycache__/NAME.TAG.pyc. Without
timestamps (unchecked-hash), with co_filename under ddir instead of the temporary folder."""

_LICENCE_NAMES = ("LICENSE", "LICENCE", "COPYING", "NOTICE", "AUTHORS")


class BuildError(Exception):
    pass


def read_pins(path: Path) -> dict[str, str]:
    """sha256 -> `name==version`, from a requirements file whose every line carries one --hash."""
    pins: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        hashes = [w.split(":", 1)[1] for w in words[1:] if w.startswith("--hash=sha256:")]
        if "==" not in words[0] or len(hashes) != 1:
            raise BuildError(f"{path}:{number}: expected 'name==version --hash=sha256:HEX'")
        pins[hashes[0]] = words[0]
    return pins


def download(pins: Path, into: Path) -> None:
    """pip download exactly the pinned wheels (pip itself refuses any whose hash differs)."""
    argv = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check"]
    argv += ["--no-deps", "--only-binary=:all:", "--require-hashes", "-r", str(pins), "-d", str(into)]
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BuildError("pip download failed:\n" + (result.stderr.strip() or result.stdout.strip()))


def pinned_wheels(folder: Path, pins: dict[str, str]) -> list[Path]:
    """The wheel of every pin, found in `folder` by its hash; anything missing is an error."""
    found: dict[str, Path] = {}
    for wheel in sorted(folder.glob("*.whl")):
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        if digest in pins:
            found[digest] = wheel
    missing = sorted(pin for digest, pin in pins.items() if digest not in found)
    if missing:
        raise BuildError(f"no wheel in {folder} matches the pinned hash of: {', '.join(missing)}")
    return [found[digest] for digest in pins]


def wheel_members(wheel: Path) -> Iterator[tuple[str, bytes]]:
    """A pure-Python wheel's importable files, and its licence files moved to licenses/NAME-VERSION/."""
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            if name.endswith("/") or "__pycache__/" in name or name.endswith(".pyc"):
                continue
            top, _, rest = name.partition("/")
            if top.endswith(".dist-info"):
                if Path(rest).name.upper().startswith(_LICENCE_NAMES):
                    dist = top[: -len(".dist-info")]
                    yield f"licenses/{dist}/{Path(rest).name}", archive.read(name)
                continue
            if top.endswith(".data"):
                raise BuildError(f"{wheel.name}: installs files outside site-packages ({top}); not bundled")
            yield name, archive.read(name)


def source_members(package: Path) -> Iterator[tuple[str, bytes]]:
    """portcheck's own files, as a wheel would hold them (no bytecode, no editor or cache debris)."""
    for path in sorted(package.rglob("*")):
        if path.is_dir() or "__pycache__" in path.parts or path.suffix in (".pyc", ".pyo"):
            continue
        yield path.relative_to(package.parent).as_posix(), path.read_bytes()


_COMPILE_ENV = {
    **{name: value for name, value in os.environ.items() if not name.startswith("PYTHON")},
    "PYTHONHASHSEED": "0",
}
"""No PYTHONOPTIMIZE or PYTHONPYCACHEPREFIX to change what compileall writes where; a fixed hash seed,
so that sets and frozensets among a module's constants keep one order from build to build."""


def compile_trees(modules: dict[str, bytes], pythons: list[str], scratch: Path) -> dict[str, bytes]:
    """pyc/TAG/... for each interpreter: every module as a sourceless .pyc, every other file of a
    package (data) as it is, so that the tree imports on its own; the sources stay in the archive's
    top level for interpreters without a tree."""
    tree = scratch / "tree"
    for name, data in modules.items():
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_bytes(data)
    compiled: dict[str, bytes] = {}
    for python in pythons:
        try:
            result = subprocess.run(
                [python, "-c", _COMPILE, str(tree), "portcheck.pyz"],
                capture_output=True,
                text=True,
                env=_COMPILE_ENV,
                check=False,
            )
        except OSError as error:
            raise BuildError(f"cannot run {python}: {error.strerror or error}") from None
        if result.returncode != 0:
            raise BuildError(
                f"{python} could not compile the archive's modules:\n{result.stdout}{result.stderr}"
            )
        cache_tag, magic = result.stdout.split()[-2:]
        tag = f"{cache_tag}-{magic}"
        for name, data in modules.items():
            path = PurePosixPath(name)
            if path.suffix == ".py":
                pyc = tree / path.parent / "__pycache__" / f"{path.stem}.{cache_tag}.pyc"
                compiled[f"pyc/{tag}/{path.with_suffix('.pyc')}"] = pyc.read_bytes()
            else:
                compiled[f"pyc/{tag}/{name}"] = data
    return compiled


def write_archive(members: dict[str, bytes], output: Path) -> None:
    """Write the zip with a shebang line before it (zipimport finds the archive after any prefix)."""
    buffer = io.BytesIO()
    buffer.write(SHEBANG)
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, TIMESTAMP)
            info.create_system = 3  # Unix, whatever builds it, so the mode below means the same
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, members[name], compresslevel=9)
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    partial.write_bytes(buffer.getvalue())
    partial.chmod(0o755)
    os.replace(partial, output)


class Built(NamedTuple):
    sha256: str
    bytecode_for: list[str]
    """the pyc/ trees, one per interpreter compiled for"""


def build(output: Path, wheels: Path | None = None, compile_for: list[str] | None = None) -> Built:
    """Build the archive at `output`. `compile_for`: interpreter paths to hold bytecode for (default:
    every supported one scripts/interpreters.py finds)."""
    if compile_for is None:
        compile_for = [found.path for found in interpreters.find_all() if found.path is not None]
    pins = read_pins(PINS)
    modules: dict[str, bytes] = {}
    licences: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory(prefix="portcheck-pyz-") as scratch:
        if wheels is None:
            wheels = Path(scratch) / "wheels"
            download(PINS, wheels)
        for wheel in pinned_wheels(wheels, pins):
            for name, data in wheel_members(wheel):
                if name in modules or name in licences:
                    raise BuildError(f"{wheel.name}: {name} is also in another wheel")
                (licences if name.startswith("licenses/") else modules)[name] = data
        modules.update(source_members(SOURCE))
        compiled = compile_trees(modules, compile_for, Path(scratch))
    tags = sorted({name.split("/")[1] for name in compiled})
    main = MAIN.format(compiled=tuple(tags)).encode()
    write_archive({"__main__.py": main, **modules, **licences, **compiled}, output)
    return Built(hashlib.sha256(output.read_bytes()).hexdigest(), tags)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=OUTPUT, help="default: dist/portcheck.pyz")
    parser.add_argument("--wheels", type=Path, help="take the pinned wheels from this folder, not pip")
    parser.add_argument(
        "--compile-for",
        metavar="PYTHON",
        action="append",
        help="an interpreter to hold bytecode for (repeatable; 'none' for sources only); default: "
        "every Python 3.9-3.13 scripts/interpreters.py finds",
    )
    args = parser.parse_args()
    compile_for = None if args.compile_for is None else [p for p in args.compile_for if p != "none"]
    try:
        built = build(args.output, args.wheels, compile_for)
    except BuildError as error:
        sys.exit(f"build_pyz: {error}")
    size = args.output.stat().st_size
    print(f"{args.output}: {size:,} bytes ({size / 1024:.0f} KiB), sha256 {built.sha256}")
    compiled = ", ".join(built.bytecode_for) or "none (every interpreter compiles the sources at each run)"
    print(f"bytecode for: {compiled}")


if __name__ == "__main__":
    main()
