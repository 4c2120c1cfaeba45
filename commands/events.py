"""`run.py events DATA_DIR [--type TYPE ...] [--tutor T0042] [--format csv|parquet] --out DIR`: the
event log decoded into one tidy file per event type (analysis/events.py)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from commands.cli import OneLineParser, out_cannot_be_written
from output.reading import BadInput


def parser() -> argparse.ArgumentParser:
    from world.events import SCHEMA
    p = OneLineParser(prog="run.py events",
                      description="Write a run's event log (events.npz) without its codes: one file per event "
                                  "type, with tutor, student, session and email ids, names instead of codes and "
                                  "timestamps instead of minutes. In Python: analysis.events.read_events(DATA).")
    p.add_argument("data_dir", metavar="DATA_DIR", help="a folder written by `run.py` (with events.npz)")
    p.add_argument("--type", nargs="+", action="extend", metavar="TYPE",
                   help=f"only these event types: {', '.join(SCHEMA)} (default: all)")
    p.add_argument("--tutor", metavar="ID", help="only this tutor's events (T0042): theirs, their sessions', their emails'")
    p.add_argument("--format", choices=("csv", "parquet"), default="csv", help="file format (default: csv)")
    p.add_argument("--out", required=True, metavar="DIR", help="the folder to write (replaced only when complete)")
    return p


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    from analysis.events import read_events
    from output.writers import atomic_directory
    try:
        tables = read_events(Path(args.data_dir), type=args.type, tutor=args.tutor)
    except BadInput as e:
        sys.stderr.write(f"run.py events: error: {e}\n")
        return 2
    out = Path(args.out)
    if out_cannot_be_written("run.py events", out):
        return 2
    with atomic_directory(out) as tmp:
        for name, df in tables.items():
            if args.format == "csv":
                df.to_csv(tmp / f"{name}.csv", index=False, lineterminator="\n")
            else:
                df.to_parquet(tmp / f"{name}.parquet", index=False)
    for name, df in tables.items():
        print(f"  {name + '.' + args.format:36s} {len(df):>9,d} rows")
    print(f"  written to: {out}/")
    return 0
