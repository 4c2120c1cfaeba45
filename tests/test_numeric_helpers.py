"""The small numeric helpers the agents rely on agree exactly with their references: the gamma
and beta quantiles with scipy, Streams.units with Streams.unit, round_tenth with round(x, 1).
"""
from __future__ import annotations

import numpy as np
import pytest

@pytest.mark.parametrize("shape", [0.5, 1.0, 1.5, 2.0, 5.0, 30.0])
def test_gamma_quantile_agrees_with_scipy(shape):
    """agents/inverse_cdf.py stands in for scipy.special.gammaincinv (the copula of experience and
    reliability): the same quantile to 1e-12, tails included."""
    from scipy import special

    from agents.inverse_cdf import gamma_quantile
    us = [1e-9, 1e-5, 1e-3, 0.999, 1 - 1e-5, 1 - 1e-9, *np.linspace(0.01, 0.99, 99)]
    mine = np.array([gamma_quantile(shape, u) for u in us])
    np.testing.assert_allclose(mine, special.gammaincinv(shape, us), rtol=1e-12, atol=0)


@pytest.mark.parametrize("a,b", [(8, 2), (3, 2), (2, 2), (6, 1), (1, 1), (0.5, 0.5), (20, 3), (2, 8)])
def test_beta_quantile_agrees_with_scipy(a, b):
    from scipy import special

    from agents.inverse_cdf import beta_quantile
    us = [1e-9, 1e-5, 1e-3, 0.999, 1 - 1e-5, 1 - 1e-9, *np.linspace(0.01, 0.99, 99)]
    mine = np.array([beta_quantile(a, b, u) for u in us])
    np.testing.assert_allclose(mine, special.betaincinv(a, b, us), rtol=1e-12, atol=0)


def test_units_are_the_units_of_each_key():
    """Streams.units hashes its keys' common start once (the churn noise of every tutor, every
    day): the same numbers as unit() key by key, whatever the keys hold."""
    from world.streams import Streams
    streams = Streams(42)
    keys = [(i, day) for i in (0, 7, 149) for day in (0, 13, 44)] + [("x", 1.5), (None,), (-3, "a, b)")]
    assert streams.units(("platform", "churn_noise"), keys) == [streams.unit("platform", "churn_noise", *k) for k in keys]
    assert Streams(43).units(("p",), [(1,)]) != streams.units(("p",), [(1,)])


def test_round_tenth_is_round_to_one_decimal():
    """The rating's and satisfaction's rounding: the very float `round(x, 1)` gives, ties and the
    floats next to them, negative zero and large values included."""
    import math
    import random

    from agents.student import round_tenth
    rng = random.Random(5)
    values = [rng.uniform(-20.0, 120.0) for _ in range(200_000)] + [k / 100 for k in range(-2000, 12000)]
    for k in range(-400, 2400):
        tie = k / 20
        values += [tie, math.nextafter(tie, math.inf), math.nextafter(tie, -math.inf), tie + 5e-16, tie - 5e-16]
    values += [0.0, -0.0, 1e-300, -1e-300, 1e15 + 0.25, -0.04]
    for x in values:
        expected, got = round(x, 1), round_tenth(x)
        assert got == expected and math.copysign(1.0, got) == math.copysign(1.0, expected), (x, got, expected)
