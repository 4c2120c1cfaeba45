"""`run.py [SCENARIO.toml] [flags]`: simulate a scenario and write its tables (the default command)."""
from __future__ import annotations

import argparse
import errno
import sys
from pathlib import Path

from analysis.cpus import default_jobs
from commands.cli import OneLineParser, non_negative_int, out_cannot_be_written, positive_float, positive_int

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
MODES = {"production": SCENARIOS / "production.toml", "dev": SCENARIOS / "dev.toml"}


def run_parser() -> argparse.ArgumentParser:
    p = OneLineParser(
        prog="run.py",
        description="Simulate a tutoring platform and write the spec's tables. Other commands: "
                    "`run.py validate [DATA_DIR]`, `run.py schema`, `run.py compare A.toml B.toml`, "
                    "`run.py sweep SCENARIO.toml --grid key.path=v1,v2`, "
                    "`run.py tables DATA_DIR [--only NAME ...]`, `run.py trace ID [DATA_DIR]` (each with --help).",
    )
    p.add_argument("scenario", nargs="?", help="scenario TOML file (default: the --mode's scenario)")
    p.add_argument("--mode", choices=sorted(MODES), help="production (default: 150 tutors, 30 days) or dev (25 tutors, 14 days)")
    p.add_argument("--tutors", type=positive_int, help="number of tutors (overrides the scenario)")
    p.add_argument("--days", type=positive_int, help="days in the observed window (overrides the scenario)")
    p.add_argument("--sessions-per-day", type=positive_float, help="demand: sessions per day on average (overrides the scenario)")
    p.add_argument("--seed", type=non_negative_int, help="root random seed (overrides the scenario)")
    p.add_argument("--window-end", metavar="WHEN", type=window_end_value,
                   help="when the observed window ends: a date (2026-12-04: at its midnight), a local "
                        "date-time to the minute (2026-12-04T15:00), or now (this hour, rounded down: "
                        "a dashboard's 'last 30 days' then hold the window); default: the scenario's "
                        "calendar.window_end")
    p.add_argument("--out", default="data", help="output folder (default: data); replaced only when the run completes")
    p.add_argument("--set", action="append", default=[], metavar="KEY.PATH=VALUE",
                   help="override any scenario value, e.g. --set behaviour.no_show_scale=0.5 (repeatable)")
    p.add_argument("--no-engagement-events", action="store_true", help="do not write engagement_events.csv")
    p.add_argument("--no-interventions", action="store_true", help="do not write interventions.csv")
    p.add_argument("--no-experiments", action="store_true", help="do not write experiments.csv and experiment_assignments.csv")
    p.add_argument("--no-model", action="store_true", help="skip training the churn model")
    p.add_argument("--no-event-log", action="store_true", help="do not save the event log (events.npz)")
    p.add_argument("--no-report", action="store_true",
                   help="do not write report.html (the run as one HTML page; `run.py report DATA` writes it later)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.add_argument("--format", choices=("csv", "parquet", "both"),
                   help="the tables' file format: csv (the default), parquet (typed columns) or both")
    p.add_argument("--jobs", type=positive_int, default=default_jobs(),
                   help="processes to use: with 2 or more, the churn model's process loads its libraries "
                        "during the simulation, the look-ahead after the window runs while the tables are "
                        "written, and the model's cross-validation and figures are shared (the same files "
                        "either way; default: %(default)s, from the CPUs this process may use)")
    return p



def window_end_value(text: str) -> str:
    """--window-end's value, checked as the scenario's calendar.window_end is ('now' is resolved
    when the scenario is read)."""

    from world.scenario_schema import window_end_text
    if text.strip().lower() == "now":
        return "now"
    try:
        return window_end_text(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"{e}, found {text!r}") from None


def scenario_path(args, prog: str) -> Path | None:
    """The scenario file a command reads: SCENARIO, or --mode's (production's by default, named
    from the working folder where it can be); None after a one-line error when both are given."""
    if args.scenario and args.mode:
        sys.stderr.write(f"{prog}: error: give a scenario file or --mode, not both\n")
        return None
    if args.scenario:
        return Path(args.scenario)
    path = MODES[args.mode or "production"]
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


def scenario_overrides(args, window_end: bool = True) -> list[str]:
    """The --set overrides a command's shorthand options stand for (those it has: `run.py live`
    shares --seed, --tutors and --sessions-per-day; its --window-end applies to a new run's
    history only, so `window_end=False` leaves it out)."""
    sets = list(args.set)
    for name, key in (("tutors", "tutors.count"), ("days", "calendar.window_days"),
                      ("sessions_per_day", "demand.sessions_per_day"), ("seed", "seed"),
                      ("window_end", "calendar.window_end"), ("format", "outputs.format")):
        value = getattr(args, name, None)
        if value is not None and (window_end or name != "window_end"):
            sets.append(f"{key}={value}")
    for flag, key in (("no_engagement_events", "engagement_events"), ("no_interventions", "interventions"),
                      ("no_experiments", "experiments"), ("no_model", "model"), ("no_event_log", "event_log")):
        if getattr(args, flag, False):
            sets.append(f"outputs.{key}=false")
    return sets


def main(argv: list[str]) -> int:
    args = run_parser().parse_args(argv)
    path = scenario_path(args, "run.py")
    if path is None:
        return 2
    from world.scenario import ScenarioError, apply_overrides, read_document, validate_document
    try:
        overrides = scenario_overrides(args)
        document = apply_overrides(read_document(path), overrides)
        scenario = validate_document(document, str(path), overrides)
    except ScenarioError as e:
        sys.stderr.write(f"{e}\n")
        return 2
    out = Path(args.out)
    if out_cannot_be_written("run.py", out):
        return 2

    from pipeline.one_run import run
    from pipeline.simulator import SimulationDied
    try:
        summary = run(scenario, document, out, progress=not args.no_progress, jobs=args.jobs,
                      report=not args.no_report)
    except OSError as e:
        if e.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        where = f" ({e.filename})" if e.filename else ""
        sys.stderr.write(f"run.py: error: no space left on the device{where}; nothing was written to {out}\n")
        return 1
    except MemoryError:
        sys.stderr.write(f"run.py: error: out of memory; nothing was written to {out}\n")
        return 1
    except SimulationDied as e:
        sys.stderr.write(f"run.py: error: {e}; nothing was written to {out}\n")
        return 1
    rows = summary["rows"]
    sessions = rows["sessions"]
    start, end = summary["window"]
    print(f"tutorsim: scenario {scenario.name!r}, seed {scenario.seed}, "
          f"{scenario.tutors.count} tutors, {summary['window_days']}-day window "
          f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M}")
    for name, n in rows.items():
        print(f"  {name + '.csv':32s} {n:>8,d} rows")
    print(f"  sessions per day: {sessions / summary['window_days']:,.1f} "
          f"(demand {scenario.demand.sessions_per_day:g})")
    if summary.get("model_text"):
        print(f"  {summary['model_text']}")
    tables = f"tables {summary['tables_s']:.2f} s"
    if scenario.calendar.lookahead_days:
        beside = summary["tables_beside_lookahead"]
        tables = (f"look-ahead {summary['lookahead_s']:.2f} s"
                  + (f", while a second process wrote the tables in {summary['tables_s']:.2f} s" if beside
                     else f"; {tables}"))
    print(f"  wall time: {summary['total_s']:.2f} s (warm-up and window {summary['simulate_s']:.2f} s; {tables})")
    made = summary.get("report")
    if made and "error" in made:
        print(f"  report.html not written: {made['error']} (try `run.py report {summary['out']}`)")
    elif made:
        print(f"  report: {summary['out']}/report.html ({made['bytes'] / 1e6:.2f} MB, {made['seconds']:.2f} s)")
    print(f"  files in: {summary['out']}/")
    return 0
