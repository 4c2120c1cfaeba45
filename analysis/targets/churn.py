"""Section 7: churn prediction features (tutor_aggregates.csv)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.targets.checks import Measured, enum, figure, metric, rng, rule
from analysis.targets.columns import A

SIGNAL_WEIGHTS = {"declining_ratings": 1, "low_engagement": 1, "high_reschedule": 1,
                  "poor_first_sessions": 2, "no_shows": 1, "declining_activity": 1}


def churn_signals(t: pd.DataFrame) -> pd.DataFrame:
    """The spec's six churn signals (section 7) on a tutors frame (profiles + aggregates)."""
    return pd.DataFrame({
        "declining_ratings": (t["avg_rating_7d"] < t["avg_rating_30d"] - 0.3).fillna(False),
        "low_engagement": (t["avg_engagement_score"] < 5.5).fillna(False),
        "high_reschedule": (t["reschedule_rate"] > 0.15).fillna(False),
        "poor_first_sessions": (t["first_session_avg_rating"] < 3.5).fillna(False),
        "no_shows": (t["no_show_count"] > 2).fillna(False),
        "declining_activity": (t["total_sessions_7d"] < t["total_sessions_30d"] / 4).fillna(False),
    }, index=t.index).astype(bool)


# ------------------------------------------------------------------ custom measurements


def risk_level_matches(df: pd.DataFrame) -> pd.Series:
    """churn_risk_level is the band of churn_probability (a null probability passes)."""
    return df["churn_probability"].isna() | (df["churn_risk_level"] == np.where(
        df["churn_probability"] >= 0.5, "High",
        np.where(df["churn_probability"] >= 0.3, "Medium", "Low")))


def signals_match(d):
    """Share of tutors whose churn_signals_detected equals the recomputed signals, weighted or
    unweighted (whichever matches more)."""
    t = d.view("tutors").dropna(subset=["churn_signals_detected"])
    sig = churn_signals(t)
    weighted = sum(sig[k] * w for k, w in SIGNAL_WEIGHTS.items())
    plain = sig.sum(axis=1)
    mw = float((weighted == t["churn_signals_detected"]).mean())
    mp = float((plain == t["churn_signals_detected"]).mean())
    best, which = (mw, "weighted") if mw >= mp else (mp, "unweighted")
    return Measured(best, n=len(t), text=f"{best:.1%} match ({which})")


def churn_residual(d):
    """Mean |churn_probability - min(0.12 x weighted signals, 0.85)|."""
    t = d.view("tutors").dropna(subset=["churn_probability"])
    sig = churn_signals(t)
    weighted = sum(sig[k] * w for k, w in SIGNAL_WEIGHTS.items())
    res = t["churn_probability"] - np.minimum(weighted * 0.12, 0.85)
    return Measured(float(res.abs().mean()), n=len(t), text=f"{res.abs().mean():.3f}")


# ----------------------------------------------------------------------------- the claims

rng(7, "aggregates", "churn_probability", 0.0, 1.0, level="tutor", needs=A)
figure("aggregates", "churn_probability", A, "none", lo=0.0, hi=1.0, markers=(0.3, 0.5, 0.85))
enum(7, "aggregates", "churn_risk_level", ("Low", "Medium", "High"), level="tutor", needs=A)
rule(7, "churn_risk_level matches churn_probability (High >= 0.5 > Medium >= 0.3 > Low)",
     level="tutor", needs=A, view="aggregates", ident="tutor_id", key="risk_level_rule",
     ok=risk_level_matches)
rng(7, "aggregates", "churn_signals_detected", 0, 8, level="tutor", needs=A, integer=True)
metric(7, "churn_signals_detected equals the spec's six signals recomputed (weighted or "
          "unweighted count)", level="tutor", needs=("aggregates", "profiles"),
       fn=signals_match, lo=1.0, hi=1.0, target_text="100% of tutors")
metric(7, "churn_probability follows min(0.12 * weighted signals, 0.85) + noise(0, 0.1): "
          "mean |residual|", level="tutor", needs=("aggregates", "profiles"),
       fn=churn_residual, lo=0.0, hi=0.10, target_text="<= 0.10")
