"""Section 6: tutor aggregates (tutor_aggregates.csv)."""
from __future__ import annotations

import pandas as pd

from analysis.targets.checks import Measured, corr, fk, mean, metric, rng, rule
from analysis.targets.columns import A
from analysis.targets.predicates import is_true, not_above, unique

# column, spec range, integer
RANGES = (
    ("total_sessions_30d", 0, 300, True),
    ("total_sessions_7d", 0, 70, True),
    ("avg_rating_30d", 2.0, 5.0, False),
    ("avg_rating_7d", 2.0, 5.0, False),
    ("avg_engagement_score", 1, 10, False),
    ("avg_empathy_score", 1, 10, False),
    ("avg_clarity_score", 1, 10, False),
    ("avg_student_satisfaction", 1, 10, False),
    ("first_session_count", 0, 50, True),
    ("first_session_avg_rating", 2.0, 5.0, False),
    ("recommendation_rate", 0.0, 1.0, False),
    ("technical_issue_rate", 0.0, 1.0, False),
    ("sentiment_trend_7d", -0.5, 0.95, False),
)

# ------------------------------------------------------------------ custom measurements


def tutors_without_aggregates(d):
    """The number of tutors of tutor_profiles.csv without a row in tutor_aggregates.csv."""
    p = d.table("profiles")
    return Measured(int((~p["tutor_id"].isin(d.table("aggregates")["tutor_id"])).sum()),
                    n=len(p))


def first_rating_iff_first_sessions(df: pd.DataFrame) -> pd.Series:
    """first_session_avg_rating is null exactly where first_session_count is 0."""
    return df["first_session_avg_rating"].isna() == (df["first_session_count"] == 0)


def poor_flag_iff_low_rating(df: pd.DataFrame) -> pd.Series:
    """poor_first_session_flag is True exactly where first_session_avg_rating < 3.5."""
    return (is_true(df["poor_first_session_flag"])
            == (df["first_session_avg_rating"] < 3.5).fillna(False))


# ----------------------------------------------------------------------------- the claims

rule(6, "one aggregates row per tutor: tutor_id unique", level="tutor", needs=A,
     view="aggregates", ident="tutor_id", ok=unique("tutor_id"))
fk(6, "aggregates", "tutor_id", "profiles", level="tutor", ident="tutor_id")
metric(6, "every tutor of tutor_profiles has an aggregates row", level="tutor",
       needs=("aggregates", "profiles"), fn=tutors_without_aggregates,
       lo=0, hi=0, target_text="0 missing")
for _col, _lo, _hi, _int in RANGES:
    rng(6, "aggregates", _col, _lo, _hi, level="tutor", needs=A, integer=_int)
rule(6, "total_sessions_7d <= total_sessions_30d", level="tutor", needs=A, view="aggregates",
     ident="tutor_id", ok=not_above("total_sessions_7d", "total_sessions_30d"))
rule(6, "first_session_avg_rating is null iff first_session_count == 0", level="tutor",
     needs=A, view="aggregates", ident="tutor_id", ok=first_rating_iff_first_sessions)
rule(6, "poor_first_session_flag iff first_session_avg_rating < 3.5", level="tutor", needs=A,
     view="aggregates", ident="tutor_id", ok=poor_flag_iff_low_rating,
     note="section 11: the flag identifies the first sessions rated < 3.5")

# the aggregates agree with the sessions they are computed from
corr(6, "total_sessions_30d agrees with completed sessions in sessions.csv (last 30 days)",
     level="tutor", needs=("aggregates", "sessions"), view="tutor_activity",
     x="completed_30d", y="total_sessions_30d", lo=0.90, hi=1.0,
     note="aggregates are computed from the sessions")
corr(6, "total_sessions_7d agrees with completed sessions in sessions.csv (last 7 days)",
     level="tutor", needs=("aggregates", "sessions"), view="tutor_activity",
     x="completed_7d", y="total_sessions_7d", lo=0.90, hi=1.0)
corr(6, "avg_rating_30d agrees with mean student_rating in sessions.csv", level="tutor",
     needs=("aggregates", "sessions"), view="tutor_activity", x="mean_rating",
     y="avg_rating_30d", lo=0.90, hi=1.0)
corr(6, "technical_issue_rate agrees with had_technical_issues in sessions.csv (last 30 days)",
     level="tutor", needs=("aggregates", "sessions"), view="tutor_activity",
     x="mean_tech_30d", y="technical_issue_rate", lo=0.90, hi=1.0)

mean(6, "aggregates", "recommendation_rate", 0.78, lo=0.75, hi=None, level="tutor", needs=A,
     claim="mean recommendation_rate above the 0.75 target",
     note="spec: 'Target: > 0.75'; 78% of sessions recommend")
