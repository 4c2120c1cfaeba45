"""Every churn model on the same repeated stratified folds (`cross_validate`): out-of-fold
predictions per repeat, their metrics, and calibration curves."""
from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from analysis.churn.models import BASELINE, FIT_COST, LEARNED
from analysis.churn.processes import _fit_folds

N_SPLITS = 5
N_REPEATS = 5


def fold_hash(splits) -> str:
    h = hashlib.sha256()
    for k, (_, test) in enumerate(splits):
        h.update(f"{k}:".encode() + ",".join(map(str, sorted(int(i) for i in test))).encode() + b";")
    return h.hexdigest()[:16]


def _brier(y, p) -> float:
    from sklearn.metrics import brier_score_loss
    return float(brier_score_loss(y, np.clip(p, 0, 1)))


def _metrics(y, p, brier: float | None = None) -> dict:
    """ROC AUC, PR AUC and Brier score (`brier` when it is already known) of predictions `p`."""
    from sklearn.metrics import average_precision_score, roc_auc_score
    return {"roc_auc": float(roc_auc_score(y, p)), "pr_auc": float(average_precision_score(y, p)),
            "brier": _brier(y, p) if brier is None else brier}


def _mean(values) -> float:
    return round(float(np.array(values).mean()), 4)


def _summary(per_repeat: list[dict]) -> dict:
    out = {}
    for key in ("roc_auc", "pr_auc", "brier"):
        v = np.array([m[key] for m in per_repeat])
        out[key] = {"mean": _mean(v), "sd": round(float(v.std(ddof=1)) if len(v) > 1 else 0.0, 4),
                    "per_repeat": [round(float(x), 4) for x in v]}
    return out


def cross_validate(X: pd.DataFrame, y: np.ndarray, baseline: np.ndarray, seed: int, jobs: int = 1,
                   on_predictions=None, helper=None) -> dict:
    """Every model on the same repeated stratified folds; out-of-fold predictions per repeat. The
    learned models' fits are shared among `jobs` processes, `helper` (a `_Helper`) one of them where
    it can fit (`_fit_folds`): same numbers either way.
    `on_predictions(oof, brier)`, if given, is called with the out-of-fold predictions and the mean
    Brier score of each model before the other metrics are computed (to draw a figure meanwhile)."""
    from sklearn.model_selection import RepeatedStratifiedKFold
    from sklearn.utils import assert_all_finite
    n_splits = int(min(N_SPLITS, y.sum(), (~y).sum()))
    splitter = RepeatedStratifiedKFold(n_splits=n_splits, n_repeats=N_REPEATS, random_state=seed)
    splits = list(splitter.split(X, y))
    Xv = X.to_numpy("float64")
    assert_all_finite(Xv, allow_nan=True, input_name="X")    # once here, not in every fit (`_fit_predict`)
    # the costly fits first: the last ones handed out are short, and the processes sharing them end together
    tasks = [(name, k) for name in sorted(LEARNED, key=FIT_COST.get, reverse=True) for k in range(len(splits))]
    predicted = dict(zip(tasks, _fit_folds(tasks, Xv, y, splits, seed, jobs, helper)))
    oof_all = {}
    for name in (BASELINE, *LEARNED):
        oof = np.full((N_REPEATS, len(y)), np.nan)
        for k, (_, test) in enumerate(splits):
            # the spec's formula: nothing is fitted
            oof[k // n_splits, test] = baseline[test] if name == BASELINE else predicted[name, k]
        oof_all[name] = oof
    brier = {name: [_brier(y, oof[r]) for r in range(N_REPEATS)] for name, oof in oof_all.items()}
    if on_predictions is not None:
        on_predictions(oof_all, {name: _mean(v) for name, v in brier.items()})
    results = {}
    for name, oof in oof_all.items():
        per_repeat = [_metrics(y, oof[r], brier[name][r]) for r in range(N_REPEATS)]
        results[name] = {"fold_hash": fold_hash(splits), **_summary(per_repeat), "_per_repeat": per_repeat}
    comparison = {}
    for name in LEARNED:
        diff = {}
        for key in ("roc_auc", "pr_auc", "brier"):
            d = np.array([a[key] - b[key] for a, b in zip(results[name]["_per_repeat"], results[BASELINE]["_per_repeat"])])
            diff[key] = {"mean": round(float(d.mean()), 4), "sd": round(float(d.std(ddof=1)), 4),
                         "repeats_better": int((d < 0).sum() if key == "brier" else (d > 0).sum())}
        comparison[f"{name}_minus_{BASELINE}"] = diff
    for r in results.values():
        r.pop("_per_repeat")
    cv = {"scheme": "RepeatedStratifiedKFold", "n_splits": n_splits, "n_repeats": N_REPEATS,
          "random_state": seed, "fold_hash": fold_hash(splits),
          "test_folds": [[int(i) for i in test] for _, test in splits]}
    return {"cv": cv, "models": results, "comparison": comparison, "oof": oof_all}


def calibration_curves(y, oof: dict) -> dict:
    """{model: (mean predicted, observed share)} in 6 quantile bins of the out-of-fold predictions
    of every repeat, pooled."""
    from sklearn.calibration import calibration_curve
    yy = np.tile(y, N_REPEATS)
    curves = {}
    for name, p in oof.items():
        frac, mean_p = calibration_curve(yy, np.clip(p.ravel(), 0, 1), n_bins=6, strategy="quantile")
        curves[name] = (mean_p, frac)
    return curves
