"""The one rule every measured check's band comes from, stated once.

A claim of the specification is accepted within the spec's own band around its number:

    a mean          within 0.15 of the target's SD  (rating 4.1 +/- 0.09, empathy 6.5 +/- 0.23)
    an SD           within 15% of the target SD
    a share         within 3 points
    a correlation   within 0.10 of its stated r (and of its sign)
    a persona mean  inside the spec's range for the persona, as the spec gives it

and that band is widened by two standard errors of the measured statistic at its sample size,
so that a persona mean over 12 tutors gets the room its noise needs and the rating mean over
21,000 sessions almost none. The standard errors are the textbook large-sample ones:

    mean          s / sqrt(n)                      (s: the measured SD)
    SD            s / sqrt(2 (n - 1))              (normal approximation)
    share         sqrt(p (1 - p) / n)              (p: the target's share, else the measured)
    correlation   (1 - r^2) / sqrt(n - 3)          (r: the target's, else the measured)

A share pooled over tutors (sessions at odd hours, weighted by each tutor's sessions) takes the
tutors as its independent units: the weighted mean's standard error, not a binomial one over
sessions that share their tutor's hours.

A check with no sampling error (a range, an enum, a row rule, a foreign key: "100% of rows")
is not widened; a metric check brings its own standard error when it has one.
"""
from __future__ import annotations

import math

MEAN_SD_SHARE = 0.15        # a mean: +/- this share of the target's SD
SD_RELATIVE = 0.15          # an SD: +/- this share of itself
SHARE_POINTS = 0.03         # a share: +/- 3 points
CORRELATION = 0.10          # a correlation: +/- 0.10
STANDARD_ERRORS = 2         # every band widened by this many standard errors

RULE_TEXT = ("a mean within 0.15 of the target's SD, an SD within 15%, a share within 3 points, "
             "a correlation within 0.10, a persona mean inside the spec's range, each widened "
             "by two standard errors of the measured statistic at its sample size")


def mean_tol(sd: float) -> float:
    """The band's half-width for a mean whose target SD is `sd`."""
    return MEAN_SD_SHARE * sd


def se_mean(sd: float, n: int) -> float:
    return sd / math.sqrt(n) if n > 0 else math.inf


def se_sd(sd: float, n: int) -> float:
    return sd / math.sqrt(2 * (n - 1)) if n > 1 else math.inf


def se_share(p: float, n: int) -> float:
    p = min(max(p, 0.0), 1.0)
    return math.sqrt(p * (1 - p) / n) if n > 0 else math.inf


def se_corr(r: float, n: int) -> float:
    return (1 - r * r) / math.sqrt(n - 3) if n > 3 else math.inf


def se_weighted_mean(x, w) -> float:
    """The standard error of a weighted mean sum(w x) / sum(w) over independent units (tutors,
    each weighted by their sessions): the ratio estimator's, sqrt(sum(w^2 (x - mean)^2)) / sum(w).
    The units are what is independent, not the sessions inside them."""
    x, w = [float(v) for v in x], [float(v) for v in w]
    total = sum(w)
    if len(x) < 2 or total <= 0:
        return math.inf
    mean = sum(a * b for a, b in zip(x, w)) / total
    return math.sqrt(sum((b * (a - mean)) ** 2 for a, b in zip(x, w))) / total


def se_diff(sd_a: float, n_a: int, sd_b: float, n_b: int) -> float:
    """The standard error of a difference of two independent means."""
    return math.hypot(se_mean(sd_a, n_a), se_mean(sd_b, n_b))
