"""`run.py model DATA_DIR [--seed N] [--jobs N]`: retrain the churn model (analysis/churn/) on a
run folder's saved tables; writes DATA_DIR/model/."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from analysis.churn import describe, train
from commands.cli import OneLineParser as _Parser  # one-line errors, exit 2
from commands.cli import positive_int as _positive_int
from output.reading import BadInput


def main(argv: list[str]) -> int:
    p = _Parser(prog="run.py model",
                description="Train and evaluate the churn model on a run folder's saved tables "
                            "(tutor_profiles.csv, tutor_aggregates.csv, ground_truth/churn_labels.csv); "
                            "writes DATA_DIR/model/.")
    p.add_argument("data_dir", metavar="DATA_DIR", help="a folder written by `run.py`")
    p.add_argument("--seed", type=int, help="seed of the folds and the models (default: the run's seed)")
    p.add_argument("--jobs", type=_positive_int,
                   help="processes to use: with 2 or more, the cross-validation's fits are shared among them "
                        "and the figures are drawn in a second one (same files either way; default: "
                        "2 where 2 CPUs may be used)")
    args = p.parse_args(argv)
    folder = Path(args.data_dir)
    seed = args.seed
    if seed is None:
        try:
            seed = int(json.loads((folder / "run.json").read_text(encoding="utf-8"))["seed"])
        except (OSError, ValueError, KeyError, TypeError):
            seed = 0
    try:
        metrics = train(folder, seed, args.jobs)
    except BadInput as e:
        sys.stderr.write(f"run.py model: {e}\n")
        return 2
    print(describe(metrics))
    print(f"  files in: {folder / 'model'}/")
    return 0
