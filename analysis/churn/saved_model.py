"""The saved churn model: the logistic regression fitted on every row, as plain JSON numbers
(no pickle), and applied with numpy."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.churn.models import LOGISTIC_C
from output.reading import BadInput

MODEL_FORMAT = "tutorsim-churn-logistic"
MODEL_FORMAT_VERSION = 1


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
