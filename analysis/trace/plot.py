"""One agent's timeline as a figure (analysis/chart/spec.py): `run.py trace --plot` draws it as
PNG (analysis/chart/mpl.py), `trace --html` and the HTML report's traces as SVG
(analysis/chart/svg.py).

The x axis is in days since the run's day 0 (the calendar's start, a midnight: `Run.start_dt`),
its ticks midnights labelled by date; the panels share it and only the bottom one labels it.
Places are fixed pixels (100 per inch), not found by a layout engine."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from analysis.chart.scale import day_ticks, format_ticks, nice_ticks, rdylgn
from analysis.chart.spec import Axis, Bars, Figure, Key, Legend, Line, Panel, Points, Rule, Span
from analysis.trace.run_folder import Run
from world.clock import MINUTES_PER_DAY

DPI = 110

WIDTH = 1200
LEFT, RIGHT, TOP, BOTTOM = 120, 155, 100, 45     # the panels' margins (pixels)
HEIGHTS = {"tutor": (320, 130, 200), "student": (320,)}    # ratings, emails and coaching, daily
GAP = 0.12                                        # between panels, of their mean height
BAR_LEFT, BAR_WIDTH, BAR_STEPS = WIDTH - 75, 12, 40       # the ratings' colour bar
TICK, KEY = 11.0, 9.5                             # font sizes: tick labels (axis titles +1), legends
WARMUP = dict(color="grey", alpha=0.12)
LEGEND = [Key("held session (ring: first)", "point", "yellowgreen"),     # four columns, row by row
          Key("tutor no-show", "point", "red", "x"),
          Key("rescheduled by the tutor", "point", "darkorange", "v"),
          Key("warm-up (not in the tables)", "patch", WARMUP["color"], alpha=WARMUP["alpha"]),
          Key("rolling 7-day mean rating", "line", "navy"),
          Key("student no-show", "point", "grey", "x"),
          Key("rescheduled by the student", "point", "grey", "v"),
          Key("quit / suspended", "line", "black")]


def plot(run: Run, kind: str, agent: str, title: str, events: list[dict], out: Path,
         lo: float | None, hi: float | None) -> None:
    """`timeline_figure` into `out`: PNG, or SVG if its name ends in .svg."""
    fig = timeline_figure(run, kind, title, events, lo, hi)
    out = Path(out)
    if out.suffix.lower() == ".svg":
        from analysis.chart.svg import render
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(render(fig))
    else:
        from analysis.chart.mpl import save_png
        save_png(fig, out, DPI)


def timeline_figure(run: Run, kind: str, title: str, events: list[dict], lo: float | None,
                    hi: float | None) -> Figure:
    """A timeline: ratings of held sessions (coloured by rating, the colour bar at the right) with
    their rolling 7-day mean, no-shows and reschedules; for a tutor also emails, coaching and the
    platform's daily churn probability with burnout and reliability now, and the tutor's own quit
    hazard. On every panel the warm-up is shaded and a quit is a vertical line; the x range is
    `lo`..`hi` (minutes; by default the run's start to the window's end or a day after the last
    quit)."""
    heights = HEIGHTS["tutor" if kind == "tutor" else "student"]
    height = 200 + sum(heights)                   # the panels' heights, the margins and gaps 2 inches
    scale = (height - TOP - BOTTOM) / (sum(heights) * (1 + GAP * (len(heights) - 1) / len(heights)))
    gap = GAP * sum(heights) * scale / len(heights)
    x0, x1 = _x_range(run, events, lo, hi)
    ticks, labels = day_ticks(run.start_dt, x0, x1, n=10)
    boxes, top = [], TOP
    for h in heights:
        boxes.append((LEFT, top, WIDTH - LEFT - RIGHT, h * scale))
        top += h * scale + gap

    def x_axis(bottom: bool, grid: bool = False) -> Axis:
        return Axis(x0, x1, ticks, labels if bottom else [""] * len(ticks), size=TICK, grid=grid)

    panels = [_ratings_panel(boxes[0], x_axis(len(boxes) == 1), events)]
    if kind == "tutor":
        panels.append(_emails_panel(boxes[1], x_axis(False, grid=True), events))
        panels.append(_daily_panel(boxes[2], x_axis(True), run, events))
    for p in panels:
        _window_and_quits(p, run, events, lo)
    panels.append(_colour_bar(TOP, height - TOP - BOTTOM))
    return Figure(WIDTH, height, panels, title=title, title_size=14)


def _of(events: list[dict], *types: str) -> list[dict]:
    return [ev for ev in events if ev["type"] in types]


def _day(t: float) -> float:
    """A simulated minute as days since day 0 (the x axis)."""
    return float(t) / MINUTES_PER_DAY


def _days(evs: list[dict]) -> list[float]:
    return [_day(ev["t"]) for ev in evs]


def _num(v) -> float:
    """A value of an event's data, a missing one NaN (a break in a line)."""
    return float("nan") if v is None else float(v)


def _x_range(run: Run, events: list[dict], lo: float | None, hi: float | None) -> tuple[float, float]:
    """The x range of --since/--until (in days); by default from day 0 to the window's end, or a
    day past the last quit (a quit after the window shows)."""
    last_quit = max((q["t"] for q in _of(events, "quit")), default=0.0)
    right = hi if hi is not None else max(run.window_end, last_quit + MINUTES_PER_DAY)
    left = _day(lo if lo is not None else 0.0)
    return left, max(_day(right), left + 1.0)        # --since after the window's end: a day from it


def _ratings_panel(box, x: Axis, events: list[dict]) -> Panel:
    """The top panel: held sessions by rating, first sessions ringed, the rolling 7-day mean,
    no-shows below and reschedules above; the legend above it explains every panel's marks."""
    held = _of(events, "session")
    ratings = np.array([_num(ev["data"]["rating"]) for ev in held], dtype=float)
    first = [ev for ev in held if ev["data"]["first"]]
    ns = _of(events, "no_show")
    tutor_ns = [ev for ev in ns if ev["kind"] in ("tutor", "both")]
    student_ns = [ev for ev in ns if ev["kind"] == "student"]
    moved = _of(events, "rescheduled")
    by_tutor = [ev for ev in moved if ev["kind"] == "tutor"]
    by_student = [ev for ev in moved if ev["kind"] == "student"]
    y = Axis(0.45, 5.55, ticks=[1, 2, 3, 4, 5], label="session rating", size=TICK)
    p = Panel(box, x, y, legend=Legend("above", columns=4, size=KEY, extra=list(LEGEND), marks=False))
    p.add(Points(_days(held), list(ratings), [rdylgn(r, 1, 5) for r in ratings], size=5.6),
          Points(_days(first), [ev["data"]["rating"] for ev in first], size=8.8, hollow=True, edge="black"))
    if held:
        p.add(_rolling_mean(held, ratings))
    p.add(Points(_days(tutor_ns), [0.75] * len(tutor_ns), "red", size=8.8, marker="x"),
          Points(_days(student_ns), [0.75] * len(student_ns), "grey", size=7.6, marker="x"),
          Points(_days(by_tutor), [5.3] * len(by_tutor), "darkorange", size=7.3, marker="v"),
          Points(_days(by_student), [5.3] * len(by_student), "grey", size=6.5, marker="v"))
    return p


def _rolling_mean(held: list[dict], ratings: np.ndarray) -> Line:
    """The mean rating of the 7 days before each day's end, as steps."""
    t = np.array([ev["t"] for ev in held], dtype=float)
    days = np.arange(math.floor(t.min() / MINUTES_PER_DAY), math.floor(t.max() / MINUTES_PER_DAY) + 2)
    mean7 = []
    for end in days * MINUTES_PER_DAY:
        m = (t < end) & (t >= end - 7 * MINUTES_PER_DAY)
        mean7.append(float(np.nanmean(ratings[m])) if m.any() and not np.isnan(ratings[m]).all() else math.nan)
    return Line([float(d) for d in days], mean7, color="navy", width=2.2, steps=True)


def _emails_panel(box, x: Axis, events: list[dict]) -> Panel:
    """A tutor's middle panel: one row per intervention step and coaching (a missed session of
    coaching is a hollow diamond)."""
    emails, coaching = _of(events, "email"), _of(events, "coaching")
    rows = [("decided", _of(events, "intervention"), "|", "steelblue"),
            ("opened", [e for e in emails if e["kind"] == "opened"], "o", "seagreen"),
            ("clicked", [e for e in emails if e["kind"] == "clicked"], "*", "purple"),
            ("replied", [e for e in emails if e["kind"] == "responded"], "s", "teal"),
            ("coaching", [e for e in coaching if e["kind"] == "coaching_attended"], "D", "black")]
    missed = [e for e in coaching if e["kind"] == "coaching_missed"]
    y = Axis(-0.7, len(rows) - 0.3, ticks=list(range(len(rows))), labels=[r[0] for r in rows],
             label="emails and\ncoaching", size=TICK)
    p = Panel(box, x, y)
    for i, (_, evs, marker, color) in enumerate(rows):
        p.add(Points(_days(evs), [i] * len(evs), color, size=8.8, marker=marker))
    p.add(Points(_days(missed), [len(rows) - 1] * len(missed), size=8.8, marker="D", hollow=True, edge="black"))
    return p


def _daily_panel(box, x: Axis, run: Run, events: list[dict]) -> Panel:
    """A tutor's bottom panel: the platform's daily churn probability (its risk levels as rules),
    burnout and reliability now; on the right axis the tutor's own quit hazard each day, the one
    that decides, and at a quit by decision (a star) the hazard that drove it."""
    daily = _of(events, "daily")
    ch = run.scenario.platform.churn
    y = Axis(0, 1.02, ticks=[0, 0.2, 0.4, 0.6, 0.8, 1], label="daily", size=TICK)
    p = Panel(box, x, y, legend=Legend("upper left", columns=3, size=KEY))
    for level, color in ((ch.high, "crimson"), (ch.medium, "orange")):
        if isinstance(level, (int, float)) and math.isfinite(level):
            p.add(Rule(float(level), vertical=False, color=color, width=0.8, alpha=0.5))
    if daily:
        xs = _days(daily)
        p.add(Line(xs, [_num(e["data"]["churn_probability"]) for e in daily], color="crimson", width=2.2,
                   label="churn probability (platform, daily)"),
              Line(xs, [_num(e["data"]["burnout"]) for e in daily], color="dimgrey", width=1.7, dash="dash",
                   label="burnout"),
              Line(xs, [_num(e["data"]["reliability"]) for e in daily], color="teal", width=1.7, dash="dot",
                   label="reliability now"))
    hazards = [e for e in daily if e["data"].get("p_quit") is not None]
    quits = [q for q in _of(events, "quit") if q["data"].get("reason") == "quit"]
    values = [_num(e["data"]["p_quit"]) for e in hazards] + [_num(q["data"]["p"]) for q in quits]
    if hazards:
        p.add(Line(_days(hazards), values[:len(hazards)], color="purple", width=1.9, steps=True, axis="y2",
                   label="quit hazard (the tutor's, daily)"))
    if quits:
        p.add(Points(_days(quits), values[len(hazards):], "purple", size=15, marker="*", axis="y2",
                     label="hazard at the quit"))
    top = max((v for v in values if math.isfinite(v)), default=0.0) * 1.05
    ticks = nice_ticks(0.0, top, 6) if top > 0 else [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    p.y2 = Axis(0.0, top if top > 0 else 1.0, ticks, _fine(ticks), label="quit hazard", size=TICK, color="purple")
    return p


def _fine(ticks: list[float]) -> list[str]:
    """Tick labels with as many decimals as a small hazard needs (format_ticks stops at 4)."""
    decimals = 0
    while decimals < 12 and any(abs(round(t, decimals) - t) > 1e-12 for t in ticks):
        decimals += 1
    return format_ticks(ticks) if decimals <= 4 else [f"{t:.{decimals}f}" for t in ticks]


def _window_and_quits(p: Panel, run: Run, events: list[dict], lo: float | None) -> None:
    """On every panel: the warm-up shaded (under the marks), a quit as a vertical rule."""
    if run.window_start > (lo or 0.0):
        p.marks.insert(0, Span(_day(lo or 0.0), _day(run.window_start), **WARMUP))
    p.add(*(Rule(_day(q["t"]), color="black", width=1.7) for q in _of(events, "quit")))


def _colour_bar(top: float, height: float) -> Panel:
    """The ratings' colour scale, a narrow panel at the right spanning every panel: stacked bars
    coloured from 1 (red) to 5 (green), labelled on its right."""
    step = 4.0 / BAR_STEPS
    p = Panel((BAR_LEFT, top, BAR_WIDTH, height), Axis(0, 1, ticks=[]), Axis(1, 5, ticks=[]),
              y2=Axis(1, 5, ticks=[1 + 0.5 * k for k in range(9)], label="session rating", size=TICK))
    for k in range(BAR_STEPS):
        at = 1 + (k + 0.5) * step
        p.add(Bars([at], [0.0], [1.0], width=step * 1.05, color=rdylgn(at, 1, 5), horizontal=True))
    return p
