"""How much each cause added to the quit hazard that drove a tutor's quit.

The hazard is a product (agents/tutor.py `quit_probability`): the tutor's propensity x one
multiplier per cause (certification, burnout, low and declining ratings, poor first sessions,
no-shows, rescheduling, low engagement, declining activity, idleness, email annoyance), capped at
1; the event log keeps each multiplier of the day of the quit (`m_<cause>`). The multipliers do
not add, so "how much each added" is their Shapley share: each one's average increase of the
hazard over every order in which they could be applied to the propensity. The shares add up
exactly to the hazard minus the propensity (before the cap).
"""
from __future__ import annotations

import math
from itertools import combinations

from agents.decisions import QUIT_CAUSES


def factors(data: dict) -> list[tuple[str, float]]:
    """The multipliers of a logged quit (`tutor_quit` as the trace holds it: `factors`) that
    moved the hazard, by cause."""
    return [(cause, m) for cause, m in (data.get("factors") or {}).items() if m is not None and m != 1.0]


def row_factors(row) -> dict[str, float]:
    """Every cause's multiplier from a tutor_quit row of the event log."""
    return {cause: float(row[f"m_{cause}"]) for cause in QUIT_CAUSES}


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
