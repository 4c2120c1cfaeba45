"""The run's report as one self-contained HTML page: DATA/report.html (`run.py report DATA`, and
every run unless --no-report).

One file: the style and the one small script inline, the figures as data URIs (validate's and
the traces' as SVG, the churn model's and the what-ifs' as the PNGs they drew), nothing loaded
from elsewhere; it reads the same with scripts off. Its sections, each with a stable id:
summary, validate, figures, personas, churn, whatif, traces (`SECTIONS`). Nothing on it says when
or where it was made: the same scenario and seed give the same bytes.

    inputs.py            what the page is made of (`Inputs`), gathered from a folder
    jobs.py              the figures drawn by two processes
    html.py              tables, figures, sections and the page, with its style and script
    summary.py           the summary section
    validate_section.py  every check, failing first, with its filter
    figures_section.py   validate's figures and the personas against section 10
    churn_section.py     the churn model and realised churn by persona and signal
    whatif_section.py    a compare's or sweep's table and figures, or the command for one
    traces.py            the telling tutors' timelines, and one agent's trace as a page (trace --html)
"""
from __future__ import annotations

from pathlib import Path

from analysis.report_html.churn_section import churn_section
from analysis.report_html.figures_section import figures_section, personas_section
from analysis.report_html.html import page
from analysis.report_html.inputs import Inputs, from_folder
from analysis.report_html.summary import summary_section
from analysis.report_html.traces import traces_section
from analysis.report_html.validate_section import validate_section
from analysis.report_html.whatif_section import whatif_section

FILE = "report.html"
SECTIONS = (("summary", "Summary", summary_section), ("validate", "Validate", validate_section),
            ("figures", "Figures", figures_section), ("personas", "Personas", personas_section),
            ("churn", "Churn", churn_section), ("whatif", "What-if", whatif_section),
            ("traces", "Traces", traces_section))


def build_page(inp: Inputs) -> str:
    """The page (HTML text) from its inputs, figures drawn."""
    subtitle = ("Everything a run of tutorsim says about itself, on one page: the spec's checks, the distributions "
                "against their targets, the personas, churn and its model, what-ifs and a few tutors' timelines.")
    return page(inp.title(), subtitle, [(sid, name, make(inp)) for sid, name, make in SECTIONS])


def write(inp: Inputs, folder: Path) -> Path:
    path = Path(folder) / FILE
    path.write_text(build_page(inp), encoding="utf-8")
    return path


def write_report(folder: Path, processes: int = 2) -> Path:
    """DATA/report.html from what the folder holds."""
    return write(from_folder(folder, processes), folder)


__all__ = ["FILE", "SECTIONS", "Inputs", "build_page", "from_folder", "write", "write_report"]
