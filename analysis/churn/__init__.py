"""The churn model: who of the tutors still active at the window's end stops soon after it?

    python run.py model DATA_DIR [--seed N]     retrain on a run folder's saved tables (commands/model.py)

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


Processes: with jobs >= 2 a forked helper renders the figures and may share the
cross-validation's fits; the files are the same bytes with any number of processes (processes.py).

    features.py          the population, its features, label and baseline score (`load_dataset`)
    models.py            the baseline and the learned models (`LEARNED`), built afresh from a seed
    cross_validation.py  every model on the same repeated folds; metrics and calibration curves
    processes.py         the forked helper and workers the fits and figures are shared with
    saved_model.py       the logistic regression as JSON numbers (`export_logistic`, `load_model`, `predict`)
    figures.py           feature_importance.png and calibration.png
    training.py          `train`, `train_safely` (never raises into the run) and `describe`
"""
from analysis.churn.cross_validation import N_REPEATS, N_SPLITS, calibration_curves, cross_validate, fold_hash
from analysis.churn.features import FEATURES, features, load_dataset
from analysis.churn.figures import FIGURES, boosting_importances, calibration_png, feature_importance_png
from analysis.churn.models import BASELINE, LEARNED, LOGISTIC_C, boosting_model, logistic_model
from analysis.churn.processes import preload, sklearn_loaded, warm_up
from analysis.churn.saved_model import MODEL_FORMAT, MODEL_FORMAT_VERSION, export_logistic, load_model, predict
from analysis.churn.training import MIN_NEGATIVES, MIN_POSITIVES, describe, train, train_safely

__all__ = ["BASELINE", "FEATURES", "FIGURES", "LEARNED", "LOGISTIC_C", "MIN_NEGATIVES", "MIN_POSITIVES",
           "MODEL_FORMAT", "MODEL_FORMAT_VERSION", "N_REPEATS", "N_SPLITS", "boosting_importances",
           "boosting_model", "calibration_curves", "calibration_png", "cross_validate", "describe",
           "export_logistic", "feature_importance_png", "features", "fold_hash", "load_dataset", "load_model",
           "logistic_model", "predict", "preload", "sklearn_loaded", "train", "train_safely", "warm_up"]
