"""`run.py validate [DATA_DIR]`: measure a run's tables against the spec's targets, write the report."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from analysis import targets as T
from analysis.validate import LoadError, describe_run, evaluate, format_table, load, summary_line


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(
        prog="run.py validate",
        description="Measure how close the produced tables land on the field specification.")
    ap.add_argument("data_dir", nargs="?", default="data", metavar="DATA_DIR",
                    help="folder holding the CSV tables (default: data)")
    ap.add_argument("--no-report", action="store_true",
                    help="do not write DATA_DIR/report.md and DATA_DIR/figures/")
    ap.add_argument("--json", action="store_true",
                    help="print the results as one JSON document instead of the table")
    args = ap.parse_args(argv)

    root = Path(args.data_dir)
    if not root.is_dir():
        print(f"validate: {root}: no such directory", file=sys.stderr)
        return 2
    try:
        d = load(root)
    except LoadError as exc:
        print(f"validate: {exc}", file=sys.stderr)
        return 2
    if not d.spec_tables():
        print(f"validate: {root}: none of the tables found "
              f"({', '.join(T.TABLE_FILES.values())})", file=sys.stderr)
        return 2

    results = evaluate(d)
    failed = any(r.status == "FAIL" for r in results)

    report_path = None
    if not args.no_report:
        try:
            from analysis import report
            report_path = report.write_report(d, results, root)
        except Exception as exc:  # the check results stand even if a figure cannot be drawn
            print(f"validate: report not written: {type(exc).__name__}: {exc}", file=sys.stderr)

    line = summary_line(results)
    if args.json:
        doc = {"data_dir": str(root), "manifest": d.manifest,
               "tables": {n: len(d.tables[n]) for n in d.tables},
               "report": str(report_path) if report_path else None,
               "results": [r.as_dict() for r in results],
               "passed": sum(r.status == "PASS" for r in results),
               "failed": sum(r.status == "FAIL" for r in results),
               "skipped": sum(r.status == "SKIP" for r in results),
               "readings": sum(r.status == "READING" for r in results),
               "summary": line}
        print(json.dumps(doc, indent=1, ensure_ascii=False))
        return 1 if failed else 0

    print(describe_run(d))
    print()
    print(format_table(results))
    if report_path:
        print(f"report: {report_path}")
    print(line)
    return 1 if failed else 0

