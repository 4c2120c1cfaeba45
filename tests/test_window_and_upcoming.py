"""The window's end (a date, a date-time, now), the sessions booked after it and what became of
them, and the columns a run writes beyond the spec for the dashboard (docs/columns.md): each
checked against the run's own other tables, never against written-down outputs."""
from __future__ import annotations

import datetime as dt
import json
import math

import pandas as pd
import pytest

from tests.conftest import CONNECTIONS, ROOT, run_cli, simulate
from world.scenario import apply_overrides, read_document, resolve_now, validate_document

END = "2026-12-04T15:00"


def _csv(folder, name, **kw) -> pd.DataFrame:
    return pd.read_csv(folder / f"{name}.csv", keep_default_na=False, na_values=[""], **kw)


@pytest.fixture(scope="module")
def mid_day(tmp_path_factory):
    """A short dev run whose window ends at 15:00."""
    out = tmp_path_factory.mktemp("midday") / "out"
    code, stdout, stderr = run_cli("--mode", "dev", "--days", 4, "--window-end", END, "--no-model",
                                   "--no-progress", "--no-report", "--out", out)
    assert code == 0, stderr[-2000:]
    return out, stdout


# --- the window's end -------------------------------------------------------------------------------

def test_a_window_ending_mid_day_holds_exactly_its_hours(mid_day):
    out, stdout = mid_day
    manifest = json.loads((out / "run.json").read_text())
    end = pd.Timestamp(END)
    start = end - pd.Timedelta(days=4)
    assert manifest["window"] == {"start": f"{start:%Y-%m-%d %H:%M:%S}", "end": f"{end:%Y-%m-%d %H:%M:%S}"}
    assert manifest["scenario_document"]["calendar"]["window_end"] == "2026-12-04T15:00:00"
    assert f"window {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M}" in stdout.splitlines()[0]
    for table, col in (("sessions", "session_datetime"), ("engagement_events", "timestamp")):
        t = _csv(out, table, parse_dates=[col])[col]
        assert t.min() >= start and t.max() < end, (table, t.min(), t.max())
        # the first and the last hours of the window are simulated: rows on both sides of midnight
        assert (t < start.normalize() + pd.Timedelta(days=1)).any() and (t >= end.normalize()).any(), table
    upcoming = _csv(out, "upcoming_sessions", parse_dates=["session_datetime"])["session_datetime"]
    assert upcoming.min() >= end and upcoming.max() < end + pd.Timedelta(days=7)


@pytest.mark.parametrize("now, expected", [
    (dt.datetime(2026, 12, 5, 5, 37, 12), "2026-12-05T05:00:00"),
    (dt.datetime(2026, 12, 5, 0, 59), "2026-12-05"),          # midnight: the date itself
])
def test_now_is_the_hour_the_scenario_is_read(now, expected):
    doc = resolve_now({"calendar": {"window_end": "now"}}, now=now)
    assert doc["calendar"]["window_end"] == expected
    assert resolve_now({"calendar": {"window_end": "2026-11-01"}}, now=now)["calendar"]["window_end"] == "2026-11-01"


def test_window_end_now_is_recorded_as_the_hour_it_was(tmp_path):
    before = dt.datetime.now().replace(minute=0, second=0, microsecond=0)
    simulate(tmp_path / "out", "--mode", "dev", "--days", 2, "--window-end", "now", "--no-model")
    after = dt.datetime.now().replace(minute=0, second=0, microsecond=0)
    recorded = dt.datetime.fromisoformat(json.loads((tmp_path / "out" / "run.json").read_text())["window_end"])
    assert recorded in (before, after)


# --- upcoming sessions ----------------------------------------------------------------------------------

def test_upcoming_sessions_are_the_bookings_after_the_window(dev_run):
    sessions = _csv(dev_run, "sessions")
    up = _csv(dev_run, "upcoming_sessions", parse_dates=["session_datetime"])
    profiles = _csv(dev_run, "tutor_profiles")
    students = _csv(dev_run / "ground_truth", "students")
    end = pd.Timestamp(json.loads((dev_run / "run.json").read_text())["window"]["end"])
    assert len(up) > 0
    # a booking's own id: B + its booking number, unique, never an S number of sessions.csv
    assert up["session_id"].str.fullmatch(r"B\d{7}").all() and up["session_id"].is_unique
    assert not set(up["session_id"]) & set(sessions["session_id"])
    assert up["session_datetime"].is_monotonic_increasing
    assert up["session_datetime"].min() >= end and up["session_datetime"].max() < end + pd.Timedelta(days=7)
    assert set(up["student_id"]) <= set(students["student_id"])
    # a tutor who stopped has no bookings left: their students were sent elsewhere
    stopped = set(profiles.loc[profiles["active_status"].astype(str) == "False", "tutor_id"])
    assert not set(up["tutor_id"]) & stopped
    # a student has one session booked at a time
    assert not up["student_id"].duplicated().any()


def test_upcoming_outcomes_happen_as_the_window_sessions_did(calibration_run):
    """The look-ahead holds the upcoming sessions with the window's behaviour: the share held
    lands on the window's within a share's tolerance (3 points + 2 SE)."""
    sessions = _csv(calibration_run, "sessions")
    up = _csv(calibration_run, "upcoming_sessions")
    truth = _csv(calibration_run / "ground_truth", "upcoming_outcomes", parse_dates=["happened_at"])
    end = pd.Timestamp(json.loads((calibration_run / "run.json").read_text())["window"]["end"])
    assert truth["session_id"].tolist() == up["session_id"].tolist()
    assert set(truth["outcome"]) <= {"held", "tutor_no_show", "student_no_show", "both_no_show", "cancelled", "unresolved"}
    settled = truth[truth["outcome"] != "unresolved"]
    assert (settled["happened_at"] >= end).all() and truth.loc[truth["outcome"] == "unresolved", "happened_at"].isna().all()
    assert (truth["outcome"] == "unresolved").mean() < 0.01
    reached = settled[settled["outcome"] != "cancelled"]
    held_up = (reached["outcome"] == "held").mean()
    held_window = (sessions["session_completed"].astype(str) == "True").mean()
    se = math.sqrt(held_window * (1 - held_window) / len(reached))
    assert abs(held_up - held_window) <= 0.03 + 2 * se, (held_up, held_window, len(reached))
    moved = truth["rescheduled_by"].dropna()
    assert len(moved) > 0 and set(moved) <= {"tutor", "student"}


# --- the dashboard's columns beyond the spec --------------------------------------------------------------

def test_not_held_sessions_name_who_came_and_their_connection(dev_run):
    s = _csv(dev_run, "sessions", dtype={"tutor_showed": str, "student_showed": str, "session_completed": str})
    nh = _csv(dev_run, "not_held_sessions")
    missed = s[s["session_completed"] == "False"]
    assert nh["session_id"].tolist() == missed["session_id"].tolist()
    who = pd.Series("nobody", index=missed.index)
    who[missed["tutor_showed"] == "True"] = "tutor"
    who[missed["student_showed"] == "True"] = "student"
    assert nh["connected"].tolist() == who.tolist()
    assert set(nh["connection_quality"]) <= CONNECTIONS and nh["connection_quality"].notna().all()
    # the spec's table keeps them blank: nothing was measured in a session
    assert missed["connection_quality"].isna().all() and missed["actual_duration_min"].isna().all()


def test_last_login_is_the_last_login_event(dev_run):
    profiles = _csv(dev_run, "tutor_profiles", parse_dates=["last_login"])
    events = _csv(dev_run, "engagement_events", parse_dates=["timestamp"])
    end = pd.Timestamp(json.loads((dev_run / "run.json").read_text())["window"]["end"])
    last = events[events["event_type"] == "login"].groupby("tutor_id")["timestamp"].max()
    got = profiles.set_index("tutor_id")["last_login"]
    assert (got.dropna() < end).all()
    assert got.reindex(last.index).tolist() == last.tolist()
    start = end - pd.Timedelta(days=json.loads((dev_run / "run.json").read_text())["window_days"])
    others = got.drop(last.index)
    assert ((others < start) | others.isna()).all()


def test_email_responses_follow_the_email_steps(production_run):
    iv = _csv(production_run, "interventions")
    assert len(iv) > 20
    status, kind = iv["status"], iv["response_type"]
    assert ((kind == "replied") == (status == "responded")).all()
    assert ((kind == "clicked") == (status == "clicked")).all()
    assert (status[kind == "unsubscribed"] == "delivered").all()
    assert (iv["error_message"].notna() == (status == "failed")).all()
    assert (iv["response_notes"].notna() == kind.notna()).all()
    booked = iv["response_notes"].fillna("").str.contains("coaching booked")
    assert booked.any() and (iv.loc[booked, "intervention_type"] != "technical").all()
    fixed = iv["response_notes"].fillna("").str.contains("fixed the video setup")
    assert (iv.loc[fixed, "intervention_type"] == "technical").all()


def test_experiment_notes_state_the_verdict(production_run):
    ex = _csv(production_run, "experiments")
    assert ex["notes"].notna().all()
    for row in ex.itertuples():
        assert row.notes.startswith("completed" if row.status == "completed" else "active")
        if isinstance(row.winner, str):
            assert f"{row.winner} wins" in row.notes
        for variant in json.loads(row.variants):
            assert variant in row.notes


@pytest.mark.parametrize("value, expected", [
    ("2026-12-04T15:00:00", "2026-12-04T15:00:00"),     # a TOML local date-time
    ("2026-12-04", "2026-12-04"),                       # a TOML date
    ('"2026-12-04 15:30"', "2026-12-04T15:30:00"),      # text
])
def test_set_takes_toml_dates_and_date_times(value, expected):
    doc = apply_overrides(read_document(ROOT / "scenarios" / "dev.toml"), [f"calendar.window_end={value}"])
    assert doc["calendar"]["window_end"] == expected
    assert validate_document(doc, "dev.toml").calendar.window_end == expected
