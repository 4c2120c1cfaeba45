#!/usr/bin/env python3
"""Benchmark a tutorsim run end to end, the way a user runs it.

    python bench/run_bench.py                      # production, 5 repetitions
    python bench/run_bench.py --reps 3
    python bench/run_bench.py --scenario scenarios/dev.toml
    python bench/run_bench.py --args "--tutors 300 --days 60"    # extra run.py arguments
    python bench/run_bench.py --reps 3 -- --tutors 300 --no-model  # or after `--`
    python bench/run_bench.py --reps 10 --against /tmp/old     # interleaved with another checkout
    python bench/run_bench.py --scale 1,4,16,45 -- --no-model  # production's counts x k, back to back
    python bench/run_bench.py --scale 45 --timeline mem.csv    # and each process's memory every 0.1 s

Each repetition is `python run.py [SCENARIO] --no-progress --out <tmp> [ARGS]` in a fresh
subprocess (interpreter start-up and imports included), timed with a monotonic wall clock. The peak
resident memory of each run comes from wait4()'s resource usage of that one child process.
Sessions per second = rows of sessions.csv / median wall time. Before and after the runs, two
yardsticks say how fast the machine is at that moment (SimPy timeout events per second, the import
of simpy, mesa, numpy and pandas), since a shared VM's speed drifts by tens of percent. With --against DIR (another checkout of
tutorsim, e.g. `git worktree add /tmp/old COMMIT`), each repetition runs both trees one after the
other, alternating which goes first, and the pairs' differences are reported: drift then falls on
both sides alike. With --scale K1,K2,... each repetition runs production with its tutors and
demand multiplied by each K (`--tutors`, `--sessions-per-day`; everything else as the scenario
says) and reports, per scale, the window's sessions, wall, CPU and wall per session; memory is then
the peak of all the run's processes together (the sum of their proportional set sizes, sampled
every 0.1 s), since the run forks helpers that share pages.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def cpu_info() -> dict:
    model, cores = None, set()
    phys = core = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            key, value = key.strip(), value.strip()
            if key == "model name" and model is None:
                model = value
            elif key == "physical id":
                phys = value
            elif key == "core id":
                core = value
            elif not line.strip():
                if core is not None:
                    cores.add((phys, core))
                phys = core = None
        if core is not None:
            cores.add((phys, core))
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {"cpu": model or platform.processor() or platform.machine(),
            "logical_cpus": os.cpu_count(), "physical_cores": len(cores) or None, "usable_cpus": usable}


def interpreter_info(python: str) -> dict:
    code = ("import sys, json, importlib.metadata as m\n"
            "v = {}\n"
            "for p in ('simpy', 'mesa', 'numpy', 'pandas', 'pydantic'):\n"
            "    try: v[p] = m.version(p)\n"
            "    except Exception: v[p] = None\n"
            "print(json.dumps({'python': sys.version.split()[0], 'implementation': sys.implementation.name, 'packages': v}))")
    try:
        out = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=60, check=True).stdout
        return json.loads(out)
    except (subprocess.SubprocessError, OSError, json.JSONDecodeError):
        return {"python": None, "implementation": None, "packages": {}}


# how fast this machine is right now, on two small yardsticks: a shared VM's speed drifts by tens
# of percent within an hour, and runs are only comparable with the yardsticks beside them
SIMPY_PROBE = ("import time, simpy\n"
               "env = simpy.Environment()\n"
               "def tick(env):\n"
               "    while True:\n"
               "        yield env.timeout(1)\n"
               "for _ in range(10):\n"
               "    env.process(tick(env))\n"
               "started = time.perf_counter()\n"
               "env.run(until=30_000)\n"
               "print(300_000 / (time.perf_counter() - started))")


def speed_probe(python: str) -> dict:
    """SimPy timeout events per second, and the wall time of importing the simulation stack."""
    try:
        events = float(subprocess.run([python, "-c", SIMPY_PROBE], capture_output=True, text=True,
                                      timeout=120, check=True).stdout)
        started = time.perf_counter()
        subprocess.run([python, "-c", "import simpy, mesa, numpy, pandas"], capture_output=True, timeout=120, check=True)
        return {"simpy_events_per_s": events, "import_stack_s": time.perf_counter() - started}
    except (subprocess.SubprocessError, OSError, ValueError):
        return {"simpy_events_per_s": None, "import_stack_s": None}


def describe_speed(probe: dict) -> str:
    if probe["simpy_events_per_s"] is None:
        return "(probe failed)"
    return (f"SimPy {probe['simpy_events_per_s']:,.0f} timeout events/s (10 processes), "
            f"`import simpy, mesa, numpy, pandas` {probe['import_stack_s']:.2f} s")


def group_pss(pgid: int) -> dict[int, float]:
    """The memory of every process in group `pgid`: {pid: proportional set size in MiB} (a page
    shared by n processes counts 1/n in each), from /proc; unreadable processes are left out."""
    sizes = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[2]) != pgid:          # field 5 of stat: the process group
                continue
            with open(f"/proc/{entry.name}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        sizes[int(entry.name)] = int(line.split()[1]) / 1024.0
                        break
        except (OSError, ValueError, IndexError):
            continue
    return sizes


def group_pss_mib(pgid: int) -> float:
    """The memory of every process in group `pgid` together (group_pss summed)."""
    return sum(group_pss(pgid).values())


class GroupMemory(threading.Thread):
    """Samples group_pss(pgid) every `every` seconds until stopped: `peak` is the largest sum,
    `peak_at` when it came (s from the start) and `peak_parts` its processes' sizes: the group's
    leader first (the run's own process, `pgid`), then the others, largest first;
    `samples` keeps every sample (s, {pid: MiB}) for a timeline."""

    def __init__(self, pgid: int, every: float = 0.1):
        super().__init__(daemon=True)
        self.pgid, self.every, self.peak = pgid, every, 0.0
        self.peak_at, self.peak_parts, self.samples = 0.0, [], []
        self.started = time.perf_counter()
        self.done = threading.Event()

    def run(self):
        while not self.done.wait(self.every):
            sizes = group_pss(self.pgid)
            t = time.perf_counter() - self.started
            self.samples.append((t, sizes))
            if sum(sizes.values()) > self.peak:
                self.peak, self.peak_at = sum(sizes.values()), t
                others = sorted((m for pid, m in sizes.items() if pid != self.pgid), reverse=True)
                self.peak_parts = [sizes.get(self.pgid, 0.0), *others]


def one_run(python: str, run_args: list[str], out: Path, log: Path, tree: Path = ROOT,
            group_memory: bool = False) -> dict:
    """Run once in `tree`; wall time, exit status, peak RSS (MiB) of that child (and, with
    `group_memory`, the peak of all its processes together), and its session count."""
    cmd = [python, "run.py", *run_args, "--no-progress", "--out", str(out)]
    with open(log, "w") as sink:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=tree, stdout=sink, stderr=subprocess.STDOUT,
                                start_new_session=group_memory)
        sampler = GroupMemory(proc.pid) if group_memory else None
        if sampler:
            sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        if sampler:
            sampler.done.set()
            sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    sessions = None
    manifest = out / "run.json"
    if manifest.is_file():
        sessions = json.loads(manifest.read_text()).get("rows", {}).get("sessions")
    if sessions is None and (out / "sessions.csv").is_file():
        with open(out / "sessions.csv", "rb") as f:
            sessions = sum(1 for _ in f) - 1
    return {"wall_s": wall, "returncode": proc.returncode, "peak_rss_mib": usage.ru_maxrss / 1024.0,
            "group_peak_mib": sampler.peak if sampler else None,
            "group_peak_at_s": sampler.peak_at if sampler else None,
            "group_peak_parts_mib": sampler.peak_parts if sampler else None,
            "group_samples": sampler.samples if sampler else None,
            "user_s": usage.ru_utime, "sys_s": usage.ru_stime, "sessions": sessions, "cmd": cmd}


def production_counts() -> tuple[int, float]:
    """Production's tutors and demand (sessions a day), read from its scenario file."""
    import tomllib
    doc = tomllib.loads((ROOT / "scenarios" / "production.toml").read_text())
    return doc["tutors"]["count"], doc["demand"]["sessions_per_day"]


def scale_bench(python: str, scales: list[float], reps: int, extra: list[str], json_path: str | None,
                timeline: str | None = None) -> int:
    """Production's counts times each scale, back to back; per scale the window's sessions, wall,
    CPU (user + sys of the run and the processes it waited for), wall per session and the peak
    memory of all the run's processes together, with when it came and each process's share.
    `timeline`: a CSV file for every sample (scale, rep, s, pid, MiB)."""
    tutors, per_day = production_counts()
    rows = []
    with tempfile.TemporaryDirectory(prefix="tutorsim-scale-") as tmp:
        for rep in range(reps):
            for k in scales:
                args = ["--tutors", str(round(tutors * k)), "--sessions-per-day", f"{per_day * k:g}", *extra]
                out, log = Path(tmp) / f"x{k}", Path(tmp) / f"x{k}.log"
                r = one_run(python, args, out, log, group_memory=True)
                if r["returncode"] != 0:
                    sys.stderr.write(f"scale {k} failed (exit {r['returncode']}):\n" + log.read_text()[-3000:])
                    return 1
                cpu = r["user_s"] + r["sys_s"]
                r.update(scale=k, cpu_s=cpu, wall_per_session_us=1e6 * r["wall_s"] / r["sessions"])
                rows.append(r)
                print(f"  x{k:<5g} {r['sessions']:>10,} sessions  {r['wall_s']:8.1f} s wall  {cpu:8.1f} s CPU  "
                      f"{r['wall_per_session_us']:7.1f} us wall/session  {r['group_peak_mib']:8.0f} MiB peak (all processes)",
                      flush=True)
                run_mib, *others = r["group_peak_parts_mib"]
                # with two jobs the forks are the simulating process, the second process and the
                # model's helpers (pipeline/one_run.py)
                print(f"          peak at {r['group_peak_at_s']:.1f} s: {run_mib:,.0f} MiB the run's own process"
                      + "".join(f" + {m:,.0f}" for m in others) + " MiB its forks, largest first", flush=True)
                samples = r.pop("group_samples")
                if timeline:
                    _append_timeline(timeline, k, rep, samples)
                shutil.rmtree(out, ignore_errors=True)
    base = statistics.median(r["wall_per_session_us"] for r in rows if r["scale"] == scales[0])
    print(f"scale   : wall per session against x{scales[0]:g} (medians over {reps} rep(s)):")
    for k in scales:
        mine = [r for r in rows if r["scale"] == k]
        per = statistics.median(r["wall_per_session_us"] for r in mine)
        print(f"  x{k:<5g} {statistics.median(r['sessions'] for r in mine):>10,.0f} sessions  "
              f"{statistics.median(r['wall_s'] for r in mine):8.1f} s  {per:7.1f} us/session  "
              f"{per / base:5.2f}x  peak {max(r['group_peak_mib'] for r in mine):,.0f} MiB")
    if json_path:
        Path(json_path).write_text(json.dumps({"machine": cpu_info(), "interpreter": interpreter_info(python),
                                               "extra_args": extra,
                                               "runs": [{k: v for k, v in r.items() if k != "cmd"} for r in rows]},
                                              indent=2) + "\n")
    return 0


def _append_timeline(path: str, scale: float, rep: int, samples: list) -> None:
    new = not Path(path).exists()
    with open(path, "a") as f:
        if new:
            f.write("scale,rep,t_s,pid,pss_mib\n")
        for t, sizes in samples:
            for pid, mib in sorted(sizes.items()):
                f.write(f"{scale:g},{rep},{t:.2f},{pid},{mib:.1f}\n")


def main(argv: list[str]) -> int:
    passthrough: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, passthrough = argv[:i], argv[i + 1:]
    p = argparse.ArgumentParser(prog="run_bench.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--reps", type=int, help="repetitions (default 5; 1 with --scale)")
    p.add_argument("--warmup", type=int, default=0, help="untimed runs first (default 0)")
    p.add_argument("--scenario", help="scenario TOML file (default: run.py's default, production)")
    p.add_argument("--args", default="", help='extra run.py arguments as one string, e.g. "--tutors 300 --days 60"')
    p.add_argument("--python", default=sys.executable, help="interpreter that runs run.py (default: this one)")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    p.add_argument("--timeline", metavar="FILE",
                   help="with --scale: every memory sample of every process as CSV (scale, rep, s, pid, MiB)")
    p.add_argument("--against", metavar="DIR", type=Path,
                   help="another tutorsim checkout: interleave its runs with this tree's and compare")
    p.add_argument("--scale", metavar="K1,K2,...",
                   help="production's tutors and demand times each K, back to back (e.g. 1,4,16,45)")
    a = p.parse_args(argv)
    if a.reps is None:
        a.reps = 1 if a.scale else 5
    if a.reps < 1:
        p.error("--reps must be >= 1")
    if a.against is not None and not (a.against / "run.py").is_file():
        p.error(f"--against {a.against}: no run.py there")

    run_args = ([a.scenario] if a.scenario else []) + shlex.split(a.args) + passthrough
    if a.scale:
        try:
            scales = [float(k) for k in a.scale.split(",")]
        except ValueError:
            p.error(f"--scale: expected numbers separated by commas, got {a.scale!r}")
        if a.scenario or a.against or any(k <= 0 for k in scales):
            p.error("--scale takes positive numbers and runs production: no --scenario or --against")
        machine = cpu_info()
        print(f"machine : {machine['cpu']}; {machine['logical_cpus']} logical CPUs; "
              f"{describe_speed(speed_probe(a.python))}")
        print(f"command : python run.py --tutors {production_counts()[0]}*K --sessions-per-day "
              f"{production_counts()[1]:g}*K {' '.join(run_args)} --no-progress --out <tmp>")
        return scale_bench(a.python, scales, a.reps, run_args, a.json, a.timeline)
    machine = cpu_info()
    interp = interpreter_info(a.python)
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    print(f"machine : {machine['cpu']}; {machine['logical_cpus']} logical CPUs, "
          f"{machine['physical_cores']} physical cores, {machine['usable_cpus']} usable; "
          f"{platform.system()} {platform.release()}")
    pk = ", ".join(f"{k} {v}" for k, v in interp["packages"].items() if v)
    print(f"python  : {interp['python']} ({interp['implementation']}) {a.python}; {pk}")
    if load:
        print(f"load    : {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (1/5/15 min) at start")
    print(f"command : python run.py {' '.join(run_args + ['--no-progress', '--out', '<tmp>'])}")
    print(f"reps    : {a.reps}" + (f" (+{a.warmup} warm-up)" if a.warmup else ""))
    before = speed_probe(a.python)
    print(f"speed   : {describe_speed(before)}, before the runs")

    results, others = [], []
    trees = [("this", ROOT)] + ([("against", a.against)] if a.against else [])
    with tempfile.TemporaryDirectory(prefix="tutorsim-bench-") as tmp:
        for i in range(a.warmup + a.reps):
            for name, tree in (trees if i % 2 == 0 else trees[::-1]):
                out, log = Path(tmp) / f"out{i}{name}", Path(tmp) / f"log{i}{name}.txt"
                r = one_run(a.python, run_args, out, log, tree)
                if r["returncode"] != 0:
                    sys.stderr.write(f"run {i + 1} ({tree}) failed (exit {r['returncode']}):\n"
                                     + log.read_text()[-3000:])
                    return 1
                warm = i < a.warmup
                label = f"warm-up {i + 1}" if warm else f"run {i + 1 - a.warmup}"
                if a.against:
                    label += f" {name}"
                print(f"  {label:16s} {r['wall_s']:7.2f} s wall  {r['user_s']:6.2f} s user  "
                      f"{r['sys_s']:5.2f} s sys  {r['peak_rss_mib']:7.1f} MiB peak  {r['sessions']:,} sessions")
                if not warm:
                    (results if name == "this" else others).append(r)
                shutil.rmtree(out, ignore_errors=True)

    after = speed_probe(a.python)
    print(f"speed   : {describe_speed(after)}, after the runs")
    walls = [r["wall_s"] for r in results]
    median, best = statistics.median(walls), min(walls)
    sessions = results[0]["sessions"]
    same = all(r["sessions"] == sessions for r in results)
    rss = [r["peak_rss_mib"] for r in results]
    print(f"median  : {median:.2f} s   min {best:.2f} s   max {max(walls):.2f} s")
    print(f"sessions: {sessions:,} per run{'' if same else ' (varies between runs!)'}; "
          f"{sessions / median:,.0f} sessions simulated per second (at the median), {sessions / best:,.0f} at the min")
    print(f"memory  : peak RSS {max(rss):.1f} MiB (median {statistics.median(rss):.1f} MiB)")
    compared = None
    if others:
        theirs = [r["wall_s"] for r in others]
        diffs = [mine - their for mine, their in zip(walls, theirs)]
        compared = {"tree": str(a.against), "median_s": statistics.median(theirs),
                    "median_difference_s": statistics.median(diffs),
                    "mean_difference_s": statistics.fmean(diffs),
                    "this_faster": sum(d < 0 for d in diffs), "pairs": len(diffs)}
        print(f"against : {a.against}: median {compared['median_s']:.2f} s; this tree minus it, pair by pair: "
              f"median {compared['median_difference_s']:+.2f} s, mean {compared['mean_difference_s']:+.2f} s; "
              f"this tree faster in {compared['this_faster']} of {len(diffs)} pairs")
    if a.json:
        Path(a.json).write_text(json.dumps({
            "machine": machine, "interpreter": interp, "loadavg_start": load, "run_args": run_args,
            "runs": [{k: v for k, v in r.items() if k != "cmd"} for r in results],
            "median_s": median, "min_s": best, "sessions": sessions,
            "sessions_per_s_median": sessions / median, "peak_rss_mib": max(rss),
            "speed_probe": {"before": before, "after": after},
            "against": compared, "against_runs": [{k: v for k, v in r.items() if k != "cmd"} for r in others],
        }, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
