"""What the tests' Docker lab (tests/helpers/docker_lab.py) costs a test session: start and tear-down times.

Run by hand (never in tests), as root, where the lab can run:  .venv/bin/python benchmarks/bench_docker_lab.py
    [--rounds 5]

Each round starts a whole lab (dockerd up to its first /_ping answer, the busybox image imported, the
published and the host-network container listening) and tears it down (containers removed, dockerd
stopped, mounts, bridge and directories gone). Medians and extremes are printed per step.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers.docker_lab import docker_lab, docker_lab_unavailable  # noqa: E402

STEPS = ("dockerd", "image", "containers", "stop")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    missing = docker_lab_unavailable()
    if missing:
        raise SystemExit(f"cannot run: {missing}")
    times: dict[str, list[float]] = {step: [] for step in (*STEPS, "total")}
    for _ in range(args.rounds):
        with docker_lab() as lab:
            pass
        for step in STEPS:
            times[step].append(lab.timings[step])
        times["total"].append(sum(lab.timings[step] for step in STEPS))
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; {args.rounds} rounds")
    print(f"dockerd {lab.server_version}, docker CLI {lab.client_version}, storage {lab.storage_driver}")
    for step, values in times.items():
        low, median, high = min(values), statistics.median(values), max(values)
        print(f"  {step:<11} median {median * 1000:6.0f} ms (min {low * 1000:4.0f}, max {high * 1000:4.0f})")


if __name__ == "__main__":
    main()
