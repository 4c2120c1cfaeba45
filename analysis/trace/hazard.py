"""How much each factor added to the quit hazard that drove a tutor's quit.

The hazard is a product (agents/tutor.py `quit_probability`): the tutor's propensity x the
certification factor x (1 + gain x burnout) x, if the recent rating is under 4, (1 + gain x
(4 - rating)) x, if idle for 7 days, (1 + idle gain), capped at 1. The factors do not add, so
"how much each added" is their Shapley share: each factor's average increase of the hazard over
every order in which the factors could be applied to the propensity. The shares add up exactly to
the hazard minus the propensity (before the cap).
"""
from __future__ import annotations

import math
from itertools import combinations


def factors(data: dict, behaviour) -> list[tuple[str, float]]:
    """The multipliers of a logged quit (`tutor_quit` as the trace holds it), by name."""
    out = [("certification", float(data["cert_factor"])),
           ("burnout", 1.0 + behaviour.quit_burnout_gain * float(data["burnout"]))]
    recent = data.get("recent_rating")
    if recent is not None and not math.isnan(recent) and recent < 4.0:
        out.append(("low rating", 1.0 + behaviour.quit_low_rating_gain * (4.0 - recent)))
    if data.get("idle"):
        out.append(("idle 7 days", 1.0 + behaviour.quit_idle_gain))
    return out


def shares(base: float, multipliers: list[tuple[str, float]]) -> dict[str, float]:
    """Each multiplier's Shapley share of base x product - base."""
    n = len(multipliers)
    out = {}
    for i, (name, m) in enumerate(multipliers):
        others = [x for j, (_, x) in enumerate(multipliers) if j != i]
        total = 0.0
        for k in range(n):
            weight = math.factorial(k) * math.factorial(n - k - 1) / math.factorial(n)
            for subset in combinations(others, k):
                total += weight * base * math.prod(subset) * (m - 1.0)
        out[name] = total
    return out
