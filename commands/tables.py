"""`run.py tables DATA_DIR [--only NAME ...]`: rebuild tables from a run's saved event log."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from commands.cli import OneLineParser
from output.reading import BadInput
from output.rebuild import NAMES, rebuild


def parser() -> argparse.ArgumentParser:
    p = OneLineParser(prog="run.py tables",
                description="Rebuild tables of a run folder from its saved event log (events.npz), "
                            "ground truth and run.json, without simulating again. Each rebuilt file is "
                            "byte-identical to the one the run wrote.")
    p.add_argument("data_dir", metavar="DATA_DIR", help="a folder written by `run.py` (with events.npz)")
    p.add_argument("--only", nargs="+", action="extend", metavar="NAME",
                   help=f"rebuild only these tables: {', '.join(NAMES)} (default: every table the run wrote)")
    return p

def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    try:
        rows = rebuild(Path(args.data_dir), args.only)
    except BadInput as e:
        sys.stderr.write(f"run.py tables: error: {e}\n")
        return 2
    for name, n in rows.items():
        print(f"  {name:32s} {n:>8,d} rows")
    print(f"  rebuilt in: {args.data_dir}/")
    return 0
