"""Choosing what an axis shows: round tick values, their labels, limits padded around data, day
ticks for a calendar axis, and the red-yellow-green colour scale of ratings."""
from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Iterable, Sequence


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """At most about n+1 round values (steps of 1, 2, 2.5 or 5 times a power of ten) in [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo or n < 1:
        return [lo] if math.isfinite(lo) else []
    raw = (hi - lo) / n
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw * 0.999)
    first = math.ceil(lo / step - 1e-9)
    ticks = []
    k = first
    while k * step <= hi + step * 1e-9:
        ticks.append(round(k * step, 12) + 0.0)
        k += 1
    return ticks


def format_ticks(ticks: Sequence[float]) -> list[str]:
    """Labels with as many decimals as the finest tick needs (at most 4), thousands grouped."""
    decimals = 0
    for t in ticks:
        while decimals < 4 and abs(round(t, decimals) - t) > 1e-9 * max(1.0, abs(t)):
            decimals += 1
    return [f"{t:,.{decimals}f}".replace("-", "\u2212") for t in ticks]


def padded(values: Iterable[float], pad: float = 0.05, include: Sequence[float] = ()) -> tuple[float, float]:
    """Limits around the finite values (and `include`), widened by `pad` of their range each side."""
    vals = [float(v) for v in values if v is not None and math.isfinite(float(v))] + [float(v) for v in include]
    if not vals:
        return 0.0, 1.0
    lo, hi = min(vals), max(vals)
    if hi == lo:
        return lo - 0.5, hi + 0.5
    d = (hi - lo) * pad
    return lo - d, hi + d


def day_ticks(origin: datetime, lo: float, hi: float, n: int = 8) -> tuple[list[float], list[str]]:
    """Ticks at midnights for an axis in days since `origin` (a midnight): every 1, 2, 7, 14 or
    28 days, whichever gives at most about n; labelled "Nov 03"."""
    span = max(hi - lo, 1e-9)
    step = next((s for s in (1, 2, 7, 14, 28, 56) if span / s <= n), 112)
    first = math.ceil(lo - 1e-9)
    if step >= 7:                               # whole weeks from the axis's first Monday
        first += (7 - (origin + timedelta(days=first)).weekday()) % 7
    ticks = [float(d) for d in range(first, math.floor(hi + 1e-9) + 1, step)]
    return ticks, [f"{origin + timedelta(days=t):%b %d}" for t in ticks]


# ColorBrewer's RdYlGn (as matplotlib has it): its 11 colours, evenly spaced from 0 to 1
RDYLGN = ((165, 0, 38), (215, 48, 39), (244, 109, 67), (253, 174, 97), (254, 224, 139), (255, 255, 191),
          (217, 239, 139), (166, 217, 106), (102, 189, 99), (26, 152, 80), (0, 104, 55))


def rdylgn(value: float, lo: float, hi: float) -> str:
    """The colour of `value` on a red (lo) - yellow - green (hi) scale, as #rrggbb."""
    u = min(1.0, max(0.0, (value - lo) / (hi - lo))) if hi > lo else 0.5
    last = len(RDYLGN) - 1
    i = min(int(u * last), last - 1)
    f = u * last - i
    a, b = RDYLGN[i], RDYLGN[i + 1]
    return "#" + "".join(f"{round(x + (y - x) * f):02x}" for x, y in zip(a, b))
