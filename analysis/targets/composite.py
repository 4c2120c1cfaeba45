"""The spec's engagement composite, and what it gives on the spec's own inputs.

Section 4 defines engagement_score = (attention*0.4 + speak_balance*30 + (sentiment+1)*15) / 10
and asks for a mean of 6.3 and an SD of 1.6, and section 8 for speak balance -> engagement
r = 0.45. On the spec's input distributions (attention N(72, 15) on 10-100, speak ratio
N(0.50, 0.12) on 0.20-0.80, overall sentiment N(0.45, 0.20) on -0.5-0.95) the formula cannot
give all three: its SD is at most about 1.2 whatever the balance's width, and a mean of 6.3
needs a balance that reaches 0 at |ratio - 0.5| = 0.14, where balance -> engagement is about
0.77 (the plain balance 1 - |ratio - 0.5| / 0.5 gives r 0.54 but a mean of 7.5). The reading
(analysis/targets/contradictions.py): the formula and the mean hold; the SD and the correlation
are checked against what the formula gives on the spec's inputs at the run's width.

The formula is written here again, from the spec, rather than imported from world/formulas.py:
validate checks the tables against the spec, so a slip in the generator's formula must not be
repeated by the check that is to catch it.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from analysis.targets.checks import Skip

ATTENTION = (72.0, 15.0, 10.0, 100.0)       # mean, SD, lowest, highest (section 3)
SPEAK = (0.50, 0.12, 0.20, 0.80)
SENTIMENT = (0.45, 0.20, -0.5, 0.95)        # overall_sentiment (section 4)
TARGET_MEAN = 6.3
DRAWS = 400_000


def engagement(attention, speak_ratio, sentiment, width: float):
    """The composite of section 4 with a balance that reaches 0 at |ratio - 0.5| = width."""
    balance = np.clip(1.0 - np.abs(np.asarray(speak_ratio) - 0.5) / width, 0.0, 1.0)
    return np.clip((np.asarray(attention) * 0.4 + balance * 30.0 + (np.asarray(sentiment) + 1.0)
                    * 15.0) / 10.0, 1.0, 10.0)


def plain_balance(speak_ratio):
    """Section 8's speak balance: 1 at 50/50, 0 at 0/100."""
    return 1.0 - np.abs(np.asarray(speak_ratio) - 0.5) / 0.5


@lru_cache(maxsize=16)
def formula_moments(width: float) -> tuple[float, float, float]:
    """(mean, SD, r with the plain balance) of the composite on the spec's inputs, drawn
    independently (a fixed seed: the same numbers on every call)."""
    rng = np.random.default_rng(20260)
    draw = lambda m, s, lo, hi: np.clip(rng.normal(m, s, DRAWS), lo, hi)
    att, speak, sent = draw(*ATTENTION), draw(*SPEAK), draw(*SENTIMENT)
    e = engagement(att, speak, sent, width)
    return float(e.mean()), float(e.std()), float(np.corrcoef(plain_balance(speak), e)[0, 1])


@lru_cache(maxsize=1)
def reading_width() -> float:
    """The width at which the formula's mean on the spec's inputs is the spec's 6.3."""
    lo, hi = 0.05, 0.5
    for _ in range(30):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if formula_moments(round(mid, 4))[0] < TARGET_MEAN else (lo, mid)
    return round((lo + hi) / 2, 3)


def run_width(d) -> float:
    """The run's platform.speak_balance_width (run.json), else the reading's width."""
    doc = (d.manifest or {}).get("scenario_document") or {}
    width = (doc.get("platform") or {}).get("speak_balance_width")
    if width is None:
        return reading_width()
    if not isinstance(width, (int, float)) or width <= 0:
        raise Skip(f"run.json: platform.speak_balance_width is {width!r}")
    return float(width)


def rounding_slack(width: float) -> float:
    """How far a score recomputed from the CSV's rounded inputs may be from the written one:
    half a unit of each column's last decimal (attention 0.1, speak ratio 0.001, sentiment
    0.001, score 0.01), carried through the formula."""
    return 0.005 + 0.4 * 0.05 / 10 + 30 * 0.0005 / width / 10 + 15 * 0.0005 / 10 + 1e-9
