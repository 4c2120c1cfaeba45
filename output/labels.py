"""The window's event log and the churn label: what the look-ahead is for, and all it is for.

A run may simulate `calendar.lookahead_days` after the window so that the ground truth knows
which tutors stop soon after it (the label a churn model learns). The spec's tables must not see
those days: the pipeline notes how many events of each type the log held when the window's last
day had run, and every table is built from the log cut at those counts
(`output.recorder.read_spool`), which is exactly the log a run without look-ahead ends with. Only
`churn_labels` reads the whole log (and `events.npz` keeps the look-ahead's quits beside it).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from world.events import LEAVE_REASON
from world.clock import MINUTES_PER_DAY

LABEL_COLUMNS = ["tutor_id", "churned", "churned_at", "reason", "horizon_days"]


def churn_labels(log, ctx, lookahead_days: int) -> pd.DataFrame:
    """One row per tutor: did the tutor stop (quit, or suspended by the platform) before the
    window's end + `lookahead_days`? `churned_at` is when, `reason` why (empty if not)."""
    cal = ctx.calendar
    horizon_end = cal.window_end + lookahead_days * MINUTES_PER_DAY
    n = len(ctx.tutors)
    quits = pd.DataFrame(log["tutor_quit"])
    quits = quits[quits["t"] < horizon_end].drop_duplicates("tutor").set_index("tutor")
    t = quits["t"].reindex(range(n)).to_numpy("float64")
    reason = quits["reason"].reindex(range(n)).to_numpy("float64")
    churned = ~np.isnan(t)
    at = np.full(n, None, dtype=object)
    if churned.any():
        stamps = pd.Timestamp(cal.start_dt) + pd.to_timedelta(t[churned], unit="min")
        at[churned] = stamps.strftime("%Y-%m-%d %H:%M:%S").to_numpy()
    why = np.full(n, None, dtype=object)
    why[churned] = np.asarray(LEAVE_REASON, dtype=object)[reason[churned].astype(int)]
    return pd.DataFrame({
        "tutor_id": ctx.tutors["tutor_id"].to_numpy(),
        "churned": churned,
        "churned_at": at,
        "reason": why,
        "horizon_days": int(lookahead_days),
    })[LABEL_COLUMNS]
