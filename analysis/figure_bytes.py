"""A matplotlib figure as the bytes of a file: SVG for the HTML pages (analysis/report_html/),
PNG for report.md and `run.py trace --plot`. One figure, drawn by one function, whatever it is
saved as; the same data give the same bytes.

SVG keeps the text as text (`svg.fonttype` none): a browser draws it with its own copy of the
font, a screen reader and find-in-page see it, and the file is made in about half the time of
one whose glyphs are paths. Its element ids are hashed with a fixed salt and it carries no date.
"""
from __future__ import annotations

import io
from pathlib import Path

SVG_RC = {"svg.fonttype": "none", "svg.hashsalt": "tutorsim"}


def pyplot():
    """matplotlib's pyplot on the Agg backend (no window, whatever the environment says)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def svg(fig) -> bytes:
    """The figure as SVG (closed afterwards)."""
    import matplotlib
    buffer = io.BytesIO()
    try:
        with matplotlib.rc_context(SVG_RC):
            fig.savefig(buffer, format="svg", metadata={"Date": None})
    finally:
        pyplot().close(fig)
    return buffer.getvalue()


def png(fig, dpi: int) -> bytes:
    """The figure as PNG at `dpi` (closed afterwards)."""
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
