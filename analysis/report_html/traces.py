"""The `traces` section (a few telling tutors: one who churned after the window, a rock star, a
no-show problem, each as a timeline with the decisions and their probabilities) and the page of
one agent's trace (`run.py trace ID DATA --html`). Both are analysis/trace/'s: its events
(`Tracer`), its words (`render`), its header lines and its timeline figure, drawn as SVG."""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from analysis.report_html.html import code, esc, figure, page, table
from analysis.trace.collect import RANK, Tracer
from analysis.trace.headers import calendar_line, student_header, tutor_header
from analysis.trace.words import render

# the events that tell a tutor's story in the report: decisions and what the platform did
TELLING = {"quit": None, "intervention": None, "coaching": None, "trait_change": None,
           "email": {"opened", "clicked", "responded", "unopened", "unclicked", "unanswered"},
           "no_show": {"tutor", "both"}, "rescheduled": {"tutor"}, "move_refused": None, "experiment": {"acted"}}
MAX_TELLING = 40
MAX_LISTED = 300            # tutors listed with their trace command
ROLES = ("churned after the window", "a rock star", "a no-show problem")


@dataclass
class Story:
    """One traced agent: who, why picked, their events (sorted) and header lines."""
    role: str
    agent: str
    kind: str
    title: str
    row: dict
    events: list = field(default_factory=list)
    header: list = field(default_factory=list)


def _num(df: pd.DataFrame, col: str) -> pd.Series:
    return pd.to_numeric(df[col], errors="coerce") if col in df else pd.Series(float("nan"), index=df.index)


def pick(d) -> list[tuple[str, str, str]]:
    """(role, tutor id, why) of the telling tutors of a run's tables (validate's `Data`): the
    churned tutor (active at the window's end, stopped in the look-ahead, by quitting if any did)
    the platform rated most at risk, the rock star with the most sessions, the no-show problem
    with the most no-shows. Ties go to the lower id; a role nobody fills is left out."""
    if d is None or not all(d.has(n) for n in ("traits", "profiles", "aggregates")):
        return []
    t = d.table("traits")[["tutor_id", "persona"]].merge(
        d.table("profiles")[["tutor_id", "active_status", "no_show_count"]], on="tutor_id", how="left").merge(
        d.table("aggregates")[["tutor_id", "total_sessions_30d", "churn_probability"]], on="tutor_id", how="left")
    if d.has("labels"):
        labels = d.table("labels")
        t = t.merge(labels[["tutor_id", "churned", "reason"]], on="tutor_id", how="left")
    else:
        t["churned"], t["reason"] = False, ""
    active = t["active_status"].fillna(False).astype(bool)
    chosen: list[tuple[str, str, str]] = []

    def best(rows: pd.DataFrame, col: str, role: str, why) -> None:
        rows = rows[~rows["tutor_id"].isin([c[1] for c in chosen])]
        if rows.empty:
            return
        rows = rows.assign(_v=_num(rows, col).fillna(-1.0)).sort_values(["_v", "tutor_id"], ascending=[False, True])
        r = rows.iloc[0]
        chosen.append((role, str(r["tutor_id"]), why(r)))

    churned = t[active & t["churned"].fillna(False).astype(bool)]
    quitters = churned[churned["reason"].fillna("").astype(str) == "quit"]
    best(quitters if len(quitters) else churned, "churn_probability", ROLES[0],
         lambda r: f"active at the window's end, then {r['reason'] or 'stopped'} in the look-ahead; the platform's "
                   f"churn probability at the window's end {float(r['churn_probability']):.2f}, the highest of them")
    best(t[active & (t["persona"] == "rock_star")], "total_sessions_30d", ROLES[1],
         lambda r: f"the rock star with the most sessions in the window ({int(float(r['total_sessions_30d']))})")
    best(t[t["persona"] == "no_show_problem"], "no_show_count", ROLES[2],
         lambda r: f"the no-show problem with the most no-shows ({int(float(r['no_show_count']))})")
    return chosen


def story(run, role: str, agent: str, kind: str = "tutor") -> Story:
    """One agent's events from a traced run (analysis/trace/run_folder.py `Run`)."""
    index = int(agent[1:] if kind == "tutor" else agent[2:]) - 1
    table_ = run.tutors if kind == "tutor" else run.students
    col = "tutor_id" if kind == "tutor" else "student_id"
    row = table_.loc[table_[col] == agent].iloc[0].to_dict()
    events = Tracer(run, kind, index).collect()
    events.sort(key=lambda e: (e["t"], RANK[e["type"]], -1 if e["session"] is None else e["session"]))
    header = tutor_header(run, row, events) if kind == "tutor" else student_header(run, row)
    persona = f" ({row.get('persona')})" if kind == "tutor" else f" ({row.get('grade')}, {row.get('subject')})"
    title = (f"{agent}{persona}: sessions, emails, coaching, the platform's churn probability and the tutor's "
             f"quit hazard" if kind == "tutor" else f"{agent}{persona}: sessions")
    return Story(role, agent, kind, title, row, events, header)


def timeline_svg(run, s: Story, lo=None, hi=None) -> bytes:
    from analysis.chart.svg import render
    from analysis.trace.plot import timeline_figure
    return render(timeline_figure(run, s.kind, s.title, s.events, lo, hi))


def event_rows(run, s: Story, events: list) -> list[list[str]]:
    rows = []
    traits = s.row if s.kind == "tutor" else {}
    for ev in events:
        what, why = render(ev, run, s.kind, traits)
        p = ev.get("p")
        rows.append([f"{run.when(ev['t']):%Y-%m-%d %H:%M}", esc(run.phase(ev["t"])), esc(ev["type"]), esc(what),
                     esc(why), "" if p is None else f"{p:.4g}"])
    return rows


EVENT_HEADERS = ["time", "phase", "event", "what happened", "why (the probability it faced and its inputs)", "p"]


def _telling(events: list) -> list:
    out = [e for e in events if e["type"] in TELLING and (TELLING[e["type"]] is None or e["kind"] in TELLING[e["type"]])]
    return out[-MAX_TELLING:]


def _figure_html(svg_bytes, s: Story, fig_id: str) -> str:
    alt = (f"Timeline of {s.agent}: held sessions by rating with the rolling 7-day mean, no-shows and reschedules"
           + ("; emails and coaching; the platform's daily churn probability, burnout, reliability and the tutor's "
              "daily quit hazard" if s.kind == "tutor" else "") + ". The warm-up is shaded; a quit is a vertical line.")
    if isinstance(svg_bytes, bytes):
        return figure(svg_bytes, "image/svg+xml", alt, esc(s.title), fig_id)
    return f"<p class=\"note\">Timeline not drawn: {esc(svg_bytes or 'no figure')}.</p>"


def traces_section(inp) -> str:
    parts = ["<p>Each tutor's timeline is the event log read back (nothing simulated again): every decision with the "
             f"probability it faced. Any other tutor or student: {code('python run.py trace T0042 DATA')} (text), "
             f"{code('--json')}, {code('--plot')}, or {code('python run.py trace T0042 DATA --html')} for a page like "
             "this one.</p>"]
    if not inp.stories:
        parts.append(f"<p>No traces: {esc(inp.traces_note or 'no tutor to trace')}.</p>")
    for i, (s, why) in enumerate(inp.stories, start=1):
        telling = _telling(s.events)
        parts += [f"<h3>{esc(s.role[0].upper() + s.role[1:])}: {esc(s.agent)} ({esc(s.row.get('persona'))})</h3>",
                  f"<p>{esc(why[:1].upper() + why[1:])}.</p>", "<pre>" + esc("\n".join(s.header)) + "</pre>",
                  _figure_html(inp.figures.get(f"trace_{s.agent}"), s, f"fig-trace-{s.agent}"),
                  table(EVENT_HEADERS, event_rows(inp.run, s, telling),
                        f"{s.agent}: the decisions and what the platform did" + (
                            f" (the last {MAX_TELLING})" if len(telling) == MAX_TELLING else "")),
                  f"<p class=\"note\">Every event: {code(f'python run.py trace {s.agent} DATA')}; this tutor's page: "
                  f"{code(f'python run.py trace {s.agent} DATA --html')}.</p>"]
    if inp.data is not None and inp.data.has("traits"):
        parts.append(_all_tutors(inp.data))
    return "\n".join(parts)


def _all_tutors(d) -> str:
    t = d.table("traits")[["tutor_id", "persona"]]
    if d.has("aggregates"):
        t = t.merge(d.table("aggregates")[["tutor_id", "total_sessions_30d", "avg_rating_30d", "churn_probability"]],
                    on="tutor_id", how="left")
    if d.has("labels"):
        t = t.merge(d.table("labels")[["tutor_id", "churned", "reason"]], on="tutor_id", how="left")
    rows = []
    for r in t.head(MAX_LISTED).to_dict("records"):
        stopped = r.get("reason") if r.get("churned") is True else ""
        rows.append([esc(r["tutor_id"]), esc(r["persona"]), esc(r.get("total_sessions_30d", "")),
                     esc(_fmt(r.get("avg_rating_30d"))), esc(_fmt(r.get("churn_probability"))), esc(stopped or ""),
                     code(f"python run.py trace {r['tutor_id']} DATA")])
    more = f" (the first {MAX_LISTED} of {len(t):,})" if len(t) > MAX_LISTED else ""
    return ("<details><summary>Every tutor, with the command that traces them" + more + "</summary>"
            + table(["tutor", "persona", "sessions (30 d)", "mean rating (30 d)", "churn probability",
                     "stopped by the horizon", "trace"], rows, "Tutors", numeric={2, 3, 4}, row_header=True)
            + "</details>")


def _fmt(v) -> str:
    try:
        v = float(v)
    except (TypeError, ValueError):
        return ""
    return "" if v != v else f"{v:.2f}"


def trace_page(run, s: Story, shown: list, svg_bytes, title_suffix: str = "") -> str:
    """One agent's trace as a page, in the report's style: who, the timeline, every event shown."""
    sections = [
        ("agent", "Who", "<pre>" + esc("\n".join([*s.header, calendar_line(run)])) + "</pre>"),
        ("timeline", "Timeline", _figure_html(svg_bytes, s, "fig-timeline")),
        ("events", "Events", table(EVENT_HEADERS, event_rows(run, s, shown), f"{len(shown)} events{title_suffix}")),
    ]
    subtitle = (f"{esc(s.title)}. Made with {code(f'python run.py trace {s.agent} DATA --html')}; the same events as "
                f"text: {code(f'python run.py trace {s.agent} DATA')}.")
    return page(f"tutorsim trace: {s.agent}", subtitle, sections, script=False)
