"""Determinism and common random numbers: the same seed gives the same bytes, another seed other
bytes, a parameter no agent reads changes nothing; the pieces the bytes depend on (the event
columns' packing, the order of events at the same minute) behave exactly.
"""
from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest

from tests.conftest import DEV_SEED, simulate, simulate_all

DETERMINISTIC_FILES = ["sessions.csv", "tutor_profiles.csv", "tutor_aggregates.csv", "events.npz"]


def test_same_seed_gives_identical_bytes_and_another_seed_differs(dev_run, tmp_path):
    same, other = simulate_all([(tmp_path / "same", ("--mode", "dev", "--seed", DEV_SEED)),
                                (tmp_path / "other", ("--mode", "dev", "--seed", DEV_SEED + 1))])
    for name in DETERMINISTIC_FILES:
        assert (dev_run / name).is_file(), f"{name} was not written"
        assert (same / name).read_bytes() == (dev_run / name).read_bytes(), f"{name} differs between two runs with seed {DEV_SEED}"
    assert (other / "sessions.csv").read_bytes() != (dev_run / "sessions.csv").read_bytes(), \
        "a different seed gives the same sessions.csv"


def test_packed_event_columns_are_numpy_conversions_of_the_rows():
    """EventTable.pack converts rows through a structured array: each column must be what
    np.asarray(column, dtype) makes of the same values (Python and numpy scalars, bools for
    numbers, None for a float)."""
    from output.recorder import EventTable
    columns = [("t", "f8"), ("who", "i4"), ("small", "i1"), ("flag", "?"), ("p", "f4"), ("ip", "u4")]
    rows = [(0.5, 3, -2, True, 0.1, 4294967295), (np.float64(1e16), np.int64(9), 0, 0, None, 0),
            (-0.0, True, 127, 2, np.float32(0.3), 17), (np.nan, 0, -128, False, 1e-40, 1)]
    table = EventTable("probe", columns)
    for row in rows:
        table.append(row)
    packed = table.arrays()
    for k, (name, dtype) in enumerate(columns):
        expected = np.asarray([row[k] for row in rows], dtype=dtype)
        assert packed[name].dtype == expected.dtype and packed[name].flags.c_contiguous, name
        assert packed[name].tobytes() == expected.tobytes(), name


def test_sessions_of_an_hour_share_one_event_and_go_first_in_booking_order():
    """The session desk's bell: the journeys with a session at an hour wait on one SimPy event,
    go on in the order they began to wait, and before an ordinary event due at the same minute
    even when that event was scheduled first (a 09:00 platform job sees the 09:00 sessions).
    Everything else the Clock schedules as SimPy does: two plain timeouts keep their order."""
    from world.clock import Bell, Clock
    from world.sessions import SessionDesk
    env = Clock()
    desk = SimpleNamespace(env=env, bells={})
    order, waited_on = [], []

    def job(name):
        yield env.timeout(9 * 60)
        order.append(name)

    def journey(name, booked_at):
        yield env.timeout(booked_at)
        bell = SessionDesk._bell(desk, 9)
        waited_on.append(bell)
        yield bell
        order.append(name)

    env.process(job("job"))
    for name, booked_at in (("first", 10), ("second", 20), ("third", 20)):
        env.process(journey(name, booked_at))
    env.process(job("later job"))
    env.run()
    assert len(waited_on) == 3 and all(bell is waited_on[0] for bell in waited_on), "one event for the hour"
    assert isinstance(waited_on[0], Bell)
    assert order == ["first", "second", "third", "job", "later job"]
    assert desk.bells == {}, "a bell is forgotten once it has struck"
    with pytest.raises(ValueError):
        Bell(env, -1.0)


def test_a_parameter_no_agent_reads_changes_nothing(dev_run, tmp_path):
    """Common random numbers: a scenario that differs only in its descriptions draws the same."""
    out = simulate(tmp_path / "described", "--mode", "dev", "--seed", DEV_SEED,
                   "--set", 'description="a what-if that changes nothing"',
                   "--set", 'tutors.personas.rock_star.description="renamed"')
    assert json.loads((out / "run.json").read_text())["scenario_document"]["description"] == "a what-if that changes nothing"
    for name in ("sessions.csv", "tutor_profiles.csv", "tutor_aggregates.csv"):
        assert (out / name).read_bytes() == (dev_run / name).read_bytes(), f"{name} changed with the description"


def test_a_toml_date_and_its_text_end_the_window_alike(tmp_path):
    """`--set calendar.window_end=2026-12-04` (a TOML date) is the quoted "2026-12-04": the same
    window, the same files, and run.json records it as the text."""
    small = ("--mode", "dev", "--tutors", 6, "--days", 3, "--no-model", "--seed", DEV_SEED)
    as_date, as_text = simulate_all([
        (tmp_path / "date", small + ("--set", "calendar.window_end=2026-12-04")),
        (tmp_path / "text", small + ("--set", 'calendar.window_end="2026-12-04"'))])
    assert json.loads((as_date / "run.json").read_text())["window_end"] == "2026-12-04"
    files = sorted(p.relative_to(as_text) for p in as_text.rglob("*") if p.is_file())
    assert files and all((as_date / f).read_bytes() == (as_text / f).read_bytes() for f in files)
    starts = [line.split(",")[3] for line in (as_date / "sessions.csv").read_text().splitlines()[1:]]
    assert starts and all("2026-12-01" <= t < "2026-12-04" for t in starts)     # the 3 days before it
