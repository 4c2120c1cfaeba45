"""A figure (analysis/chart/spec.py) as SVG text for the HTML pages: text stays text (a browser
draws it in its own sans-serif, a screen reader and find-in-page see it), every mark of one kind
and colour is one path, ids are numbered in order, nothing says when it was made: the same
figure gives the same bytes. Nothing is measured: places come from the spec, and a legend's
width is estimated from its characters."""
from __future__ import annotations

import math
from xml.sax.saxutils import escape

from analysis.chart.spec import (Bars, Figure, Key, Line, Panel, Points, Rule, Segments, Span, Text, legend_keys,
                                 legend_size, text_width, title_lift)

FONT = "DejaVu Sans, Verdana, Arial, sans-serif"
INK = "#222222"
DASH = {"dash": "5,3", "dot": "1.5,2.5"}
STROKED = {"x", "|", "_"}


def render(fig: Figure) -> bytes:
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{_n(fig.width)}" height="{_n(fig.height)}" '
           f'viewBox="0 0 {_n(fig.width)} {_n(fig.height)}" font-family="{FONT}" fill="{INK}">',
           f'<rect width="{_n(fig.width)}" height="{_n(fig.height)}" fill="#ffffff"/>']
    if fig.title:
        out.append(_text(fig.width / 2, 8, fig.title, fig.title_size, "middle", "top", INK, bold=True))
    for i, panel in enumerate(fig.panels):
        out.append(_panel(panel, f"c{i}"))
    for t in fig.texts:
        out.append(_text(t.x * fig.width, (1 - t.y) * fig.height, t.text, t.size, t.anchor, t.baseline, t.color))
    out.append("</svg>\n")
    return "\n".join(out).encode("utf-8")


# ------------------------------------------------------------------------------- numbers


def _n(v: float) -> str:
    """A coordinate: one decimal, no trailing zero."""
    s = f"{v:.1f}"
    return s[:-2] if s.endswith(".0") else s


def _alpha(a: float, what: str = "opacity") -> str:
    return "" if a >= 1 else f' {what}="{a:.3g}"'


class _Frame:
    """Data to pixels for one panel (and its right-hand axis)."""

    def __init__(self, panel: Panel):
        self.left, self.top, self.w, self.h = panel.box
        self.x, self.y, self.y2 = panel.x, panel.y, panel.y2
        self.kx = self.w / (self.x.hi - self.x.lo)

    def px(self, v: float) -> float:
        return self.left + (v - self.x.lo) * self.kx

    def py(self, v: float, axis: str = "y") -> float:
        a = self.y2 if axis == "y2" and self.y2 is not None else self.y
        return self.top + self.h - (v - a.lo) * self.h / (a.hi - a.lo)


def _ok(*vals) -> bool:
    return all(v is not None and math.isfinite(v) for v in vals)


# --------------------------------------------------------------------------------- marks


def _bars(m: Bars, f: _Frame) -> str:
    n = len(m.at)
    widths = m.width if hasattr(m.width, "__len__") else [m.width] * n
    d = []
    for at, lo, hi, w in zip(m.at, m.lo, m.hi, widths):
        if not _ok(at, lo, hi) or lo == hi:
            continue
        if m.horizontal:
            x0, x1, y0, y1 = f.px(lo), f.px(hi), f.py(at + w / 2), f.py(at - w / 2)
        else:
            x0, x1, y0, y1 = f.px(at - w / 2), f.px(at + w / 2), f.py(hi), f.py(lo)
        x0, x1 = min(x0, x1), max(x0, x1)
        y0, y1 = min(y0, y1), max(y0, y1)
        d.append(f"M{_n(x0)} {_n(y0)}H{_n(x1)}V{_n(y1)}H{_n(x0)}Z")
    return f'<path d="{"".join(d)}" fill="{m.color}"{_alpha(m.alpha, "fill-opacity")}/>' if d else ""


def _polyline(xs, ys, f: _Frame, axis: str, steps: bool) -> str:
    d, pen, last = [], "M", None
    for x, y in zip(xs, ys):
        if not _ok(x, y):
            pen, last = "M", None
            continue
        X, Y = f.px(x), f.py(y, axis)
        if steps and last is not None:
            d.append(f"H{_n(X)}")
        d.append(f"{pen}{_n(X)} {_n(Y)}")
        pen, last = "L", Y
    return "".join(d)


def _stroke(color: str, width: float, dash: str | None, alpha: float) -> str:
    s = f'fill="none" stroke="{color}" stroke-width="{width:g}"'
    if dash:
        s += f' stroke-dasharray="{DASH.get(dash, dash)}"'
    return s + _alpha(alpha, "stroke-opacity")


def _line(m: Line, f: _Frame) -> str:
    d = _polyline(m.x, m.y, f, m.axis, m.steps)
    return f'<path d="{d}" {_stroke(m.color, m.width, m.dash, m.alpha)} stroke-linejoin="round"/>' if d else ""


def _star(x: float, y: float, r: float) -> str:
    pts = []
    for k in range(10):
        rr = r if k % 2 == 0 else r * 0.4
        a = math.pi / 2 + k * math.pi / 5
        pts.append(f"{_n(x + rr * math.cos(a))} {_n(y - rr * math.sin(a))}")
    return "M" + "L".join(pts) + "Z"


def _marker(kind: str, x: float, y: float, r: float) -> str:
    X, Y = _n(x), _n(y)
    if kind == "o":
        return f"M{_n(x - r)} {Y}a{_n(r)} {_n(r)} 0 1 0 {_n(2 * r)} 0a{_n(r)} {_n(r)} 0 1 0 {_n(-2 * r)} 0Z"
    if kind == "s":
        return f"M{_n(x - r)} {_n(y - r)}h{_n(2 * r)}v{_n(2 * r)}h{_n(-2 * r)}Z"
    if kind == "D":                 # a square of side 2r on its corner, as matplotlib's "D"
        d = r * math.sqrt(2)
        return f"M{X} {_n(y - d)}L{_n(x + d)} {Y}L{X} {_n(y + d)}L{_n(x - d)} {Y}Z"
    if kind == "v":
        return f"M{_n(x - r)} {_n(y - r * 0.8)}H{_n(x + r)}L{X} {_n(y + r)}Z"
    if kind == "*":
        return _star(x, y, r * 1.2)
    if kind == "x":
        return f"M{_n(x - r)} {_n(y - r)}L{_n(x + r)} {_n(y + r)}M{_n(x - r)} {_n(y + r)}L{_n(x + r)} {_n(y - r)}"
    if kind == "|":
        return f"M{X} {_n(y - r)}V{_n(y + r)}"
    return f"M{_n(x - r)} {Y}H{_n(x + r)}"          # "_"


def _paint(marker: str, color: str, hollow: bool, edge: str | None, alpha: float) -> str:
    if marker in STROKED:
        return _stroke(color, 1.5, None, alpha)
    if hollow:
        return _stroke(edge or color, 1.0, None, alpha)
    return f'fill="{color}"' + (f' stroke="{edge}" stroke-width="0.6"' if edge else "") + _alpha(alpha, "fill-opacity")


def _points(m: Points, f: _Frame) -> str:
    colors = [m.color] * len(m.x) if isinstance(m.color, str) else list(m.color)
    by_color: dict[str, list[str]] = {}
    r = m.size / 2
    for x, y, c in zip(m.x, m.y, colors):
        if _ok(x, y):
            by_color.setdefault(c, []).append(_marker(m.marker, f.px(x), f.py(y, m.axis), r))
    return "".join(f'<path d="{"".join(d)}" {_paint(m.marker, c, m.hollow, m.edge, m.alpha)}/>'
                   for c, d in by_color.items())


def _segments(m: Segments, f: _Frame) -> str:
    d = "".join(f"M{_n(f.px(a))} {_n(f.py(b))}L{_n(f.px(c))} {_n(f.py(e))}"
                for a, b, c, e in zip(m.x0, m.y0, m.x1, m.y1) if _ok(a, b, c, e))
    return f'<path d="{d}" {_stroke(m.color, m.width, None, m.alpha)}/>' if d else ""


def _rule(m: Rule, f: _Frame) -> str:
    if m.vertical:
        d = f"M{_n(f.px(m.value))} {_n(f.top)}V{_n(f.top + f.h)}"
    else:
        d = f"M{_n(f.left)} {_n(f.py(m.value, m.axis))}H{_n(f.left + f.w)}"
    return f'<path d="{d}" {_stroke(m.color, m.width, m.dash, m.alpha)}/>'


def _span(m: Span, f: _Frame) -> str:
    if m.vertical:
        x0, x1 = sorted((f.px(m.lo), f.px(m.hi)))
        x, y, w, h = x0, f.top, x1 - x0, f.h
    else:
        y0, y1 = sorted((f.py(m.lo), f.py(m.hi)))
        x, y, w, h = f.left, y0, f.w, y1 - y0
    return f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}" fill="{m.color}"{_alpha(m.alpha, "fill-opacity")}/>'


def _text(x: float, y: float, text: str, size: float, anchor: str, baseline: str, color: str,
          bold: bool = False, rotate: bool = False) -> str:
    """Text whose block of lines has its top, middle or bottom at y."""
    lines = str(text).split("\n")
    lead = size * 1.2
    first = {"top": size * 0.8, "middle": size * 0.35 - (len(lines) - 1) * lead / 2,
             "bottom": -size * 0.2 - (len(lines) - 1) * lead}[baseline]
    attrs = f'font-size="{size:g}"' + ("" if anchor == "start" else f' text-anchor="{anchor}"')
    if color != INK:
        attrs += f' fill="{color}"'
    if bold:
        attrs += ' font-weight="bold"'
    if rotate:
        attrs += f' transform="rotate(-90 {_n(x)} {_n(y)})"'
    if len(lines) == 1:
        return f'<text x="{_n(x)}" y="{_n(y + first)}" {attrs}>{escape(lines[0])}</text>'
    spans = "".join(f'<tspan x="{_n(x)}" y="{_n(y + first + i * lead)}">{escape(s)}</tspan>' for i, s in enumerate(lines))
    return f"<text {attrs}>{spans}</text>"


def _label(m: Text, f: _Frame) -> str:
    if m.data:
        x, y = f.px(m.x), f.py(m.y)
    else:
        x, y = f.left + m.x * f.w, f.top + (1 - m.y) * f.h
    return _text(x, y, m.text, m.size, m.anchor, m.baseline, m.color)


DRAW = {Bars: _bars, Line: _line, Points: _points, Segments: _segments, Rule: _rule, Span: _span}   # Text: over them


# ---------------------------------------------------------------------------- the panel


def _axes(p: Panel, f: _Frame) -> tuple[list[str], list[str]]:
    """(grid lines drawn under the marks, ticks and labels drawn over them)."""
    out, grid, ticks = [], [], []
    x, y = p.x, p.y
    bottom = f.top + f.h
    for t, s, i in zip(x.ticks, x.labels, range(len(x.ticks))):
        if x.lo - 1e-9 <= t <= x.hi + 1e-9:
            X = f.px(t)
            ticks.append(f"M{_n(X)} {_n(bottom)}v4")
            if x.grid:
                grid.append(f"M{_n(X)} {_n(f.top)}V{_n(bottom)}")
            color = x.label_colors[i] if x.label_colors else x.color
            out.append(_text(X, bottom + 6, s, x.size, "middle", "top", color))
    widest = 0.0
    for axis, right in ((y, False), (p.y2, True)):
        if axis is None:
            continue
        edge = f.left + f.w if right else f.left
        for t, s, i in zip(axis.ticks, axis.labels, range(len(axis.ticks))):
            if axis.lo - 1e-9 <= t <= axis.hi + 1e-9:
                Y = f.py(t, "y2" if right else "y")
                ticks.append(f"M{_n(edge)} {_n(Y)}h{4 if right else -4}")
                if axis.grid:
                    grid.append(f"M{_n(f.left)} {_n(Y)}H{_n(f.left + f.w)}")
                color = axis.label_colors[i] if axis.label_colors else axis.color
                out.append(_text(edge + (7 if right else -7), Y, s, axis.size, "start" if right else "end", "middle", color))
                if not right:
                    widest = max(widest, text_width(s, axis.size))
        if axis.label:
            room = max((text_width(s, axis.size) for s in axis.labels), default=0) if right else widest
            X = edge + (room + 12 if right else -(room + 12))
            out.append(_text(X, f.top + f.h / 2, axis.label, axis.size + 1, "middle", "bottom" if not right else "top",
                             axis.color, rotate=True))
    if x.label:
        lines = max((s.count("\n") + 1 for s in x.labels), default=1)
        out.append(_text(f.left + f.w / 2, bottom + 8 + lines * x.size * 1.2, x.label, x.size + 1, "middle", "top", x.color))
    head = []
    if grid:
        head.append(f'<path d="{"".join(grid)}" fill="none" stroke="#b0b0b0" stroke-width="0.5"/>')
    tail = [f'<path d="{"".join(ticks)}" fill="none" stroke="#444444" stroke-width="0.8"/>'] if ticks else []
    return head, tail + out


def _swatch(k: Key, x: float, y: float, size: float) -> str:
    if k.kind == "line":
        return f'<path d="M{_n(x)} {_n(y)}h{_n(size * 2)}" {_stroke(k.color, 2, k.dash, k.alpha)}/>'
    if k.kind == "patch":
        return (f'<rect x="{_n(x)}" y="{_n(y - size * 0.4)}" width="{_n(size * 2)}" height="{_n(size * 0.8)}" '
                f'fill="{k.color}"{_alpha(k.alpha, "fill-opacity")}/>')
    return f'<path d="{_marker(k.marker, x + size, y, size * 0.4)}" {_paint(k.marker, k.color, k.hollow, None, k.alpha)}/>'


def _legend(p: Panel, f: _Frame) -> str:
    legend = p.legend
    entries = legend_keys(p, legend)
    if not entries:
        return ""
    w, h, rows = legend_size(p, legend)
    cols = max(1, min(legend.columns, len(entries)))
    col_w = (w - 8) / cols
    where = legend.where
    if where == "above":
        x, y = f.left + (f.w - w) / 2, f.top - h - 2
    else:
        x = f.left + 6 if "left" in where else f.left + f.w - w - 6
        y = f.top + 6 if "upper" in where else f.top + f.h - h - 6
    out = ["<g>"]
    if where != "above":
        out.append(f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}" fill="#ffffff" fill-opacity="0.85" '
                   f'stroke="#cccccc" stroke-width="0.6"/>')
    for i, (label, key) in enumerate(entries):
        r, c = (i // cols, i % cols)
        ex, ey = x + 4 + c * col_w, y + 3 + (r + 0.5) * legend.size * 1.45
        out.append(_swatch(key, ex, ey, legend.size))
        out.append(_text(ex + legend.size * 2.6, ey, label, legend.size, "start", "middle", INK))
    out.append("</g>")
    return "".join(out)


def _panel(p: Panel, clip: str) -> str:
    f = _Frame(p)
    box = f'x="{_n(f.left)}" y="{_n(f.top)}" width="{_n(f.w)}" height="{_n(f.h)}"'
    head, axes = _axes(p, f)
    out = [f'<g><clipPath id="{clip}"><rect {box}/></clipPath>', *head, f'<g clip-path="url(#{clip})">']
    out += [DRAW[type(m)](m, f) for m in p.marks if not isinstance(m, Text)]
    out.append("</g>")
    out += [_label(m, f) for m in p.marks if isinstance(m, Text)]
    out.append(f'<rect {box} fill="none" stroke="#444444" stroke-width="0.8"/>')
    out += axes
    if p.title:
        out.append(_text(f.left + f.w / 2, f.top - 6 - title_lift(p), p.title, p.title_size, "middle", "bottom", INK))
    if p.legend:
        out.append(_legend(p, f))
    out.append("</g>")
    return "".join(s for s in out if s)
