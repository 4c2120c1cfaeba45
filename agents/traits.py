"""Drawing an agent's traits from the distributions a scenario gives (plain `random.Random`)."""
from __future__ import annotations

import random


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


def pick(weights: dict, rng: random.Random):
    """A key of `weights`, with probability proportional to its value."""
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]
