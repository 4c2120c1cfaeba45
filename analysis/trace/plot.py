"""One agent's timeline as a figure: `run.py trace --plot` (PNG), `trace --html` and the HTML
report's traces (SVG)."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from analysis.figure_bytes import pyplot, save
from analysis.trace.run_folder import Run
from world.clock import MINUTES_PER_DAY

DPI = 110


def plot(run: Run, kind: str, agent: str, title: str, events: list[dict], out: Path,
         lo: float | None, hi: float | None) -> None:
    """`timeline_figure` into `out` (PNG; SVG if it ends in .svg)."""
    save(timeline_figure(run, kind, title, events, lo, hi), out, DPI)


def timeline_figure(run: Run, kind: str, title: str, events: list[dict], lo: float | None, hi: float | None):
    """A timeline: ratings of held sessions (coloured by rating) with their rolling 7-day mean,
    no-shows and reschedules; for a tutor also emails, coaching and the platform's daily churn
    probability with burnout and reliability now. Margins are fixed (inches), not found by a
    layout engine: a constrained layout measured every artist first, a third of the time."""
    plt = pyplot()
    tutor = kind == "tutor"
    heights = (3.2, 1.3, 2.0) if tutor else (3.2,)
    width, height = 12.0, 2.0 + sum(heights)
    fig, axes = plt.subplots(len(heights), 1, figsize=(width, height), sharex=True,
                             gridspec_kw={"height_ratios": heights}, squeeze=False)
    fig.subplots_adjust(left=1.2 / width, right=1 - 1.55 / width, top=1 - 1.0 / height, bottom=0.45 / height,
                        hspace=0.12)
    axes = axes[:, 0]
    _ratings_panel(fig, axes, run, events)
    if tutor:
        _emails_panel(axes[1], run, events)
        _daily_panel(axes[2], run, events)
    for a in axes:
        _window_and_quits(a, run, events, lo, hi)
    fig.suptitle(title, fontsize=10, y=1 - 0.1 / height)
    return fig


def _of(events: list[dict], *types: str) -> list[dict]:
    return [ev for ev in events if ev["type"] in types]


def _when(run: Run, evs: list[dict]) -> list:
    return [run.when(ev["t"]) for ev in evs]


def _ratings_panel(fig, axes, run: Run, events: list[dict]) -> None:
    """The top panel: held sessions by rating (their colour bar spans every panel), first sessions
    ringed, the rolling 7-day mean, no-shows below and reschedules above."""
    ax = axes[0]
    held = _of(events, "session")
    ratings = np.array([ev["data"]["rating"] for ev in held], dtype=float)
    sc = ax.scatter(_when(run, held), ratings, c=ratings, cmap="RdYlGn", vmin=1, vmax=5, s=16, edgecolors="none",
                    zorder=3)
    top, bottom = axes[0].get_position(), axes[-1].get_position()     # the colour bar spans every panel
    cax = fig.add_axes((1 - 0.75 / fig.get_figwidth(), bottom.y0, 0.12 / fig.get_figwidth(), top.y1 - bottom.y0))
    fig.colorbar(sc, cax=cax).set_label("session rating")
    first = [ev for ev in held if ev["data"]["first"]]
    ax.scatter(_when(run, first), [ev["data"]["rating"] for ev in first], s=40, facecolors="none",
               edgecolors="black", linewidths=0.6, zorder=4)
    if len(held):
        _rolling_mean(ax, run, held, ratings)
    ns = _of(events, "no_show")
    tutor_ns = [ev for ev in ns if ev["kind"] in ("tutor", "both")]
    student_ns = [ev for ev in ns if ev["kind"] == "student"]
    ax.scatter(_when(run, tutor_ns), [0.75] * len(tutor_ns), marker="x", color="red", s=40, zorder=4)
    ax.scatter(_when(run, student_ns), [0.75] * len(student_ns), marker="x", color="grey", s=30, zorder=4)
    moved = _of(events, "rescheduled")
    by_tutor = [ev for ev in moved if ev["kind"] == "tutor"]
    by_student = [ev for ev in moved if ev["kind"] == "student"]
    ax.scatter(_when(run, by_tutor), [5.3] * len(by_tutor), marker="v", color="darkorange", s=28, zorder=4)
    ax.scatter(_when(run, by_student), [5.3] * len(by_student), marker="v", color="grey", s=22, zorder=4)
    ax.set_ylim(0.45, 5.55)
    ax.set_ylabel("session rating")
    _ratings_legend(ax)


def _rolling_mean(ax, run: Run, held: list[dict], ratings) -> None:
    """The mean rating of the 7 days before each day's end, as steps."""
    t = np.array([ev["t"] for ev in held])
    days = np.arange(math.floor(t.min() / MINUTES_PER_DAY), math.floor(t.max() / MINUTES_PER_DAY) + 2)
    ends = days * MINUTES_PER_DAY
    mean7 = []
    for end in ends:
        m = (t < end) & (t >= end - 7 * MINUTES_PER_DAY)
        mean7.append(ratings[m].mean() if m.any() else np.nan)
    ax.plot([run.when(e) for e in ends], mean7, color="navy", lw=1.6, drawstyle="steps-post", zorder=5)


def _ratings_legend(ax) -> None:
    """The legend above the top panel; it also explains the marks of `_window_and_quits`."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    ax.legend(handles=[
        Line2D([], [], marker="o", ls="", color="yellowgreen", label="held session (ring: first)"),
        Line2D([], [], color="navy", lw=1.6, label="rolling 7-day mean rating"),
        Line2D([], [], marker="x", ls="", color="red", label="tutor no-show"),
        Line2D([], [], marker="x", ls="", color="grey", label="student no-show"),
        Line2D([], [], marker="v", ls="", color="darkorange", label="rescheduled by the tutor"),
        Line2D([], [], marker="v", ls="", color="grey", label="rescheduled by the student"),
        Patch(color="grey", alpha=0.12, label="warm-up (not in the tables)"),
        Line2D([], [], color="black", lw=1.2, label="quit / suspended"),
    ], loc="lower center", bbox_to_anchor=(0.5, 1.0), fontsize=7, ncol=4, frameon=False)


def _emails_panel(ax, run: Run, events: list[dict]) -> None:
    """A tutor's middle panel: one row per intervention step and coaching."""
    emails, coaching = _of(events, "email"), _of(events, "coaching")
    rows = [("decided", _of(events, "intervention"), "|", "steelblue"),
            ("opened", [e for e in emails if e["kind"] == "opened"], "o", "seagreen"),
            ("clicked", [e for e in emails if e["kind"] == "clicked"], "*", "purple"),
            ("replied", [e for e in emails if e["kind"] == "responded"], "s", "teal"),
            ("coaching", [e for e in coaching if e["kind"] == "coaching_attended"], "D", "black")]
    missed = [e for e in coaching if e["kind"] == "coaching_missed"]
    for y, (label, evs, marker, color) in enumerate(rows):
        ax.scatter(_when(run, evs), [y] * len(evs), marker=marker, color=color, s=40, zorder=3)
    ax.scatter(_when(run, missed), [len(rows) - 1] * len(missed), marker="D", facecolors="none",
               edgecolors="black", s=40, zorder=3)
    ax.set_yticks(range(len(rows)), [r[0] for r in rows], fontsize=8)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.set_ylabel("emails and\ncoaching", fontsize=9)
    ax.grid(axis="x", alpha=0.3)


def _daily_panel(ax, run: Run, events: list[dict]) -> None:
    """A tutor's bottom panel: the platform's daily churn probability (its risk levels as lines),
    burnout and reliability now; on the right axis the tutor's own quit hazard each day, the one
    that decides (and, at a quit by decision, the hazard that drove it)."""
    daily = _of(events, "daily")
    ch = run.scenario.platform.churn
    if daily:
        xs = _when(run, daily)
        ax.plot(xs, [e["data"]["churn_probability"] for e in daily], color="crimson", lw=1.6,
                label="churn probability (platform, daily)")
        ax.plot(xs, [e["data"]["burnout"] for e in daily], color="dimgrey", lw=1.2, ls="--", label="burnout")
        ax.plot(xs, [e["data"]["reliability"] for e in daily], color="teal", lw=1.2, ls=":",
                label="reliability now")
    ax.axhline(ch.high, color="crimson", lw=0.6, alpha=0.5)
    ax.axhline(ch.medium, color="orange", lw=0.6, alpha=0.5)
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("daily")
    hazard = ax.twinx()
    hazards = [e for e in daily if e["data"].get("p_quit") is not None]
    if hazards:
        hazard.plot(_when(run, hazards), [e["data"]["p_quit"] for e in hazards], color="purple", lw=1.4,
                    drawstyle="steps-post", label="quit hazard (the tutor's, daily)")
    quits = [q for q in _of(events, "quit") if q["data"].get("reason") == "quit"]
    if quits:
        hazard.scatter(_when(run, quits), [q["data"]["p"] for q in quits], marker="*", s=120, color="purple",
                       zorder=5, label="hazard at the quit")
    hazard.set_ylim(bottom=0)
    hazard.set_ylabel("quit hazard", color="purple", fontsize=9)
    hazard.tick_params(axis="y", labelsize=8, colors="purple")
    handles, labels = ax.get_legend_handles_labels()
    more, more_labels = hazard.get_legend_handles_labels()
    ax.legend(handles + more, labels + more_labels, loc="upper left", fontsize=7, ncol=3, framealpha=0.85)


def _window_and_quits(ax, run: Run, events: list[dict], lo: float | None, hi: float | None) -> None:
    """On every panel: the warm-up shaded, the quit marked, the x range of --since/--until."""
    left = run.when(lo if lo is not None else 0.0)
    last_quit = max((q["t"] for q in _of(events, "quit")), default=0.0)      # a quit after the window shows
    right = run.when(hi if hi is not None else max(run.window_end, last_quit + MINUTES_PER_DAY))
    if run.window_start > (lo or 0.0):
        ax.axvspan(left, run.when(run.window_start), color="grey", alpha=0.12, lw=0)
    for q in _of(events, "quit"):
        ax.axvline(run.when(q["t"]), color="black", lw=1.2)
    ax.set_xlim(left, right)
