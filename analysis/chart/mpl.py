"""A figure (analysis/chart/spec.py) drawn by matplotlib, for the PNGs of `validate`
(DATA/figures/) and `run.py trace --plot`: each panel an axes at the spec's place, with the
spec's limits, ticks, labels and marks; nothing laid out by matplotlib. Pixels are 1/100 inch,
so a font of 10 pixels is 7.2 points."""
from __future__ import annotations

import io
from pathlib import Path

from analysis.chart.spec import (Bars, Figure, Key, Line, Panel, Points, Rule, Segments, Span, Text, legend_keys,
                                 title_lift)

PX = 100.0
PT = 72.0 / PX
DASH = {None: "-", "dash": "--", "dot": ":"}
LOC = {"upper left": "upper left", "upper right": "upper right", "lower right": "lower right"}


def pyplot():
    """matplotlib's pyplot on the Agg backend (no window, whatever the environment says)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def draw(fig: Figure):
    """The matplotlib Figure of `fig` (the caller closes it)."""
    plt = pyplot()
    W, H = fig.width, fig.height
    out = plt.figure(figsize=(W / PX, H / PX), dpi=PX)
    if fig.title:
        out.text(0.5, 1 - 8 / H, fig.title, ha="center", va="top", fontsize=fig.title_size * PT, weight="bold")
    for p in fig.panels:
        _panel(out, p, W, H)
    for t in fig.texts:
        out.text(t.x, t.y, t.text, fontsize=t.size * PT, ha=_ha(t.anchor), va=t.baseline, color=t.color)
    return out


def png(fig: Figure, dpi: int) -> bytes:
    plt = pyplot()
    drawn = draw(fig)
    buffer = io.BytesIO()
    try:
        drawn.savefig(buffer, format="png", dpi=dpi)
    finally:
        plt.close(drawn)
    return buffer.getvalue()


def save_png(fig: Figure, path: Path, dpi: int) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png(fig, dpi))


def _ha(anchor: str) -> str:
    return {"start": "left", "middle": "center", "end": "right"}[anchor]


def _axis(ax, axis, which: str) -> None:
    (ax.set_xlim if which == "x" else ax.set_ylim)(axis.lo, axis.hi)
    setter = ax.set_xticks if which == "x" else ax.set_yticks
    setter(axis.ticks, axis.labels, fontsize=axis.size * PT, color=axis.color)
    if axis.label_colors:
        labels = ax.get_xticklabels() if which == "x" else ax.get_yticklabels()
        for label, color in zip(labels, axis.label_colors):
            label.set_color(color)
    if axis.label:
        (ax.set_xlabel if which == "x" else ax.set_ylabel)(axis.label, fontsize=(axis.size + 1) * PT, color=axis.color)
    if axis.grid:
        ax.grid(axis=which, color="#b0b0b0", lw=0.5 * PT)
    ax.tick_params(axis=which, length=4 * PT, width=0.8 * PT)


def _panel(out, p: Panel, W: float, H: float) -> None:
    left, top, w, h = p.box
    ax = out.add_axes((left / W, 1 - (top + h) / H, w / W, h / H))
    _axis(ax, p.x, "x")
    _axis(ax, p.y, "y")
    ax2 = None
    if p.y2 is not None:
        ax2 = ax.twinx()
        _axis(ax2, p.y2, "y")
        ax2.set_xlim(p.x.lo, p.x.hi)
    for m in p.marks:
        target = ax2 if getattr(m, "axis", "y") == "y2" and ax2 is not None else ax
        _mark(target, m)
    if p.title:
        out.text((left + w / 2) / W, 1 - (top - 6 - title_lift(p)) / H, p.title, ha="center", va="bottom",
                 fontsize=p.title_size * PT)
    if p.legend:
        _legend(ax2 or ax, p)           # on the axes drawn last: over the marks of both, as in the SVG


def _mark(ax, m) -> None:
    if isinstance(m, Bars):
        size = [hi - lo for lo, hi in zip(m.lo, m.hi)]
        if m.horizontal:
            ax.barh(m.at, size, height=m.width, left=m.lo, color=m.color, alpha=m.alpha, lw=0)
        else:
            ax.bar(m.at, size, width=m.width, bottom=m.lo, color=m.color, alpha=m.alpha, lw=0)
    elif isinstance(m, Line):
        ax.plot(m.x, m.y, color=m.color, lw=m.width * PT, ls=DASH[m.dash], alpha=m.alpha,
                drawstyle="steps-post" if m.steps else "default")
    elif isinstance(m, Points):
        _points(ax, m)
    elif isinstance(m, Segments):
        from matplotlib.collections import LineCollection
        ax.add_collection(LineCollection([((a, b), (c, d)) for a, b, c, d in zip(m.x0, m.y0, m.x1, m.y1)],
                                         colors=m.color, linewidths=m.width * PT, alpha=m.alpha))
    elif isinstance(m, Rule):
        (ax.axvline if m.vertical else ax.axhline)(m.value, color=m.color, lw=m.width * PT, ls=DASH[m.dash],
                                                  alpha=m.alpha)
    elif isinstance(m, Span):
        (ax.axvspan if m.vertical else ax.axhspan)(m.lo, m.hi, color=m.color, alpha=m.alpha, lw=0)
    elif isinstance(m, Text):
        ax.text(m.x, m.y, m.text, fontsize=m.size * PT, ha=_ha(m.anchor), va=m.baseline, color=m.color,
                transform=ax.transData if m.data else ax.transAxes)


def _points(ax, m: Points) -> None:
    if not len(m.x):
        return
    s = (m.size * PT) ** 2
    if m.marker in ("x", "|", "_"):
        ax.scatter(m.x, m.y, marker=m.marker, color=m.color, s=s, alpha=m.alpha, linewidths=1.5 * PT)
    elif m.hollow:
        ax.scatter(m.x, m.y, marker=m.marker, s=s, facecolors="none", edgecolors=m.edge or m.color,
                   linewidths=PT, alpha=m.alpha)
    else:
        ax.scatter(m.x, m.y, marker=m.marker, c=[m.color] if isinstance(m.color, str) else list(m.color), s=s,
                   edgecolors=m.edge or "none", linewidths=0.6 * PT, alpha=m.alpha)


def _handle(k: Key):
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    if k.kind == "line":
        return Line2D([], [], color=k.color, lw=2 * PT, ls=DASH[k.dash], alpha=k.alpha, label=k.label)
    if k.kind == "patch":
        return Patch(color=k.color, alpha=k.alpha, label=k.label)
    return Line2D([], [], ls="", marker=k.marker, color=k.color, alpha=k.alpha, label=k.label,
                  markerfacecolor="none" if k.hollow else k.color)


def _legend(ax, p: Panel) -> None:
    handles = [_handle(k) for _, k in legend_keys(p, p.legend)]
    if not handles:
        return
    lg = p.legend
    # matplotlib fills a legend's columns one after another, the SVG its rows: hand it the entries
    # column by column so both read row by row
    cols = max(1, min(lg.columns, len(handles)))
    rows = -(-len(handles) // cols)
    handles = [handles[r * cols + c] for c in range(cols) for r in range(rows) if r * cols + c < len(handles)]
    if lg.where == "above":
        ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=lg.columns,
                  fontsize=lg.size * PT, frameon=False)
    else:
        ax.legend(handles=handles, loc=LOC[lg.where], ncol=lg.columns, fontsize=lg.size * PT, framealpha=0.85)
