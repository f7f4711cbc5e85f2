"""`portcheck PORT` wall time next to the bare native command, the bare imports, and psutil; and on
every Python 3.9-3.13 this machine has, next to that version's own import floor and the zipapp.

Run by hand (never in tests):  .venv/bin/python benchmarks/bench_live.py [--rounds 15] [--this-only]
                                .venv/bin/python benchmarks/bench_live.py --owners-only [--rounds 31]

A child process listens on a loopback port; each round runs every command once, in alternating
order, so drift (caches, CPU frequency) spreads evenly. Medians and ratios are printed side by side,
then `python -X importtime` shows where portcheck's own start-up goes. The psutil one-liner needs the
`bench` extra (`pip install -e '.[bench]'`).

Every interpreter (scripts/interpreters.py finds them) gets a fresh venv with `pip install .` (what
a user has: the dependency versions pip picks for that version), and runs `portcheck PORT` (the script),
`portcheck query PORT` (the command named: typer reads the arguments), its import floor
`python -c "import typer, tabulate, pexpect"`, and `python -I portcheck.pyz PORT`
(built by scripts/build_pyz.py, or --pyz): all of them alternate in the same rounds.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from measure import Series, alternate, measure

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import interpreters  # noqa: E402  (scripts/interpreters.py)

# As installed: bytecode cached (a session with PYTHONDONTWRITEBYTECODE=1 would recompile every run).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(argv: Sequence[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV, check=False)
    return time.perf_counter() - started


def commands(port: int) -> dict[str, list[str]]:
    python = sys.executable
    found: dict[str, list[str]] = {
        "python -c pass": [python, "-c", "pass"],
        "import typer, tabulate, pexpect": [python, "-c", "import typer, tabulate, pexpect"],
        f"portcheck {port}": [python, "-m", "portcheck", str(port)],
        f"portcheck {port} --json": [python, "-m", "portcheck", str(port), "--json"],
        f"portcheck query {port} (typer)": [python, "-m", "portcheck", "query", str(port)],
    }
    if shutil.which("ss"):
        found[f"ss -tunapH 'sport = :{port}'"] = ["ss", "-tunapH", f"sport = :{port}"]
    if shutil.which("lsof"):
        found[f"lsof -nP -i :{port}"] = ["lsof", "-nP", f"-i:{port}"]
    try:
        import psutil  # noqa: F401

        one_liner = (
            "import psutil; print([c for c in psutil.net_connections('inet') if c.laddr and c.laddr.port == "
            f"{port}])"
        )
        found["psutil one-liner"] = [python, "-c", one_liner]
    except ImportError:
        print("(psutil not installed: pip install -e '.[bench]' for its row)")
    return found


_PHASES = """
import sys, time
t0 = time.perf_counter()
import portcheck.cli as cli, portcheck.live.query as query, portcheck.commands.shared as shared
t1 = time.perf_counter()
marks = {}
def timed(module, name):
    real = getattr(module, name)
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            marks[name] = (started, time.perf_counter() - started)
    setattr(module, name, wrapper)
timed(query, "inspect")
timed(shared, "emit")
try:
    cli.main([sys.argv[1]])
except SystemExit:
    pass
print(t1 - t0, marks["inspect"][0] - t1, marks["inspect"][1], marks["emit"][1], file=sys.stderr)
"""


def phases(port: int, rounds: int) -> None:
    """Where one `portcheck PORT` spends its time, measured inside the process."""
    samples = []
    for _ in range(rounds):
        result = subprocess.run(
            [sys.executable, "-c", _PHASES, str(port)], capture_output=True, text=True, env=ENV, check=False
        )
        samples.append([float(x) for x in result.stderr.split()[-4:]])
    imports, parsing, inspect, render = (statistics.median(column) * 1000 for column in zip(*samples))
    print(f"\ninside one `portcheck {port}` (medians of {rounds}):")
    print(f"  importing portcheck's CLI          {imports:6.1f} ms  (no typer: cli.plain_query)")
    print(f"  reading the arguments              {parsing:6.1f} ms")
    print(f"  inspect(): plan, ss, parse, hints  {inspect:6.1f} ms")
    print(f"  rendering the table                {render:6.1f} ms")


def importtime(port: int, top: int) -> None:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "portcheck", str(port)],
        capture_output=True,
        text=True,
        env=ENV,
        check=False,
    )
    rows = []
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, self_us, cumulative_us, name = (
            part.strip() for part in line.replace("import time:", "|").split("|")
        )
        if self_us.isdigit():
            rows.append((int(cumulative_us), int(self_us), name))
    total = max(rows)[0] if rows else 0
    print(f"\nimports of `portcheck {port}` (python -X importtime): {total / 1000:.1f} ms in total")
    own = sum(s for _, s, name in rows if name.lstrip().startswith("portcheck"))
    print(f"portcheck's own modules (self time): {own / 1000:.1f} ms")
    for cumulative, self_us, name in sorted(rows, reverse=True)[:top]:
        print(f"  {cumulative / 1000:7.1f} ms cumulative  {self_us / 1000:6.1f} ms self  {name.strip()}")
    for heavy in ("pexpect", "tabulate", "portcheck.live.procfs", "portcheck.live.sudo"):
        loaded = any(name.strip() == heavy for _, _, name in rows)
        print(f"  {heavy}: {'imported' if loaded else 'not imported'}")


_DEPENDENCIES = """
from importlib.metadata import PackageNotFoundError, version
found = []
for name in ("typer", "click", "tabulate"):
    try:
        found.append(f"{name} {version(name)}")
    except PackageNotFoundError:
        pass
print(", ".join(found))
"""


def every_interpreter(port: int, rounds: int, pyz: Path | None, scratch: Path) -> None:
    """One row per interpreter: installed portcheck vs its import floor, and the zipapp vs installed."""
    found = [f for f in interpreters.find_all() if f.path is not None]
    if pyz is None:
        pyz = scratch / "portcheck.pyz"
        subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "build_pyz.py"), "--output", str(pyz)], check=True
        )
    table: dict[str, tuple[list[str], None]] = {}
    dependencies = {}
    for interpreter in found:
        assert interpreter.path is not None
        venv = scratch / f"python{interpreter.version}"
        print(f"python{interpreter.version}: venv and pip install . ...", flush=True)
        subprocess.run([interpreter.path, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", str(ROOT)], check=True, stderr=subprocess.DEVNULL
        )
        python = str(venv / "bin" / "python")
        dependencies[interpreter.version] = subprocess.run(
            [python, "-c", _DEPENDENCIES], capture_output=True, text=True, check=True
        ).stdout.strip()
        table[f"{interpreter.version} floor"] = ([python, "-c", "import typer, tabulate, pexpect"], None)
        table[f"{interpreter.version} installed"] = ([str(venv / "bin" / "portcheck"), str(port)], None)
        # typer's cost, shown apart: `query` named, or any option with a value, goes through it (port
        # numbers and on/off flags such as --json alone do not)
        table[f"{interpreter.version} typer"] = ([str(venv / "bin" / "portcheck"), "query", str(port)], None)
        table[f"{interpreter.version} pyz"] = ([interpreter.path, "-I", str(pyz), str(port)], None)
    alternate(table, 1)  # warm: .pyc files written, caches filled
    series = alternate(table, rounds)
    print(f"\n{rounds} alternating rounds, medians; pyz: {pyz} ({pyz.stat().st_size / 1e6:.1f} MB)")
    print("wall time (CPU time of the process and its children in brackets: steadier on a busy machine)\n")
    print(
        f"{'python':9} {'import floor':>17} {'portcheck PORT':>17} {'vs floor':>13} {'query PORT':>17} "
        f"{'vs floor':>13} {'pyz -I':>17} {'vs installed':>13}  dependencies (pip's choice)"
    )
    for interpreter in found:
        v = interpreter.version
        floor, installed, typed, zipped = (series[f"{v} {k}"] for k in ("floor", "installed", "typer", "pyz"))
        print(
            f"{interpreter.detail:9} {_ms(floor)} {_ms(installed)} {_ratio(installed, floor)} {_ms(typed)} "
            f"{_ratio(typed, floor)} {_ms(zipped)} {_ratio(zipped, installed)}  {dependencies[v]}"
        )
    print()


def _ms(series: Series) -> str:
    return f"{series.wall * 1000:6.1f} ({series.cpu * 1000:5.1f}) ms"


def _ratio(numerator: Series, denominator: Series) -> str:
    return f"{numerator.wall / denominator.wall:5.2f}x ({numerator.cpu / denominator.cpu:4.2f})"


_RUN = "import sys, portcheck.cli as cli\ncli.main(sys.argv[1:])\n"
_WITHOUT_OWNERS = (
    "import sys, portcheck.cli as cli, portcheck.live.query as query\n"
    "inspect = query.inspect\n"
    "query.inspect = lambda *a, **k: inspect(*a, **{**k, 'enrich': False})\n"
    "cli.main(sys.argv[1:])\n"
)
_ENRICH_TIME = """
import sys, time, portcheck.cli as cli, portcheck.live.enrich as enrich, portcheck.live.query as query
real = enrich.enrich
spent = []
def timed(*args, **kwargs):
    started = time.perf_counter()
    try:
        return real(*args, **kwargs)
    finally:
        spent.append(time.perf_counter() - started)
enrich.enrich = timed
try:
    cli.main(sys.argv[1:])
except SystemExit:
    pass
print(sum(spent), file=sys.stderr)
"""


def owners_cost(ports: dict[str, list[int]], rounds: int, env: dict[str, str]) -> None:
    """`portcheck PORT` with the owner fields (cmdline, started, service, container) and without them
    (inspect(enrich=False) patched in), in alternating rounds, per scenario; and enrich() timed inside
    the process (what the fields cost, without the noise of two process start-ups)."""
    python = sys.executable
    print(f"\nowner fields (cmdline, started, service, container): {rounds} alternating rounds, medians")
    print(f"{'scenario':44} {'with':>17} {'without':>17} {'added':>17} {'enrich() inside':>16}")
    for scenario, port_list in ports.items():
        spec = ",".join(map(str, port_list))
        argvs = {"with": [python, "-c", _RUN, spec], "without": [python, "-c", _WITHOUT_OWNERS, spec]}
        for argv in argvs.values():
            measure(argv, None, env)
        series = {name: Series() for name in argvs}
        inside = []
        for number in range(rounds):
            for name in list(argvs) if number % 2 == 0 else list(argvs)[::-1]:
                series[name].samples.append(measure(argvs[name], None, env))
            done = subprocess.run(
                [python, "-c", _ENRICH_TIME, spec], capture_output=True, text=True, env=env, check=False
            )
            inside.append(float(done.stderr.split()[-1]))
        with_, without = series["with"], series["without"]
        added_wall = (with_.wall - without.wall) * 1000
        added_cpu = (with_.cpu - without.cpu) * 1000
        print(
            f"{scenario:44} {_ms(with_)} {_ms(without)} {added_wall:7.1f} ({added_cpu:5.1f}) ms "
            f"{statistics.median(inside) * 1000:12.2f} ms"
        )


def owner_scenarios(port: int, rounds: int) -> None:
    """A plain listener (no container: /proc only), then, where the tests' Docker lab can start, a
    docker-proxy row and a host-network container's row (one `docker ps` more)."""
    owners_cost({f"python listener on {port} (no container)": [port]}, rounds, dict(ENV))
    sys.path.insert(0, str(ROOT))
    from tests.helpers.docker_lab import DockerLabUnavailable, docker_lab

    try:
        with docker_lab() as lab:
            env = {**ENV, **lab.env}
            scenarios = {
                "docker-proxy (published port)": [lab.web.host_port],
                "docker-proxy + host-network container": [lab.web.host_port, lab.hostnet.host_port],
            }
            owners_cost(scenarios, rounds, env)
    except DockerLabUnavailable as why:
        print(f"(no Docker lab here: {why})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument("--this-only", action="store_true", help="only the interpreter running this")
    parser.add_argument("--pyz", type=Path, help="a built portcheck.pyz (default: build one)")
    parser.add_argument("--owners-only", action="store_true", help="only the owner fields' cost")
    args = parser.parse_args()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        if args.owners_only:
            owner_scenarios(port, args.rounds)
            return
        if not args.this_only:
            with tempfile.TemporaryDirectory(prefix="bench-live-") as scratch:
                every_interpreter(port, args.rounds, args.pyz, Path(scratch))
        table = commands(port)
        for argv in table.values():  # warm caches and .pyc files
            timed(argv)
        samples: dict[str, list[float]] = {name: [] for name in table}
        names = list(table)
        for round_number in range(args.rounds):
            order = names if round_number % 2 == 0 else names[::-1]
            for name in order:
                samples[name].append(timed(table[name]))
        base_name = next((n for n in names if n.startswith("ss ")), names[0])
        base = statistics.median(samples[base_name])
        imports = statistics.median(samples["import typer, tabulate, pexpect"])
        print(
            f"{args.rounds} alternating rounds on {os.uname().sysname}, {os.cpu_count()} CPUs, port {port}\n"
        )
        print(f"{'command':44} {'median':>9} {'min':>9} {'vs ' + base_name[:10]:>14} {'vs imports':>11}")
        for name in names:
            median = statistics.median(samples[name])
            print(
                f"{name:44} {median * 1000:7.1f}ms {min(samples[name]) * 1000:7.1f}ms "
                f"{median / base:13.1f}x {median / imports:10.2f}x"
            )
        portcheck_median = statistics.median(samples[f"portcheck {port}"])
        beyond = portcheck_median - imports
        print(
            f"\nportcheck beyond the bare imports: {beyond * 1000:.1f} ms "
            f"({beyond / imports:.0%} of the import time of typer+tabulate+pexpect)"
        )
        phases(port, args.rounds)
        importtime(port, args.top)
        owner_scenarios(port, args.rounds)


if __name__ == "__main__":
    main()
