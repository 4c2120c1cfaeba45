"""Who can be booked when, as the production run's event log tells it: a tutor who quit gets no
session afterwards (and active_status says who quit), a student holds one booking at a time.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from tests.conftest import load


def test_inactive_tutors_get_no_sessions_after_they_quit(production_run):
    """active_status False = the tutor quit before the window's end (event log), and nobody has a
    session with them afterwards (spec: inactive tutors don't get scheduled)."""
    d = load(str(production_run))
    with np.load(d.dir / "events.npz") as log:
        quit_t, quit_tutor = log["tutor_quit.t"], log["tutor_quit.tutor"]
        out_t, out_session = log["session_outcome.t"], log["session_outcome.session"]
        booked_session, booked_tutor = log["session_booked.session"], log["session_booked.tutor"]
    window_end_min = (int(d.run["window_days"]) + int(d.run["warmup_days"])) * 1440   # minutes since the start
    quitters = {int(i): float(t) for i, t in zip(quit_tutor, quit_t) if t < window_end_min}
    active = d.tutor_profiles["active_status"].astype(bool).to_numpy()
    expected = np.array([i not in quitters for i in range(len(active))])
    assert (active == expected).all(), "active_status does not say which tutors quit"
    tutor_of = dict(zip(booked_session.tolist(), booked_tutor.tolist()))
    late = [(tutor_of[int(sid)], t) for sid, t in zip(out_session, out_t)
            if tutor_of[int(sid)] in quitters and t > quitters[tutor_of[int(sid)]]]
    assert not late, f"sessions took place with tutors who had quit: {late[:5]}"


def test_a_student_has_one_session_booked_at_a_time(production_run):
    """world/sessions.py's journey: each student books their next session only once the last one
    has happened or been cancelled, and every booked session is resolved once (held or missed,
    or cancelled by a tutor who quit), except the one a student still has booked at the end."""
    with np.load(production_run / "events.npz") as log:
        booked = pd.DataFrame({"session": log["session_booked.session"], "student": log["session_booked.student"],
                               "booked_t": log["session_booked.t"]})
        resolved = pd.concat([pd.DataFrame({"session": log["session_outcome.session"], "resolved_t": log["session_outcome.t"]}),
                              pd.DataFrame({"session": log["session_cancelled.session"], "resolved_t": log["session_cancelled.t"]})])
    assert not resolved["session"].duplicated().any(), "a session was resolved twice"
    s = booked.merge(resolved, on="session", how="left").sort_values(["student", "booked_t", "session"])
    same_student = s["student"].to_numpy()[1:] == s["student"].to_numpy()[:-1]
    previous_resolved = s["resolved_t"].to_numpy()[:-1]
    next_booked = s["booked_t"].to_numpy()[1:]
    # NaN (never resolved) before another booking of the same student is an overlap too
    overlap = same_student & ~(previous_resolved <= next_booked)
    assert not overlap.any(), f"{int(overlap.sum())} bookings made while the student had another session booked"
    last = ~np.append(same_student, False)
    assert s["resolved_t"].notna()[~last].all(), "a session that is not a student's last was never resolved"
    assert len(s) > 20_000 and s["resolved_t"].notna().mean() > 0.8   # most are resolved within the run
