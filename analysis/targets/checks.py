"""The records a claim becomes and the builders that make them.

Every claim module calls one builder per claim (`rng`, `enum`, `fk`, `rule`, `share`, `shares`,
`mean`, `sd`, `corr`, `metric`, or `field` for a numeric column with a target distribution);
the builder appends a `Check` to `CHECKS` (and `field` a `Dist` to `DISTRIBUTIONS`), in call
order. `number()` gives the ids once every section has been read.
"""
from __future__ import annotations

from dataclasses import dataclass, field as _dc_field
from typing import Any

from analysis.targets.columns import TABLE_FILES
from analysis.targets.tolerance import CORRELATION, SD_RELATIVE, SHARE_POINTS, mean_tol

# --------------------------------------------------------------------------- check records


@dataclass
class Check:
    section: int
    claim: str
    level: str                      # session / tutor / persona / event / intervention / ...
    kind: str                       # see the package docstring
    needs: tuple[str, ...]          # tables that must be present (else SKIP)
    view: str | None = None         # frame the measurement runs on (see VIEWS)
    params: dict[str, Any] = _dc_field(default_factory=dict)
    target: Any = None              # the spec's value (number, or {category: share})
    tol: float | None = None        # symmetric tolerance around target
    lo: float | None = None         # acceptance interval of the measured value
    hi: float | None = None
    target_text: str = ""
    note: str = ""
    key: str = ""
    id: str = ""
    binomial: bool = False          # a proportion: its standard error is binomial at its n
    reading: str = ""               # a documented spec reading it fails by (CONTRADICTIONS title)


@dataclass
class Measured:
    """What a metric function returns (a bare float is accepted too)."""
    value: float
    n: int | None = None
    text: str | None = None
    lo: float | None = None         # bounds decided at run time (volumes scale with the run)
    hi: float | None = None
    target_text: str | None = None
    se: float | None = None         # the value's standard error, when it has one


class Skip(Exception):
    """Raised by a measurement when the data holds nothing to measure (reported as SKIP)."""


@dataclass
class Dist:
    """A target distribution drawn beside the emerged histogram in report.md."""
    view: str
    column: str
    needs: tuple[str, ...]
    family: str                     # normal / beta / gamma / poisson_mix / none
    params: tuple = ()
    lo: float | None = None
    hi: float | None = None
    label: str = ""
    markers: tuple[float, ...] = ()


CHECKS: list[Check] = []
DISTRIBUTIONS: list[Dist] = []


def fmt(x: float) -> str:
    if x is None:
        return "?"
    if abs(x) >= 100 or float(x).is_integer():
        return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.1f}"
    return f"{x:.3g}"


def interval_text(lo, hi) -> str:
    if lo is not None and hi is not None:
        return f"[{fmt(lo)}, {fmt(hi)}]"
    if lo is not None:
        return f">= {fmt(lo)}"
    return f"<= {fmt(hi)}"


# -------------------------------------------------------------------------------- builders


def _add(c: Check) -> Check:
    CHECKS.append(c)
    return c


def rng(section, view, col, lo, hi, *, level, needs, integer=False, claim=None, note=""):
    """Every non-null value of `col` lies in [lo, hi] (and is an integer if `integer`)."""
    what = "integer " if integer else ""
    return _add(Check(section, claim or f"{col}: every value is {what}in [{fmt(lo)}, {fmt(hi)}]",
                      level, "range", needs, view, {"col": col, "integer": integer},
                      lo=lo, hi=hi, target_text=f"all in [{fmt(lo)}, {fmt(hi)}]", note=note))


def enum(section, view, col, values, *, level, needs, claim=None, note=""):
    """Every non-null value of `col` is one of `values`."""
    shown = "/".join(map(str, values)) if len(values) <= 5 else f"{len(values)} spec values"
    return _add(Check(section, claim or f"{col} is one of {shown}", level, "enum", needs, view,
                      {"col": col, "values": tuple(values)}, target_text="all valid", note=note))


def fk(section, table, col, ref, ref_col=None, *, level, ident=None, nullable=False, note=""):
    """Every value of table.col is a ref_col of table `ref` (a null is a violation unless
    nullable)."""
    ref_col = ref_col or col
    return _add(Check(section, f"{col} exists in {TABLE_FILES[ref]} (foreign key)",
                      level, "fk", (table, ref), table,
                      {"col": col, "ref": ref, "ref_col": ref_col, "nullable": nullable,
                       "ident": ident}, target_text="100% of rows", note=note))


def rule(section, claim, *, level, needs, view, ok, key="", note="", ident=None,
         with_data=False):
    """ok(frame) -> boolean Series, True where the row obeys the rule (NA counts as obeying);
    ok(frame, data) with `with_data` (a rule that needs the run's settings)."""
    return _add(Check(section, claim, level, "rule", needs, view,
                      {"ok": ok, "ident": ident, "with_data": with_data},
                      target_text="100% of rows", key=key, note=note))


def share(section, claim, *, level, needs, view, pred, target=None, tol=SHARE_POINTS, lo=None, hi=None,
          where=None, key="", note=""):
    """The share of rows (of those `where` selects) on which `pred` holds."""
    if target is not None and lo is None and hi is None:
        lo, hi = max(0.0, target - tol), min(1.0, target + tol)
        text = f"{target:.3g} ± {tol:.3g}"
    else:
        text = interval_text(lo, hi)
    return _add(Check(section, claim, level, "share", needs, view, {"pred": pred, "where": where},
                      target=target, tol=tol, lo=lo, hi=hi, target_text=text, key=key, note=note))


def shares(section, claim, *, level, needs, view, col, targets, tol=SHARE_POINTS, where=None, key="",
           note="", label=None):
    """A categorical distribution: every category's share within `tol` of its target."""
    text = "/".join(f"{v * 100:.0f}" for v in targets.values()) + f"% ± {tol * 100:.0f} pts"
    label = label or (col if isinstance(col, str) else claim.split(" ")[0])
    return _add(Check(section, claim, level, "shares", needs, view,
                      {"col": col, "where": where, "label": label},
                      target=dict(targets), tol=tol, target_text=text, key=key, note=note))


def mean(section, view, col, target, *, level, needs, sd=None, tol=None, lo=None, hi=None,
         where=None, claim=None, key="", note=""):
    """The mean of `col`: target ± tol (by default the rule's share of the spec's SD), or in
    [lo, hi]."""
    if tol is None and sd is not None:
        tol = mean_tol(sd)
    if lo is None and hi is None:
        lo, hi = target - tol, target + tol
        text = f"{fmt(target)} ± {fmt(tol)}"
    else:
        text = interval_text(lo, hi)
    name = col if isinstance(col, str) else "value"
    return _add(Check(section, claim or f"mean {name} = {fmt(target)}", level, "mean", needs,
                      view, {"col": col, "where": where}, target=target, tol=tol, lo=lo, hi=hi,
                      target_text=text, key=key, note=note))


def sd(section, view, col, target, *, level, needs, rel=SD_RELATIVE, claim=None, note=""):
    """The standard deviation of `col`: target ± rel (relative)."""
    lo, hi = target * (1 - rel), target * (1 + rel)
    return _add(Check(section, claim or f"SD {col} = {fmt(target)}", level, "sd", needs, view,
                      {"col": col}, target=target, tol=target * rel, lo=lo, hi=hi,
                      target_text=f"{fmt(target)} ± {rel:.0%}", note=note))


def corr(section, claim, *, level, needs, view, x, y, target=None, tol=CORRELATION, lo=None, hi=None,
         where=None, key="", note=""):
    """Pearson r of x and y: target ± tol with the target's sign, or in [lo, hi]."""
    if target is not None:
        lo, hi = target - tol, target + tol
        if target > 0:
            lo = max(lo, 0.0)
        elif target < 0:
            hi = min(hi, 0.0)
        text = f"r {target:+.2f} ± {tol:.2f}"
    else:
        text = "r " + interval_text(lo, hi)
    return _add(Check(section, f"{claim} ({level} level)", level, "corr", needs, view,
                      {"x": x, "y": y, "where": where}, target=target, tol=tol, lo=lo, hi=hi,
                      target_text=text, key=key, note=note))


def metric(section, claim, *, level, needs, fn, target=None, tol=None, lo=None, hi=None,
           target_text=None, key="", note="", binomial=False):
    """Any other number: fn(data) -> Measured (or a float), accepted in [lo, hi]."""
    if target is not None and tol is not None and lo is None and hi is None:
        lo, hi = target - tol, target + tol
    text = target_text or (f"{fmt(target)} ± {fmt(tol)}" if target is not None and tol
                           else interval_text(lo, hi) if (lo is not None or hi is not None)
                           else "")
    return _add(Check(section, claim, level, "metric", needs, view=None, params={"fn": fn},
                      target=target, tol=tol, lo=lo, hi=hi, target_text=text, key=key, note=note,
                      binomial=binomial))


_mean, _sd = mean, sd     # `field` takes parameters of these names


def field(section, view, col, *, level, needs, family, params, lo, hi, mean=None, sd=None,
          mean_tol=None, integer=False, range_check=True, sd_check=True, label="", note="",
          mean_key=""):
    """A numeric field with a target distribution: range + mean + SD checks and a figure."""
    if range_check:
        rng(section, view, col, lo, hi, level=level, needs=needs, integer=integer)
    if mean is not None:
        _mean(section, view, col, mean, level=level, needs=needs, sd=sd, tol=mean_tol, note=note,
              key=mean_key)
    if sd is not None and sd_check:
        _sd(section, view, col, sd, level=level, needs=needs)
    DISTRIBUTIONS.append(Dist(view, col, needs, family, params, lo, hi, label or col))


def figure(view, col, needs, family, params=(), *, lo=None, hi=None, markers=()):
    """A figure of a column's emerged distribution (with the spec's, if it states one)."""
    DISTRIBUTIONS.append(Dist(view, col, needs, family, params, lo, hi, markers=markers))


# ------------------------------------------------------------------------------ numbering


def number() -> None:
    """Ids "2.3": list order within each section; keys must be unique."""
    seen: dict[int, int] = {}
    keys = set()
    for c in CHECKS:
        seen[c.section] = seen.get(c.section, 0) + 1
        c.id = f"{c.section}.{seen[c.section]}"
        if c.key:
            assert c.key not in keys, c.key
            keys.add(c.key)


def by_key(key: str) -> Check:
    for c in CHECKS:
        if c.key == key:
            return c
    raise KeyError(key)
