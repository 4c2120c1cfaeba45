"""`run.py trace ID [DATA_DIR]`: what one tutor or student did, when, and why (analysis/trace/).

    python run.py trace T0042 [DATA_DIR]            the tutor's timeline, one line per event
    python run.py trace ST000123 data --since 2026-10-15 --until 2026-10-20 --type session,no_show
    python run.py trace T0042 --json                one JSON object per event (stable keys)
    python run.py trace T0042 --plot --out t.png    a PNG timeline (t.svg: an SVG one)
    python run.py trace T0042 DATA --html           a page: the timeline and every event (trace_T0042.html)

Bad input (no folder, no events.npz, an unknown id, a bad date or type) is one line on stderr,
exit code 2.
"""
from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from pathlib import Path

from analysis.trace.collect import HIDDEN_BY_DEFAULT, RANK, TYPES, Tracer
from analysis.trace.headers import calendar_line, student_header, tutor_header
from analysis.trace.plot import plot
from analysis.trace.run_folder import Run
from analysis.trace.words import json_line, render, text_line
from commands.cli import OneLineParser as _Parser  # one-line errors, exit 2
from output.reading import BadInput

ID_RE = re.compile(r"^(T)(\d{4,})$|^(ST)(\d{6,})$")


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="run.py trace",
                description="One tutor's or student's timeline from a run folder: every event with its "
                            "simulated time, who was involved, and why (the probability each decision "
                            "faced and its inputs). Warm-up events are marked wu; a quit after the window (the "
                            "look-ahead, which records only quits) la.")
    p.add_argument("agent", metavar="ID", help="a tutor (T0042) or a student (ST000123)")
    p.add_argument("data_dir", metavar="DATA_DIR", nargs="?", default="data",
                   help="a folder written by `run.py` (default: data)")
    p.add_argument("--since", metavar="DATE", help="only events at or after DATE (ISO date or date-time)")
    p.add_argument("--until", metavar="DATE", help="only events up to DATE (a date: its whole day)")
    p.add_argument("--type", metavar="TYPE[,TYPE]", action="append",
                   help=f"only these event types: {', '.join(TYPES)} (default: all but daily)")
    p.add_argument("--json", action="store_true", help="one JSON object per event (stable keys)")
    p.add_argument("--plot", action="store_true", help="write a PNG (or SVG) timeline instead of listing")
    p.add_argument("--html", action="store_true",
                   help="write a page (the report's style: analysis/report_html/) with the timeline and every event")
    p.add_argument("--out", metavar="FILE",
                   help="where the plot (FILE.png or FILE.svg; implies --plot) or the page (FILE.html, with --html) goes "
                        "(default: trace_ID.png or trace_ID.html)")
    return p


def _bound(run: Run, text: str | None, flag: str, end: bool) -> float | None:
    if text is None:
        return None
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise BadInput(f"{flag} {text}: not an ISO date or date-time (e.g. 2026-10-21 or 2026-10-21T17:00)") from None
    if end and len(text) <= 10:          # a date: until the end of that day
        when += dt.timedelta(days=1)
        return run.minute(when) - 1e-9
    return run.minute(when)


def _types(values) -> tuple[str, ...]:
    if not values:
        return tuple(t for t in TYPES if t not in HIDDEN_BY_DEFAULT)
    wanted = [t.strip() for v in values for t in v.split(",") if t.strip()]
    unknown = [t for t in wanted if t not in TYPES]
    if unknown:
        raise BadInput(f"--type {unknown[0]}: unknown event type; expected one of {', '.join(TYPES)}")
    return tuple(dict.fromkeys(wanted))


def trace(argv: list[str], out=sys.stdout) -> int:
    args = parser().parse_args(argv)
    m = ID_RE.match(args.agent.strip().upper())
    if not m:
        raise BadInput(f"{args.agent}: not a tutor or student id (e.g. T0042, ST000123)")
    kind = "tutor" if m.group(1) else "student"
    index = int(m.group(2) or m.group(4)) - 1
    types = _types(args.type)
    folder = Path(args.data_dir)
    run = Run(folder, need_students=kind == "student")
    table, col = (run.tutors, "tutor_id") if kind == "tutor" else (run.students, "student_id")
    agent = run.tutor_id(index) if kind == "tutor" else run.student_id(index)
    hit = table.index[table[col] == agent]
    if index < 0 or not len(hit):
        last = table[col].iloc[-1] if len(table) else "none"
        raise BadInput(f"{args.agent}: no such {kind} in {folder} ({kind}s {table[col].iloc[0] if len(table) else ''}"
                       f"..{last})")
    row = table.loc[hit[0]].to_dict()
    lo = _bound(run, args.since, "--since", end=False)
    hi = _bound(run, args.until, "--until", end=True)

    tracer = Tracer(run, kind, index)
    everything = tracer.collect()
    everything.sort(key=lambda e: (e["t"], RANK[e["type"]], -1 if e["session"] is None else e["session"]))
    shown = [e for e in everything if e["type"] in types and (lo is None or e["t"] >= lo)
             and (hi is None or e["t"] <= hi)]
    traits = row if kind == "tutor" else {}

    if args.html:
        return _page(run, kind, agent, args, everything, shown, lo, hi, out)
    if args.plot or args.out:
        path = Path(args.out) if args.out else Path(f"trace_{agent}.png")
        if path.suffix.lower() not in (".png", ".svg"):
            raise BadInput(f"--out {path}: the plot is a PNG or an SVG; give a file name ending in .png or .svg")
        persona = f" ({row.get('persona')})" if kind == "tutor" else f" ({row.get('grade')}, {row.get('subject')})"
        plot_events = [e for e in everything if (lo is None or e["t"] >= lo) and (hi is None or e["t"] <= hi)]
        title = (f"{agent}{persona}: sessions, emails, coaching, the platform's churn probability and the "
                 f"tutor's quit hazard" if kind == "tutor" else f"{agent}{persona}: sessions")
        plot(run, kind, agent, title, plot_events, path, lo, hi)
        print(f"trace: {agent}: {len(plot_events)} events plotted -> {path}", file=out)
        return 0
    if args.json:
        for ev in shown:
            what, why = render(ev, run, kind, traits)
            out.write(json_line(ev, run, agent, what, why) + "\n")
        return 0
    header = tutor_header(run, row, everything) if kind == "tutor" else student_header(run, row)
    for line in header:
        out.write(line + "\n")
    out.write(calendar_line(run) + "\n")
    counts = {}
    for ev in shown:
        counts[ev["type"]] = counts.get(ev["type"], 0) + 1
    hidden = "" if "daily" in types else " (daily platform rows: --type daily)"
    out.write(f"  {len(shown)} events: " + ", ".join(f"{n} {t}" for t, n in counts.items()) + hidden + "\n\n")
    for ev in shown:
        what, why = render(ev, run, kind, traits)
        out.write(text_line(ev, run, what, why) + "\n")
    return 0


def _page(run: Run, kind: str, agent: str, args, everything: list, shown: list, lo, hi, out) -> int:
    """--html: the agent's trace as a page (analysis/report_html/traces.py)."""
    path = Path(args.out) if args.out else Path(f"trace_{agent}.html")
    if path.suffix.lower() not in (".html", ".htm"):
        raise BadInput(f"--out {path}: the page is HTML; give a file name ending in .html")
    from analysis.report_html.jobs import run_jobs
    from analysis.report_html.traces import story, timeline_svg, trace_page
    s = story(run, "traced", agent, kind)
    s.events = [e for e in everything if (lo is None or e["t"] >= lo) and (hi is None or e["t"] <= hi)]
    drawn = run_jobs({"timeline": lambda: timeline_svg(run, s, lo, hi)}, 1)["timeline"]
    hidden = "" if "daily" in _types(args.type) else " (daily platform rows: --type daily)"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(trace_page(run, s, shown, drawn, hidden), encoding="utf-8")
    print(f"trace: {agent}: {len(shown)} events -> {path}", file=out)
    return 0


def main(argv: list[str]) -> int:
    try:
        return trace(argv)
    except BadInput as e:
        sys.stderr.write(f"run.py trace: error: {e}\n")
        return 2
    except BrokenPipeError:            # `run.py trace ... | head`
        sys.stderr.close()
        return 0
