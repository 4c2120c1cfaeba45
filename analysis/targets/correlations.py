"""Section 8, first half: the correlations between fields (edge cases: edge_cases.py)."""
from __future__ import annotations

from functools import partial

import pandas as pd

from analysis.targets.checks import Measured, Skip, corr, metric
from analysis.targets.columns import C, P, PA, S
from analysis.targets.predicates import is_false, is_true

# ------------------------------------------------------------------ custom measurements


def speak_balance(df: pd.DataFrame) -> pd.Series:
    """The spec's plain speak balance: 1 - |tutor_speak_ratio - 0.5| / 0.5."""
    return 1 - (df["tutor_speak_ratio"] - 0.5).abs() / 0.5


def rating_gap(d, col, high, low):
    """Mean student_rating of completed sessions with col == high minus those with col == low."""
    c = d.view(C)
    c = c[c["student_rating"].notna()]
    key = c[col]
    if key.dtype == "boolean" or key.dtype == bool:
        hi_rows, lo_rows = (is_true(key) if high else is_false(key)), (is_true(key) if low
                                                                         else is_false(key))
    else:
        hi_rows, lo_rows = key == high, key == low
    if not hi_rows.any() or not lo_rows.any():
        raise Skip(f"no {col} = {low} or no {col} = {high} rated sessions")
    a, b = c.loc[hi_rows, "student_rating"].mean(), c.loc[lo_rows, "student_rating"].mean()
    return Measured(a - b, n=int(hi_rows.sum() + lo_rows.sum()),
                    text=f"{a - b:.3f} ({a:.2f} vs {b:.2f}, n={int(lo_rows.sum()):,})")


# ----------------------------------------------------------------------------- the claims

corr(8, "experience -> reliability: months_experience vs reliability_score", level="tutor",
     needs=P, view="profiles", x="months_experience", y="reliability_score", target=0.35,
     key="corr_exp_rel")
corr(8, "reliability -> avg_rating: reliability_score vs avg_historical_rating",
     level="tutor", needs=P, view="profiles", x="reliability_score",
     y="avg_historical_rating", target=0.58, key="corr_rel_rating")
corr(8, "empathy_score -> student_satisfaction", level="session", needs=S, view=C,
     x="empathy_score", y="student_satisfaction", target=0.72, key="corr_emp_sat")
corr(8, "speak balance (1 - |speak_ratio - 0.5| / 0.5) -> engagement_score", level="session",
     needs=S, view=C, x=speak_balance, y="engagement_score", lo=0.30, hi=None,
     key="corr_speak_eng",
     note="at least 0.45 - 0.15: see 'engagement_score' in the contradictions")
metric(8, "connection_quality -> rating: mean rating Excellent minus Poor ('-0.6 for Poor')",
       level="session", needs=S,
       fn=partial(rating_gap, col="connection_quality", high="Excellent", low="Poor"),
       target=0.6, lo=0.4, hi=0.8, target_text="0.6 in [0.4, 0.8]", key="gap_connection")
metric(8, "is_first_session -> rating: mean rating non-first minus first ('-0.3')",
       level="session", needs=S,
       fn=partial(rating_gap, col="is_first_session", high=False, low=True),
       target=0.3, lo=0.15, hi=0.45, target_text="0.3 in [0.15, 0.45]", key="gap_first")
corr(8, "no_show_count -> churn_probability", level="tutor", needs=PA, view="tutors",
     x="no_show_count", y="churn_probability", target=0.68, key="corr_noshow_churn")
