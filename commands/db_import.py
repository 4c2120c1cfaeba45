"""`run.py import DATA_DIR [--db URL] [--clear] [--target {tutorsim,dashboard}] [--upcoming]`: load a
run's tables into SQLite or PostgreSQL (docs/database.md), or into the tutor-quality dashboard's
own PostgreSQL tables (--target dashboard: docs/dashboard.md)."""
from __future__ import annotations

import sys
from pathlib import Path

from commands.cli import OneLineParser
from output.db_import import TABLES, DatabaseError, import_folder
from output.reading import BadInput


def main(argv: list[str]) -> int:
    p = OneLineParser(prog="run.py import",
                description="Load a run's tables into a database, in one transaction: SQLite "
                            "(DATA_DIR/tutorsim.db by default) or PostgreSQL (--db postgresql://...). "
                            "Rows whose key is already there are left as they are, unless --clear. "
                            "--target dashboard: into the tutor-quality dashboard's tables (PostgreSQL), "
                            "rows whose key is there are updated where they differ.")
    p.add_argument("data_dir", metavar="DATA_DIR", help="a folder written by `run.py`")
    p.add_argument("--db", metavar="URL", help="a SQLite file (path or sqlite:///PATH) or a postgresql:// URL "
                                               "(default: DATA_DIR/tutorsim.db)")
    p.add_argument("--clear", action="store_true", help="empty the target's tables first (same transaction)")
    p.add_argument("--target", choices=("tutorsim", "dashboard"), default="tutorsim",
                   help="tutorsim: the spec's seven tables (default); dashboard: the dashboard's seven "
                        "tables (PostgreSQL only; docs/dashboard.md)")
    p.add_argument("--upcoming", action="store_true",
                   help="--target dashboard: also the bookings of the next 7 days (upcoming_sessions.csv) "
                        "into sessions; they count in panels without a time window (docs/dashboard.md)")
    args = p.parse_args(argv)
    if args.upcoming and args.target != "dashboard":
        p.error("--upcoming is for --target dashboard")
    try:
        if args.target == "dashboard":
            from output.dashboard_import import import_dashboard, summary
            report = import_dashboard(Path(args.data_dir), args.db, args.clear, args.upcoming)
        else:
            report = import_folder(Path(args.data_dir), args.db, args.clear)
    except BadInput as e:
        sys.stderr.write(f"run.py import: {e}\n")
        return 2
    except DatabaseError as e:
        sys.stderr.write(f"run.py import: {e}\n")
        return 1
    if args.target == "dashboard":
        print("\n".join(summary(report, args.data_dir, args.clear, args.upcoming)))
        return 0
    print(f"tutorsim import: {args.data_dir} -> {report['_database']}" + (" (cleared first)" if args.clear else ""))
    for t in TABLES:
        r = report.get(t.name)
        if r:
            print(f"  {t.name:24s} {r['file']:>8,d} rows in file, {r['inserted']:>8,d} inserted, "
                  f"{r['file'] - r['inserted']:>8,d} already there; {r['total']:>8,d} in the table")
    for name in report["_skipped"]:
        print(f"  {name:24s} skipped: no {name}.csv in {args.data_dir}")
    for note in report["_notes"]:
        print(f"  note: {note}")
    print(f"  one transaction, {report['_seconds']:.2f} s (reading and checking the files "
          f"{report['_read_seconds']:.2f} s)")
    return 0
