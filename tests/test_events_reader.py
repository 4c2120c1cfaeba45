"""The event log readable without its codes (analysis/events.py, `run.py events`): every code
decoded to its name, agents and sessions to the tables' ids, minutes to timestamps, and the decoded
rows agreeing with the tables written from the same log.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from tests.conftest import run_cli


def test_every_event_type_is_decoded_no_code_left(dev_run):
    from analysis.events import TIME_FIELDS, code_table, read_events
    from world.events import SCHEMA
    tables = read_events(dev_run)
    assert list(tables) == list(SCHEMA)
    assert sum(len(t) for t in tables.values()) > 5000
    for etype, frame in tables.items():
        fields = [name for name, _ in SCHEMA[etype]]
        for raw in ("tutor", "student", "session", "intervention", "experiment", "t"):
            assert raw not in frame.columns, f"{etype}: the raw field {raw} is still there"
        assert frame["phase"].isin(["warmup", "window", "after"]).all()
        for name in fields:
            if name in TIME_FIELDS:
                col = "time" if name == "t" else name
                assert pd.api.types.is_datetime64_any_dtype(frame[col]), f"{etype}.{col} is not a timestamp"
            elif code_table(etype, name) is not None or name in ("variant", "detail", "ip"):
                values = set(frame[name].dropna())
                assert all(isinstance(v, str) for v in values), f"{etype}.{name} still holds codes: {sorted(values)[:5]}"
                names = code_table(etype, name)
                if names is not None:
                    assert values <= set(names), f"{etype}.{name}: {values - set(names)} are not names"
        for col, pattern in (("tutor_id", r"T\d{4}"), ("student_id", r"ST\d{6}"), ("session_id", r"S\d{6}"),
                             ("intervention_id", r"INT\d{4}"), ("experiment_id", r"EXP\d{3}")):
            if col in frame.columns:
                ids = frame[col].dropna()
                assert ids.map(lambda v: bool(re.fullmatch(pattern, v))).all(), f"{etype}.{col}: {ids.head(3).tolist()}"


def test_decoded_events_agree_with_the_tables(dev_run):
    """The window's observed sessions carry the rating sessions.csv shows for the same id, the
    quits the labels' dates, the logins the window's engagement events."""
    from analysis.events import read_events
    sessions = pd.read_csv(dev_run / "sessions.csv").set_index("session_id")
    observed = read_events(dev_run, type="session_observed")
    held = observed[observed["phase"] == "window"].set_index("session_id")
    assert len(held) == int(sessions["session_completed"].sum()) > 100
    assert np.allclose(held["rating"].astype(float).round(1), sessions.loc[held.index, "student_rating"])
    booked = read_events(dev_run, type="session_booked").dropna(subset=["session_id"]).set_index("session_id")
    assert (booked.loc[sessions.index, "tutor_id"] == sessions["tutor_id"]).all()
    assert (booked.loc[sessions.index, "subject"] == sessions["subject"]).all()
    logins = read_events(dev_run, type="tutor_login")
    events = pd.read_csv(dev_run / "engagement_events.csv")
    assert (logins["phase"] == "window").sum() == (events["event_type"] == "login").sum()


def test_one_tutors_events_are_theirs(dev_run):
    from analysis.events import read_events
    mine = read_events(dev_run, tutor="T0003")
    assert len(mine["session_outcome"]) > 0 and len(mine["tutor_login"]) > 0
    for etype, frame in mine.items():
        if "tutor_id" in frame.columns:
            assert (frame["tutor_id"] == "T0003").all(), etype
    sessions = set(mine["session_booked"]["session_number"])
    assert set(mine["session_outcome"]["session_number"]) <= sessions


def test_the_events_command_writes_one_file_per_type(dev_run, tmp_path):
    code, stdout, stderr = run_cli("events", dev_run, "--type", "tutor_quit", "session_booked", "--tutor", "T0003",
                                   "--format", "parquet", "--out", tmp_path / "ev")
    assert code == 0, stderr
    assert sorted(p.name for p in (tmp_path / "ev").iterdir()) == ["session_booked.parquet", "tutor_quit.parquet"]
    frame = pd.read_parquet(tmp_path / "ev" / "session_booked.parquet")
    assert (frame["tutor_id"] == "T0003").all() and pd.api.types.is_datetime64_any_dtype(frame["time"])


@pytest.mark.parametrize("args, message", [
    (["--type", "sessions_booked"], "unknown event type 'sessions_booked'"),
    (["--tutor", "T9999"], "--tutor T9999: no such tutor in this run"),
    (["--tutor", "ST000001"], "--tutor ST000001: not a tutor id"),
])
def test_bad_events_arguments_are_one_line_exit_2(dev_run, tmp_path, args, message):
    code, stdout, stderr = run_cli("events", dev_run, *args, "--out", tmp_path / "ev")
    assert code == 2 and message in stderr and len(stderr.strip().splitlines()) == 1, stderr
    assert not (tmp_path / "ev").exists()
