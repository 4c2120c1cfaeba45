"""`run.py live --db postgresql://... [SCENARIO.toml] [--target dashboard|tutorsim] [--speed S]
[--until DATETIME | --for 2h] [--clear]`: the platform running on in (accelerated) real time into
PostgreSQL (pipeline/live.py; docs/live.md)."""
from __future__ import annotations

import argparse
import datetime as dt
import math
import re
import sys

from commands.cli import OneLineParser, non_negative_int, positive_float, positive_int, stop_code
from commands.run import window_end_value

UNITS = {"s": 1 / 60, "m": 1.0, "h": 60.0, "d": 1440.0}


def duration(text: str) -> float:
    """'90s', '45m', '2h', '1.5d' -> simulated minutes."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd])\s*", text)
    if not m or float(m.group(1)) <= 0:
        raise argparse.ArgumentTypeError(f"expected a duration like 90s, 45m, 2h or 1d, got {text!r}")
    return float(m.group(1)) * UNITS[m.group(2)]


def moment(text: str) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a local date-time like 2026-12-05T18:00, got {text!r}") from None
    if when.tzinfo is not None:
        raise argparse.ArgumentTypeError(f"expected a local date-time without an offset, got {text!r}")
    return when


def parser() -> argparse.ArgumentParser:
    p = OneLineParser(prog="run.py live",
                      description="Run the platform on in (accelerated) real time into PostgreSQL: a history "
                                  "ending now is simulated and loaded (or, if the database holds this live run, "
                                  "it continues where the database ends), then every session, engagement event "
                                  "and hourly job is written when its simulated moment comes, a batch at least "
                                  "once a wall-clock second. Ctrl-C stops (exit 130); the database stays "
                                  "consistent. docs/live.md")
    p.add_argument("scenario", nargs="?", help="scenario TOML file (default: scenarios/production.toml)")
    p.add_argument("--db", required=True, metavar="URL", help="postgresql://user:pw@host:port/db")
    p.add_argument("--target", choices=("dashboard", "tutorsim"), default="dashboard",
                   help="the dashboard's tables (default; docs/dashboard.md) or tutorsim's (docs/database.md)")
    p.add_argument("--speed", type=positive_float, default=1.0,
                   help="simulated seconds per wall-clock second (default 1: the wall clock)")
    end = p.add_mutually_exclusive_group()
    end.add_argument("--until", type=moment, metavar="DATETIME", help="stop when the simulated clock reaches it")
    end.add_argument("--for", dest="span", type=duration, metavar="DURATION",
                     help="stop after this much simulated time (90s, 45m, 2h, 1d)")
    p.add_argument("--window-end", metavar="WHEN", default="now", type=window_end_value,
                   help="where a new live run's history ends and the live clock starts: now (default: "
                        "this hour, rounded down), or a date or local date-time (with --speed 1 the clock "
                        "then catches up with the wall clock at once)")
    p.add_argument("--clear", action="store_true", help="empty the target's tables (and forget live runs) first")
    p.add_argument("--mode", choices=("production", "dev"), help="the scenario of the mode (as run.py)")
    p.add_argument("--seed", type=non_negative_int, help="root random seed")
    p.add_argument("--tutors", type=positive_int, help="number of tutors")
    p.add_argument("--sessions-per-day", type=positive_float, help="demand: sessions per day")
    p.add_argument("--set", action="append", default=[], metavar="KEY.PATH=VALUE", help="override a scenario value")
    p.add_argument("--no-progress", action="store_true", help="no progress line on stderr")
    return p


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    from commands.run import scenario_overrides, scenario_path
    path = scenario_path(args, "run.py live")
    if path is None:
        return 2
    sets = scenario_overrides(args, window_end=False)
    from output.db_import import DatabaseError
    from output.reading import BadInput
    from pipeline.live import Live, LiveRefused
    from world.scenario import ScenarioError, apply_overrides, read_document, validate_document
    try:
        document = apply_overrides(read_document(path), sets)
        scenario = validate_document(document, str(path), sets)
        fresh = apply_overrides(document, [f"calendar.window_end={args.window_end}"])
    except ScenarioError as e:
        sys.stderr.write(f"{e}\n")
        return 2
    if scenario.platform.markets > 1:
        sys.stderr.write(f"run.py live: error: {path}: platform.markets: expected 1, got "
                         f"{scenario.platform.markets} (the live mode runs one platform's clock)\n")
        return 2
    if not args.db.startswith(("postgresql://", "postgres://")):
        sys.stderr.write("run.py live: error: --db: expected a postgresql:// URL (the live mode writes to PostgreSQL)\n")
        return 2
    from output.live_sink import LiveSink
    live = None
    try:
        sink = LiveSink(args.db, args.target)
        if args.clear:
            sink.prepare()
            sink.clear()
        live = Live(scenario, document, sink, args.speed, report=_progress_line(args.no_progress))
        live.start(fresh)
        _started(live, args)
        cal = live.world.cal
        until = (math.inf if args.until is None and args.span is None
                 else live.released + args.span if args.span is not None
                 else (args.until - cal.start_dt).total_seconds() / 60.0)
        live.run(until)
    except (BadInput, LiveRefused) as e:
        sys.stderr.write(f"run.py live: {e}\n")
        return 2
    except DatabaseError as e:
        sys.stderr.write(f"run.py live: {e}\n")
        return 1
    except KeyboardInterrupt as stop:
        said, code = stop_code(stop)
        held = live.progress.simulated_until if live and live.progress.simulated_until else None
        why = "terminated" if code == 143 else "stopped"
        sys.stderr.write(f"\nrun.py live: {why}" + (f" at simulated {held:%Y-%m-%d %H:%M:%S}; the database holds "
                                                    f"everything before it (run it again to continue)" if held else
                                                    "; nothing was written") + "\n")
        return code
    finally:
        if live is not None:
            live.close()
    p = live.progress
    print(f"\nlive: done at simulated {p.simulated_until:%Y-%m-%d %H:%M:%S}: {p.rows:,} rows in {p.batches:,} "
          f"batches, {p.hours} hourly jobs")
    return 0


def _started(live, args) -> None:
    cal = live.world.cal
    how = ("continuing from where the database ends" if live.resumed else
           f"history loaded: {live.scenario.calendar.window_days} days to {cal.window_end_dt:%Y-%m-%d %H:%M}")
    pace = ("the simulated clock is the wall clock" if live.speed == 1.0 else
            f"the simulated clock runs {live.speed:g}x the wall clock: rows carry simulated time, ahead of now")
    sys.stderr.write(f"live: {live.sink.label}, target {live.sink.target}, scenario {live.scenario.name!r} "
                     f"seed {live.scenario.seed}; {how}; {pace}\n")


def _progress_line(quiet: bool):
    if quiet:
        return None
    tty = sys.stderr.isatty()
    last = {"hours": -1}

    def report(live) -> None:
        p = live.progress
        line = (f"live: simulated {p.simulated_until:%Y-%m-%d %H:%M:%S} | {p.rows:,} rows written | "
                f"lag {live.lag_seconds():.1f} s")
        if tty:
            sys.stderr.write("\r" + line + " " * 4)
            sys.stderr.flush()
        elif p.hours != last["hours"]:       # not a terminal: a line per hourly job
            last["hours"] = p.hours
            sys.stderr.write(line + "\n")
    return report
