"""`run.py import DATA_DIR [--db URL] [--clear]`: load a run's tables into SQLite or PostgreSQL."""
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
                            "Rows whose key is already there are left as they are, unless --clear.")
    p.add_argument("data_dir", metavar="DATA_DIR", help="a folder written by `run.py`")
    p.add_argument("--db", metavar="URL", help="a SQLite file (path or sqlite:///PATH) or a postgresql:// URL "
                                               "(default: DATA_DIR/tutorsim.db)")
    p.add_argument("--clear", action="store_true", help="empty the tutorsim tables first (same transaction)")
    args = p.parse_args(argv)
    try:
        report = import_folder(Path(args.data_dir), args.db, args.clear)
    except BadInput as e:
        sys.stderr.write(f"run.py import: {e}\n")
        return 2
    except DatabaseError as e:
        sys.stderr.write(f"run.py import: {e}\n")
        return 1
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
