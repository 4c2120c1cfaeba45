"""Sections 3-5: what a held session measures (sessions.csv, completed sessions).

3: video engagement metrics; 4: sentiment and quality scores; 5: student feedback.
"""
from __future__ import annotations

import pandas as pd

from analysis.targets.composite import engagement, formula_moments, rounding_slack, run_width
from analysis.targets.checks import Measured, Skip, corr, field, metric, rule, share
from analysis.targets.columns import C, S
from analysis.targets.predicates import above, is_true, present, true
from analysis.targets.tolerance import SD_RELATIVE, mean_tol, se_mean, se_sd

# ------------------------------------------------------------------ custom measurements


def student_above_overall(d):
    """Mean student_sentiment minus mean overall_sentiment (completed sessions): a mean of
    paired differences, with their standard error."""
    c = d.view(C)
    diff = (c["student_sentiment"] - c["overall_sentiment"]).dropna()
    if len(diff) < 2:
        raise Skip("no sentiments")
    return Measured(float(diff.mean()), n=len(diff), se=se_mean(float(diff.std()), len(diff)))


def satisfaction_minus_twice_rating(d):
    """Mean of student_satisfaction - 2 x student_rating over rated sessions ('rating * 2')."""
    c = d.view(C)
    diff = (c["student_satisfaction"] - 2 * c["student_rating"]).dropna()
    if len(diff) < 2:
        raise Skip("no rated sessions")
    return Measured(float(diff.mean()), n=len(diff), se=se_mean(float(diff.std()), len(diff)))


def engagement_follows_formula(df: pd.DataFrame, d) -> pd.Series:
    """engagement_score is the composite of the row's attention, speak ratio and overall
    sentiment at the run's balance width, up to the rounding of the written columns."""
    width = run_width(d)
    e = engagement(df["student_attention_pct"], df["tutor_speak_ratio"],
                             df["overall_sentiment"], width)
    return (e - df["engagement_score"]).abs() <= rounding_slack(width)


def engagement_sd(d):
    """The SD of engagement_score against the SD the formula gives on the spec's inputs at the
    run's balance width (composite.py)."""
    width = run_width(d)
    target = formula_moments(width)[1]
    v = d.view(C)["engagement_score"].dropna()
    if len(v) < 2:
        raise Skip("no engagement scores")
    x = float(v.std())
    return Measured(x, n=len(v), se=se_sd(x, len(v)), lo=target * (1 - SD_RELATIVE),
                    hi=target * (1 + SD_RELATIVE), text=f"{x:.3f} (n={len(v):,})",
                    target_text=f"{target:.2f} ± {SD_RELATIVE:.0%} (width {width:g})")


def recommend_iff_satisfied(df: pd.DataFrame) -> pd.Series:
    """would_recommend is True exactly where student_satisfaction >= 7.0 (a row missing either
    passes)."""
    return (df["student_satisfaction"].isna() | df["would_recommend"].isna()
            | (is_true(df["would_recommend"]) == (df["student_satisfaction"] >= 7.0)))


# ================================================================= section 3: video metrics

field(3, C, "student_attention_pct", level="session", needs=S, family="normal",
      params=(72, 15), lo=10, hi=100, mean=72, sd=15)
field(3, C, "tutor_camera_on_pct", level="session", needs=S, family="normal", params=(92, 8),
      lo=70, hi=100, mean=92, sd=8)
field(3, C, "tutor_speak_ratio", level="session", needs=S, family="normal", params=(0.50, 0.12),
      lo=0.20, hi=0.80, mean=0.50, sd=0.12, range_check=False)  # range is rule 9
field(3, C, "screen_share_pct", level="session", needs=S, family="normal", params=(65, 20),
      lo=10, hi=95, mean=65, sd=20)
corr(3, "'low camera usage correlates with lower ratings': tutor_camera_on_pct vs "
        "student_rating", level="session", needs=S, view=C, x="tutor_camera_on_pct",
     y="student_rating", lo=0.05, hi=1.0, note="spec gives no coefficient; r >= 0.05")
corr(3, "'attention correlates with tutor quality': tutor mean attention vs avg_rating_30d",
     level="tutor", needs=("sessions", "aggregates"), view="tutor_activity",
     x="mean_attention", y="avg_rating_30d", lo=0.10, hi=1.0,
     note="spec gives no coefficient; r >= 0.10")

# ============================================================== section 4: sentiment, scores

field(4, C, "overall_sentiment", level="session", needs=S, family="normal", params=(0.45, 0.20),
      lo=-0.5, hi=0.95, mean=0.45, sd=0.20)
field(4, C, "student_sentiment", level="session", needs=S, family="normal", params=(0.50, 0.18),
      lo=-0.5, hi=0.95, mean=0.50, sd=0.18)
metric(4, "'student sentiment slightly higher than overall': mean student_sentiment minus "
          "mean overall_sentiment", level="session", needs=S, fn=student_above_overall,
       target=0.05, tol=mean_tol(0.20), note="the spec's means differ by 0.05")
field(4, C, "tutor_sentiment", level="session", needs=S, family="normal", params=(0.55, 0.15),
      lo=-0.2, hi=0.95, mean=0.55, sd=0.15)
share(4, "tutor_sentiment 'consistently positive': share > 0", level="session", needs=S,
      view=C, pred=above("tutor_sentiment", 0), lo=0.95, hi=None,
      where=present("tutor_sentiment"),
      note="N(0.55, 0.15) gives 99.99%; we require 95%")
field(4, C, "empathy_score", level="session", needs=S, family="normal", params=(6.5, 1.5),
      lo=1, hi=10, mean=6.5, sd=1.5)
field(4, C, "clarity_score", level="session", needs=S, family="normal", params=(6.8, 1.3),
      lo=1, hi=10, mean=6.8, sd=1.3)
field(4, C, "engagement_score", level="session", needs=S, family="normal", params=(6.3, 1.6),
      lo=1, hi=10, mean=6.3, sd=1.6, sd_check=False,
      note="the spec's mean; its SD 1.6 is out of the formula's reach (see contradictions)")
rule(4, "engagement_score is the spec's composite of attention, speak balance (at the run's "
        "width) and overall_sentiment", level="session", needs=S, view=C,
     ident="session_id", ok=engagement_follows_formula, with_data=True,
     key="engagement_formula")
metric(4, "SD engagement_score = the formula's SD on the spec's inputs (spec: 1.6)",
       level="session", needs=S, fn=engagement_sd, key="engagement_sd",
       note="see 'engagement_score composite' in the contradictions")

# ================================================================== section 5: feedback

field(5, C, "student_rating", level="session", needs=S, family="normal", params=(4.1, 0.6),
      lo=1.0, hi=5.0, mean=4.1, sd=0.6)
field(5, C, "student_satisfaction", level="session", needs=S, family="normal",
      params=(8.2, 1.2), lo=1.0, hi=10.0, mean=8.2, sd=1.2)
corr(5, "'satisfaction correlates with rating (rating * 2)': student_rating vs "
        "student_satisfaction", level="session", needs=S, view=C, x="student_rating",
     y="student_satisfaction", lo=0.50, hi=1.0,
     note="the spec states no r; see 'satisfaction and rating' in the contradictions")
metric(5, "'(rating * 2)': mean student_satisfaction minus twice student_rating",
       level="session", needs=S, fn=satisfaction_minus_twice_rating, target=0.0,
       tol=mean_tol(1.2), key="satisfaction_scale",
       note="8.2 = 2 x 4.1 and 1.2 = 2 x 0.6: satisfaction is on twice the rating's scale")
share(5, "would_recommend True (completed)", level="session", needs=S, view=C,
      pred=true("would_recommend"), target=0.78, key="recommend_share")
rule(5, "would_recommend is True iff student_satisfaction >= 7.0 (completed)",
     level="session", needs=S, view=C, ident="session_id", key="recommend_rule",
     ok=recommend_iff_satisfied)
