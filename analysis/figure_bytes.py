"""A figure as the bytes of a file: SVG for the HTML pages (analysis/report_html/), PNG for
report.md and `run.py trace --plot`. One figure, built by one function, whatever it is saved as;
the same data give the same bytes.

A chart figure (analysis/chart/spec.py: validate's figures, the traces' timelines) is drawn by
analysis/chart/svg.py as SVG and by matplotlib (analysis/chart/mpl.py) as PNG. A matplotlib
figure (the churn model's and the what-ifs' own) is saved by matplotlib: as SVG its text stays
text (`svg.fonttype` none), its element ids are hashed with a fixed salt and it carries no date.
"""
from __future__ import annotations

import io
from pathlib import Path

from analysis.chart.mpl import pyplot
from analysis.chart.spec import Figure

SVG_RC = {"svg.fonttype": "none", "svg.hashsalt": "tutorsim"}


def svg(fig) -> bytes:
    """The figure as SVG (a matplotlib figure is closed afterwards)."""
    if isinstance(fig, Figure):
        from analysis.chart.svg import render
        return render(fig)
    import matplotlib
    buffer = io.BytesIO()
    try:
        with matplotlib.rc_context(SVG_RC):
            fig.savefig(buffer, format="svg", metadata={"Date": None})
    finally:
        pyplot().close(fig)
    return buffer.getvalue()


def png(fig, dpi: int) -> bytes:
    """The figure as PNG at `dpi` (a matplotlib figure is closed afterwards)."""
    if isinstance(fig, Figure):
        from analysis.chart.mpl import png as drawn
        return drawn(fig, dpi)
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=dpi)
    finally:
        pyplot().close(fig)
    return buffer.getvalue()


def save(fig, path: Path, dpi: int) -> None:
    """The figure into `path`, as SVG or PNG by its suffix."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(svg(fig) if path.suffix.lower() == ".svg" else png(fig, dpi))
