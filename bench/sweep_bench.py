#!/usr/bin/env python3
"""Benchmark a what-if sweep on one worker against two, as a user runs it.

    python bench/sweep_bench.py                        # local:1 vs local:2 (Dask), then --workers 1 vs 2
    python bench/sweep_bench.py --replications 3 -- --set tutors.count=300

Each configuration runs `python run.py sweep scenarios/production.toml --grid
platform.coaching.effect=0,1 --replications N [ARGS]` (what-if runs train no churn model) in a fresh
subprocess, timed with a monotonic wall clock (the Dask cluster's start and stop included). The
sweeps' tables must be byte-identical whatever the workers (it is checked); the speed-up is one
worker's wall over two workers'.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_bench import cpu_info  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def sweep(python: str, replications: int, extra: list[str], how: list[str], out: Path) -> float:
    cmd = [python, "run.py", "sweep", "scenarios/production.toml", "--grid", "platform.coaching.effect=0,1",
           "--replications", str(replications), "--no-progress",
           "--out", str(out), *how, *extra]
    started = time.monotonic()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.monotonic() - started
    if done.returncode != 0:
        sys.exit(f"sweep failed ({' '.join(how)}):\n{done.stderr[-2000:]}")
    return wall


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--replications", "-n", type=int, default=3, help="replications per grid point (default 3)")
    p.add_argument("--python", default=sys.executable)
    p.add_argument("extra", nargs="*", help="more run.py sweep arguments (after --)")
    args = p.parse_args(argv)
    info = cpu_info()
    print(f"machine : {info['cpu']}; {info.get('logical_cpus', '?')} logical CPUs")
    print(f"sweep   : production, 2 grid points x {args.replications} replications, no churn model {' '.join(args.extra)}")
    with tempfile.TemporaryDirectory(prefix="tutorsim-sweep-bench-") as tmp:
        tables = {}
        for label, one, two in (("Dask", ["--scheduler", "local:1"], ["--scheduler", "local:2"]),
                                ("processes", ["--workers", "1"], ["--workers", "2"])):
            walls = []
            for how in (one, two):
                out = Path(tmp) / "_".join(how).replace(":", "")
                walls.append(sweep(args.python, args.replications, args.extra, how, out))
                tables[" ".join(how)] = (out / "sweep.csv").read_bytes()
            print(f"  {label:9s}  one worker {walls[0]:6.1f} s   two workers {walls[1]:6.1f} s   "
                  f"speed-up {walls[0] / walls[1]:.2f}x")
        same = len(set(tables.values())) == 1
        print(f"  sweep.csv byte-identical across the four: {'yes' if same else 'NO'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
