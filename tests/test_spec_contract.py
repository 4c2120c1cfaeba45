"""The three core tables (tutor_profiles, sessions, tutor_aggregates) against the spec: every
field with its name, type, range and options (sections 1-7), the validation rules of section 9
on every row, ids, keys and the window, and the production volume (sections 11 and 17).

Every test reads what `run.py` wrote; nothing is compared with a hard-coded output. The rules are
checked on the shared dev run and on the one production run (`data`, see conftest.py). Section 9's
row rules that restate how a column is written (completed = both showed, the speak ratio's
clip, recommend = satisfaction >= 7) are validate's rule checks, which run on every real run of
test_fidelity.py and on every random scenario of test_properties.py.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from tests.conftest import CHURN, SESSION_SPEC, SPECS, SUBJECTS, load

# Session fields that exist only for a session that was held (observed by video, NLP, survey).
HELD_ONLY = ["actual_duration_min", "connection_quality", "had_technical_issues", "student_attention_pct",
             "tutor_camera_on_pct", "tutor_speak_ratio", "screen_share_pct", "overall_sentiment",
             "student_sentiment", "tutor_sentiment", "empathy_score", "clarity_score",
             "engagement_score", "student_rating", "student_satisfaction", "would_recommend"]
FEEDBACK = ["student_rating", "student_satisfaction", "would_recommend"]
# aggregates that are undefined (empty) for a tutor without the sessions they average
AGG_MAY_BE_EMPTY = {"avg_historical_rating", "avg_rating_30d", "avg_rating_7d", "avg_engagement_score", "avg_empathy_score",
                    "avg_clarity_score", "avg_student_satisfaction", "first_session_avg_rating",
                    "recommendation_rate", "technical_issue_rate", "sentiment_trend_7d"}

INT_RE = re.compile(r"^-?\d+$")
DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


def rows(df: pd.DataFrame, mask, cols) -> str:
    """A few offending rows, for assertion messages."""
    return df.loc[np.asarray(mask, bool), cols].head(8).to_string()


# --- fields, types, ranges (spec sections 1-7) ----------------------------------------------------

@pytest.mark.parametrize("table", list(SPECS))
def test_every_spec_field_is_present_with_its_name(data, table):
    missing = [c for c in SPECS[table] if c not in data.raw[table].columns]
    assert not missing, f"{table}.csv lacks the spec's fields {missing}"


@pytest.mark.parametrize("table", list(SPECS))
def test_values_are_written_in_the_spec_types(data, table):
    """Integers as integers, booleans as True/False, numbers parse, no NaN/inf text."""
    raw = data.raw[table]
    problems = []
    for col, (kind, arg) in SPECS[table].items():
        text = raw[col]
        present = text != ""
        if kind == "int":
            bad = present & ~text.str.match(INT_RE)
        elif kind == "float":
            num = pd.to_numeric(text.where(present), errors="coerce")
            bad = present & (num.isna() | ~np.isfinite(num.fillna(0)))
        elif kind == "bool":
            bad = present & ~text.isin(["True", "False"])
        elif kind == "datetime":
            bad = present & ~text.str.match(DATETIME_RE)
        elif kind == "id":
            bad = ~text.str.fullmatch(arg)
        else:
            bad = pd.Series(False, index=text.index)
        if bad.any():
            problems.append(f"{col} ({kind}): {text[bad].unique()[:5].tolist()}")
    assert not problems, f"{table}.csv: values not of the spec's type: " + "; ".join(problems)


@pytest.mark.parametrize("table", list(SPECS))
def test_values_are_inside_the_spec_ranges_and_options(data, table):
    df = getattr(data, table)
    problems = []
    for col, (kind, arg) in SPECS[table].items():
        values = df[col].dropna()
        if kind in ("int", "float") and isinstance(arg, tuple):
            lo, hi = arg
            bad = values[(values < lo - 1e-9) | (values > hi + 1e-9)]
            if len(bad):
                problems.append(f"{col} outside [{lo}, {hi}]: {len(bad)} of {len(values)} rows, "
                                f"min {values.min():g}, max {values.max():g}")
        elif kind == "int" and isinstance(arg, set):
            bad = values[~values.isin(arg)]
            if len(bad):
                problems.append(f"{col} not in {sorted(arg)}: {sorted(bad.unique())[:5]}")
        elif kind == "enum":
            bad = values[~values.isin(arg)]
            if len(bad):
                problems.append(f"{col} not one of {sorted(arg)}: {sorted(bad.unique())[:5]}")
        elif kind == "subjects":
            lists = values.str.split(",")
            lo, hi = arg
            wrong = lists[lists.map(lambda s: not (lo <= len(s) <= hi) or len(set(s)) != len(s)
                                    or not set(s) <= SUBJECTS)]
            if len(wrong):
                problems.append(f"{col}: not {lo}-{hi} distinct spec subjects: {wrong.head(3).tolist()}")
    assert not problems, f"{table}.csv breaks the spec's ranges:\n  " + "\n  ".join(problems)


def test_profile_and_aggregate_fields_are_never_empty(data):
    for name, df in (("tutor_profiles", data.raw["tutor_profiles"]), ("tutor_aggregates", data.raw["tutor_aggregates"])):
        required = [c for c in SPECS[name] if c not in AGG_MAY_BE_EMPTY]
        empty = {c: int((df[c] == "").sum()) for c in required if (df[c] == "").any()}
        assert not empty, f"{name}.csv has empty cells in {empty}"


def test_historical_rating_is_empty_only_without_any_rating(data):
    """avg_historical_rating is the mean of every rating the tutor received in the simulation:
    empty exactly for a tutor who never held a rated session (e.g. quit early in the warm-up)."""
    p = data.raw["tutor_profiles"]
    empty = p.loc[p["avg_historical_rating"] == "", "tutor_id"]
    with np.load(data.dir / "events.npz") as log:
        tutor_of = dict(zip(log["session_booked.session"].tolist(), log["session_booked.tutor"].tolist()))
        rated = {tutor_of[int(sid)] for sid in log["session_observed.session"]}
    for tid in empty:
        assert int(tid[1:]) - 1 not in rated, f"{tid} has ratings but no avg_historical_rating"


def test_every_session_has_its_fields_and_every_held_session_its_observations(data):
    s, raw = data.sessions, data.raw["sessions"]
    always = [c for c in SESSION_SPEC if c not in HELD_ONLY]
    empty_always = {c: int((raw[c] == "").sum()) for c in always if (raw[c] == "").any()}
    assert not empty_always, f"sessions.csv: fields every session has are empty: {empty_always}"
    held = s["session_completed"].to_numpy(bool)
    missing = {c: int(((raw[c] == "") & held).sum()) for c in HELD_ONLY if ((raw[c] == "") & held).any()}
    assert not missing, f"held sessions without their observations: {missing}"


def test_primary_subject_is_taught_and_sessions_match_the_tutors_subjects(data):
    p, s = data.tutor_profiles, data.sessions
    taught = dict(zip(p["tutor_id"], p["subjects_taught"].str.split(",").map(set)))
    not_taught = [t for t, prim in zip(p["tutor_id"], p["primary_subject"]) if prim not in taught[t]]
    assert not not_taught, f"primary_subject not among subjects_taught for {not_taught[:5]}"
    off = np.array([subj not in taught.get(t, ()) for t, subj in zip(s["tutor_id"], s["subject"])])
    assert not off.any(), f"{off.sum()} sessions in a subject the tutor does not teach:\n" \
                          f"{rows(s, off, ['session_id', 'tutor_id', 'subject'])}"


# --- section 9: validation rules on every row -----------------------------------------------------

def test_incomplete_sessions_have_no_rating_satisfaction_or_recommendation(data):
    s = data.sessions
    not_done = ~s["session_completed"].to_numpy(bool)
    assert not_done.any() or len(s) < 200, "no session was ever missed: no-shows are not simulated"
    bad = not_done & s[FEEDBACK].notna().any(axis=1).to_numpy()
    assert not bad.any(), f"{bad.sum()} sessions not completed but rated:\n{rows(s, bad, ['session_id'] + FEEDBACK)}"


def test_avg_rating_7d_needs_three_sessions(data):
    a = data.tutor_aggregates
    bad = a["avg_rating_7d"].notna() & (a["total_sessions_7d"] < 3)
    assert not bad.any(), f"avg_rating_7d given with fewer than 3 sessions:\n" \
                          f"{rows(a, bad, ['tutor_id', 'total_sessions_7d', 'avg_rating_7d'])}"


def test_poor_first_session_flag(data):
    a = data.tutor_aggregates
    flag = a["poor_first_session_flag"].astype(bool)
    no_first = flag & (a["first_session_count"] < 1)
    assert not no_first.any(), f"flag without a first session:\n{rows(a, no_first, ['tutor_id', 'first_session_count'])}"
    expected = (a["first_session_avg_rating"] < 3.5).fillna(False).astype(bool)
    bad = flag != expected
    assert not bad.any(), (f"poor_first_session_flag != (first_session_avg_rating < 3.5) as published:\n"
                           f"{rows(a, bad, ['tutor_id', 'first_session_count', 'first_session_avg_rating', 'poor_first_session_flag'])}")


def test_churn_probability_is_capped_and_risk_level_follows_it(data):
    a = data.tutor_aggregates
    p = a["churn_probability"]
    assert (p <= CHURN.cap + 1e-12).all(), f"churn_probability above 0.85: {p[p > CHURN.cap].tolist()}"
    expected = np.where(p >= CHURN.high, "High", np.where(p >= CHURN.medium, "Medium", "Low"))
    bad = a["churn_risk_level"].to_numpy() != expected
    assert not bad.any(), (f"churn_risk_level does not follow the 0.3/0.5 thresholds:\n"
                           f"{rows(a, bad, ['tutor_id', 'churn_probability', 'churn_risk_level'])}")


# --- ids, keys, the window ---------------------------------------------------------------------

def test_tutor_ids_are_sequential_and_unique(data):
    ids = data.tutor_profiles["tutor_id"].tolist()
    assert ids == [f"T{i:04d}" for i in range(1, len(ids) + 1)]
    assert len(ids) == data.run["tutors"], "profiles do not hold every tutor of the run"


def test_session_ids_are_sequential_in_datetime_order(data):
    s = data.sessions
    assert s["session_id"].tolist() == [f"S{i:06d}" for i in range(1, len(s) + 1)], \
        "session ids are not S000001, S000002, ... in file order"
    assert s["session_datetime"].notna().all()
    assert s["session_datetime"].is_monotonic_increasing, "sessions are not in datetime order"


def test_foreign_keys_and_one_aggregate_row_per_tutor(data):
    tutors = set(data.tutor_profiles["tutor_id"])
    s, a = data.sessions, data.tutor_aggregates
    orphans = set(s["tutor_id"]) - tutors
    assert not orphans, f"sessions of unknown tutors {sorted(orphans)[:5]}"
    students = set(data.students["student_id"])
    assert s["student_id"].ne("").all()
    unknown = set(s["student_id"]) - students
    assert not unknown, f"sessions of students missing from ground_truth/students.csv: {sorted(unknown)[:5]}"
    assert a["tutor_id"].is_unique, "a tutor has more than one aggregate row"
    assert set(a["tutor_id"]) == tutors, "aggregates and profiles hold different tutors"
    resched = data.reschedules
    assert set(resched["session_id"]) <= set(s["session_id"]), "reschedules of unknown sessions"
    assert resched["initiated_by"].isin(["tutor", "student"]).all()


def test_session_datetimes_are_inside_the_window(data):
    t = data.sessions["session_datetime"]
    early, late = t < data.window_start, t >= data.window_end
    assert not early.any(), f"{early.sum()} sessions before the window start {data.window_start}: {t[early].min()}"
    assert not late.any(), f"{late.sum()} sessions at or after the window end {data.window_end}: {t[late].max()}"
    # the window is filled, not just touched: sessions on (nearly) every day of it
    days = t.dt.normalize().nunique()
    assert days >= int(data.run["window_days"]) - 1, f"sessions on only {days} of {data.run['window_days']} days"


def test_run_json_row_counts_match_the_files(data):
    for name in SPECS:
        assert data.run["rows"][name] == len(data.raw[name]), f"run.json rows[{name}] != rows of {name}.csv"
    assert data.run["rows"]["ground_truth/reschedules"] == len(data.reschedules)


# --- volume ------------------------------------------------------------------------------------

def test_production_volume(production_run):
    """Spec sections 11 and 17: 150 tutors, 30 days, ~22,500 sessions (750 a day)."""
    d = load(str(production_run))
    n = len(d.raw["sessions"])
    assert d.run["window_days"] == 30 and d.run["tutors"] == 150
    assert 22_500 * 0.95 <= n <= 22_500 * 1.05, f"production made {n:,} sessions, the spec wants 22,500 +- 5%"
    assert len(d.raw["tutor_profiles"]) == 150
    assert len(d.raw["tutor_aggregates"]) == 150
