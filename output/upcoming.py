"""The sessions booked at the window's end for the days after it, and what became of them.

`upcoming_sessions.csv` holds what the platform knows of them at the window's end: the spec's
session columns that exist before a session happens (ids, tutor, student, time as it then stood,
scheduled length, subject, grade, first session). Their ids are the bookings' own
(`B` + the simulation's booking number), in order of time, then booking: a booking keeps its id
while it lies ahead (a live database replaces it by its sessions.csv row once it happens,
pipeline/live.py), and never collides with a later window's `S` numbers. `ground_truth/upcoming_outcomes.csv` says what the look-ahead then
made of each: held, a no-show (whose), cancelled (the tutor quit), or unresolved (not reached
before the look-ahead stopped recording sessions), with its final time and who moved it.

Both are read off the event log: the window's log for the bookings (booked, moved and not yet
reached or cancelled before the window's end), the look-ahead's session events for the outcomes
(pipeline/one_run.py keeps those of sessions booked before the window's end).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from output.recorder import log_columns
from output.tables import datetime_texts, rows_of
from world.clock import MINUTES_PER_DAY
from world.events import INITIATOR, SUBJECTS

UPCOMING_COLUMNS = ["session_id", "tutor_id", "student_id", "session_datetime", "scheduled_duration_min",
                    "subject", "grade_level", "is_first_session"]
OUTCOME_COLUMNS = ["session_id", "outcome", "happened_at", "rescheduled_by"]
OUTCOMES = ("held", "tutor_no_show", "student_no_show", "both_no_show", "cancelled", "unresolved")
# the look-ahead records sessions this many days past the upcoming days, for the moved ones
MARGIN_DAYS = 14
FRAME_COLUMNS = ("tutor", "student", "duration", "subject", "first")    # of the bookings, in the frame
SESSION_EVENTS = ("session_outcome", "session_rescheduled", "session_cancelled")


def upcoming_frame(log, ctx, days: int) -> pd.DataFrame:
    """The bookings standing at the window's end with a time in the `days` after it: one row per
    session (internal codes), in time order."""
    end = ctx.calendar.window_end
    booked = log_columns(log, "session_booked", ("t", "session", "start", *FRAME_COLUMNS))
    made = booked["t"] < end
    session = booked["session"][made]
    start = booked["start"][made].copy()
    # the time each session was last moved to before the window's end
    moved = log_columns(log, "session_rescheduled", ("t", "session", "new_start"))
    before = moved["t"] < end
    last, at = np.unique(moved["session"][before][::-1], return_index=True)
    row = rows_of(session, last)
    start[row[row >= 0]] = moved["new_start"][before][::-1][at][row >= 0]
    gone = [log_columns(log, etype, ("t", "session")) for etype in ("session_outcome", "session_cancelled")]
    gone = np.concatenate([g["session"][g["t"] < end] for g in gone])
    ahead = np.flatnonzero((start >= end) & (start < end + days * MINUTES_PER_DAY) & ~np.isin(session, gone))
    ahead = ahead[np.lexsort((session[ahead], start[ahead]))]
    return pd.DataFrame({"session": session[ahead],
                         **{name: booked[name][made][ahead] for name in FRAME_COLUMNS},
                         "start": start[ahead]})


def booking_ids(sessions) -> list[str]:
    """The id of a booking not yet held: B + its booking number (from 1), 7 digits."""
    return list(map("B%07d".__mod__, (np.asarray(sessions, dtype=np.int64) + 1).tolist()))


def upcoming_table(frame: pd.DataFrame, ctx) -> pd.DataFrame:
    """upcoming_sessions.csv, in the frame's order."""
    n = len(frame)
    students = frame["student"].to_numpy(int)
    return pd.DataFrame({
        "session_id": booking_ids(frame["session"]),
        "tutor_id": ctx.tutors["tutor_id"].to_numpy()[frame["tutor"].to_numpy(int)],
        "student_id": ctx.students["student_id"].to_numpy()[students] if n else np.array([], dtype=object),
        "session_datetime": datetime_texts(ctx.calendar, frame["start"].to_numpy("float64")),
        "scheduled_duration_min": frame["duration"].astype(int).to_numpy(),
        "subject": np.asarray(SUBJECTS, dtype=object)[frame["subject"].to_numpy(int)],
        "grade_level": ctx.students["grade"].to_numpy()[students] if n else np.array([], dtype=object),
        "is_first_session": frame["first"].astype(bool).to_numpy(),
    })[UPCOMING_COLUMNS]


def outcomes_table(frame: pd.DataFrame, ids, ctx, window_log, after: dict) -> pd.DataFrame:
    """ground_truth/upcoming_outcomes.csv: what became of each upcoming session, from the window
    log's events at or after the window's end and the look-ahead's (`after`: event type -> columns)."""
    end = ctx.calendar.window_end

    def events(etype: str) -> pd.DataFrame:
        w = pd.DataFrame(window_log[etype])
        parts = [w[w["t"] >= end], pd.DataFrame(after.get(etype, {k: [] for k in w.columns}))]
        df = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else w.iloc[:0]
        return df[df["session"].isin(frame["session"])]

    out = events("session_outcome").drop_duplicates("session").set_index("session")
    cancelled = events("session_cancelled").drop_duplicates("session").set_index("session")
    moved = events("session_rescheduled").drop_duplicates("session", keep="last").set_index("session")
    sid = frame["session"]
    outcome = np.full(len(frame), "unresolved", dtype=object)
    when = np.full(len(frame), np.nan)
    tutor = out["tutor_showed"].reindex(sid).to_numpy()
    student = out["student_showed"].reindex(sid).to_numpy()
    reached = sid.isin(out.index).to_numpy()
    t_s, s_s = tutor.astype(bool), student.astype(bool)
    outcome[reached & t_s & s_s] = "held"
    outcome[reached & ~t_s & s_s] = "tutor_no_show"
    outcome[reached & t_s & ~s_s] = "student_no_show"
    outcome[reached & ~t_s & ~s_s] = "both_no_show"
    when[reached] = out["t"].reindex(sid).to_numpy("float64")[reached]
    gone = sid.isin(cancelled.index).to_numpy() & ~reached
    outcome[gone] = "cancelled"
    when[gone] = cancelled["t"].reindex(sid).to_numpy("float64")[gone]
    by = moved["by"].reindex(sid).to_numpy("float64")
    return pd.DataFrame({
        "session_id": ids,
        "outcome": outcome,
        "happened_at": datetime_texts(ctx.calendar, when),
        "rescheduled_by": np.asarray(INITIATOR + (None,), dtype=object)[np.where(np.isnan(by), len(INITIATOR), by).astype(int)],
    })[OUTCOME_COLUMNS]
