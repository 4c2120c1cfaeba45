"""Section 18: session patterns (when sessions happen, and the connection at those hours)."""
from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from analysis.targets.tolerance import SHARE_POINTS, se_weighted_mean
from analysis.targets.checks import Measured, Skip, metric, shares
from analysis.targets.columns import C, S
from analysis.targets.measures import weekend_ratio

CONNECTION_BY_PERIOD = {
    "peak": {"Excellent": 0.50, "Good": 0.30, "Fair": 0.15, "Poor": 0.05},
    "weekend": {"Excellent": 0.65, "Good": 0.28, "Fair": 0.06, "Poor": 0.01},
    "normal": {"Excellent": 0.60, "Good": 0.30, "Fair": 0.08, "Poor": 0.02},
}
PERIOD_HOURS = {"peak": " (weekdays 18:00-20:59)", "weekend": " (Sat/Sun)",
                "normal": " (other weekday hours)"}


def period(t: pd.Series) -> pd.Series:
    """weekend (Sat/Sun), peak (weekday 18:00-20:59) or normal (other weekday hours)."""
    we = t.dt.day_of_week >= 5
    peak = ~we & t.dt.hour.between(18, 20)
    return pd.Series(np.where(we, "weekend", np.where(peak, "peak", "normal")), index=t.index)


def in_period(p: str):
    """Sessions that start in period p (see `period`)."""
    return lambda df: period(df["session_datetime"]) == p


# ------------------------------------------------------------------ custom measurements


def morning_tutors(d):
    """Share of tutors whose sessions in 8:00-11:59 outnumber those in 15:00-20:59 (over tutors
    with a session in either block)."""
    s = d.table("sessions")
    hour = s["session_datetime"].dt.hour
    blocks = pd.DataFrame({"tutor": s["tutor_id"], "morning": hour.between(8, 11),
                           "evening": hour.between(15, 20)}).groupby("tutor").sum()
    blocks = blocks[(blocks["morning"] + blocks["evening"]) > 0]
    if blocks.empty:
        raise Skip("no sessions in the two blocks")
    share = float((blocks["morning"] > blocks["evening"]).mean())
    return Measured(share, n=len(blocks))


def odd_hours(d):
    """Session-weighted odd-hour share (6-7am, 10-11pm) of struggling newbies minus that of the
    other tutors; its standard error takes the tutors as the independent units."""
    p = d.view("personas+activity").dropna(subset=["sessions"])
    new = p["persona"] == "struggling_newbie"
    if not new.any() or new.all():
        raise Skip("no struggling_newbie tutors with sessions")
    w, x = p["sessions"], p["odd_hour_share"]
    a = float((x[new] * w[new]).sum() / w[new].sum())
    b = float((x[~new] * w[~new]).sum() / w[~new].sum())
    se = float(np.hypot(se_weighted_mean(x[new], w[new]), se_weighted_mean(x[~new], w[~new])))
    return Measured(a - b, n=int(w.sum()), se=se if np.isfinite(se) else None,
                    text=f"{a - b:+.3f} ({a:.3f} vs {b:.3f})")


# ----------------------------------------------------------------------------- the claims

for _p, _t in CONNECTION_BY_PERIOD.items():
    shares(18, f"connection_quality in {_p} hours" + PERIOD_HOURS[_p],
           level="session", needs=S, view=C, col="connection_quality", targets=_t,
           label=f"connection ({_p})", where=in_period(_p))
metric(18, "weekend/weekday sessions per day ('~30% lower on weekends')", level="session",
       needs=S, target=0.70, tol=SHARE_POINTS, key="weekend_ratio",
       fn=partial(weekend_ratio, table="sessions", col="session_datetime"))
metric(18, "'35% morning (8-12), 65% evening (3-9pm)' tutors: share of tutors whose sessions "
           "in 8:00-11:59 outnumber those in 15:00-20:59", level="tutor", needs=S,
       target=0.35, tol=SHARE_POINTS, fn=morning_tutors, binomial=True,
       note="read at tutor level ('tutor-specific patterns')")
metric(18, "struggling tutors take more odd hours (6-7am, 10-11pm): share of their sessions "
           "minus other tutors'", level="persona", needs=("sessions", "traits"), lo=0.0,
       hi=None, target_text="> 0", fn=odd_hours)
