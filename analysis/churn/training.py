"""Training the churn model on a run folder (`train`, `train_safely`) and its one-line summary
(`describe`)."""
from __future__ import annotations

import json
import time
from pathlib import Path

from analysis.churn.cross_validation import calibration_curves, cross_validate
from analysis.churn.features import load_dataset
from analysis.churn.figures import boosting_importances
from analysis.churn.models import BASELINE, logistic_model
from analysis.churn.processes import _Helper
from analysis.churn.saved_model import MODEL_FORMAT, MODEL_FORMAT_VERSION, export_logistic
from analysis.cpus import default_jobs

MIN_POSITIVES = 5
MIN_NEGATIVES = 5


def _write(folder: Path, metrics: dict, writers=()) -> None:
    """metrics.json and what `writers` (callables taking the folder) write, all or nothing."""
    from output.writers import atomic_directory
    with atomic_directory(folder) as tmp:
        for writer in writers:
            writer(tmp)
        (tmp / "metrics.json").write_text(json.dumps(metrics, indent=2, allow_nan=False) + "\n", encoding="utf-8")


def train(data_dir, seed: int, jobs: int | None = None) -> dict:
    """Train and evaluate on a run folder's tables; write DATA_DIR/model/. Returns metrics.json's
    content (status "trained" or "skipped"). Raises BadInput when the folder lacks what it needs.
    `jobs`: processes to use (default `default_jobs()`); the files are the same with any number."""
    started = time.perf_counter()
    data_dir = Path(data_dir)
    data = load_dataset(data_dir)
    X, y, baseline = data["X"], data["y"], data["baseline"]
    metrics = _describe_data(data, seed)
    positives, rows = metrics["positives"], metrics["rows"]
    reason = _skip_reason(data["horizon_days"], positives, rows)
    if reason:
        metrics.update(status="skipped", reason=reason)
        _write(data_dir / "model", metrics)
        return metrics

    jobs = default_jobs() if jobs is None else max(1, int(jobs))
    # forked first: it imports matplotlib while this imports scikit-learn, or, preloaded, it is ready at once
    helper = _Helper(jobs >= 2, X.to_numpy("float64"), y)
    try:
        import functools
        import warnings

        import sklearn                  # imported only now: a skipped model costs nothing
        metrics["sklearn_version"] = sklearn.__version__
        Xv = X.to_numpy("float64")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            final = logistic_model(seed).fit(Xv, y)
        exported = export_logistic(final, list(X.columns), {
            "population": metrics["population"], "label": metrics["label"],
            "horizon_days": data["horizon_days"], "trained_rows": rows, "trained_positives": positives,
            "seed": int(seed)})
        importances = functools.partial(boosting_importances, Xv, y, seed)
        if not helper.can_fit:          # it would import scikit-learn for it (run.py model): fitted here
            importances = importances()
        helper.render("feature_importance.png", exported["coef"], exported["inputs"], importances, list(X.columns))

        def calibration(oof, brier):    # drawn (by the helper) while the other metrics are computed here
            helper.render("calibration.png", calibration_curves(y, oof), brier, float(y.mean()))
        cv = cross_validate(X, y, baseline, seed, jobs=jobs, on_predictions=calibration, helper=helper)
        metrics["cv"] = {**cv["cv"], "rows_are": "tutor_ids below, in this order (indices of test_folds)",
                         "tutor_ids": [str(t) for t in data["tutor_id"]]}
        metrics["models"] = cv["models"]
        metrics["comparison"] = cv["comparison"]
        metrics["saved_model"] = {"file": "churn_model.json", "estimator": exported["estimator"],
                                  "format": f"{MODEL_FORMAT} v{MODEL_FORMAT_VERSION} (JSON numbers, no pickle)"}
        pngs = helper.results()
    finally:
        helper.close(wait=False)
    writers = (
        lambda d: (d / "churn_model.json").write_text(json.dumps(exported, indent=2) + "\n", encoding="utf-8"),
        *[lambda d, name=name, png=png: (d / name).write_bytes(png) for name, png in pngs.items()],
    )
    _write(data_dir / "model", metrics, writers)
    # not in metrics.json: the same run and seed write the same bytes
    return {**metrics, "seconds": round(time.perf_counter() - started, 2)}


def _describe_data(data: dict, seed: int) -> dict:
    """metrics.json's first keys: what is trained on, and on how many tutors."""
    X, y = data["X"], data["y"]
    positives, rows = int(y.sum()), len(y)
    return {
        "status": "trained", "seed": int(seed),
        "population": "tutors active at the window's end (active_status True); tutors who stopped "
                      "before it are left out (their label is known and their aggregates are cut short)",
        "label": "the tutor stops (quits or is suspended) within horizon_days after the window's end",
        "horizon_days": data["horizon_days"], "tutors": data["tutors"],
        "stopped_before_window_end": data["stopped_before_end"],
        "rows": rows, "positives": positives, "base_rate": round(positives / rows, 4) if rows else None,
        "features": list(X.columns), "baseline": f"{BASELINE}: churn_probability of tutor_aggregates.csv (spec section 7)",
    }


def _skip_reason(horizon_days: int, positives: int, rows: int) -> str | None:
    """Why no model can be trained on these labels, or None."""
    if horizon_days <= 0:
        return "no look-ahead (calendar.lookahead_days = 0): no tutor can churn after the window"
    if positives < MIN_POSITIVES or rows - positives < MIN_NEGATIVES:
        return (f"{positives} tutors churned after the window and {rows - positives} did not; at least "
                f"{MIN_POSITIVES} of each are needed (use scenarios/churn_study.toml or a longer "
                "calendar.lookahead_days)")
    return None


def train_safely(data_dir, seed: int, jobs: int | None = None) -> dict:
    """`train`, but a problem becomes metrics.json with status "error" instead of an exception:
    the run that called it has its tables whatever happens here."""
    try:
        return train(data_dir, seed, jobs)
    except Exception as e:  # noqa: BLE001 - the model must never cost the run its tables
        metrics = {"status": "error", "reason": f"{type(e).__name__}: {e}".splitlines()[0]}
        try:
            _write(Path(data_dir) / "model", metrics)
        except Exception:  # noqa: BLE001
            pass
        return metrics


def describe(metrics: dict) -> str:
    """One line for the command line."""
    status = metrics.get("status")
    if status != "trained":
        return f"churn model: {status}: {metrics.get('reason')}"
    m = metrics["models"]

    def s(name):
        return f"ROC AUC {m[name]['roc_auc']['mean']:.3f}, PR AUC {m[name]['pr_auc']['mean']:.3f}, Brier {m[name]['brier']['mean']:.3f}"
    return (f"churn model: {metrics['positives']}/{metrics['rows']} active tutors churned within "
            f"{metrics['horizon_days']} days (base rate {metrics['base_rate']:.3f}); spec formula {s(BASELINE)}; "
            f"logistic {s('logistic')} (out of fold, {metrics['cv']['n_splits']}x{metrics['cv']['n_repeats']} CV)")
