"""A figure as data: panels at fixed places, axes with their ticks already chosen, and marks in
data coordinates. Figures are made by functions of a run (analysis/validation_figures.py,
analysis/trace/plot.py) and drawn by a renderer: analysis/chart/svg.py for the HTML pages,
analysis/chart/mpl.py (matplotlib) for the PNGs of `validate` and `trace --plot`. Everything a
renderer needs is decided here (places in pixels, tick positions and their labels, colours), so
the two draw the same figure and neither lays anything out.

Sizes are pixels at 100 per inch; font sizes are pixels too. Boxes are (left, top, width,
height) from the figure's top-left corner. A colour is any CSS colour matplotlib also knows
("#1f77b4", "red", "darkorange"); `alpha` is the mark's opacity.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

from analysis.chart.scale import format_ticks, nice_ticks

Box = tuple[float, float, float, float]


@dataclass
class Axis:
    """One axis of a panel: its limits, its ticks (chosen when not given: about `n` round
    numbers) and their labels (formatted alike when not given), each optionally its own colour."""
    lo: float
    hi: float
    ticks: Sequence[float] | None = None
    labels: Sequence[str] | None = None
    label: str = ""                      # the axis title
    n: int = 5
    size: float = 9.0                    # tick labels' font size
    color: str = "#222222"               # tick labels' and the title's colour
    label_colors: Sequence[str] | None = None
    grid: bool = False

    def __post_init__(self):
        if self.hi <= self.lo:
            self.lo, self.hi = (self.lo - 0.5, self.lo + 0.5) if self.hi == self.lo else (self.hi, self.lo)
        if self.ticks is None:
            self.ticks = nice_ticks(self.lo, self.hi, self.n)
        self.ticks = [float(t) for t in self.ticks]
        if self.labels is None:
            self.labels = format_ticks(self.ticks)
        self.labels = [str(s) for s in self.labels]


@dataclass
class Bars:
    """Bars centred at `at` spanning `lo`..`hi` along the value axis (vertical bars: x = at, y
    from lo to hi; `horizontal`: y = at, x from lo to hi), each `width` wide in data units."""
    at: Sequence[float]
    lo: Sequence[float]
    hi: Sequence[float]
    width: float | Sequence[float] = 0.8
    color: str = "#1f77b4"
    alpha: float = 1.0
    horizontal: bool = False
    label: str | None = None


@dataclass
class Line:
    """A polyline through (x, y); NaN breaks it. `steps`: horizontal then vertical (a step
    function whose value holds until the next x)."""
    x: Sequence[float]
    y: Sequence[float]
    color: str = "#1f77b4"
    width: float = 1.5
    dash: str | None = None              # None (solid), "dash" or "dot"
    steps: bool = False
    alpha: float = 1.0
    label: str | None = None
    axis: str = "y"                      # "y2": the panel's right-hand axis


@dataclass
class Points:
    """Markers at (x, y): "o" circle, "s" square, "D" diamond, "v" triangle down, "*" star,
    "x" cross, "|" and "_" ticks. `size` is the marker's width in pixels; `color` one colour or
    one per point; `hollow` draws the outline only (in `edge`, or the colour)."""
    x: Sequence[float]
    y: Sequence[float]
    color: str | Sequence[str] = "#1f77b4"
    size: float = 6.0
    marker: str = "o"
    hollow: bool = False
    edge: str | None = None
    alpha: float = 1.0
    label: str | None = None
    axis: str = "y"


@dataclass
class Segments:
    """Straight segments from (x0, y0) to (x1, y1): stems, ranges, error bars."""
    x0: Sequence[float]
    y0: Sequence[float]
    x1: Sequence[float]
    y1: Sequence[float]
    color: str = "#1f77b4"
    width: float = 1.0
    alpha: float = 1.0
    label: str | None = None


@dataclass
class Rule:
    """A line across the whole panel at `value`: vertical (an x value) or horizontal (a y value)."""
    value: float
    vertical: bool = True
    color: str = "black"
    width: float = 1.0
    dash: str | None = None
    alpha: float = 1.0
    label: str | None = None
    axis: str = "y"


@dataclass
class Span:
    """A shaded band across the panel from `lo` to `hi`: along x (`vertical`) or along y."""
    lo: float
    hi: float
    vertical: bool = True
    color: str = "grey"
    alpha: float = 0.15
    label: str | None = None


@dataclass
class Text:
    """Text at (x, y): in the panel's fractions (0..1 from its bottom-left) or, with `data`, in
    data coordinates. `anchor` start|middle|end, `baseline` top|middle|bottom; new lines split it."""
    x: float
    y: float
    text: str
    size: float = 9.0
    anchor: str = "start"
    baseline: str = "top"
    color: str = "#222222"
    data: bool = False


@dataclass
class Key:
    """A legend entry that is not a mark of the panel: `kind` line|point|patch, drawn like one."""
    label: str
    kind: str = "point"
    color: str = "#1f77b4"
    marker: str = "o"
    hollow: bool = False
    dash: str | None = None
    alpha: float = 1.0


@dataclass
class Legend:
    """The panel's legend: its marks that have a label, then `extra`, in `columns` columns, at
    `where`: "upper left", "upper right", "lower right" inside the panel, or "above" it."""
    where: str = "upper right"
    columns: int = 1
    size: float = 9.0
    extra: list[Key] = field(default_factory=list)
    marks: bool = True


@dataclass
class Panel:
    box: Box
    x: Axis
    y: Axis
    marks: list = field(default_factory=list)     # Bars, Line, Points, Segments, Rule, Span, Text
    title: str = ""
    title_size: float = 11.0
    y2: Axis | None = None               # a right-hand axis, for marks with axis="y2"
    legend: Legend | None = None

    def add(self, *marks) -> "Panel":
        self.marks.extend(marks)
        return self


@dataclass
class Figure:
    width: float
    height: float
    panels: list[Panel] = field(default_factory=list)
    title: str = ""
    title_size: float = 14.0
    texts: list[Text] = field(default_factory=list)     # in the figure's fractions


def grid(rows: int, cols: int, width: float, height: float, *, left: float = 50, right: float = 15,
         top: float = 60, bottom: float = 40, wgap: float = 40, hgap: float = 60,
         ratios: Sequence[float] | None = None) -> list[Box]:
    """The boxes of a rows x cols grid of panels, row by row, inside the given margins (pixels);
    `ratios` are the columns' relative widths."""
    ratios = list(ratios or [1.0] * cols)
    inner_w = width - left - right - wgap * (cols - 1)
    inner_h = (height - top - bottom - hgap * (rows - 1)) / rows
    widths = [inner_w * r / sum(ratios) for r in ratios]
    boxes = []
    for i in range(rows):
        x = left
        for j in range(cols):
            boxes.append((x, top + i * (inner_h + hgap), widths[j], inner_h))
            x += widths[j] + wgap
    return boxes


# ------------------------------------------------------------------- what both renderers share

CHAR = 0.6          # a character's width in font sizes (DejaVu Sans is wide): text is not measured


def text_width(text: str, size: float) -> float:
    """The estimated width in pixels of the widest line of `text`."""
    return max((len(s) for s in str(text).split("\n")), default=0) * size * CHAR


def _key(m) -> Key:
    if isinstance(m, Points):
        color = m.color if isinstance(m.color, str) else (m.color[0] if len(m.color) else "#1f77b4")
        return Key(m.label, "point", color, m.marker, m.hollow, alpha=m.alpha)
    if isinstance(m, (Line, Rule, Segments)):
        return Key(m.label, "line", m.color, dash=getattr(m, "dash", None), alpha=m.alpha)
    return Key(m.label, "patch", m.color, alpha=m.alpha)


def legend_keys(p: Panel, legend: Legend) -> list[tuple[str, Key]]:
    """The legend's entries: the panel's marks with a label (unless told not to), then its extras."""
    keys = [_key(m) for m in p.marks if legend.marks and getattr(m, "label", None)] + list(legend.extra)
    return [(k.label, k) for k in keys]


def title_lift(p: Panel) -> float:
    """How far above its usual place the panel's title sits: over a legend placed above the panel."""
    return legend_size(p, p.legend)[1] + 2 if p.legend and p.legend.where == "above" else 0.0


def legend_size(p: Panel, legend: Legend) -> tuple[float, float, int]:
    """(width, height, rows) of the panel's legend, in pixels."""
    entries = legend_keys(p, legend)
    cols = max(1, min(legend.columns, len(entries)))
    rows = math.ceil(len(entries) / cols)
    col_w = max((text_width(s, legend.size) for s, _ in entries), default=0) + legend.size * 3.2
    return cols * col_w + 8, rows * legend.size * 1.45 + 6, rows
