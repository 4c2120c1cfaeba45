"""report.md and its figures, from the results of `run.py validate`.

Writes DATA_DIR/report.md and PNG figures into DATA_DIR/figures/: emerged distributions beside
the spec's target distributions, categorical shares, the section-8 correlations, sessions by
hour and weekday, persona means against section 10's ranges. Everything is drawn from the same
results and targets that validate prints; nothing here reads the specification itself.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import targets as T

FIG_DPI = 80
TARGET_COLOR = "#d62728"
MEASURED_COLOR = "#1f77b4"


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


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


def _fig_distributions(d, dists: list[T.Dist], path: Path, title: str) -> bool:
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
        return False
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
    fig.savefig(path, dpi=FIG_DPI)
    plt.close(fig)
    return True


def _fig_categorical(results, path: Path) -> bool:
    rs = [r for r in results if r.check.kind == "shares" and isinstance(r.measured, dict)]
    if not rs:
        return False
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
    for yi, st in zip(y, status):
        if st == "FAIL":
            ax.get_yticklabels()[len(y) - 1 - yi].set_color(TARGET_COLOR)
    ax.xaxis.set_major_locator(__import__("matplotlib.ticker").ticker.MultipleLocator(0.1))
    ax.grid(axis="x", lw=0.3)
    ax.tick_params(axis="x", labelsize=7)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title("Categorical shares: spec vs emerged (labels in red: the check fails)",
                 fontsize=11, y=1.0)
    h = fig.get_figheight()
    fig.subplots_adjust(left=0.28, right=0.98, bottom=0.5 / h, top=1 - 0.5 / h)
    fig.savefig(path, dpi=FIG_DPI)
    plt.close(fig)
    return True


def _fig_correlations(results, path: Path) -> bool:
    corr = [r for r in results if (r.check.kind == "corr" or r.check.key == "corr_speak_eng")
            and r.check.section in (8, 9) and r.status != "SKIP"]
    gaps = [r for r in results if r.check.key in ("gap_connection", "gap_first", "trend_churn")
            and r.status != "SKIP"]
    if not corr and not gaps:
        return False
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
    fig.savefig(path, dpi=FIG_DPI)
    plt.close(fig)
    return True


def _short(claim: str) -> str:
    return claim.split(":")[0].split(" (")[0][:40]


def _fig_time(d, path: Path) -> bool:
    if not d.has("sessions") or "session_datetime" not in d.table("sessions"):
        return False
    t = d.table("sessions")["session_datetime"].dropna()
    if t.empty:
        return False
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
    fig.savefig(path, dpi=FIG_DPI)
    plt.close(fig)
    return True


def _fig_personas(d, path: Path) -> bool:
    if not d.has("traits") or not (d.has("profiles") or d.has("aggregates")):
        return False
    p = d.view("personas")
    metrics = []
    for ranges in T.PERSONAS.values():
        metrics += [m for m in ranges if m not in metrics and m in p]
    if not metrics:
        return False
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
        ax.set_xticks(x, names, fontsize=7)
        ax.yaxis.set_major_locator(__import__("matplotlib.ticker").ticker.MaxNLocator(4))
        ax.tick_params(axis="y", labelsize=7)
    for ax in list(axes.flat)[len(metrics):]:
        ax.axis("off")
    fig.suptitle("Persona means (dot ± SD) vs section 10 ranges (thick: spec, thin: with "
                 "tolerance)", fontsize=11)
    _layout(fig)
    fig.savefig(path, dpi=FIG_DPI)
    plt.close(fig)
    return True


# ---------------------------------------------------------------------------------- report


def _md(s) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")


FIGURES = (
    ("distributions_sessions.png", "Session-level distributions (completed sessions)"),
    ("distributions_tutors.png", "Tutor-level distributions"),
    ("categorical.png", "Categorical shares"),
    ("correlations.png", "Section 8 correlations and rating gaps"),
    ("time_patterns.png", "Sessions by hour of day and by weekday"),
    ("personas.png", "Persona means against section 10"),
)


def write_report(d, results, out_dir: Path) -> Path:
    """Write out_dir/report.md and out_dir/figures/*.png; return the report's path."""
    from analysis.validate import describe_run, summary_line

    out_dir = Path(out_dir)
    fig_dir = out_dir / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    drawn = _draw_figures(d, results, fig_dir)

    lines = [f"# Validation report: `{d.root}`", "", describe_run(d), "",
             f"**{summary_line(results)}**", "",
             "Tolerances: shares ± 5 points (edge cases ± 3), means ± half the spec SD, SDs "
             "± 30%, correlations ± 0.15 with the right sign, ranges and rules on 100% of rows. "
             "Checks whose tables are absent are skipped, not failed. Sample size matters: a "
             "share over 150 tutors has a standard error near 3 points, so a ± 5 point tutor "
             "share (or a six-way categorical share) can fail by chance; session-level shares "
             "over 22,500 sessions cannot.", "",
             "## Checks", ""]
    lines += _check_tables(results)
    lines += _figure_sections(drawn)
    lines += ["## Contradictions in the spec and the reading we chose", ""]
    for title, text in T.CONTRADICTIONS:
        lines += [f"- **{title}.** {text}", ""]
    path = out_dir / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _draw_figures(d, results, fig_dir: Path) -> dict[str, bool | str]:
    """Every figure of FIGURES: True when drawn, False when there is nothing to draw it from, else
    the error that stopped it."""
    session_views = {"completed", "sessions"}
    jobs = {
        "distributions_sessions.png": lambda path: _fig_distributions(
            d, [x for x in T.DISTRIBUTIONS if x.view in session_views], path,
            "Session-level distributions"),
        "distributions_tutors.png": lambda path: _fig_distributions(
            d, [x for x in T.DISTRIBUTIONS if x.view not in session_views], path,
            "Tutor-level distributions"),
        "categorical.png": lambda path: _fig_categorical(results, path),
        "correlations.png": lambda path: _fig_correlations(results, path),
        "time_patterns.png": lambda path: _fig_time(d, path),
        "personas.png": lambda path: _fig_personas(d, path),
    }
    drawn: dict[str, bool | str] = {}
    for name, job in jobs.items():
        try:
            drawn[name] = job(fig_dir / name)
        except Exception as exc:  # one figure's trouble must not lose the report
            _plt().close("all")
            drawn[name] = f"{type(exc).__name__}: {exc}"
    return drawn


def _check_tables(results) -> list[str]:
    """One markdown table of checks per spec section."""
    lines = []
    by_section: dict[int, list] = {}
    for r in results:
        by_section.setdefault(r.check.section, []).append(r)
    for sec in sorted(by_section):
        rs = by_section[sec]
        counts = {s: sum(r.status == s for r in rs) for s in ("PASS", "FAIL", "READING", "SKIP")}
        lines += [f"### §{sec} {T.SECTIONS.get(sec, '')}", "",
                  f"{counts['PASS']} passed, {counts['FAIL']} failed, {counts['SKIP']} skipped"
                  + (f", {counts['READING']} off by a documented reading" if counts["READING"]
                     else ""),
                  "", "| id | claim | level | target | measured | result |",
                  "|---|---|---|---|---|---|"]
        for r in rs:
            claim = _md(r.check.claim) + (f" <br><sub>{_md(r.check.note)}</sub>"
                                          if r.check.note else "")
            result = {"PASS": "PASS", "FAIL": "**FAIL**", "SKIP": "SKIP",
                      "READING": f"READING ({_md(r.check.reading)})"}[r.status]
            lines.append(f"| {r.check.id} | {claim} | {r.check.level} | {_md(r.target_text)} "
                         f"| {_md(r.text)} | {result} |")
        lines.append("")
    return lines


def _figure_sections(drawn: dict[str, bool | str]) -> list[str]:
    """The figures, or why one is not drawn."""
    lines = ["## Figures", ""]
    for name, title in FIGURES:
        if drawn.get(name) is True:
            lines += [f"### {title}", "", f"![{title}](figures/{name})", ""]
        elif drawn.get(name):
            lines += [f"### {title}", "", f"_Not drawn: {_md(drawn[name])}_", ""]
        else:
            lines += [f"### {title}", "", "_Not drawn: the tables it needs are absent._", ""]
    return lines
