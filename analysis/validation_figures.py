"""validate's figures: the emerged distributions beside the spec's target distributions,
categorical shares, the section-8 correlations, sessions by hour and weekday, persona means
against section 10's ranges. Each is drawn once, by one function of the run's tables (`Data`) and
validate's results, and saved as PNG for report.md (analysis/report.py) or as SVG for the HTML
report (analysis/report_html/): `FIGURES`, `draw`.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analysis import targets as T
from analysis.figure_bytes import pyplot

FIG_DPI = 80
TARGET_COLOR = "#d62728"
MEASURED_COLOR = "#1f77b4"


def _plt():
    return pyplot()


def _lean(ax, yticks: bool = True, nx: int = 5):
    """Few ticks and a fixed title position: most of matplotlib's time goes to tick layout."""
    from matplotlib.ticker import MaxNLocator
    ax.xaxis.set_major_locator(MaxNLocator(nx))
    if yticks:
        ax.yaxis.set_major_locator(MaxNLocator(4))
    else:
        ax.set_yticks([])
    ax.tick_params(labelsize=7)


def _layout(fig):
    """Fixed margins: tight_layout costs a full extra draw per figure."""
    h = fig.get_figheight()
    fig.subplots_adjust(left=0.05, right=0.98, bottom=0.5 / h, top=1 - 0.6 / h, wspace=0.25,
                        hspace=0.6)


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


def _draw_target(ax, dist: T.Dist):
    """Draw the spec's target distribution on a density-scaled axis; return its label."""
    lo, hi = dist.lo, dist.hi
    x = np.linspace(lo, hi, 300) if lo is not None and hi is not None else None
    fam, p = dist.family, dist.params
    if fam == "normal":
        ax.plot(x, _normal_pdf(x, *p), color=TARGET_COLOR, lw=1.8)
        return f"target Normal({p[0]:g}, {p[1]:g}) on [{lo:g}, {hi:g}]"
    if fam == "beta":
        ax.plot(x, _beta_pdf((x - lo) / (hi - lo), *p) / (hi - lo), color=TARGET_COLOR, lw=1.8)
        return f"target Beta({p[0]:g}, {p[1]:g}) on [{lo:g}, {hi:g}]"
    if fam == "gamma":
        ax.plot(x, _gamma_pdf(x, *p), color=TARGET_COLOR, lw=1.8)
        return f"target Gamma({p[0]:g}, {p[1]:g})"
    if fam == "poisson_mix":
        share, lam = p
        k = np.arange(int(lo), int(hi) + 1)
        pmf = share * _poisson_pmf(k, lam)
        pmf[0] += 1 - share
        ax.plot(k, pmf, "o", color=TARGET_COLOR, ms=4)
        return f"target: {share:.0%} Poisson({lam:g}), rest 0 (one reading)"
    for m in dist.markers:
        ax.axvline(m, color=TARGET_COLOR, ls="--", lw=1)
    return "spec gives thresholds only: " + ", ".join(f"{m:g}" for m in dist.markers)


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
    plt = _plt()
    cols = 4
    rows = math.ceil(len(usable) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.0 * rows), squeeze=False)
    for ax, (dist, v) in zip(axes.flat, usable):
        integer = dist.family == "poisson_mix" or (v.round() == v).all() and v.max() - v.min() <= 30
        if integer:
            counts = v.round().value_counts(normalize=True).sort_index()
            ax.vlines(counts.index, 0, counts.values, color=MEASURED_COLOR, lw=5, alpha=0.6)
        else:
            lo = dist.lo if dist.lo is not None else v.min()
            hi = dist.hi if dist.hi is not None else v.max()
            lo, hi = min(lo, v.min()), max(hi, v.max())
            dens, edges = np.histogram(v.to_numpy(), bins=40, range=(lo, hi), density=True)
            ax.stairs(dens, edges, fill=True, color=MEASURED_COLOR, alpha=0.6)
        label = _draw_target(ax, dist)
        ax.set_title(dist.label or dist.column, fontsize=10, y=1.0)
        ax.text(0.02, 0.97, f"measured mean {v.mean():.3g}, SD {v.std():.3g}, n={len(v):,}\n"
                f"{label}", transform=ax.transAxes, va="top", fontsize=7)
        _lean(ax, yticks=False)
    for ax in list(axes.flat)[len(usable):]:
        ax.axis("off")
    fig.suptitle(title + " (bars: emerged; red: spec target)", fontsize=12)
    _layout(fig)
    return fig


def _fig_categorical(results):
    rs = [r for r in results if r.check.kind == "shares" and isinstance(r.measured, dict)]
    if not rs:
        return None
    plt = _plt()
    labels, target, measured, status = [], [], [], []
    for r in rs:
        for c in r.check.target:
            labels.append(f"{r.check.id} {r.check.params.get('label', '')}: {c}")
            target.append(r.check.target[c])
            measured.append(r.measured[c])
            status.append(r.status)
    y = np.arange(len(labels))[::-1]
    fig, ax = plt.subplots(figsize=(11, 0.22 * len(labels) + 1.2))
    ax.barh(y + 0.2, target, 0.4, color=TARGET_COLOR, alpha=0.7, label="spec")
    ax.barh(y - 0.2, measured, 0.4, color=MEASURED_COLOR, alpha=0.7, label="emerged")
    ax.set_yticks(y, labels, fontsize=7)
    ticks = ax.get_yticklabels()        # once: each call builds every tick again
    for yi, st in zip(y, status):
        if st == "FAIL":
            ticks[len(y) - 1 - yi].set_color(TARGET_COLOR)
    ax.xaxis.set_major_locator(__import__("matplotlib.ticker").ticker.MultipleLocator(0.1))
    ax.grid(axis="x", lw=0.3)
    ax.tick_params(axis="x", labelsize=7)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title("Categorical shares: spec vs emerged (labels in red: the check fails)",
                 fontsize=11, y=1.0)
    h = fig.get_figheight()
    fig.subplots_adjust(left=0.28, right=0.98, bottom=0.5 / h, top=1 - 0.5 / h)
    return fig


def _fig_correlations(results):
    corr = [r for r in results if (r.check.kind == "corr" or r.check.key == "corr_speak_eng")
            and r.check.section in (8, 9) and r.status != "SKIP"]
    gaps = [r for r in results if r.check.key in ("gap_connection", "gap_first", "trend_churn")
            and r.status != "SKIP"]
    if not corr and not gaps:
        return None
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(14, 4.5), gridspec_kw={"width_ratios": [3, 2]})
    for ax, rs, what in ((axes[0], corr, "Pearson r"), (axes[1], gaps, "difference of means")):
        if not rs:
            ax.axis("off")
            continue
        x = np.arange(len(rs))
        tgt = [r.check.target if isinstance(r.check.target, (int, float))
               else (r.lo + r.hi) / 2 if r.lo is not None and r.hi is not None else r.lo
               for r in rs]
        lo = [t - (r.lo if r.lo is not None else t) for t, r in zip(tgt, rs)]
        hi = [(r.hi if r.hi is not None else t) - t for t, r in zip(tgt, rs)]
        ax.bar(x - 0.2, tgt, 0.4, yerr=[lo, hi], capsize=3, color=TARGET_COLOR, alpha=0.7,
               label="spec target (bar: acceptance)")
        meas = [r.measured if isinstance(r.measured, (int, float)) else 0 for r in rs]
        ax.bar(x + 0.2, meas, 0.4, color=MEASURED_COLOR, alpha=0.7, label="emerged")
        for xi, r, m in zip(x, rs, meas):
            ax.text(xi + 0.2, m, r.status, ha="center", va="bottom", fontsize=7)
        ax.set_xticks(x, [r.check.id for r in rs], fontsize=8)
        ax.axhline(0, color="black", lw=0.6)
        ax.set_ylabel(what)
        ax.legend(fontsize=7)
        ax.set_title("; ".join(f"{r.check.id}: {_short(r.check.claim)}" for r in rs)[:260],
                     fontsize=6, wrap=True, y=1.0)
    fig.suptitle("Section 8/9 relations: spec vs emerged", fontsize=12)
    _layout(fig)
    return fig


def _short(claim: str) -> str:
    return claim.split(":")[0].split(" (")[0][:40]


def _fig_time(d):
    if not d.has("sessions") or "session_datetime" not in d.table("sessions"):
        return None
    t = d.table("sessions")["session_datetime"].dropna()
    if t.empty:
        return None
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(13, 4))
    hours = t.dt.hour.value_counts(normalize=True).reindex(range(24), fill_value=0)
    axes[0].bar(hours.index, hours.values, color=MEASURED_COLOR, alpha=0.7)
    axes[0].axvspan(14.5, 20.5, color=TARGET_COLOR, alpha=0.12, label="spec peak 3-9pm")
    peak = hours.loc[15:20].sum()
    axes[0].set_title(f"sessions by start hour: {peak:.0%} in 15:00-20:59 (target >= 50%)",
                      fontsize=9)
    axes[0].set_xticks(range(0, 24, 2))
    axes[0].legend(fontsize=8)
    days = pd.date_range(t.min().normalize(), t.max().normalize(), freq="D")
    n_days = pd.Series(days.day_of_week).value_counts().reindex(range(7), fill_value=0)
    per_day = t.dt.day_of_week.value_counts().reindex(range(7), fill_value=0) / n_days.clip(lower=1)
    names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    axes[1].bar(names, per_day.values, color=MEASURED_COLOR, alpha=0.7, label="emerged")
    wd = per_day.iloc[:5].mean()
    axes[1].plot(names, [wd] * 5 + [0.7 * wd] * 2, color=TARGET_COLOR, marker="_", ms=20,
                 ls="none", mew=2, label="spec: weekend ~30% lower")
    axes[1].set_title("sessions per calendar day, by weekday", fontsize=9)
    axes[1].legend(fontsize=8)
    _layout(fig)
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
    plt = _plt()
    personas = list(T.PERSONAS)
    names = [n.replace("_", "\n") for n in personas]
    cols = 3
    rows = math.ceil(len(metrics) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 2.8 * rows), squeeze=False,
                             sharex=True)
    x = np.arange(len(personas))
    for ax, m in zip(axes.flat, metrics):
        have = [i for i, n in enumerate(personas) if m in T.PERSONAS[n]]
        spans = [T.PERSONAS[personas[i]][m] for i in have]
        wide = [T.persona_bounds(m, *r) for r in spans]
        ax.vlines([x[i] for i in have], [w[0] for w in wide], [w[1] for w in wide],
                  color=TARGET_COLOR, lw=2, alpha=0.35)
        pad = [0.01 * (w[1] - w[0]) if r[0] == r[1] else 0 for r, w in zip(spans, wide)]
        ax.vlines([x[i] for i in have], [r[0] - q for r, q in zip(spans, pad)],
                  [r[1] + q for r, q in zip(spans, pad)], color=TARGET_COLOR, lw=7, alpha=0.6)
        col = pd.to_numeric(p[m], errors="coerce")
        stats = col.groupby(p["persona"]).agg(["mean", "std"]).reindex(personas)
        ax.errorbar(x, stats["mean"], yerr=stats["std"].fillna(0), fmt="o",
                    color=MEASURED_COLOR, ms=5, capsize=3)
        ax.set_title(m, fontsize=9, y=1.0)
        ax.yaxis.set_major_locator(__import__("matplotlib.ticker").ticker.MaxNLocator(4))
        ax.tick_params(axis="y", labelsize=7)
    for ax in axes[-1]:                 # the x axis is shared: its ticks are set once, labelled below
        ax.set_xticks(x, names, fontsize=7)
    for ax in list(axes.flat)[len(metrics):]:
        ax.axis("off")
    fig.suptitle("Persona means (dot ± SD) vs section 10 ranges (thick: spec, thin: with "
                 "tolerance)", fontsize=11)
    _layout(fig)
    return fig




# ---------------------------------------------------------------------------------- registry

SESSION_VIEWS = {"completed", "sessions"}

# name -> (title, text alternative, drawer(d, results) -> a Figure or None when there is nothing to draw)
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
