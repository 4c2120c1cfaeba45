"""The `figures` section (each table's distributions against the spec's, categorical shares, the
spec's correlations against their targets, the time patterns) and the `personas` section (traits
and outcomes by persona against section 10). The figures are validate's own
(analysis/validation_figures.py), drawn as SVG; each comes with its text alternative, and the
numbers behind the relations and the personas are tables too."""
from __future__ import annotations

import math

import pandas as pd

from analysis import targets as T
from analysis.report_html.html import code, esc, figure, status_cell, table
from analysis.validation_figures import FIGURES

FIGURE_ORDER = ("distributions_sessions", "distributions_tutors", "categorical", "correlations", "time_patterns")
TRAITS = ("months_experience", "skill", "reliability", "empathy", "clarity", "quit_propensity", "responsiveness",
          "coachability", "capacity_per_day")


def validation_figure(inp, name: str, number: int) -> str:
    title, alt, _ = FIGURES[name]
    drawn = inp.figures.get(name)
    if isinstance(drawn, bytes):
        return (f"<h3>{esc(title)}</h3>"
                + figure(drawn, "image/svg+xml", f"{title}. {alt}", f"Figure {number}. {esc(alt)}", f"fig-{name}"))
    why = drawn if isinstance(drawn, str) else "the tables it needs are absent"
    return f"<h3>{esc(title)}</h3><p class=\"note\">Not drawn: {esc(why)}.</p>"


def _relations_table(results) -> str:
    """The numbers of the relations figure: sections 8 and 9's correlations and gaps."""
    rs = [r for r in results if r.check.section in (8, 9) and (r.check.kind == "corr" or r.check.key in (
        "corr_speak_eng", "gap_connection", "gap_first", "trend_churn"))]
    if not rs:
        return ""
    rows = [[status_cell(r.status), esc(r.check.id), esc(r.check.claim), esc(r.target_text), esc(r.text)] for r in rs]
    return table(["result", "id", "relation", "target", "measured"], rows,
                 "Sections 8 and 9: the spec's relations against their targets")


def figures_section(inp) -> str:
    if inp.data is None:
        return "<p>No run tables here: no distributions to draw.</p>"
    parts = [f"<p>Drawn by {code('python run.py validate DATA')} too (PNG, into <code>DATA/figures/</code>); "
             "bars and dots are what emerged from the simulation, red is the spec's target.</p>"]
    for i, name in enumerate(FIGURE_ORDER, start=1):
        parts.append(validation_figure(inp, name, i))
        if name == "correlations":
            parts.append(_relations_table(inp.results))
    return "\n".join(parts)


def _fmt(x) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3g}"


def _persona_results(results) -> dict[tuple[str, str], object]:
    """Section 10's persona-mean checks by (persona, metric)."""
    out = {}
    for r in results:
        if r.check.section == 10 and r.check.kind == "mean":
            persona, _, rest = r.check.claim.partition(": mean ")
            out[(persona, rest.split(" in ")[0])] = r
    return out


def personas_section(inp) -> str:
    d = inp.data
    if d is None or not d.has("traits"):
        return ("<p>No <code>ground_truth/tutor_traits.csv</code> here: the personas are the simulation's ground "
                "truth, written by every run.</p>")
    parts = [validation_figure(inp, "personas", len(FIGURE_ORDER) + 1)]
    checks = _persona_results(inp.results)
    rows = []
    for persona, ranges in T.PERSONAS.items():
        for metric, (lo, hi) in ranges.items():
            r = checks.get((persona, metric))
            spec = f"{lo:g}" if lo == hi else f"{lo:g}-{hi:g}"
            rows.append([esc(persona), code(metric), esc(spec), esc(r.text if r else "n/a"),
                         status_cell(r.status if r else "SKIP")])
    parts.append(table(["persona", "metric", "section 10 range", "measured mean", "result"], rows,
                       "Outcomes by persona against section 10's ranges (the persona checks of validate)"))
    traits = d.table("traits")
    cols = [c for c in TRAITS if c in traits]
    if "persona" in traits and cols:
        values = traits[cols].apply(pd.to_numeric, errors="coerce")
        means = values.groupby(traits["persona"]).mean()
        n = traits["persona"].value_counts()
        order = [p for p in T.PERSONAS if p in means.index] + sorted(p for p in means.index if p not in T.PERSONAS)
        rows = [[esc(p), f"{int(n[p]):,}", *(_fmt(means.loc[p, c]) for c in cols)] for p in order]
        parts.append(table(["persona", "tutors", *cols], rows,
                           "Mean traits by persona (ground truth, ground_truth/tutor_traits.csv)",
                           numeric=set(range(1, len(cols) + 2)), row_header=True))
    return "\n".join(parts)
