"""Quantiles of the gamma and beta distributions, in plain Python.

A tutor's experience and reliability are drawn from correlated uniforms (agents/traits.py
`quantile`), which needs the inverse of the regularized incomplete gamma and beta functions.
scipy.special has them, but importing it costs the simulation 0.2 s at start-up, for 150 tutors.
These are the textbook algorithms (series and Lentz continued fractions for the functions,
Numerical Recipes' starting points, then Newton-Halley steps to full double precision); a test
compares them with scipy.special over the scenarios' parameter ranges.
"""
from __future__ import annotations

import math

EPS = 1e-15
TINY = 1e-300
MAX_STEPS = 200


def gamma_quantile(shape: float, u: float) -> float:
    """x with P(shape, x) = u (scipy.special.gammaincinv), for 0 < u < 1."""
    a = shape
    lg = math.lgamma(a)
    a1 = a - 1.0
    if a > 1.0:
        lna1 = math.log(a1)
        afac = math.exp(a1 * (lna1 - 1.0) - lg)
        z = _normal_guess(u)
        x = max(1e-3, a * (1.0 - 1.0 / (9.0 * a) - z / (3.0 * math.sqrt(a))) ** 3)
    else:
        t = 1.0 - a * (0.253 + a * 0.12)
        x = (u / t) ** (1.0 / a) if u < t else 1.0 - math.log(1.0 - (u - t) / (1.0 - t))
    for _ in range(MAX_STEPS):
        if x <= 0.0:
            return 0.0
        p, q = _gamma_pq(a, x, lg)
        err = p - u if u <= 0.5 else (1.0 - u) - q      # the tail computed directly: exact near 1
        if a > 1.0:
            t = afac * math.exp(-(x - a1) + a1 * (math.log(x) - lna1))
        else:
            t = math.exp(-x + a1 * math.log(x) - lg)
        if t == 0.0:
            break
        step = err / t
        step /= 1.0 - 0.5 * min(1.0, step * (a1 / x - 1.0))     # Halley's correction
        x_new = x - step
        if x_new <= 0.0:
            x_new = 0.5 * x
        if abs(x_new - x) <= EPS * x_new:
            return x_new
        x = x_new
    return x


def beta_quantile(a: float, b: float, u: float) -> float:
    """x with I_x(a, b) = u (scipy.special.betaincinv), for 0 < u < 1."""
    a1, b1 = a - 1.0, b - 1.0
    if a >= 1.0 and b >= 1.0:
        z = _normal_guess(u)
        al = (z * z - 3.0) / 6.0
        h = 2.0 / (1.0 / (2.0 * a - 1.0) + 1.0 / (2.0 * b - 1.0))
        w = z * math.sqrt(al + h) / h - (1.0 / (2.0 * b - 1.0) - 1.0 / (2.0 * a - 1.0)) * (al + 5.0 / 6.0 - 2.0 / (3.0 * h))
        x = a / (a + b * math.exp(2.0 * w))
    else:
        lna, lnb = math.log(a / (a + b)), math.log(b / (a + b))
        t = math.exp(a * lna) / a
        w = math.exp(b * lnb) / b
        w += t
        x = (u * w * a) ** (1.0 / a) if u < t / w else 1.0 - (w * b * (1.0 - u)) ** (1.0 / b)
    afac = -math.lgamma(a) - math.lgamma(b) + math.lgamma(a + b)
    for _ in range(MAX_STEPS):
        if x <= 0.0 or x >= 1.0:
            return min(max(x, 0.0), 1.0)
        p, q = _beta_pq(a, b, x)
        err = p - u if u <= 0.5 else (1.0 - u) - q
        t = math.exp(a1 * math.log(x) + b1 * math.log(1.0 - x) + afac)
        if t == 0.0:
            break
        step = err / t
        step /= 1.0 - 0.5 * min(1.0, step * (a1 / x - b1 / (1.0 - x)))   # Halley's correction
        x_new = x - step
        if x_new <= 0.0:
            x_new = 0.5 * x
        if x_new >= 1.0:
            x_new = 0.5 * (x + 1.0)
        if abs(x_new - x) <= EPS * x_new:
            return x_new
        x = x_new
    return x


def _normal_guess(u: float) -> float:
    """Where the inverse standard normal CDF is at `u`, roughly (Abramowitz and Stegun 26.2.22):
    the starting point of both searches."""
    t = math.sqrt(-2.0 * math.log(u if u < 0.5 else 1.0 - u))
    z = (2.30753 + t * 0.27061) / (1.0 + t * (0.99229 + t * 0.04481)) - t
    return -z if u < 0.5 else z


def _gamma_pq(a: float, x: float, lg: float) -> tuple[float, float]:
    """The regularized incomplete gamma functions P(a, x) and Q(a, x) = 1 - P(a, x), the smaller
    one computed directly; `lg` is lgamma(a)."""
    front = math.exp(-x + a * math.log(x) - lg)
    if x < a + 1.0:                       # the series
        ap, term = a, 1.0 / a
        total = term
        for _ in range(10_000):
            ap += 1.0
            term *= x / ap
            total += term
            if abs(term) < abs(total) * EPS:
                break
        p = total * front
        return p, 1.0 - p
    # the continued fraction of Q(a, x) = 1 - P(a, x), by Lentz's method
    bb = x + 1.0 - a
    c = 1.0 / TINY
    d = 1.0 / bb
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        bb += 2.0
        c, d = _lentz(an, bb, c, d)
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < EPS:
            break
    q = front * h
    return 1.0 - q, q


def _beta_pq(a: float, b: float, x: float) -> tuple[float, float]:
    """The regularized incomplete beta function I_x(a, b) and 1 - I_x(a, b), the smaller one
    computed directly."""
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                     + a * math.log(x) + b * math.log(1.0 - x))
    if x < (a + 1.0) / (a + b + 2.0):
        p = front * _beta_cf(a, b, x) / a
        return p, 1.0 - p
    q = front * _beta_cf(b, a, 1.0 - x) / b
    return 1.0 - q, q


def _beta_cf(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function, by Lentz's method."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    if abs(d) < TINY:
        d = TINY
    d = 1.0 / d
    h = d
    for m in range(1, 10_000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        c, d = _lentz(aa, 1.0, c, d)
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        c, d = _lentz(aa, 1.0, c, d)
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < EPS:
            break
    return h


def _lentz(a: float, b: float, c: float, d: float) -> tuple[float, float]:
    """One step of Lentz's method for a continued fraction's next term a / (b + ...): the new
    (c, d), kept away from zero."""
    d = b + a * d
    if abs(d) < TINY:
        d = TINY
    c = b + a / c
    if abs(c) < TINY:
        c = TINY
    return c, 1.0 / d
