"""The score of a calibration candidate: a check scores 0 when it passes (or is skipped); a failing
row rule (range / enum / rule / fk: "100% of rows") scores 1; a failing measured value scores its
distance outside [lo, hi] divided by the band's width (a one-sided band: by the tolerance, else by
the bound's size); a failure with no distance to measure (undefined correlation, wrong sign at 0)
scores 1. A candidate's score is the sum over the scored checks, averaged over the seeds. Also
the reports of a candidate's failing checks and of what changed between two candidates.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from analysis.calibration_plan import Plan

RULE_KINDS = ("range", "enum", "rule", "fk")


def band_scale(check, lo, hi) -> float:
    """What one unit of distance outside the band is: its width, else the tolerance, else the
    size of its one bound (1 for a bound at 0)."""
    if lo is not None and hi is not None and hi - lo > 1e-12:
        return float(hi - lo)
    if check.tol:
        return 2.0 * float(check.tol)
    bound = lo if lo is not None else hi
    return abs(float(bound)) if bound is not None and abs(bound) > 1e-9 else 1.0


def distance(check, status: str, measured, lo=None, hi=None) -> float:
    """A check's contribution to the score: 0 inside the band, the normalised distance outside."""
    if status != "FAIL":
        return 0.0
    if check.kind in RULE_KINDS:
        return 1.0
    if check.kind == "shares":
        if not isinstance(measured, dict) or not check.tol:
            return 1.0
        dev = max(abs(float(measured.get(k, 0.0)) - t) for k, t in check.target.items())
        d = (dev - check.tol) / (2.0 * check.tol)
        return d if d > 0 else 1.0
    try:
        x = float(measured)
    except (TypeError, ValueError):
        return 1.0
    if math.isnan(x):
        return 1.0
    out = max(0.0, (lo - x) if lo is not None else 0.0, (x - hi) if hi is not None else 0.0)
    if out <= 0:
        return 1.0                   # failed without a distance (e.g. a correlation's sign at 0)
    return out / band_scale(check, lo, hi)


def result_distance(r) -> float:
    """distance() of an analysis.validate.Result."""
    return distance(r.check, r.status, r.measured, r.lo, r.hi)


@dataclass
class Evaluation:
    """One candidate: its values, every seed's run (measured checks or an error) and distances."""
    values: dict                     # key -> value
    runs: list[dict]                 # per seed: {"checks": ...} or {"error": ...}
    distances: list[dict]            # per seed: {id: distance}
    error: str | None = None

    @property
    def score(self) -> float:
        if self.error:
            return math.inf
        return sum(sum(d.values()) for d in self.distances) / len(self.distances)

    def seed_scores(self) -> list[float]:
        return [sum(d.values()) for d in self.distances]

    def failing(self) -> list[list[str]]:
        return [[cid for cid, r in run["checks"].items() if r[0] == "FAIL"] for run in self.runs]

    def status(self, cid: str) -> str:
        return "".join(run["checks"][cid][0][0] if cid in run["checks"] else "?"
                       for run in self.runs)


# ----------------------------------------------------------------------------------- reports


def _measured_text(ev: Evaluation, cid: str, width: int = 14) -> str:
    """The measured value per seed, short."""
    parts = []
    for run in ev.runs:
        r = run["checks"].get(cid)
        if r is None:
            parts.append("?")
        elif isinstance(r[1], float):
            x = r[1]
            parts.append(f"{x:.3g}" if abs(x) < 1000 else f"{x:,.0f}")
        else:
            parts.append(r[4][:width] if r[4] else r[0])
    return " ".join(parts)


def _cut(s: str, n: int) -> str:
    return s if len(s) <= n else s[:n - 1] + "…"


def failing_report(plan: Plan, ev: Evaluation, checks: dict) -> str:
    lines = []
    for seed, s, f in zip(plan.seeds, ev.seed_scores(), ev.failing()):
        lines.append(f"seed {seed}: score {s:.4f}, {len(f)} failing: {', '.join(f) or 'none'}")
    ids = [cid for cid in plan.scored if "F" in ev.status(cid)]
    if ids:
        lines.append("")
        lines.append(f"  {'check':<6} {'claim':<52} {'target':<16} {'status':<6} "
                     f"{'measured (per seed)':<28} distance")
        for cid in ids:
            c = checks[cid]
            dist = sum(d.get(cid, 0.0) for d in ev.distances) / len(ev.distances)
            lines.append(f"  {cid:<6} {_cut(c.claim, 52):<52} {_cut(c.target_text, 16):<16} "
                         f"{ev.status(cid):<6} {_cut(_measured_text(ev, cid), 28):<28} "
                         f"{dist:.4f}")
    return "\n".join(lines)


def changes_report(plan: Plan, base: Evaluation, best: Evaluation, checks: dict) -> str:
    ids = [cid for cid in plan.scored if base.status(cid) != best.status(cid)]
    if not ids:
        return "no scored check changed status"
    lines = ["scored checks that changed status (one letter per seed: P pass, F fail, S skip):",
             f"  {'check':<6} {'claim':<52} {'target':<16} {'before':<30} {'after':<30}"]
    for cid in ids:
        c = checks[cid]
        before = f"{base.status(cid)} {_measured_text(base, cid)}"
        after = f"{best.status(cid)} {_measured_text(best, cid)}"
        lines.append(f"  {cid:<6} {_cut(c.claim, 52):<52} {_cut(c.target_text, 16):<16} "
                     f"{_cut(before, 30):<30} {_cut(after, 30):<30}")
    return "\n".join(lines)
