"""report.md and its figures, from the results of `run.py validate`.

Writes DATA_DIR/report.md and PNG figures into DATA_DIR/figures/ (drawn by
analysis/validation_figures.py, which the HTML report shares): emerged distributions beside the
spec's target distributions, categorical shares, the section-8 correlations, sessions by hour and
weekday, persona means against section 10's ranges. Everything is drawn from the same results and
targets that validate prints; nothing here reads the specification itself.
"""
from __future__ import annotations

from pathlib import Path

from analysis import targets as T
from analysis.figure_bytes import pyplot, save
from analysis.validation_figures import FIGURES as DRAWN
from analysis.validation_figures import draw

FIG_DPI = 80
TOLERANCES = ("Tolerances: shares ± 5 points (edge cases ± 3), means ± half the spec SD, SDs "
              "± 30%, correlations ± 0.15 with the right sign, ranges and rules on 100% of rows. "
              "Checks whose tables are absent are skipped, not failed. Sample size matters: a "
              "share over 150 tutors has a standard error near 3 points, so a ± 5 point tutor "
              "share (or a six-way categorical share) can fail by chance; session-level shares "
              "over 22,500 sessions cannot.")

# ---------------------------------------------------------------------------------- report


def _md(s) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")


FIGURES = tuple((f"{name}.png", title) for name, (title, _, _) in DRAWN.items())


def write_report(d, results, out_dir: Path) -> Path:
    """Write out_dir/report.md and out_dir/figures/*.png; return the report's path."""
    from analysis.validate import describe_run, summary_line

    out_dir = Path(out_dir)
    fig_dir = out_dir / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    drawn = _draw_figures(d, results, fig_dir)

    lines = [f"# Validation report: `{d.root}`", "", describe_run(d), "",
             f"**{summary_line(results)}**", "",
             TOLERANCES, "",
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
    drawn: dict[str, bool | str] = {}
    for name in DRAWN:
        try:
            fig = draw(name, d, results)
            if fig is not None:
                save(fig, fig_dir / f"{name}.png", FIG_DPI)
            drawn[f"{name}.png"] = fig is not None
        except Exception as exc:  # one figure's trouble must not lose the report
            pyplot().close("all")
            drawn[f"{name}.png"] = f"{type(exc).__name__}: {exc}"
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
