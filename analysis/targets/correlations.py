"""Section 8, first half: the correlations between fields (edge cases: edge_cases.py)."""
from __future__ import annotations

from functools import partial

import numpy as np

from analysis.targets.composite import formula_moments, plain_balance, run_width
from analysis.targets.checks import Measured, Skip, corr, metric
from analysis.targets.columns import C, P, PA, S
from analysis.targets.predicates import is_false, is_true
from analysis.targets.tolerance import CORRELATION, mean_tol, se_corr, se_diff, se_mean

RATING_SD = 0.6     # section 5: a rating difference is a mean's, banded by the rating's SD

# ------------------------------------------------------------------ custom measurements


def speak_balance_engagement(d):
    """r(plain speak balance, engagement_score) over completed sessions, against the r the
    formula gives on the spec's inputs at the run's balance width (composite.py)."""
    width = run_width(d)
    target = formula_moments(width)[2]
    c = d.view(C)[["tutor_speak_ratio", "engagement_score"]].dropna()
    if len(c) < 4:
        raise Skip("fewer than 4 completed sessions")
    r = float(np.corrcoef(plain_balance(c["tutor_speak_ratio"]),
                          c["engagement_score"])[0, 1])
    return Measured(r, n=len(c), se=se_corr(target, len(c)), lo=target - CORRELATION,
                    hi=target + CORRELATION, text=f"r {r:+.3f} (n={len(c):,})",
                    target_text=f"r {target:+.2f} ± {CORRELATION:.2f} (width {width:g})")


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
    ra, rb = c.loc[hi_rows, "student_rating"], c.loc[lo_rows, "student_rating"]
    a, b = ra.mean(), rb.mean()
    se = se_diff(ra.std(ddof=1), len(ra), rb.std(ddof=1), len(rb)) if min(len(ra), len(rb)) > 1 \
        else None
    return Measured(a - b, n=int(hi_rows.sum() + lo_rows.sum()), se=se,
                    text=f"{a - b:.3f} ({a:.2f} vs {b:.2f}, n={int(lo_rows.sum()):,})")


def first_session_gap_within_tutors(d):
    """The first-session penalty as each first session sees it: its tutor's mean rating of other
    sessions minus its own rating, averaged over the rated first sessions of tutors who also
    have other rated sessions (a first session is compared with its own tutor, not with the
    platform: first sessions go mostly to tutors with room, who are rated lower)."""
    c = d.view(C)
    c = c.loc[c["student_rating"].notna(), ["tutor_id", "is_first_session", "student_rating"]]
    first = is_true(c["is_first_session"])
    regular = c[~first].groupby("tutor_id")["student_rating"].mean()
    f = c[first]
    gap = (f["tutor_id"].map(regular) - f["student_rating"]).dropna()
    if len(gap) < 2:
        raise Skip("no tutor with rated first and other sessions")
    raw = float(c.loc[~first, "student_rating"].mean() - f["student_rating"].mean())
    return Measured(float(gap.mean()), n=len(gap), se=se_mean(float(gap.std()), len(gap)),
                    text=f"{gap.mean():.3f} (n={len(gap):,} first sessions; "
                         f"across tutors {raw:.2f})")


# ----------------------------------------------------------------------------- the claims

corr(8, "experience -> reliability: months_experience vs reliability_score", level="tutor",
     needs=P, view="profiles", x="months_experience", y="reliability_score", target=0.35,
     key="corr_exp_rel")
corr(8, "reliability -> avg_rating: reliability_score vs avg_historical_rating",
     level="tutor", needs=P, view="profiles", x="reliability_score",
     y="avg_historical_rating", target=0.58, key="corr_rel_rating")
corr(8, "empathy_score -> student_satisfaction", level="session", needs=S, view=C,
     x="empathy_score", y="student_satisfaction", target=0.72, key="corr_emp_sat")
metric(8, "speak balance (1 - |speak_ratio - 0.5| / 0.5) -> engagement_score (session level; "
          "spec: r 0.45)", level="session", needs=S, fn=speak_balance_engagement,
       key="corr_speak_eng",
       note="the formula's r at the run's width: see 'engagement_score' in the contradictions")
metric(8, "connection_quality -> rating: mean rating Excellent minus Poor ('-0.6 for Poor')",
       level="session", needs=S,
       fn=partial(rating_gap, col="connection_quality", high="Excellent", low="Poor"),
       target=0.6, tol=mean_tol(RATING_SD), key="gap_connection")
metric(8, "is_first_session -> rating ('-0.3'): the tutor's other sessions' mean rating minus "
          "the first session's", level="session", needs=S, fn=first_session_gap_within_tutors,
       target=0.3, tol=mean_tol(RATING_SD), key="gap_first",
       note="within tutors: see 'first-session penalty' in the contradictions")
corr(8, "no_show_count -> churn_probability", level="tutor", needs=PA, view="tutors",
     x="no_show_count", y="churn_probability", target=0.68, key="corr_noshow_churn")
