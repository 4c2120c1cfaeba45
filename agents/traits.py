"""Drawing an agent's traits from the distributions a scenario gives (plain `random.Random`)."""
from __future__ import annotations

import random
from itertools import accumulate


def draw(dist, rng: random.Random) -> float:
    """One value from a scenario distribution (Uniform, Normal, Gamma or Beta model)."""
    kind = dist.dist
    if kind == "uniform":
        return rng.uniform(dist.low, dist.high)
    if kind == "normal":
        return min(max(rng.gauss(dist.mean, dist.sd), dist.min), dist.max)
    if kind == "gamma":
        return min(max(rng.gammavariate(dist.shape, dist.scale), dist.min), dist.max)
    if kind == "beta":
        return dist.min + (dist.max - dist.min) * rng.betavariate(dist.a, dist.b)
    raise ValueError(f"unknown distribution {kind!r}")


def quantile(dist, u: float) -> float:
    """The value of a scenario distribution at cumulative probability `u` (0 < u < 1), so that two
    traits can be drawn from correlated uniforms (a Gaussian copula)."""
    from statistics import NormalDist
    kind = dist.dist
    if kind == "uniform":
        return dist.low + u * (dist.high - dist.low)
    if kind == "normal":
        return min(max(NormalDist(dist.mean, dist.sd or 1e-12).inv_cdf(u), dist.min), dist.max)
    from scipy import special
    if kind == "gamma":
        return min(max(float(special.gammaincinv(dist.shape, u)) * dist.scale, dist.min), dist.max)
    if kind == "beta":
        return dist.min + (dist.max - dist.min) * float(special.betaincinv(dist.a, dist.b, u))
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
    return rng.choices(entry[1], cum_weights=entry[2])[0]


_CUMULATIVE: dict[int, tuple] = {}
