"""The churn model's data: the population (tutors active at the window's end), its feature
matrix, its label and the baseline score, read from a run folder's tables (`load_dataset`)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from output.reading import BadInput, has_table, read_csv

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
    if not has_table(labels_path):
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
