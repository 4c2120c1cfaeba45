"""Section 9: validation rules, on every row (and two cross-field relations)."""
from __future__ import annotations

from analysis.targets.checks import Measured, Skip, corr, metric, rule
from analysis.targets.columns import A, PA, S
from analysis.targets.predicates import (at_least, at_most, between, either, false, implies,
                                         missing, negate, true)

EPS = 1e-9      # float slack at a rule's bound


def trend_churn(d):
    """Mean churn_probability of tutors with avg_rating_7d < avg_rating_30d - 0.3 minus the
    other tutors'."""
    a = d.table("aggregates")
    down = (a["avg_rating_7d"] < a["avg_rating_30d"] - 0.3).fillna(False)
    if not down.any() or down.all():
        raise Skip("no tutor (or every tutor) has a declining 7-day rating")
    x, y = a.loc[down, "churn_probability"].mean(), a.loc[~down, "churn_probability"].mean()
    return Measured(x - y, n=len(a), text=f"{x - y:+.3f} ({x:.2f} vs {y:.2f}, "
                                          f"{int(down.sum())} trending down)")


rule(9, "session_completed False implies student_rating is null", level="session", needs=S,
     view="sessions", ident="session_id", key="rule_rating_completed",
     ok=either(true("session_completed"), missing("student_rating")))
rule(9, "tutor_showed False implies session_completed False", level="session", needs=S,
     view="sessions", ident="session_id", key="rule_tutor_showed",
     ok=implies(false("tutor_showed"), negate(true("session_completed"))))
rule(9, "0.20 <= tutor_speak_ratio <= 0.80", level="session", needs=S, view="sessions",
     ident="session_id", key="rule_speak",
     ok=either(missing("tutor_speak_ratio"),
               between("tutor_speak_ratio", 0.20 - EPS, 0.80 + EPS)))
rule(9, "avg_rating_7d is null unless total_sessions_7d >= 3", level="tutor", needs=A,
     view="aggregates", ident="tutor_id", key="rule_rating_7d",
     ok=either(missing("avg_rating_7d"), at_least("total_sessions_7d", 3)))
rule(9, "poor_first_session_flag requires first_session_count >= 1", level="tutor", needs=A,
     view="aggregates", ident="tutor_id", key="rule_poor_first",
     ok=implies(true("poor_first_session_flag"), at_least("first_session_count", 1)))
rule(9, "churn_probability <= 0.85", level="tutor", needs=A, view="aggregates",
     ident="tutor_id", key="rule_churn_cap",
     ok=either(missing("churn_probability"), at_most("churn_probability", 0.85 + EPS)))
corr(9, "empathy correlates with months_experience (r > 0.3): avg_empathy_score vs "
        "months_experience", level="tutor", needs=PA, view="tutors", x="months_experience",
     y="avg_empathy_score", lo=0.30, hi=1.0, key="corr_emp_exp")
metric(9, "rating_trend_down implies churn up: mean churn_probability of tutors with "
          "avg_rating_7d < avg_rating_30d - 0.3 minus the rest", level="tutor", needs=A,
       fn=trend_churn, lo=0.0, hi=None, target_text="> 0", key="trend_churn")
