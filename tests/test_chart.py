"""The figure spec and its two renderers (analysis/chart/): round ticks, the colour scale, SVG
that is well-formed and puts each mark where its data say, and matplotlib drawing the same
panels with the same limits and ticks; validate's figures drawn by both."""
from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from datetime import datetime

import numpy as np
import pytest

from analysis.chart import mpl, svg
from analysis.chart.scale import RDYLGN, day_ticks, format_ticks, nice_ticks, padded, rdylgn
from analysis.chart.spec import (Axis, Bars, Figure, Key, Legend, Line, Panel, Points, Rule, Segments, Span, Text,
                                 grid, legend_keys)

NS = "{http://www.w3.org/2000/svg}"


@pytest.mark.parametrize("lo,hi,n", [(0, 1, 5), (-0.5, 0.95, 4), (10, 100, 5), (0.2, 0.8, 4), (1, 5, 4),
                                     (0, 0.13, 4), (-1e-3, 2e-3, 5), (0, 21071, 5), (3.3, 3.31, 5)])
def test_nice_ticks_are_round_evenly_spaced_and_inside(lo, hi, n):
    ticks = nice_ticks(lo, hi, n)
    assert 2 <= len(ticks) <= n + 2
    assert all(lo - 1e-12 <= t <= hi + 1e-12 for t in ticks)
    steps = np.diff(ticks)
    assert np.allclose(steps, steps[0])
    mantissa = steps[0] / 10 ** math.floor(math.log10(steps[0]))
    assert any(math.isclose(mantissa, m) for m in (1, 2, 2.5, 5))
    labels = format_ticks(ticks)
    assert len(set(labels)) == len(labels), labels        # as many decimals as the ticks need


def test_padded_widens_by_the_pad_and_takes_what_it_must_include():
    assert padded([0, 10], 0.1) == (-1, 11)
    assert padded([float("nan"), 2, 4], 0.0, include=[0]) == (0, 4)
    assert padded([], 0.1) == (0, 1)


def test_day_ticks_fall_on_midnights_and_say_the_date():
    origin = datetime(2026, 10, 1)                     # a Thursday
    ticks, labels = day_ticks(origin, 0.3, 30.5)
    assert all(float(t).is_integer() for t in ticks) and 0.3 <= ticks[0] and ticks[-1] <= 30.5
    assert labels[0] == f"{datetime(2026, 10, 1 + int(ticks[0])):%b %d}"
    assert all((origin.weekday() + t) % 7 == 0 for t in ticks)     # weekly steps start on Mondays


def test_the_rating_colours_are_matplotlibs_red_yellow_green():
    import matplotlib
    cmap = matplotlib.colormaps["RdYlGn"]
    for i, anchor in enumerate(RDYLGN):
        assert rdylgn(i, 0, len(RDYLGN) - 1) == "#" + "".join(f"{c:02x}" for c in anchor)
    for u in np.linspace(0, 1, 41):
        lut = min(int(u * cmap.N), cmap.N - 1) / (cmap.N - 1)      # matplotlib reads a table of N colours
        ours = np.array([int(rdylgn(lut, 0, 1)[k:k + 2], 16) for k in (1, 3, 5)])
        theirs = np.array(cmap(u)[:3]) * 255
        assert np.abs(ours - theirs).max() <= 1, (u, ours, theirs)


def _figure() -> Figure:
    boxes = grid(1, 2, 600, 300, left=50, right=20, top=40, bottom=40, wgap=60)
    left = Panel(boxes[0], Axis(0, 10), Axis(0, 2), title="a & b", legend=Legend("upper left"))
    left.add(Bars([1, 2], [0, 0], [1, 2], width=1.0, label="bars"),
             Line([0, 5, float("nan"), 6, 10], [0, 1, 1, 1, 2], color="navy", label="line"),
             Points([3, 4, 5], [1, 1, 1], color=["#ff0000", "#00ff00", "#ff0000"], marker="D", label="points"),
             Segments([7], [0], [7], [2], color="black"), Rule(1.5, vertical=False, dash="dash"),
             Span(8, 9), Text(0.5, 0.5, "x < y\nsecond"))
    right = Panel(boxes[1], Axis(-0.5, 2.5, ticks=[0, 1, 2], labels=["p", "q", "r"]), Axis(0, 1, label="share"),
                  y2=Axis(0, 10, color="purple"), legend=Legend("above", columns=2, extra=[Key("extra", "patch")]))
    right.add(Bars([0, 1, 2], [0, 0, 0], [0.2, 0.5, 0.9], horizontal=False),
              Line([0, 1, 2], [1, 5, 9], axis="y2", steps=True, label="hazard"))
    return Figure(600, 300, [left, right], title="spec")


def test_svg_is_well_formed_deterministic_and_text_stays_text():
    fig = _figure()
    a, b = svg.render(fig), svg.render(_figure())
    assert a == b
    root = ET.fromstring(a)
    assert root.get("width") == "600" and root.get("height") == "300"
    texts = ["".join(t.itertext()) for t in root.iter(NS + "text")]
    assert "a & b" in texts and "x < ysecond" in texts and "spec" in texts
    assert {"p", "q", "r", "share", "bars", "line", "points", "hazard", "extra"} <= set(texts)
    assert len(list(root.iter(NS + "clipPath"))) == 2


def test_svg_puts_marks_where_their_data_say():
    box = (100, 20, 200, 100)                           # x 0..10 -> 100..300 px; y 0..1 -> 120..20 px
    panel = Panel(box, Axis(0, 10), Axis(0, 1))
    panel.add(Bars([5], [0], [0.5], width=2, color="#123456"),
              Points([2.5, 7.5], [0.25, 0.75], color="#654321", marker="s", size=4),
              Line([0, 1, 2], [0, float("nan"), 1], color="#abcdef"))
    root = ET.fromstring(svg.render(Figure(400, 200, [panel])))
    paths = {p.get("fill") if p.get("fill") != "none" else p.get("stroke"): p.get("d") for p in root.iter(NS + "path")}
    assert paths["#123456"] == "M180 70H220V120H180Z"
    assert paths["#654321"] == "M148 93h4v4h-4ZM248 43h4v4h-4Z"
    assert paths["#abcdef"] == "M100 120M140 20"          # NaN breaks the line: two pieces, each a point


def test_matplotlib_draws_the_same_panels_limits_and_ticks():
    fig = _figure()
    drawn = mpl.draw(fig)
    try:
        axes = drawn.get_axes()
        main = [ax for ax in axes if ax.get_label() != "twin"][:len(fig.panels)]
        for ax, panel in zip(main, fig.panels):
            left, top, w, h = panel.box
            x0, y0, aw, ah = ax.get_position().bounds
            assert np.allclose([x0 * fig.width, (1 - y0 - ah) * fig.height, aw * fig.width, ah * fig.height],
                               [left, top, w, h])
            assert ax.get_xlim() == pytest.approx((panel.x.lo, panel.x.hi))
            assert ax.get_ylim() == pytest.approx((panel.y.lo, panel.y.hi))
            assert list(ax.get_xticks()) == pytest.approx(panel.x.ticks)
            assert [t.get_text() for t in ax.get_xticklabels()] == list(panel.x.labels)
        assert len(axes) == len(fig.panels) + 1           # the right-hand axis of the second panel
    finally:
        mpl.pyplot().close(drawn)
    png = mpl.png(_figure(), 50)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png == mpl.png(_figure(), 50)


def test_a_legend_lists_the_labelled_marks_then_its_extras():
    fig = _figure()
    assert [label for label, _ in legend_keys(fig.panels[0], fig.panels[0].legend)] == ["bars", "line", "points"]
    assert [label for label, _ in legend_keys(fig.panels[1], fig.panels[1].legend)] == ["hazard", "extra"]


def test_validate_figures_render_both_ways(dev_run):
    from analysis import validate
    from analysis.figure_bytes import png, svg as svg_bytes
    from analysis.validation_figures import FIGURES, draw
    d = validate.load(dev_run)
    results = validate.evaluate(d)
    for name in FIGURES:
        fig = draw(name, d, results)
        assert isinstance(fig, Figure), name
        root = ET.fromstring(svg_bytes(fig))
        assert float(root.get("width")) == fig.width
        assert len(list(root.iter(NS + "path"))) > len(fig.panels), name       # marks, not just frames
        assert png(fig, 30)[:4] == b"\x89PNG"
