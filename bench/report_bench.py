#!/usr/bin/env python3
"""What the HTML report (report.html) costs: building it from the tables a run holds in memory,
and what it adds to a run's wall time.

    python bench/report_bench.py                          # production: 5 builds, then 3 runs with and 3 without
    python bench/report_bench.py --reps 3 --runs 0        # the builds only
    python bench/report_bench.py --scenario scenarios/platform_1m.toml --reps 1 --runs 0

Builds: the scenario is simulated once in this process (one job: the tables, labels and model
written here), and where the run would write report.html (pipeline/one_run.py `_report_here`)
the page is built `--reps` times from the tables in memory (pipeline/run_report.py `RunReport`:
`finish` with `--jobs` processes and nothing made ahead, as when the look-ahead leaves `early` no
time), each stage timed: the tables as validate reads them (`from_frames`), the model's files,
validate's checks with realised churn and the traced tutors (the processes share them) and then
validate's figures, and the page's HTML.

Runs: `python run.py [SCENARIO] --no-progress --out <tmp>` and the same with `--no-report`, in
fresh subprocesses, alternating which goes first; the run's own "wall time" line and the
process's elapsed time, medians. In a run the report's checks and first figures are made by the
second process while the look-ahead is simulated (pipeline/worker.py); the rest after the model.
"""
from __future__ import annotations

import argparse
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def cpu() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    import os
    return f"{model}, {len(os.sched_getaffinity(0))} CPUs"


class Timer:
    """Sums the time spent in a few functions (wrapped in place for the bench only)."""

    def __init__(self):
        self.spent: dict[str, float] = {}

    def wrap(self, owner, name: str, label: str) -> None:
        inner = getattr(owner, name)

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                self.spent[label] = self.spent.get(label, 0.0) + time.perf_counter() - started
        setattr(owner, name, timed)


def builds(scenario_path: str, reps: int, jobs: int) -> None:
    from analysis import report_html, validate
    from analysis.report_html import inputs
    from pipeline import one_run, run_report
    from world.scenario import read_document, validate_document

    timer = Timer()
    timer.wrap(validate, "from_frames", "tables as validate reads them (from memory)")
    timer.wrap(inputs, "read_model", "the model's metrics and figures (files)")
    timer.wrap(inputs, "draw_the_rest", f"validate's checks, realised churn, the traced tutors ({jobs} processes), "
                                        "then validate's figures")
    timer.wrap(report_html, "build_page", "the page's HTML")
    rounds = []

    def measured(files, jobs_):
        tables = dict(files.frames)     # a build takes the frames it reads (their memory goes): each its own
        for _ in range(reps):
            files.frames = dict(tables)
            timer.spent.clear()
            started = time.perf_counter()
            builder = run_report.RunReport(files)
            made = builder.finish(jobs)         # nothing made ahead: every check and figure in the build
            rounds.append((time.perf_counter() - started, dict(timer.spent), made))
        return made

    one_run._report_here = measured
    document = read_document(Path(scenario_path))
    scenario = validate_document(document, scenario_path)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        one_run.run(scenario, document, Path(tmp) / "run", jobs=1, report=True)
        total = time.perf_counter() - started
    times = [r[0] for r in rounds]
    print(f"builds of report.html from the tables in memory ({scenario_path}, {reps}x, figures by {jobs} processes):")
    print(f"  median {statistics.median(times):.3f} s (min {min(times):.3f}, max {max(times):.3f}); "
          f"{rounds[-1][2].get('bytes', 0) / 1e6:.2f} MB")
    if "error" in rounds[-1][2]:
        print(f"  error: {rounds[-1][2]['error']}")
    for label in rounds[-1][1]:
        values = [r[1].get(label, 0.0) for r in rounds]
        print(f"    {statistics.median(values):7.3f} s  {label}")
    print(f"  (the simulation, tables, model and {reps} builds took {total:.1f} s in all)")


def runs(scenario_path: str, n: int) -> None:
    walls: dict[str, list] = {"with report": [], "--no-report": []}
    elapsed: dict[str, list] = {"with report": [], "--no-report": []}
    for i in range(n):
        order = ["with report", "--no-report"] if i % 2 == 0 else ["--no-report", "with report"]
        for kind in order:
            with tempfile.TemporaryDirectory() as tmp:
                cmd = [sys.executable, "run.py", scenario_path, "--no-progress", "--out", f"{tmp}/out"]
                if kind == "--no-report":
                    cmd.append("--no-report")
                started = time.perf_counter()
                out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True).stdout
                elapsed[kind].append(time.perf_counter() - started)
                walls[kind].append(float(re.search(r"wall time: ([\d.]+) s", out).group(1)))
    print(f"runs of {scenario_path}, {n} of each, alternating (medians):")
    for kind in walls:
        print(f"  {kind:12s} wall time line {statistics.median(walls[kind]):.2f} s, process "
              f"{statistics.median(elapsed[kind]):.2f} s   (lines: {', '.join(f'{w:.2f}' for w in walls[kind])})")
    added = statistics.median(walls["with report"]) - statistics.median(walls["--no-report"])
    print(f"  the report adds {added:+.2f} s to the run's wall time")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="scenarios/production.toml")
    ap.add_argument("--reps", type=int, default=5, help="builds from memory (default 5)")
    ap.add_argument("--runs", type=int, default=3, help="runs with and without the report (default 3 each)")
    ap.add_argument("--jobs", type=int, default=2, help="processes drawing the figures in a build (default 2)")
    args = ap.parse_args()
    print(f"machine: {cpu()}; Python {platform.python_version()}")
    if args.reps:
        builds(args.scenario, args.reps, args.jobs)
    if args.runs:
        runs(args.scenario, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
