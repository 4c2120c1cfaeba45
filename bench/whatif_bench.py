#!/usr/bin/env python3
"""Benchmark compare as a user runs it: peak memory against the number of replications, and how
fast Ctrl-C stops it.

    python bench/whatif_bench.py                     # memory at -n 2 and -n 6; Ctrl-C, 5 times each way
    python bench/whatif_bench.py --reps 3 --replications 2,4,8

Memory: `python run.py compare scenarios/production.toml scenarios/no_show_wave.toml -n N` in a
fresh process group; the peak of the sum of all its processes' proportional set sizes, sampled
every 0.1 s (bench/run_bench.py `GroupMemory`). Ctrl-C: the same compare with -n 3, sent SIGINT
(to the whole group, as a terminal does) a few seconds into its runs; the time until it has
exited, with local processes and with `--scheduler local:2` (Dask).
"""
from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_bench import GroupMemory, cpu_info  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
COMPARE = ["run.py", "compare", "scenarios/production.toml", "scenarios/no_show_wave.toml", "--no-progress"]


def peak_memory(python: str, replications: int, out: Path) -> tuple[float, float]:
    started = time.monotonic()
    proc = subprocess.Popen([python, *COMPARE, "-n", str(replications), "--out", str(out)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    sampler = GroupMemory(proc.pid)
    sampler.start()
    _, err = proc.communicate()
    sampler.done.set()
    sampler.join()
    if proc.returncode != 0:
        sys.exit(f"compare -n {replications} failed:\n{err.decode()[-2000:]}")
    return sampler.peak, time.monotonic() - started


def interrupt(python: str, how: list[str], out: Path, after: float) -> float:
    proc = subprocess.Popen([python, *COMPARE, "-n", "3", "--out", str(out), *how], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    time.sleep(after)
    sent = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)
    proc.communicate()
    took = time.monotonic() - sent
    if proc.returncode != 130:
        sys.exit(f"an interrupted compare exited {proc.returncode}, not 130")
    return took


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--replications", default="2,6", help="the -n values to measure memory at (default 2,6)")
    p.add_argument("--reps", type=int, default=5, help="interruptions each way (default 5)")
    p.add_argument("--after", type=float, default=6.0, help="seconds into the compare to interrupt it (default 6)")
    p.add_argument("--python", default=sys.executable)
    args = p.parse_args(argv)
    info = cpu_info()
    print(f"machine : {info['cpu']}; {info.get('logical_cpus', '?')} logical CPUs")
    with tempfile.TemporaryDirectory(prefix="tutorsim-whatif-bench-") as tmp:
        for n in (int(v) for v in args.replications.split(",")):
            peak, wall = peak_memory(args.python, n, Path(tmp) / f"n{n}")
            print(f"  compare -n {n:<3d} peak {peak:7,.0f} MiB (all processes)   wall {wall:6.1f} s")
        for label, how in (("local processes", []), ("Dask local:2", ["--scheduler", "local:2"])):
            times = [interrupt(args.python, how, Path(tmp) / "int", args.after) for _ in range(args.reps)]
            print(f"  Ctrl-C, {label:15s}: exit 130 after median {statistics.median(times):.2f} s "
                  f"(max {max(times):.2f} s, {len(times)} times)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
