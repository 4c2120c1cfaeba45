"""Section 10: tutor personas (ground_truth/tutor_traits.csv joined to the spec tables).

Each persona's metric ranges are data (PERSONAS); a persona's mean of a metric must lie in the
spec's range widened by two standard errors of that mean.
"""
from __future__ import annotations

from functools import partial
from analysis.targets.checks import Measured, Skip, mean, metric, shares
from analysis.targets.columns import PROFILE_COLUMNS
from analysis.targets.predicates import equals
from analysis.targets.tolerance import mean_tol, se_mean

PERSONAS: dict[str, dict[str, tuple[float, float]]] = {
    # persona -> metric column -> spec range (section 10)
    "rock_star": {"months_experience": (36, 60), "reliability_score": (0.85, 0.95),
                  "avg_historical_rating": (4.7, 5.0), "reschedule_rate": (0.0, 0.05),
                  "avg_empathy_score": (8, 10), "churn_probability": (0.05, 0.15)},
    "solid_performer": {"months_experience": (12, 36), "reliability_score": (0.70, 0.85),
                        "avg_historical_rating": (4.0, 4.5), "reschedule_rate": (0.05, 0.12),
                        "avg_empathy_score": (6, 8), "churn_probability": (0.15, 0.35)},
    "struggling_newbie": {"months_experience": (1, 6), "reliability_score": (0.50, 0.70),
                          "avg_historical_rating": (3.5, 4.0), "reschedule_rate": (0.10, 0.20),
                          "first_session_avg_rating": (3.0, 3.5),
                          "avg_empathy_score": (4, 6), "churn_probability": (0.45, 0.70)},
    "burned_out_veteran": {"months_experience": (48, 120), "reliability_score": (0.60, 0.75),
                           "avg_historical_rating": (4.2, 4.2), "avg_rating_7d": (3.8, 3.8),
                           "reschedule_rate": (0.15, 0.25),
                           "churn_probability": (0.50, 0.75)},
    "no_show_problem": {"no_show_count": (3, 8), "reliability_score": (0.40, 0.60),
                        "churn_probability": (0.55, 0.80)},
}
PERSONA_SHARES = {"rock_star": 0.10, "solid_performer": 0.50, "struggling_newbie": 0.15,
                  "burned_out_veteran": 0.05, "no_show_problem": 0.08}
# A persona's mean must lie in the spec's range, widened only by two standard errors of the mean
# over the persona's tutors (analysis/targets/tolerance.py). Where the spec gives one number
# instead of a range, the number is a mean target: its band is the rule's share of the column's
# SD (avg_historical_rating: 0.36, the scaled Beta(8, 2)'s; a rating: 0.6, section 5's).
POINT_TARGET_SD = {"avg_historical_rating": 0.36, "avg_rating_7d": 0.6}
PERSONA_TOL_TEXT = ("the spec's range, widened by two standard errors of the persona's mean; a "
                    "single number as a mean target (± 0.15 of the column's SD)")
# The at-risk personas' churn ranges need 4-6 of the formula's signals; see CONTRADICTIONS
# ("persona churn"): we require the Medium band or above (3+ signals) and twice the solid
# performers' risk.
AT_RISK_CHURN_FLOOR = 0.36
AT_RISK = ("struggling_newbie", "burned_out_veteran", "no_show_problem")


def persona_bounds(metric: str, lo: float, hi: float) -> tuple[float, float]:
    """The band of a persona's mean before its standard errors: the spec's range, or a single
    number's mean band."""
    if lo == hi:
        tol = mean_tol(POINT_TARGET_SD[metric])
        return lo - tol, hi + tol
    return lo, hi


def _persona_needs(metric: str) -> tuple[str, ...]:
    return ("traits", "profiles" if metric in PROFILE_COLUMNS else "aggregates")


# ------------------------------------------------------------------ custom measurements


def persona_ratio(d, persona, other, col):
    """Mean col of one persona over the mean col of another."""
    p = d.view("personas")
    x = p.loc[p["persona"] == persona, col].dropna()
    y = p.loc[p["persona"] == other, col].dropna()
    if x.empty or y.empty or y.mean() <= 0:
        raise Skip(f"no {persona} or {other} tutors with {col}")
    r = float(x.mean() / y.mean())
    return Measured(r, n=len(x) + len(y), text=f"{r:.2f}x ({x.mean():.3f} vs {y.mean():.3f})")


def persona_gap(d, persona, a, b):
    """Mean of a - b over the persona's tutors (with what sessions.csv says, when present)."""
    p = d.view("personas+activity" if d.has("sessions") else "personas")
    p = p[(p["persona"] == persona)].dropna(subset=[a, b])
    if p.empty:
        raise Skip(f"no {persona} tutors with {a} and {b}")
    gaps = p[a] - p[b]
    gap = float(gaps.mean())
    se = se_mean(float(gaps.std()), len(gaps)) if len(gaps) > 1 else None
    return Measured(gap, n=len(p), se=se, text=f"{gap:+.3f} (n={len(p)})")


# ----------------------------------------------------------------------------- the claims

shares(10, "persona shares rock_star/solid/newbie/burned_out/no_show", level="tutor",
       needs=("traits",), view="traits", col="persona", targets=PERSONA_SHARES,
       note="the spec's shares sum to 88%")
for _persona, _metrics in PERSONAS.items():
    for _m, (_lo, _hi) in _metrics.items():
        _blo, _bhi = persona_bounds(_m, _lo, _hi)
        if _m == "churn_probability" and _persona in AT_RISK:
            _blo = AT_RISK_CHURN_FLOOR
        _range_text = f"{_lo:g}" if _lo == _hi else f"{_lo:g}-{_hi:g}"
        mean(10, "personas", _m, (_lo + _hi) / 2, lo=_blo, hi=_bhi, level="persona",
             needs=_persona_needs(_m), where=equals("persona", _persona),
             claim=f"{_persona}: mean {_m} in {_range_text}",
             key="rock_star_churn" if (_persona, _m) == ("rock_star", "churn_probability") else "",
             note=f"spec range {_range_text}, widened: {PERSONA_TOL_TEXT}")
for _persona in AT_RISK:
    metric(10, f"{_persona}: mean churn_probability at least twice the solid performers'",
           level="persona", needs=("traits", "aggregates"), lo=2.0, hi=None,
           target_text=">= 2x",
           fn=partial(persona_ratio, persona=_persona, other="solid_performer",
                      col="churn_probability"))
metric(10, "burned_out_veteran: mean avg_rating_7d - avg_rating_30d ('declining')",
       level="persona", needs=("traits", "aggregates"), lo=None, hi=0.0, target_text="< 0",
       fn=partial(persona_gap, persona="burned_out_veteran", a="avg_rating_7d",
                  b="avg_rating_30d"))
metric(10, "burned_out_veteran: mean sentiment_trend_7d - window mean overall_sentiment "
           "('declining')", level="persona", needs=("traits", "aggregates", "sessions"),
       lo=None, hi=0.0, target_text="< 0",
       fn=partial(persona_gap, persona="burned_out_veteran", a="sentiment_trend_7d",
                  b="mean_sentiment"))
