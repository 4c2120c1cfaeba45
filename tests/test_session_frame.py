"""The session frame every session table is flattened from (output/tables.py `session_frame`)
joins the log's bookings, outcomes and observations by position; it gives what a pandas join of
the same rows gives, for the columns the tables read, on logs made to be awkward: sessions
outside the window, not held, observed out of order, starting at the same minute.
"""
from __future__ import annotations

import random
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from world.events import SCHEMA


def _awkward_log(seed: int, n: int = 400) -> dict:
    rng = random.Random(seed)
    log = {}
    booked = [(rng.random() * 1e4, sid, rng.randrange(20), rng.randrange(50), 0.0, rng.choice((30, 60, 90)),
               rng.randrange(6), rng.random() < 0.3, True, 0, 0.5, 3, 1.0, 4.5) for sid in range(n)]
    reached = rng.sample(range(n), int(n * 0.8))                # some never reach their time
    outcome = [(float(rng.choice((600, 630, 660)) + 1440 * rng.randrange(12)), sid,
                rng.random() < 0.95, rng.random() < 0.9, 0.1, 0.1, 0.2, 0.9, 0.05) for sid in reached]
    held = [o for o in outcome if o[2] and o[3]]
    rng.shuffle(held)                                           # observed out of session order
    observed = [(o[0], o[1], rng.randrange(25, 100), rng.randrange(3), 0.3, rng.random() < 0.1,
                 *[rng.random() * 5 for _ in range(13)], rng.random() < 0.7) for o in held]
    for etype, rows in (("session_booked", booked), ("session_outcome", outcome), ("session_observed", observed)):
        arr = np.array(rows, dtype=np.dtype(SCHEMA[etype])) if rows else np.zeros(0, dtype=np.dtype(SCHEMA[etype]))
        log[etype] = {name: np.ascontiguousarray(arr[name]) for name, _ in SCHEMA[etype]}
    return log


def _joined(log, cal) -> pd.DataFrame:
    """The same frame by pandas joins on the session (the reference)."""
    booked = pd.DataFrame(log["session_booked"]).set_index("session")
    outcome = pd.DataFrame(log["session_outcome"]).set_index("session")
    outcome = outcome[(outcome["t"] >= cal.window_start) & (outcome["t"] < cal.window_end)]
    df = outcome.rename(columns={"t": "start_final"}).join(booked.drop(columns=["t", "start"]), how="left")
    df = df.join(pd.DataFrame(log["session_observed"]).set_index("session").drop(columns=["t"]), how="left")
    for col in ("rating", "satisfaction"):
        df[col] = df[col].astype("float64").round(1)
    df = df.reset_index().sort_values(["start_final", "session"], kind="mergesort").reset_index(drop=True)
    df["completed"] = df["tutor_showed"] & df["student_showed"]
    return df


@pytest.mark.parametrize("seed", range(4))
def test_the_session_frame_is_the_join_of_the_sessions_rows(seed):
    from output.tables import session_frame
    log = _awkward_log(seed)
    cal = SimpleNamespace(window_start=1440.0 * 2, window_end=1440.0 * 9)
    mine = session_frame(log, SimpleNamespace(calendar=cal))
    ref = _joined(log, cal)
    assert 0 < len(mine) == len(ref) < len(log["session_outcome"]["t"])
    assert mine["completed"].sum() < len(mine)                  # some sessions were not held
    for col in mine.columns:
        assert mine[col].dtype == ref[col].dtype, col
        pd.testing.assert_series_equal(mine[col], ref[col], check_names=False, obj=col)


def test_rows_of_finds_each_key_or_says_it_is_not_there():
    from output.tables import rows_of
    rng = np.random.default_rng(5)
    for keys in (np.arange(0, 300, 3), rng.permutation(500)[:200], np.array([], dtype=np.int64)):
        wanted = rng.integers(-5, 600, 1000)
        where = {int(k): i for i, k in enumerate(keys)}
        assert rows_of(keys, wanted).tolist() == [where.get(int(w), -1) for w in wanted]
