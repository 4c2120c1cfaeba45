"""The lines above a text timeline: the tutor's or student's traits, and the run's calendar."""
from __future__ import annotations

import math

from analysis.trace.run_folder import Run
from analysis.trace.words import FMT
from world.clock import MINUTES_PER_DAY

TUTOR_HEADER = (
    "{tutor_id}  {persona}: {months_experience} months, {certification}, subjects {subjects} (primary {primary_subject})",
    "  skill {skill:.3f}{skill_d}, reliability {reliability:.3f}{reliability_d}, empathy {empathy:.2f}{empathy_d}, "
    "clarity {clarity:.2f}, speak style {speak_style:.2f}{speak_style_d}",
    "  burnout: {burnout_s}",
    "  quit propensity {quit_propensity:.4f}{quit_propensity_d}, responsiveness {responsiveness:.2f} (logs in from "
    "{usual_device}), coachability {coachability:.2f}, camera {camera_habit:.2f}, tech setup {tech_setup:+.2f}{tech_setup_d}",
    "  hours: {hours_s}, up to {capacity_per_day} sessions a day, flexibility {hours_flex:.2f}{hours_flex_d}",
    "  status: {status_s}",
)
STUDENT_HEADER = (
    "{student_id}  {grade}, {subject}, {cadence_per_week} a week, {duration} min; goal {goal_sessions} sessions{prior_s}",
    "  patience {patience:.2f}, attention {attention:.1f}, no-show habit {no_show_prob:.3f}, reschedule habit "
    "{reschedule_prob:.4f}, rating bias {rating_bias:+.2f}, tech setup {tech_setup:+.2f}",
    "  arrived {arrived_s}",
)


def _value(row: dict, key, default=float("nan")):
    v = row.get(key, default)
    try:
        return default if v is None or (isinstance(v, float) and math.isnan(v)) else v
    except TypeError:
        return v


def tutor_header(run: Run, row: dict, events: list[dict]) -> list[str]:
    """The tutor's traits (as at the window's end, with their value at the start where the
    platform's coaching changed them), burnout and status."""
    h = {"usual_device": "n/a", **row}
    totals: dict[str, float] = {}
    for ev in events:
        if ev["type"] == "trait_change":
            for key, v in ev["data"].items():
                if key.startswith("d_") and v:
                    totals[key[2:]] = totals.get(key[2:], 0.0) + v
    names = {"skill": "skill", "reliability": "reliability", "empathy": "empathy", "speak_style": "speak_style",
             "tech_setup": "tech_setup", "hours_flex": "hours_flex", "quit_propensity": "quit_propensity"}
    specs = {"skill": ".3f", "reliability": ".3f", "empathy": ".2f", "speak_style": ".2f", "tech_setup": "+.2f",
             "hours_flex": ".2f", "quit_propensity": ".4f"}
    for key, col in names.items():
        change = totals.get(key, 0.0)
        spec = specs[key]
        h[f"{key}_d"] = (f" ({float(row[col]) - change:{spec}} at the start)" if abs(change) > 1e-12 else "")
    onset = _value(row, "burnout_onset_min")
    ramp = run.scenario.behaviour.burnout_ramp_days
    if isinstance(onset, float) and math.isnan(onset) or not float(_value(row, "burnout_max", 0.0)):
        h["burnout_s"] = "none"
    else:
        day = (float(onset) - run.window_start) / MINUTES_PER_DAY
        h["burnout_s"] = (f"from {run.when(float(onset)):%Y-%m-%d} (window day {day:+.0f}), rising to "
                          f"{float(row['burnout_max']):.2f} over {ramp:g} days")
    weekdays = " ".join(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[int(ch)]
                        for ch in str(_value(row, "working_weekdays", "")).split(".")[0] if ch.isdigit())
    block = ("weekend-only, 8 am-9 pm" if _truthy(row.get("weekend_only")) else
             "morning block 8 am-12 pm" if _truthy(row.get("morning")) else "evening block 3-9 pm")
    h["hours_s"] = block + (f" on {weekdays}" if weekdays and not _truthy(row.get("weekend_only")) else "") + \
        (", also odd hours (6-7 am, 10-11 pm)" if _truthy(row.get("odd_hours")) else "")
    quits = [ev for ev in events if ev["type"] == "quit"]
    if quits:
        q = quits[0]
        h["status_s"] = (f"{'suspended' if q['kind'] == 'suspended' else 'quit'} {run.stamp(q['t'])[:16]}"
                         + (" (in the warm-up)" if run.phase(q["t"]) == "warmup" else ""))
    else:
        h["status_s"] = "active at the window's end"
    return [FMT.format(line, **h) for line in TUTOR_HEADER]


def _truthy(v) -> bool:
    return str(v).strip().lower() in ("true", "1", "1.0")


def student_header(run: Run, row: dict) -> list[str]:
    h = dict(row)
    prior = _value(row, "prior_sessions", None)
    existing = _truthy(row.get("existing")) or float(_value(row, "arrived_at_min", 1.0)) == 0.0
    h["prior_s"] = f", {int(prior)} sessions before the simulation" if existing and prior is not None else ""
    arrived = float(_value(row, "arrived_at_min", 0.0))
    h["arrived_s"] = ("before the simulation started (an existing student)" if existing
                      else run.stamp(arrived)[:16] + (" (warm-up)" if arrived < run.window_start else ""))
    return [FMT.format(line, **h) for line in STUDENT_HEADER]


def calendar_line(run: Run) -> str:
    end = run.when(run.window_end)
    return (f"  window {run.when(run.window_start):%Y-%m-%d} .. {end:%Y-%m-%d} ({run.window_days} days); "
            f"warm-up from {run.start_dt:%Y-%m-%d} ({run.warmup_days} days): lines marked wu")
