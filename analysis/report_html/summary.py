"""The `summary` section: what the run is (scenario, seed, window, sizes), the rows of each table,
the headline of every other section, and the versions of the libraries that made it. No clock
time and no date of making: the same scenario and seed give the same page."""
from __future__ import annotations

import platform
from importlib import metadata

from analysis.report_html.html import cards, code, esc, table

LIBRARIES = ("tutorsim", "numpy", "pandas", "scipy", "matplotlib", "scikit-learn", "mesa", "simpy", "pydantic")


def versions() -> list[tuple[str, str]]:
    out = [("python", platform.python_version())]
    for name in LIBRARIES:
        try:
            out.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            out.append((name, "not installed"))
    return out


def _window(manifest: dict) -> str:
    w = manifest.get("window") or {}
    if not w:
        return "n/a"
    return f"{esc(w.get('start', '?'))} to {esc(w.get('end', '?'))} (end excluded)"


def summary_section(inp) -> str:
    m = inp.manifest or {}
    parts = []
    if m:
        sessions = inp.rows.get("sessions")
        days = m.get("window_days")
        facts = [("scenario", esc(m.get("scenario"))), ("seed", esc(m.get("seed"))),
                 ("window", _window(m)), ("window days", esc(days)),
                 ("warm-up days", esc(m.get("warmup_days"))), ("look-ahead days", esc(m.get("lookahead_days"))),
                 ("tutors", esc(m.get("tutors"))), ("demand (sessions/day)", esc(m.get("sessions_per_day")))]
        if sessions is not None and days:
            facts.append(("held sessions/day", f"{sessions / days:,.1f}"))
        parts.append(cards(facts))
        description = (m.get("scenario_document") or {}).get("description")
        if description:
            parts.append(f"<p>{esc(description)}</p>")
    else:
        parts.append("<p>No <code>run.json</code> here: not a run folder (what it holds is listed below).</p>")
    parts.append("<h3>At a glance</h3><ul>" + "".join(f"<li>{item}</li>" for item in inp.headlines()) + "</ul>")
    if inp.rows:
        parts.append(table(["table", "rows"], [[code(f"{name}.csv"), f"{n:,}"] for name, n in inp.rows.items()],
                           "Rows of each table the run wrote (run.json)", numeric={1}, row_header=True))
    parts.append(table(["library", "version"], [[esc(k), esc(v)] for k, v in versions()],
                       "The versions that made this page", row_header=True))
    parts.append(f"<p class=\"note\">Made again from the folder with {code('python run.py report DATA')}; a run "
                 f"writes it unless given {code('--no-report')}. The same scenario and seed give the same bytes: "
                 "nothing on this page depends on when or where it was made.</p>")
    return "\n".join(parts)
