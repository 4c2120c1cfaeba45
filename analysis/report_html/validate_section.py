"""The `validate` section: every check of `run.py validate` (analysis/validate.py) with its claim,
target, measured value and result, failing first, and a filter by status and text (the page's
one script; without scripts every check is listed)."""
from __future__ import annotations

from analysis import targets as T
from analysis.report import TOLERANCES
from analysis.report_html.html import code, esc, status_cell, table
from analysis.validate import STATUSES, summary_line

ORDER = {"FAIL": 0, "READING": 1, "SKIP": 2, "PASS": 3}      # failing first


def ordered(results) -> list:
    """The results failing first, then off by a reading, skipped, passed; the spec's order within."""
    return sorted(results, key=lambda r: ORDER.get(r.status, 9))


def counts(results) -> dict[str, int]:
    return {s: sum(r.status == s for r in results) for s in STATUSES}


def validate_section(inp) -> str:
    results = inp.results
    if not results:
        return (f"<p>No spec tables here ({esc(', '.join(T.TABLE_FILES.values()))}): nothing to check. "
                f"Check a run folder with {code('python run.py validate DATA')}.</p>")
    n = counts(results)
    filters = "".join(f'<option value="{s}">{s} ({n[s]})</option>' for s in ("FAIL", "READING", "SKIP", "PASS"))
    rows, attrs = [], []
    for r in ordered(results):
        c = r.check
        claim = esc(c.claim) + (f'<br><small class="muted">{esc(c.note)}</small>' if c.note else "")
        if r.status == "READING" and c.reading:
            claim += f'<br><small class="muted">reading: {esc(c.reading)}</small>'
        rows.append([status_cell(r.status), esc(c.id), f"§{c.section}", claim, esc(c.level),
                     esc(r.target_text), esc(r.text)])
        attrs.append(f'data-status="{r.status}"' + (' class="fail"' if r.status == "FAIL" else ""))
    return "\n".join([
        f"<p><strong>{esc(summary_line(results))}</strong> ({len(results)} checks of the field specification, "
        f"measured on this folder's tables as {code('python run.py validate DATA')} measures them).</p>",
        f'<p class="note">{esc(TOLERANCES)} READING: the spec contradicts itself here and the check fails the '
        "spec's own number by the reading chosen (listed at the end).</p>",
        '<div class="filter" id="check-filter" hidden>'
        f'<label for="check-status">Status<select id="check-status"><option value="">all ({len(results)})</option>'
        f"{filters}</select></label>"
        '<label for="check-text">Text (id, claim, column)<input id="check-text" type="search"></label>'
        '<span id="check-count" aria-live="polite"></span></div>',
        table(["result", "id", "section", "claim", "level", "target", "measured"], rows,
              "Every check, failing first", table_id="checks", row_attrs=attrs),
        "<h3>Where the spec contradicts itself, and the reading chosen</h3>",
        "<details><summary>" + f"{len(T.CONTRADICTIONS)} readings" + "</summary><ul>"
        + "".join(f"<li><strong>{esc(title)}.</strong> {esc(text)}</li>" for title, text in T.CONTRADICTIONS)
        + "</ul></details>",
    ])
