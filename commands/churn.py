"""`run.py churn DATA [DATA ...] [--json FILE]`: realised churn of the tutors active at the
window's end, with and without each of the spec's churn signals and by persona, and how well the
spec's churn_probability ranks it (analysis/churn/causes.py), pooled over run folders."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from commands.cli import OneLineParser as _Parser  # one-line errors, exit 2
from output.reading import BadInput


def main(argv: list[str]) -> int:
    p = _Parser(prog="run.py churn",
                description="Realised churn (ground_truth/churn_labels.csv) of the tutors active at the "
                            "window's end, with and without each churn signal and by persona, and the ROC "
                            "AUC of the spec's churn_probability; several run folders (e.g. seeds) are "
                            "pooled. Prints a Markdown report.")
    p.add_argument("data", metavar="DATA", nargs="+", help="a folder written by `run.py` (one or more)")
    p.add_argument("--json", metavar="FILE", help="also write the result as JSON to FILE")
    args = p.parse_args(argv)
    from analysis.churn.causes import churn_by_cause, describe_causes
    try:
        result = churn_by_cause([Path(d) for d in args.data])
    except BadInput as e:
        sys.stderr.write(f"run.py churn: {e}\n")
        return 2
    print(describe_causes(result))
    if args.json:
        path = Path(args.json)
        tmp = path.with_name(path.name + ".tmp")
        try:
            tmp.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
            os.replace(tmp, path)
        except OSError as e:
            sys.stderr.write(f"run.py churn: --json {path}: cannot write: {e.strerror or e}\n")
            return 2
    return 0
