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


def day_counts(times: pd.Series, start: pd.Timestamp, end: pd.Timestamp,
               who: pd.Series | None = None):
    """(per weekend day, per weekday) averages of counts of `times` over [start, end), and the
    standard error of their ratio. The ratio's sampling error has two sources: the days (the
    delta method over the days' counts) and, when `who` names each row's tutor, the tutors whose
    timetables make the weekend (a jackknife leaving out one tutor at a time); the two
    variances add."""
    days = pd.date_range(start.normalize(), end - pd.Timedelta(days=1), freq="D")
    weekend = days.day_of_week >= 5
    n_we = int(weekend.sum())
    n_wd = len(days) - n_we
    if n_we == 0 or n_wd == 0:
        raise Skip("the window holds no weekend day or no weekday")
    per_day = times.dt.normalize().value_counts().reindex(days, fill_value=0).to_numpy(float)
    we, wd = per_day[weekend].mean(), per_day[~weekend].mean()
    se = None
    if n_we > 1 and n_wd > 1 and we > 0 and wd > 0:
        var = (we / wd) ** 2 * (per_day[weekend].var(ddof=1) / (n_we * we * we)
                                + per_day[~weekend].var(ddof=1) / (n_wd * wd * wd))
        if who is not None:
            var += _tutor_jackknife_var(times, who, n_we, n_wd)
        se = var ** 0.5
    return we, wd, se


def _tutor_jackknife_var(times: pd.Series, who: pd.Series, n_we: int, n_wd: int) -> float:
    """The jackknife variance of the weekend/weekday ratio over tutors."""
    on_weekend = (times.dt.day_of_week >= 5).to_numpy()
    per = pd.DataFrame({"who": who.to_numpy(), "we": on_weekend, "wd": ~on_weekend})
    per = per.groupby("who")[["we", "wd"]].sum()
    k = len(per)
    total_we, total_wd = per["we"].sum(), per["wd"].sum()
    left_wd = total_wd - per["wd"].to_numpy(float)
    if k < 2 or (left_wd <= 0).any():
        return 0.0
    ratios = ((total_we - per["we"].to_numpy(float)) / n_we) / (left_wd / n_wd)
    return float((k - 1) / k * ((ratios - ratios.mean()) ** 2).sum())


def weekend_ratio(d, table, col, event_type=None):
    """Rows per weekend day over rows per weekday (of one event type, if given), over the
    calendar days the rows span."""
    df = d.table(table)
    if event_type is not None:
        df = df[df["event_type"] == event_type]
    df = df[df[col].notna()]
    if df.empty:
        raise Skip("nothing to count")
    t = df[col]
    end = window_end(d) if table == "sessions" else t.max().normalize() + pd.Timedelta(days=1)
    start = t.min().normalize()
    keep = (t >= start) & (t < end)
    t = t[keep]
    who = df.loc[keep, "tutor_id"] if "tutor_id" in df else None
    we, wd, se = day_counts(t, start, end, who)
    if wd == 0:
        raise Skip("no weekday volume")
    return Measured(we / wd, n=len(t), se=se, text=f"{we / wd:.2f} ({we:.0f} vs {wd:.0f} per day)")
