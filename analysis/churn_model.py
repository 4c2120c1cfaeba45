"""The churn model: who of the tutors still active at the window's end stops soon after it?

    python run.py model DATA_DIR [--seed N]     retrain on a run folder's saved tables

A run trains it after writing the tables (skipped by `--no-model` / `outputs.model = false`).

Task. The population is the tutors active at the window's end (`active_status` True); the label
(ground_truth/churn_labels.csv) is whether the tutor stops, by quitting or by a suspension, in the
`horizon_days` simulated after the window (`calendar.lookahead_days`). Tutors who stopped before
the window's end are left out: their label is already known when the tables are written, and
their aggregates are cut short by the stop itself (no sessions after it), so learning from them
would teach the model to recognise a stop that has happened, not to foresee one. For the same
reason `active_status` is not a feature (it is True for every row of the population).

Features: the numeric columns of tutor_aggregates.csv and tutor_profiles.csv, the number of
subjects taught, two trends (7-day minus 30-day rating, 7-day over 30-day sessions), and one-hot
certification level and churn risk level. `churn_probability` is not a feature: it is the
baseline the learned models are measured against.

Evaluation: RepeatedStratifiedKFold (5 folds x 5 repeats, seeded), out-of-fold predictions. The
baseline is the spec's formula (section 7): `churn_probability` used as the predicted
probability, no fitting. The learned models are a logistic regression (median imputation with
missing-value indicators, standard scaling, L2 with C = 0.05) and a small gradient-boosting
model. Every model is scored on the same folds (metrics.json records the folds and their hash
for each model): ROC AUC, PR AUC (average precision; a random score gets the base rate) and the
Brier score, each computed on the out-of-fold predictions of one repeat, then mean and standard
deviation over the repeats, and the paired difference learned - baseline per repeat.

Writes into DATA_DIR/model/: metrics.json, churn_model.json (the logistic regression fitted on
every row, as plain numbers: imputation medians, scaler means and scales, coefficients; loaded
with `load_model` and applied with `predict`, no pickle), feature_importance.png and
calibration.png (reliability diagram of the out-of-fold predictions). With too few positives (or
one class) it writes metrics.json saying so and trains nothing; it never raises into the run
(`train_safely`).

Processes. With jobs >= 2 (the default where this process may use two CPUs; `jobs` argument,
`--jobs`) and where forking is safe, a forked helper renders the figures and, where scikit-learn was
loaded before it was forked (a preloaded process, pipeline/worker.py), takes its share of the
cross-validation's fits; otherwise it imports matplotlib while this one imports scikit-learn, and
the fits are shared with a forked worker (`_Helper`, `_fit_folds`). Every fit builds its model
afresh from (name, seed) and the out-of-fold predictions are assembled in the same order: the
files are the same bytes with any number of processes.
"""
from __future__ import annotations

import hashlib
import io
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from commands.cli import OneLineParser as _Parser  # one-line errors, exit 2
from analysis.cpus import can_fork, default_jobs
from output.reading import BadInput, read_csv
from commands.cli import positive_int as _positive_int

MIN_POSITIVES = 5
MIN_NEGATIVES = 5
N_SPLITS = 5
N_REPEATS = 5
LOGISTIC_C = 0.05                 # strong L2: ~20 positives; chosen on churn_study seeds 1-4 (C 0.02-1)
MODEL_FORMAT = "tutorsim-churn-logistic"
MODEL_FORMAT_VERSION = 1

NUMERIC_PROFILE = ["months_experience", "total_sessions_completed", "avg_historical_rating",
                   "reliability_score", "reschedule_rate", "no_show_count"]
NUMERIC_AGGREGATE = ["total_sessions_30d", "total_sessions_7d", "avg_rating_30d", "avg_rating_7d",
                     "avg_engagement_score", "avg_empathy_score", "avg_clarity_score",
                     "avg_student_satisfaction", "first_session_count", "first_session_avg_rating",
                     "poor_first_session_flag", "recommendation_rate", "technical_issue_rate",
                     "sentiment_trend_7d", "churn_signals_detected"]
DERIVED = ["subjects_count", "rating_trend_7d_30d", "activity_ratio_7d_30d"]
CERTIFICATIONS = ("Basic", "Advanced", "Expert")
RISK_LEVELS = ("Low", "Medium", "High")
FEATURES = (NUMERIC_PROFILE + NUMERIC_AGGREGATE + DERIVED
            + [f"certification_{c}" for c in CERTIFICATIONS] + [f"risk_{r}" for r in RISK_LEVELS])
BASELINE = "spec_formula"


# ================================================================================ data

def _as_bool(s: pd.Series) -> pd.Series:
    """True/False text (or a bool column) as a nullable boolean column (NA where neither)."""
    if s.dtype == bool:
        return s.astype("boolean")
    mapped = s.astype(str).str.strip().str.lower().map({"true": True, "false": False, "1": True, "0": False})
    return mapped.astype("boolean")


def features(profiles: pd.DataFrame, aggregates: pd.DataFrame) -> pd.DataFrame:
    """The feature matrix (columns FEATURES, NaN where a value is missing), one row per tutor in
    the order of `profiles`."""
    df = profiles.merge(aggregates, on="tutor_id", how="left", validate="one_to_one")
    out = pd.DataFrame(index=df.index)
    for col in NUMERIC_PROFILE + NUMERIC_AGGREGATE:
        values = df[col]
        if col == "poor_first_session_flag":
            values = _as_bool(values).astype("float64")
        out[col] = pd.to_numeric(values, errors="coerce").astype("float64")
    out["subjects_count"] = df["subjects_taught"].fillna("").astype(str).map(
        lambda s: len([x for x in s.split(",") if x.strip()])).astype("float64")
    out["rating_trend_7d_30d"] = out["avg_rating_7d"] - out["avg_rating_30d"]
    with np.errstate(invalid="ignore", divide="ignore"):
        out["activity_ratio_7d_30d"] = np.where(out["total_sessions_30d"] > 0,
                                                out["total_sessions_7d"] / out["total_sessions_30d"].where(out["total_sessions_30d"] > 0),
                                                np.nan)
    for c in CERTIFICATIONS:
        out[f"certification_{c}"] = (df["certification_level"] == c).astype("float64")
    for r in RISK_LEVELS:
        out[f"risk_{r}"] = (df["churn_risk_level"] == r).astype("float64")
    return out[FEATURES]


def load_dataset(data_dir: Path) -> dict:
    """Features, label and baseline score of the population (tutors active at the window's end)."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise BadInput(f"{data_dir}: no such folder")
    profiles = read_csv(data_dir / "tutor_profiles.csv")
    aggregates = read_csv(data_dir / "tutor_aggregates.csv")
    labels_path = data_dir / "ground_truth" / "churn_labels.csv"
    if not labels_path.is_file():
        raise BadInput(f"{labels_path}: not found (a run made before churn labels existed?)")
    labels = read_csv(labels_path)
    for name, df, cols in (("tutor_profiles.csv", profiles, ["tutor_id", "active_status", "certification_level",
                                                            "subjects_taught", *NUMERIC_PROFILE]),
                           ("tutor_aggregates.csv", aggregates, ["tutor_id", "churn_probability",
                                                                 "churn_risk_level", *NUMERIC_AGGREGATE]),
                           ("ground_truth/churn_labels.csv", labels, ["tutor_id", "churned", "churned_at",
                                                                      "horizon_days"])):
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise BadInput(f"{data_dir / name}: has no column {missing[0]}")
    window_end = None
    run_json = data_dir / "run.json"
    if run_json.is_file():
        try:
            window_end = pd.Timestamp(json.loads(run_json.read_text(encoding="utf-8"))["window_end"])
        except (OSError, ValueError, KeyError, TypeError):
            window_end = None
    active = _as_bool(profiles["active_status"])
    if active.isna().any():
        raise BadInput(f"{data_dir / 'tutor_profiles.csv'}: active_status must be True or False")
    population = profiles[active.to_numpy(bool)].reset_index(drop=True)
    lab = labels.set_index("tutor_id").reindex(population["tutor_id"])
    if lab["churned"].isna().any():
        missing = population["tutor_id"][lab["churned"].isna().to_numpy()].iloc[0]
        raise BadInput(f"{labels_path}: no label for tutor {missing}")
    y = _as_bool(lab["churned"]).to_numpy(bool)
    if window_end is not None:
        at = pd.to_datetime(lab["churned_at"])
        early = y & (at < window_end).to_numpy(bool)
        if early.any():
            raise BadInput(f"{labels_path}: tutor {population['tutor_id'][early].iloc[0]} is active at "
                           "the window's end in tutor_profiles.csv but churned before it")
    horizon = int(pd.to_numeric(labels["horizon_days"], errors="coerce").fillna(0).max()) if len(labels) else 0
    X = features(population, aggregates)
    baseline = aggregates.set_index("tutor_id")["churn_probability"].reindex(population["tutor_id"]).to_numpy("float64")
    return {"X": X, "y": y, "baseline": baseline, "tutor_id": population["tutor_id"].to_numpy(),
            "horizon_days": horizon, "tutors": len(profiles), "stopped_before_end": int((~active).sum())}


# ================================================================================ models

def logistic_model(seed: int):
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    return Pipeline([("impute", SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)),
                     ("scale", StandardScaler()),
                     ("model", LogisticRegression(C=LOGISTIC_C, solver="newton-cholesky", max_iter=200))])


def boosting_model(seed: int):
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    return Pipeline([("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
                     ("model", GradientBoostingClassifier(n_estimators=20, max_depth=2, learning_rate=0.1,
                                                          subsample=0.8, min_samples_leaf=5,
                                                          random_state=seed))])


LEARNED = {"logistic": logistic_model, "gradient_boosting": boosting_model}
FIT_COST = {"logistic": 1, "gradient_boosting": 4}     # a fit's time, relative (6 and 24 ms on 114 rows)


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


# ================================================================================ processes

SKLEARN_MODULES = ("sklearn.calibration", "sklearn.ensemble", "sklearn.impute", "sklearn.linear_model",
                   "sklearn.metrics", "sklearn.model_selection", "sklearn.pipeline", "sklearn.preprocessing")


def preload() -> None:
    """Import what training uses (SKLEARN_MODULES, matplotlib with its Agg backend), so that a
    process started early (pipeline/worker.py) has them loaded before it is asked to train."""
    import importlib
    for name in SKLEARN_MODULES:
        importlib.import_module(name)
    _pyplot()


def warm_up() -> None:
    """Run, once, what training runs first: a fit of each model on made-up rows, and a small
    figure with text (matplotlib loads its font then). A preloaded process with time to spare
    (pipeline/worker.py, while the look-ahead is simulated) calls it, and the first real training,
    and the helpers it forks, then start warm: some 0.1 s sooner done. Nothing here is kept:
    every fit builds its model afresh and every figure is closed."""
    import warnings
    rows = np.random.default_rng(0).normal(size=(40, 4))
    label = np.arange(40) % 4 == 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for make in LEARNED.values():
            make(0).fit(rows, label).predict_proba(rows)
    fig, ax = _figure(figsize=(2, 2))
    ax.barh(["a", "b"], [1.0, 2.0])
    ax.set_title("warm-up")
    _png(fig)


def sklearn_loaded() -> bool:
    """Whether scikit-learn's parts are loaded here (`preload`, or an earlier training): a fork of
    this process can then fit at once, without importing them first."""
    return all(name in sys.modules for name in SKLEARN_MODULES)


def _fork_context():
    """multiprocessing's "fork" context where forking is safe here, else None (work in this process):
    not where fork does not exist, nor with other threads running (the child would inherit the
    locks they hold, not the threads), nor in a daemonic process (it may not have children)."""
    import multiprocessing as mp
    import threading
    if not can_fork():
        return None
    if threading.active_count() > 1 or mp.current_process().daemon:
        return None
    return mp.get_context("fork")


def _child_ignores_ctrl_c() -> None:
    """In a forked child: Ctrl-C is the parent's to handle (it stops its children itself)."""
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _fit_predict(tasks, Xv, y, splits, seed, indices=None) -> dict:
    """{i: the out-of-fold probabilities of tasks[i] = (model name, fold index)} for each i of
    `indices` (a list, or those taken from a `_TaskQueue` shared with other processes), or of every
    task. Each fit builds its model afresh from (name, seed), so where and after what it runs
    changes nothing.

    The first fit of each model here validates its parameters; the others, of the same constructor
    with the same arguments, skip that (the boosting model validates each of its 20 trees again:
    some 15% of its time). The check that X is finite is skipped: `cross_validate` made it once."""
    import warnings

    import sklearn
    out, validated = {}, set()
    for i in range(len(tasks)) if indices is None else indices:
        name, k = tasks[i]
        train, test = splits[k]
        model = LEARNED[name](seed)
        with sklearn.config_context(skip_parameter_validation=name in validated, assume_finite=True), \
                warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(Xv[train], y[train])
            out[i] = model.predict_proba(Xv[test])[:, 1]
        validated.add(name)
    return out


class _TaskQueue:
    """Task indices 0, 1, ..., each handed to whichever process asks first: a counter in shared
    memory, made before the fork of the processes that share it (inherited: it cannot be sent). The
    processes sharing the fits take the next one as they finish the last, and so end together
    whatever else they are given to do."""

    def __init__(self, ctx):
        self._next = ctx.Value("q", 0)

    def take(self, n: int):
        """The indices below `n` this process takes, one at a time."""
        while True:
            with self._next.get_lock():
                i = self._next.value
                self._next.value = i + 1
            if i >= n:
                return
            yield i


def _fit_folds_child(send, tasks, Xv, y, splits, seed, queue) -> None:
    _child_ignores_ctrl_c()
    try:
        reply = ("ok", _fit_predict(tasks, Xv, y, splits, seed, queue.take(len(tasks))))
    except Exception as e:  # noqa: BLE001 - the parent redoes what it took, and raises there
        reply = ("error", f"{type(e).__name__}: {e}")
    try:
        send.send(reply)
    except OSError:
        pass                                    # the parent has stopped waiting
    send.close()


def _fit_folds(tasks, Xv, y, splits, seed, jobs: int, helper=None) -> list:
    """`_fit_predict(tasks, ...)` as a list, the tasks taken from one queue (`_TaskQueue`, in the
    order of `tasks`) by this process, the `helper` where it can fit (`_Helper.share_fits`) and
    forked children, `jobs` processes in all. The tasks a child or the helper took but did not
    return (it failed or died) are done here: an error is raised as it would be in one process."""
    shared = helper is not None and len(tasks) >= 2 and helper.share_fits(tasks, splits, seed)
    ctx = _fork_context() if jobs - shared >= 2 and len(tasks) >= 2 else None
    if ctx is None and not shared:
        out = _fit_predict(tasks, Xv, y, splits, seed)
        return [out[i] for i in range(len(tasks))]
    queue = helper.queue if shared else _TaskQueue(ctx)
    forks = min(jobs - shared, len(tasks)) - 1 if ctx is not None else 0   # besides this one and the helper
    children, out = [], {}                      # children: those not known to have replied
    try:
        for _ in range(forks):
            receive, send = ctx.Pipe(duplex=False)
            process = ctx.Process(target=_fit_folds_child, name="tutorsim-churn-cv", daemon=True,
                                  args=(send, tasks, Xv, y, splits, seed, queue))
            try:
                process.start()
            except OSError:                     # no fork now (memory, process limit): fewer takers
                receive.close()
            else:
                children.append((process, receive))
            send.close()
        out.update(_fit_predict(tasks, Xv, y, splits, seed, queue.take(len(tasks))))
        for process, receive in list(children):
            try:
                status, value = receive.recv()
            except (EOFError, OSError):
                status, value = "lost", None
            if status == "ok":
                out.update(value)
                # it ends by itself, not waited for (see _Helper.close): multiprocessing reaps it
                receive.close()
                children.remove((process, receive))
        if shared:
            out.update(helper.fits())
        missing = [i for i in range(len(tasks)) if i not in out]
        out.update(_fit_predict(tasks, Xv, y, splits, seed, missing))
    finally:                                    # on an error here, or Ctrl-C: stop those still at work
        for process, receive in children:
            receive.close()
            if process.is_alive():
                process.terminate()
            process.join()
    return [out[i] for i in range(len(tasks))]


# ================================================================================ the saved model

def export_logistic(pipeline, feature_names: list[str], extra: dict) -> dict:
    """The fitted logistic pipeline as plain numbers (JSON): nothing executable."""
    import sklearn
    imp, scale, lr = (pipeline.named_steps[k] for k in ("impute", "scale", "model"))
    indicator = [feature_names[i] for i in imp.indicator_.features_] if imp.indicator_ is not None else []
    names = list(feature_names) + [f"missing_{n}" for n in indicator]
    return {
        "format": MODEL_FORMAT, "format_version": MODEL_FORMAT_VERSION,
        "sklearn_version": sklearn.__version__,
        "estimator": "SimpleImputer(median, add_indicator) -> StandardScaler -> LogisticRegression(C=%g)" % LOGISTIC_C,
        "features": list(feature_names),
        "impute_median": [float(v) for v in imp.statistics_],
        "missing_indicators": indicator,
        "inputs": names,
        "scaler_mean": [float(v) for v in scale.mean_],
        "scaler_scale": [float(v) for v in scale.scale_],
        "coef": [float(v) for v in lr.coef_[0]],
        "intercept": float(lr.intercept_[0]),
        **extra,
    }


def load_model(path: Path) -> dict:
    model = json.loads(Path(path).read_text(encoding="utf-8"))
    if model.get("format") != MODEL_FORMAT or model.get("format_version") != MODEL_FORMAT_VERSION:
        raise BadInput(f"{path}: not a {MODEL_FORMAT} v{MODEL_FORMAT_VERSION} model")
    return model


def predict(model: dict, X: pd.DataFrame) -> np.ndarray:
    """Churn probability of each row of a feature frame (`features(profiles, aggregates)`)."""
    x = X[model["features"]].to_numpy("float64")
    missing = np.isnan(x)
    x = np.where(missing, np.asarray(model["impute_median"]), x)
    idx = [model["features"].index(n) for n in model["missing_indicators"]]
    x = np.hstack([x, missing[:, idx].astype("float64")])
    z = (x - np.asarray(model["scaler_mean"])) / np.asarray(model["scaler_scale"])
    logit = z @ np.asarray(model["coef"]) + model["intercept"]
    return 1.0 / (1.0 + np.exp(-logit))


# ================================================================================ figures

def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


DPI = 110
PNG_COMPRESS_LEVEL = 3      # zlib level: ~half the encoding time of the default 6, and no larger here


def _figure(*grid, figsize):
    """`plt.subplots` at the dpi the PNG is saved with, and with no layout engine (whatever the
    rcParams say): the margins are set by hand (`_margins`). At the saving dpi, the renderer that
    measures the tick labels for the margins is the one savefig draws with, and matplotlib keeps
    each text's measurement for it: measured once, not once for a layout and again at 110 dpi."""
    return _pyplot().subplots(*grid, figsize=figsize, dpi=DPI, layout="none")


def _tick_label_width(ax) -> float:
    """Width in inches of the widest y tick label of `ax`, as savefig will draw it."""
    renderer = ax.get_figure().canvas.get_renderer()
    widths = [label.get_window_extent(renderer).width for label in ax.get_yticklabels()]
    return max(widths, default=0.0) / DPI


def _margins(fig, left: float, right: float, bottom: float, top: float, gap: float = 0.0) -> None:
    """Place the axes (one row) with these margins and `gap` between axes, in inches: what
    tight_layout would find, without its measuring every artist of the figure (a third of a
    figure's time). The callers add room for the tick labels they measured (`_tick_label_width`);
    the titles and axis labels are of a fixed size."""
    width, height = fig.get_size_inches()
    n = len(fig.axes)
    axes_width = (width - left - right - gap * (n - 1)) / n
    fig.subplots_adjust(left=left / width, right=1 - right / width, bottom=bottom / height,
                        top=1 - top / height, wspace=gap / axes_width if n > 1 else 0.0)


def _unhinted(render):
    """`render` (a function of FIGURES) with the text unhinted (`text.hinting` no_hinting, here
    only): FreeType draws each glyph as it is instead of first running the font's TrueType hinting
    program on it, a fifth of the feature figure's time (279 -> 219 ms) and a seventh of the
    calibration figure's; the text looks the same at 110 dpi, a shade smoother. The measurements
    for the margins are taken with the same setting as the drawing."""
    import functools

    @functools.wraps(render)
    def unhinted(*args) -> bytes:
        import matplotlib
        with matplotlib.rc_context({"text.hinting": "no_hinting"}):
            return render(*args)
    return unhinted


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, pil_kwargs={"compress_level": PNG_COMPRESS_LEVEL})
    _pyplot().close(fig)
    return buffer.getvalue()


@_unhinted
def feature_importance_png(coef: list, inputs: list, importances, feature_names: list) -> bytes:
    """Standardized logistic coefficients (`inputs` names them) and the boosting model's
    importances (`feature_names`), the 15 largest of each."""
    coef = pd.Series(coef, index=inputs)
    top = coef.reindex(coef.abs().sort_values(ascending=False).index)[:15][::-1]
    gb = pd.Series(importances, index=feature_names)
    gb_top = gb.sort_values(ascending=False)[:15][::-1]
    fig, axes = _figure(1, 2, figsize=(12, 6))
    axes[0].barh(top.index, top.to_numpy(), color=np.where(top.to_numpy() > 0, "#c0392b", "#2e86c1"))
    axes[0].axvline(0, color="black", lw=0.8)
    axes[0].set_title("Logistic regression: coefficient per standard deviation\n(red: more churn)")
    axes[1].barh(gb_top.index, gb_top.to_numpy(), color="#7d8c8d")
    axes[1].set_title("Gradient boosting: impurity importance")
    fig.suptitle("Churn model features (fitted on every tutor active at the window's end)")
    # room for the feature names left of each axes; the top for the title and the two-line titles
    _margins(fig, left=_tick_label_width(axes[0]) + 0.3, right=0.25, bottom=0.4, top=0.9,
             gap=_tick_label_width(axes[1]) + 0.4)
    return _png(fig)


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


@_unhinted
def calibration_png(curves: dict, brier: dict, base_rate: float) -> bytes:
    """Reliability diagram of `calibration_curves`; `brier`: the mean Brier score of each model."""
    fig, ax = _figure(figsize=(6.5, 6))
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="perfectly calibrated")
    styles = {BASELINE: ("#7d8c8d", "s"), "logistic": ("#c0392b", "o"), "gradient_boosting": ("#2e86c1", "^")}
    top_p = 0.0
    for name, (mean_p, frac) in curves.items():
        top_p = max(top_p, float(mean_p.max()), float(frac.max()))
        color, marker = styles.get(name, ("black", "x"))
        ax.plot(mean_p, frac, marker=marker, color=color, label=f"{name} (Brier {brier[name]:.3f})")
    ax.axhline(base_rate, color="black", lw=0.6, ls=":", label=f"base rate {base_rate:.3f}")
    lim = min(1.0, max(0.2, top_p * 1.1))
    ax.set_xlim(0, lim)
    ax.set_ylim(0, lim)
    ax.set_xlabel("predicted churn probability (out of fold, quantile bins)")
    ax.set_ylabel("observed churn share")
    ax.set_title("Calibration of the churn predictions")
    ax.legend(loc="upper left", fontsize=8)
    # the y axis label and tick labels left, the x ones below, the title above
    _margins(fig, left=_tick_label_width(ax) + 0.45, right=0.25, bottom=0.6, top=0.35)
    return _png(fig)


def boosting_importances(Xv, y, seed: int):
    """The impurity importances of the boosting model fitted on every row: it is only drawn
    (`feature_figure`)."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return boosting_model(seed).fit(Xv, y).named_steps["model"].feature_importances_


def feature_figure(coef: list, inputs: list, importances, feature_names: list) -> bytes:
    """`feature_importance_png`, where `importances` may also be a callable that computes them
    (`functools.partial(boosting_importances, ...)`): the helper then fits the boosting model
    where it draws it, not the process about to start the cross-validation (`train`)."""
    return feature_importance_png(coef, inputs, importances() if callable(importances) else importances,
                                  feature_names)


FIGURES = {"feature_importance.png": feature_figure, "calibration.png": calibration_png}


class _Helper:
    """A forked process that works beside this one on what it is asked, in the order asked: render
    a figure (FIGURES), or take its share of the cross-validation's fits (`share_fits`). Forked
    from a preloaded process (pipeline/worker.py) it renders the feature figure while this
    one starts the fits, joins in the fits, then renders the calibration figure while this one
    computes the metrics: one fork, and the two processes busy until the end. Forked from one
    without scikit-learn (run.py model) it imports matplotlib while this one imports scikit-learn,
    and only renders: a fork of this process, once it has scikit-learn, shares the fits instead.
    Both processes run the same functions: the same bytes. What the helper fails to do (or all
    that is left when it dies) is done here, where an error is raised as it would be without it."""

    def __init__(self, fork: bool, Xv, y):
        self._process = self._conn = self.queue = None
        self._can_fit = False
        self._pending, self._done = [], {}      # asked of the child, in order; {file name: PNG bytes}
        self._fits = {}                         # {task index: probabilities} the child returned
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is not None and pyplot.get_fignums():
            fork = False                        # figures open here, maybe windows: not for a fork to touch
        ctx = _fork_context() if fork else None
        if ctx is not None:
            self.queue = _TaskQueue(ctx)
            self._can_fit = sklearn_loaded()
            self._conn, child = ctx.Pipe()
            process = ctx.Process(target=_helper_child, args=(child, self._conn, Xv, y, self.queue),
                                  name="tutorsim-churn-helper", daemon=True)
            try:
                process.start()
                self._process = process
            except OSError:                     # no fork now (memory, process limit): work here
                self._conn.close()
                self._conn = None
            child.close()

    def render(self, name: str, *args) -> None:
        if not self._ask(("figure", name, args)):
            self._done[name] = FIGURES[name](*args)

    def share_fits(self, tasks, splits, seed) -> bool:
        """Ask the child to take fits of `tasks` from its `queue` (it has X and y: they were there
        at the fork); False where it cannot (gone, or it would import scikit-learn first)."""
        return self.can_fit and self._ask(("fits", tasks, splits, seed))

    @property
    def can_fit(self) -> bool:
        """Whether the child can fit at once: scikit-learn was loaded here when it was forked."""
        return self._process is not None and self._can_fit

    def fits(self) -> dict:
        """{task index: probabilities} of the fits the child took and returned, once it has."""
        self._receive(wait=True)
        return self._fits

    def results(self) -> dict:
        """{file name: PNG bytes} of every figure asked for."""
        self._receive(wait=True)
        self.close()
        return dict(self._done)

    def _ask(self, request) -> bool:
        self._receive(wait=False)   # a reply left in the pipe could keep the child from reading this
        if self._process is None:
            return False
        try:
            self._conn.send(request)
        except OSError:
            self.close(wait=False)
            return False
        self._pending.append(request)
        return True

    def _receive(self, wait: bool) -> None:
        """The child's replies: all of them (wait), or those already sent."""
        while self._pending and self._process is not None:
            try:
                if not wait and not self._conn.poll():
                    return
                status, value = self._conn.recv()
            except (EOFError, OSError):
                self.close(wait=False)
                break
            kind, *request = self._pending.pop(0)
            if kind == "fits":
                self._fits = value if status == "ok" else {}    # what it took is done here (_fit_folds)
            else:
                name, args = request
                self._done[name] = value if status == "ok" else FIGURES[name](*args)
        for kind, *request in self._pending:    # the child has gone
            if kind == "figure":
                name, args = request
                self._done[name] = FIGURES[name](*args)
        self._pending = []

    def close(self, wait: bool = True) -> None:
        """Let the child end (it does when this end closes), or end it (wait=False). A child let
        end is not waited for: it takes some 10 ms to tear down its copy of this process's memory,
        while this one writes the files; multiprocessing reaps it (when it next starts a process,
        or at exit)."""
        if self._process is None:
            return
        self._conn.close()
        if not wait:
            if self._process.is_alive():
                self._process.terminate()
            self._process.join()
        self._process = self._conn = None


def _helper_child(conn, parent_end, Xv, y, queue) -> None:
    parent_end.close()          # inherited by the fork: open here, it would keep recv() from seeing the end
    _child_ignores_ctrl_c()
    try:
        _pyplot()               # now, while the parent imports scikit-learn (loaded already if preloaded)
    except Exception:  # noqa: BLE001 - rendering then fails, and the parent renders (and raises) itself
        pass
    replies = []
    while True:
        # A reply waits while another request does: a PNG is larger than the pipe holds, and
        # sending it would wait for the parent to read, which it does once its own fits are done.
        if replies and not conn.poll():
            try:
                for reply in replies:
                    conn.send(reply)
            except OSError:
                break
            replies = []
        try:
            kind, *request = conn.recv()
        except (EOFError, OSError):
            break
        try:
            if kind == "fits":
                tasks, splits, seed = request
                replies.append(("ok", _fit_predict(tasks, Xv, y, splits, seed, queue.take(len(tasks)))))
            else:
                name, args = request
                replies.append(("ok", FIGURES[name](*args)))
        except Exception as e:  # noqa: BLE001 - see above; fits it took are done by the parent
            replies.append(("error", f"{type(e).__name__}: {e}"))
    conn.close()


# ================================================================================ training

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
    positives, rows = int(y.sum()), len(y)
    metrics = {
        "status": "trained", "seed": int(seed),
        "population": "tutors active at the window's end (active_status True); tutors who stopped "
                      "before it are left out (their label is known and their aggregates are cut short)",
        "label": "the tutor stops (quits or is suspended) within horizon_days after the window's end",
        "horizon_days": data["horizon_days"], "tutors": data["tutors"],
        "stopped_before_window_end": data["stopped_before_end"],
        "rows": rows, "positives": positives, "base_rate": round(positives / rows, 4) if rows else None,
        "features": list(X.columns), "baseline": f"{BASELINE}: churn_probability of tutor_aggregates.csv (spec section 7)",
    }
    reason = None
    if data["horizon_days"] <= 0:
        reason = "no look-ahead (calendar.lookahead_days = 0): no tutor can churn after the window"
    elif positives < MIN_POSITIVES or rows - positives < MIN_NEGATIVES:
        reason = (f"{positives} tutors churned after the window and {rows - positives} did not; at least "
                  f"{MIN_POSITIVES} of each are needed (use scenarios/churn_study.toml or a longer "
                  "calendar.lookahead_days)")
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


# ================================================================================ command line




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
