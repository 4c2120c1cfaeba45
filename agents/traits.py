"""Drawing an agent's traits from the distributions a scenario gives (plain `random.Random`)."""
from __future__ import annotations

import math
import random
from bisect import bisect_right
from itertools import accumulate

from agents.inverse_cdf import beta_quantile, gamma_quantile


def draw(dist, rng: random.Random) -> float:
    """One value from a scenario distribution (Uniform, Normal, Gamma or Beta model). Every new
    student draws a dozen traits: each distribution is turned into a plain function once."""
    entry = _SAMPLERS.get(id(dist))
    if entry is None or entry[0] is not dist:
        if len(_SAMPLERS) >= 512:
            _SAMPLERS.clear()
        # the distribution is kept in the entry, so that its id cannot be reused while it stands
        entry = _SAMPLERS[id(dist)] = (dist, _sampler(dist))
    return entry[1](rng)


def _sampler(dist):
    """A function of the generator drawing from `dist`: the same draws from it as the
    `random.Random` method named (`uniform(a, b)` is `a + (b - a) * random()`)."""
    kind = dist.dist
    if kind == "uniform":
        low, span = dist.low, dist.high - dist.low
        return lambda rng: low + span * rng.random()
    if kind == "normal":
        mean, sd, lo, hi = dist.mean, dist.sd, dist.min, dist.max
        return lambda rng: min(max(rng.gauss(mean, sd), lo), hi)
    if kind == "gamma":
        shape, scale, lo, hi = dist.shape, dist.scale, dist.min, dist.max
        return lambda rng: min(max(rng.gammavariate(shape, scale), lo), hi)
    if kind == "beta":
        a, b, lo, span = dist.a, dist.b, dist.min, dist.max - dist.min
        return lambda rng: lo + span * rng.betavariate(a, b)
    raise ValueError(f"unknown distribution {kind!r}")


_SAMPLERS: dict[int, tuple] = {}


def quantile(dist, u: float) -> float:
    """The value of a scenario distribution at cumulative probability `u` (0 < u < 1), so that two
    traits can be drawn from correlated uniforms (a Gaussian copula)."""
    from statistics import NormalDist
    kind = dist.dist
    if kind == "uniform":
        return dist.low + u * (dist.high - dist.low)
    if kind == "normal":
        return min(max(NormalDist(dist.mean, dist.sd or 1e-12).inv_cdf(u), dist.min), dist.max)
    if kind == "gamma":
        return min(max(gamma_quantile(dist.shape, u) * dist.scale, dist.min), dist.max)
    if kind == "beta":
        return dist.min + (dist.max - dist.min) * beta_quantile(dist.a, dist.b, u)
    raise ValueError(f"unknown distribution {kind!r}")


def correlated_uniforms(rho: float, rng: random.Random) -> tuple[float, float]:
    """Two uniforms whose normal scores have correlation `rho`."""
    from statistics import NormalDist
    z1, z2 = rng.gauss(0.0, 1.0), rng.gauss(0.0, 1.0)
    std = NormalDist()
    clip = lambda u: min(max(u, 1e-9), 1 - 1e-9)
    return clip(std.cdf(z1)), clip(std.cdf(rho * z1 + (1 - rho * rho) ** 0.5 * z2))


def pick(weights: dict, rng: random.Random):
    """A key of `weights`, with probability proportional to its value (the same draw as
    `rng.choices(keys, weights)`, with the cumulative weights worked out once per dict)."""
    entry = _CUMULATIVE.get(id(weights))
    if entry is None or entry[0] is not weights:
        if len(_CUMULATIVE) >= 512:
            _CUMULATIVE.clear()
        keys = list(weights)
        # the dict is kept in the entry, so that its id cannot be reused while the entry stands
        entry = _CUMULATIVE[id(weights)] = (weights, keys, list(accumulate(weights[k] for k in keys)))
    return entry[1][choose(entry[2], rng)]


def choose(cumulative: list, rng: random.Random) -> int:
    """The index `rng.choices(range(n), cum_weights=cumulative)[0]` would pick (the same single
    `rng.random()` draw), without building its list and checking the weights on every call."""
    total = cumulative[-1] + 0.0
    if not (total > 0.0 and math.isfinite(total)):
        raise ValueError("the weights must add up to a positive, finite total")
    return bisect_right(cumulative, rng.random() * total, 0, len(cumulative) - 1)


_CUMULATIVE: dict[int, tuple] = {}
