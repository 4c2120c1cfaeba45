"""Figures as data, drawn twice: a figure is built once (spec.py) by a function of a run, and
drawn as SVG by svg.py (the HTML pages: fast, text as text) or as PNG by matplotlib in mpl.py
(`validate`'s figures, `trace --plot`).

    spec.py    Figure, Panel, Axis and the marks (Bars, Line, Points, Segments, Rule, Span, Text),
               Legend and Key; `grid` places panels
    scale.py   round ticks, their labels, padded limits, day ticks, the ratings' colour scale
    svg.py     `render(fig)`: SVG bytes
    mpl.py     `draw(fig)`: a matplotlib Figure; `png(fig, dpi)`
"""
