"""The run behind a DATA_DIR, and the custom measurements several sections share.

`run_info` reads run.json (or infers the mode from the tutor count); the window measurements
(span of timestamps, weekend against weekday volume) serve sections 2, 12 and 18.
"""
from __future__ import annotations

import pandas as pd

from analysis.targets.checks import Measured, Skip
from analysis.targets.views import window_end

# tutors and window days of the two built-in modes (section 17)
MODE_SIZE = {"production": (150, 30), "dev": (25, 14)}


def run_info(d) -> dict:
    """Mode, tutors, window days and sessions/day of the run: from run.json, else inferred."""
    m = d.manifest or {}
    tutors = m.get("tutors")
    if tutors is None:
        for name in ("profiles", "aggregates"):
            if d.has(name):
                tutors = int(d.table(name)["tutor_id"].nunique())
                break
    days = m.get("window_days")
    mode = "custom"
    for name, (t, dd) in MODE_SIZE.items():
        if tutors == t and days in (None, dd):
            mode = name
    if mode == "custom" and tutors is None and str(m.get("scenario", "")) in MODE_SIZE:
        mode = str(m["scenario"])
    if days is None and mode in MODE_SIZE:
        days = MODE_SIZE[mode][1]
    return {"mode": mode, "tutors": tutors, "days": days, "spd": m.get("sessions_per_day"),
            "manifest": bool(m)}


def span_days(d, table, col):
    """Days between the first and the last timestamp of table.col, accepted up to the run's
    window (run.json's window_days, else the mode's, else 30)."""
    t = d.table(table)[col].dropna()
    if t.empty:
        raise Skip("no timestamps")
    info = run_info(d)
    days = info["days"] or 30
    span = (t.max() - t.min()).total_seconds() / 86400
    return Measured(span, n=len(t), text=f"{span:.1f} days", lo=0, hi=days,
                    target_text=f"<= {days} days")


def day_counts(times: pd.Series, start: pd.Timestamp, end: pd.Timestamp):
    """(per weekend day, per weekday) averages of counts of `times` over [start, end)."""
    days = pd.date_range(start.normalize(), end - pd.Timedelta(days=1), freq="D")
    n_we = int((days.day_of_week >= 5).sum())
    n_wd = len(days) - n_we
    if n_we == 0 or n_wd == 0:
        raise Skip("the window holds no weekend day or no weekday")
    we = int((times.dt.day_of_week >= 5).sum())
    return we / n_we, (len(times) - we) / n_wd


def weekend_ratio(d, table, col, event_type=None):
    """Rows per weekend day over rows per weekday (of one event type, if given), over the
    calendar days the rows span."""
    df = d.table(table)
    if event_type is not None:
        df = df[df["event_type"] == event_type]
    t = df[col].dropna()
    if t.empty:
        raise Skip("nothing to count")
    end = window_end(d) if table == "sessions" else t.max().normalize() + pd.Timedelta(days=1)
    start = t.min().normalize()
    we, wd = day_counts(t, start, end)
    if wd == 0:
        raise Skip("no weekday volume")
    return Measured(we / wd, n=len(t), text=f"{we / wd:.2f} ({we:.0f} vs {wd:.0f} per day)")
