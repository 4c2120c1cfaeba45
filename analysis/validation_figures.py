"""validate's figures: the emerged distributions beside the spec's target distributions,
categorical shares, the section-8 correlations, sessions by hour and weekday, persona means
against section 10's ranges. Each is built once, as a figure spec (analysis/chart/), by one
function of the run's tables (`Data`) and validate's results, and drawn as PNG for report.md
(analysis/report.py) or as SVG for the HTML report (analysis/report_html/): `FIGURES`, `draw`.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analysis import targets as T
from analysis.chart.scale import nice_ticks, padded
from analysis.chart.spec import (Axis, Bars, Figure, Legend, Line, Panel, Points, Rule, Segments, Span, Text,
                                 grid)

FIG_DPI = 100
TARGET_COLOR = "#d62728"
MEASURED_COLOR = "#1f77b4"
FAIL_COLOR = TARGET_COLOR
WIDTH = 1200
TICK = 10.0                             # tick labels' font size, pixels
NOTE = 10.0


# ----------------------------------------------------------------------- target densities


def _normal_pdf(x, m, s):
    return np.exp(-0.5 * ((x - m) / s) ** 2) / (s * math.sqrt(2 * math.pi))


def _beta_pdf(u, a, b):
    u = np.clip(u, 1e-9, 1 - 1e-9)
    logc = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
    return np.exp(logc + (a - 1) * np.log(u) + (b - 1) * np.log1p(-u))


def _gamma_pdf(x, k, theta):
    x = np.maximum(x, 1e-9)
    return np.exp((k - 1) * np.log(x) - x / theta - math.lgamma(k) - k * math.log(theta))


def _poisson_pmf(k, lam):
    return np.exp(k * math.log(lam) - lam - np.array([math.lgamma(i + 1) for i in k]))


def _target(dist: T.Dist) -> tuple[list, str]:
    """The spec's target distribution as marks on a density-scaled axis, and its label."""
    lo, hi = dist.lo, dist.hi
    x = np.linspace(lo, hi, 120) if lo is not None and hi is not None else None
    fam, p = dist.family, dist.params
    line = dict(color=TARGET_COLOR, width=2.2)
    if fam == "normal":
        return [Line(x, _normal_pdf(x, *p), **line)], f"target Normal({p[0]:g}, {p[1]:g}) on [{lo:g}, {hi:g}]"
    if fam == "beta":
        return ([Line(x, _beta_pdf((x - lo) / (hi - lo), *p) / (hi - lo), **line)],
                f"target Beta({p[0]:g}, {p[1]:g}) on [{lo:g}, {hi:g}]")
    if fam == "gamma":
        return [Line(x, _gamma_pdf(x, *p), **line)], f"target Gamma({p[0]:g}, {p[1]:g})"
    if fam == "poisson_mix":
        share, lam = p
        k = np.arange(int(lo), int(hi) + 1)
        pmf = share * _poisson_pmf(k, lam)
        pmf[0] += 1 - share
        return ([Points(k, pmf, color=TARGET_COLOR, size=6)],
                f"target: {share:.0%} Poisson({lam:g}), rest 0 (one reading)")
    return ([Rule(m, color=TARGET_COLOR, dash="dash") for m in dist.markers],
            "spec gives thresholds only: " + ", ".join(f"{m:g}" for m in dist.markers))


def _top(marks) -> float:
    """The largest y of the marks (bars' tops, lines' and points' values)."""
    best = 0.0
    for m in marks:
        ys = m.hi if isinstance(m, Bars) else getattr(m, "y", ())
        ys = np.asarray(ys, dtype=float)
        if ys.size and np.isfinite(ys).any():
            best = max(best, float(np.nanmax(ys)))
    return best


def _fig_distributions(d, dists: list[T.Dist], title: str):
    usable = []
    for dist in dists:
        if not all(d.has(n) for n in dist.needs):
            continue
        try:
            v = pd.to_numeric(d.view(dist.view)[dist.column], errors="coerce").dropna()
        except Exception:   # a missing column: the checks already say so
            continue
        if len(v):
            usable.append((dist, v))
    if not usable:
        return None
    cols = 4
    rows = math.ceil(len(usable) / cols)
    height = 70 + rows * 250
    boxes = grid(rows, cols, WIDTH, height, left=15, right=15, top=70, bottom=30, wgap=25, hgap=55)
    fig = Figure(WIDTH, height, title=title + " (bars: emerged; red: spec target)", title_size=15)
    for box, (dist, v) in zip(boxes, usable):
        values = v.to_numpy(dtype=float)
        integer = dist.family == "poisson_mix" or (v.round() == v).all() and v.max() - v.min() <= 30
        if integer:
            counts = v.round().value_counts(normalize=True).sort_index()
            at = counts.index.to_numpy(dtype=float)
            measured = Bars(at, np.zeros(len(at)), counts.to_numpy(), width=0.5, color=MEASURED_COLOR, alpha=0.6)
            lo, hi = padded(at, 0.04, [dist.lo, dist.hi] if dist.lo is not None and dist.hi is not None else ())
        else:
            lo = dist.lo if dist.lo is not None else values.min()
            hi = dist.hi if dist.hi is not None else values.max()
            lo, hi = min(lo, values.min()), max(hi, values.max())
            dens, edges = np.histogram(values, bins=40, range=(lo, hi), density=True)
            measured = Bars((edges[:-1] + edges[1:]) / 2, np.zeros(len(dens)), dens, width=edges[1] - edges[0],
                            color=MEASURED_COLOR, alpha=0.6)
        target, label = _target(dist)
        marks = [measured, *target]
        top = max(_top(marks), 1e-9) * 1.35          # room for the note
        panel = Panel(box, Axis(lo, hi, n=4, size=TICK), Axis(0, top, ticks=[]), marks,
                      title=dist.label or dist.column, title_size=13)
        panel.add(Text(0.02, 0.97, f"measured mean {v.mean():.3g}, SD {v.std():.3g}, n={len(v):,}\n{label}",
                       size=NOTE))
        fig.panels.append(panel)
    return fig


def _fig_categorical(results):
    rs = [r for r in results if r.check.kind == "shares" and isinstance(r.measured, dict)]
    if not rs:
        return None
    labels, target, measured, status = [], [], [], []
    for r in rs:
        for c in r.check.target:
            labels.append(f"{r.check.id} {r.check.params.get('label', '')}: {c}")
            target.append(r.check.target[c])
            measured.append(r.measured[c])
            status.append(r.status)
    n = len(labels)
    y = np.arange(n)[::-1].astype(float)
    height = 20 * n + 110
    left = 20 + 10 * max(len(s) for s in labels) * 0.6 + 8
    fig = Figure(WIDTH, height, title="Categorical shares: spec vs emerged (labels in red: the check fails)",
                 title_size=14)
    hi = max(max(target), max(measured)) * 1.05
    panel = Panel((left, 45, WIDTH - left - 20, height - 45 - 35),
                  Axis(0, max(hi, 0.1), ticks=nice_ticks(0, max(hi, 0.1), 10), size=TICK, grid=True),
                  Axis(-0.6, n - 0.4, ticks=list(y), labels=labels, size=10,
                       label_colors=[FAIL_COLOR if st == "FAIL" else "#222222" for st in status]),
                  legend=Legend("lower right", size=11))
    panel.add(Bars(y + 0.2, [0.0] * n, target, width=0.4, color=TARGET_COLOR, alpha=0.7, horizontal=True, label="spec"),
              Bars(y - 0.2, [0.0] * n, measured, width=0.4, color=MEASURED_COLOR, alpha=0.7, horizontal=True,
                   label="emerged"))
    fig.panels.append(panel)
    return fig


def _fig_correlations(results):
    corr = [r for r in results if (r.check.kind == "corr" or r.check.key == "corr_speak_eng")
            and r.check.section in (8, 9) and r.status != "SKIP"]
    gaps = [r for r in results if r.check.key in ("gap_connection", "gap_first", "trend_churn")
            and r.status != "SKIP"]
    if not corr and not gaps:
        return None
    height = 470
    fig = Figure(WIDTH, height, title="Section 8/9 relations: spec vs emerged", title_size=15)
    boxes = grid(1, 2, WIDTH, height, left=70, right=15, top=95, bottom=35, wgap=80, ratios=(3, 2))
    for box, rs, what in ((boxes[0], corr, "Pearson r"), (boxes[1], gaps, "difference of means")):
        if not rs:
            continue
        x = np.arange(len(rs), dtype=float)
        tgt = [r.check.target if isinstance(r.check.target, (int, float))
               else (r.lo + r.hi) / 2 if r.lo is not None and r.hi is not None else r.lo
               for r in rs]
        band_lo = [r.lo if r.lo is not None else t for t, r in zip(tgt, rs)]
        band_hi = [r.hi if r.hi is not None else t for t, r in zip(tgt, rs)]
        meas = [r.measured if isinstance(r.measured, (int, float)) else 0 for r in rs]
        lo, hi = padded([*tgt, *band_lo, *band_hi, *meas, 0.0], 0.08)
        hi += (hi - lo) * 0.2                       # room for the legend
        panel = Panel(box, Axis(-0.6, len(rs) - 0.4, ticks=list(x), labels=[r.check.id for r in rs], size=TICK),
                      Axis(lo, hi, n=5, size=TICK, label=what), legend=Legend("upper left", size=10),
                      title="; ".join(f"{r.check.id}: {_short(r.check.claim)}" for r in rs), title_size=9)
        panel.title = _wrap(panel.title, int(box[2] / (9 * 0.6)))
        panel.add(Bars(x - 0.2, [0.0] * len(rs), tgt, width=0.4, color=TARGET_COLOR, alpha=0.7,
                       label="spec target (bar: acceptance)"),
                  Segments(x - 0.2, band_lo, x - 0.2, band_hi, color="black", width=1.2),
                  Segments([*(x - 0.28), *(x - 0.28)], [*band_lo, *band_hi], [*(x - 0.12), *(x - 0.12)],
                           [*band_lo, *band_hi], color="black", width=1.2),
                  Bars(x + 0.2, [0.0] * len(rs), meas, width=0.4, color=MEASURED_COLOR, alpha=0.7, label="emerged"),
                  Rule(0, vertical=False, color="black", width=0.8))
        for xi, r, m in zip(x, rs, meas):
            panel.add(Text(xi + 0.2, m, r.status, size=9, anchor="middle", baseline="bottom" if m >= 0 else "top",
                           data=True, color=FAIL_COLOR if r.status == "FAIL" else "#222222"))
        fig.panels.append(panel)
    return fig


def _short(claim: str) -> str:
    return claim.split(":")[0].split(" (")[0][:40]


def _wrap(text: str, width: int) -> str:
    """`text` in lines of at most `width` characters, broken at spaces."""
    lines, line = [], ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return "\n".join(lines + [line])


def _fig_time(d):
    if not d.has("sessions") or "session_datetime" not in d.table("sessions"):
        return None
    t = d.table("sessions")["session_datetime"].dropna()
    if t.empty:
        return None
    height = 400
    fig = Figure(WIDTH, height)
    boxes = grid(1, 2, WIDTH, height, left=60, right=15, top=40, bottom=35, wgap=70)
    hours = t.dt.hour.value_counts(normalize=True).reindex(range(24), fill_value=0)
    peak = hours.loc[15:20].sum()
    left = Panel(boxes[0], Axis(-0.6, 23.6, ticks=list(range(0, 24, 2)), size=TICK),
                 Axis(0, float(hours.max()) * 1.1 or 1.0, size=TICK), legend=Legend("upper left", size=11),
                 title=f"sessions by start hour: {peak:.0%} in 15:00-20:59 (target >= 50%)", title_size=12)
    left.add(Span(14.5, 20.5, color=TARGET_COLOR, alpha=0.12, label="spec peak 3-9pm"),
             Bars(np.arange(24.0), [0.0] * 24, hours.to_numpy(), color=MEASURED_COLOR, alpha=0.7))
    days = pd.date_range(t.min().normalize(), t.max().normalize(), freq="D")
    n_days = pd.Series(days.day_of_week).value_counts().reindex(range(7), fill_value=0)
    per_day = t.dt.day_of_week.value_counts().reindex(range(7), fill_value=0) / n_days.clip(lower=1)
    names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    wd = float(per_day.iloc[:5].mean())
    x = np.arange(7.0)
    right = Panel(boxes[1], Axis(-0.6, 6.6, ticks=list(x), labels=names, size=TICK),
                  Axis(0, max(float(per_day.max()), wd) * 1.3 or 1.0, size=TICK), legend=Legend("upper right", size=11),
                  title="sessions per calendar day, by weekday", title_size=12)
    right.add(Bars(x, [0.0] * 7, per_day.to_numpy(), color=MEASURED_COLOR, alpha=0.7, label="emerged"),
              Segments(x - 0.3, [wd] * 5 + [0.7 * wd] * 2, x + 0.3, [wd] * 5 + [0.7 * wd] * 2, color=TARGET_COLOR,
                       width=2.5, label="spec: weekend ~30% lower"))
    fig.panels += [left, right]
    return fig


def _fig_personas(d):
    if not d.has("traits") or not (d.has("profiles") or d.has("aggregates")):
        return None
    p = d.view("personas")
    metrics = []
    for ranges in T.PERSONAS.values():
        metrics += [m for m in ranges if m not in metrics and m in p]
    if not metrics:
        return None
    personas = list(T.PERSONAS)
    names = [n.replace("_", "\n") for n in personas]
    cols = 3
    rows = math.ceil(len(metrics) / cols)
    height = 60 + rows * 230
    boxes = grid(rows, cols, WIDTH, height, left=55, right=15, top=60, bottom=50, wgap=60, hgap=40)
    fig = Figure(WIDTH, height, title="Persona means (dot \u00b1 SD) vs section 10 ranges (thick: spec, thin: with "
                 "tolerance)", title_size=14)
    x = np.arange(len(personas), dtype=float)
    for k, (box, m) in enumerate(zip(boxes, metrics)):
        have = [i for i, n in enumerate(personas) if m in T.PERSONAS[n]]
        spans = [T.PERSONAS[personas[i]][m] for i in have]
        wide = [T.persona_bounds(m, *r) for r in spans]
        pad = [0.01 * (w[1] - w[0]) if r[0] == r[1] else 0 for r, w in zip(spans, wide)]
        col = pd.to_numeric(p[m], errors="coerce")
        stats = col.groupby(p["persona"]).agg(["mean", "std"]).reindex(personas)
        mean, sd = stats["mean"].to_numpy(dtype=float), stats["std"].fillna(0).to_numpy(dtype=float)
        hx = [x[i] for i in have]
        lo, hi = padded([*(mean - sd), *(mean + sd), *(w[0] for w in wide), *(w[1] for w in wide)], 0.06)
        last_row = k >= len(metrics) - cols
        panel = Panel(box, Axis(-0.5, len(personas) - 0.5, ticks=list(x), labels=names if last_row else [""] * len(x),
                                size=9), Axis(lo, hi, n=4, size=TICK), title=m, title_size=12)
        panel.add(Bars(hx, [w[0] for w in wide], [w[1] for w in wide], width=0.04, color=TARGET_COLOR, alpha=0.35),
                  Bars(hx, [r[0] - q for r, q in zip(spans, pad)], [r[1] + q for r, q in zip(spans, pad)], width=0.12,
                       color=TARGET_COLOR, alpha=0.6),
                  Segments(x, mean - sd, x, mean + sd, color=MEASURED_COLOR, width=1.5),
                  Segments([*(x - 0.06), *(x - 0.06)], [*(mean - sd), *(mean + sd)], [*(x + 0.06), *(x + 0.06)],
                           [*(mean - sd), *(mean + sd)], color=MEASURED_COLOR, width=1.5),
                  Points(x, mean, color=MEASURED_COLOR, size=8))
        fig.panels.append(panel)
    return fig


# ---------------------------------------------------------------------------------- registry

SESSION_VIEWS = {"completed", "sessions"}

# name -> (title, text alternative, drawer(d, results) -> a chart Figure (analysis/chart/spec.py) or None when there is nothing to draw)
FIGURES = {
    "distributions_sessions": (
        "Session-level distributions (completed sessions)",
        "Small multiples, one per session column the spec gives a distribution for: the emerged "
        "histogram as bars and the spec's target density as a red line, with the measured mean, SD and n.",
        lambda d, results: _fig_distributions(d, [x for x in T.DISTRIBUTIONS if x.view in SESSION_VIEWS],
                                              "Session-level distributions")),
    "distributions_tutors": (
        "Tutor-level distributions",
        "Small multiples, one per tutor column (profiles and aggregates) the spec gives a distribution "
        "for: the emerged histogram as bars, the spec's target density as a red line.",
        lambda d, results: _fig_distributions(d, [x for x in T.DISTRIBUTIONS if x.view not in SESSION_VIEWS],
                                              "Tutor-level distributions")),
    "categorical": (
        "Categorical shares",
        "Paired horizontal bars, one pair per category of every categorical check: the spec's share "
        "(red) above the emerged share (blue); labels of failing checks are red.",
        lambda d, results: _fig_categorical(results)),
    "correlations": (
        "Section 8 correlations and rating gaps",
        "Bars per relation of sections 8 and 9: the spec's target with its acceptance band (red) beside "
        "the emerged value (blue), each marked PASS or FAIL.",
        lambda d, results: _fig_correlations(results)),
    "time_patterns": (
        "Sessions by hour of day and by weekday",
        "Left: the share of sessions by start hour with the spec's 3-9 pm peak shaded. Right: sessions "
        "per calendar day by weekday, with the spec's weekend level (30% below weekdays) marked.",
        lambda d, results: _fig_time(d)),
    "personas": (
        "Persona means against section 10",
        "One panel per metric: each persona's mean with its SD (blue dot and bar) against the spec's "
        "section-10 range (thick red) and the range with its tolerance (thin red).",
        lambda d, results: _fig_personas(d)),
}


def draw(name: str, d, results):
    """The figure `name` of FIGURES, or None when the tables it needs are absent."""
    return FIGURES[name][2](d, results)
