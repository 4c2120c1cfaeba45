"""The three core tables (tutor_profiles, sessions, tutor_aggregates) against the spec, the
command line, determinism and cause-and-effect.

Every test reads what `run.py` wrote; nothing is compared with a hard-coded output. Most tests
share one dev run (`dev_run`, see conftest.py); the spec's rules are also checked on the one
production run that the volume test needs.
"""
from __future__ import annotations

import datetime as dt
import functools
import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from tests.conftest import DEV_SEED, ROOT, run_cli, simulate

SUBJECTS = {"Math", "Science", "English", "History", "Test Prep", "Programming"}
GRADES = {"Elementary", "Middle School", "High School", "College", "Adult"}
CONNECTIONS = {"Excellent", "Good", "Fair", "Poor"}
CERTIFICATIONS = {"Basic", "Advanced", "Expert"}
RISK_LEVELS = {"Low", "Medium", "High"}

# --- the spec's fields (sections 1-7): name -> (kind, range or options) --------------------------
# kinds: id, str, int, float, bool, enum, datetime, subjects. Ranges are inclusive.
PROFILE_SPEC = {
    "tutor_id": ("id", r"T\d{4}"),
    "months_experience": ("int", (1, 120)),
    "total_sessions_completed": ("int", (8, 3000)),
    "certification_level": ("enum", CERTIFICATIONS),
    "avg_historical_rating": ("float", (2.0, 5.0)),
    "reliability_score": ("float", (0.0, 1.0)),
    "reschedule_rate": ("float", (0.0, 0.35)),
    "no_show_count": ("int", (0, 10)),
    "subjects_taught": ("subjects", (1, 3)),
    "primary_subject": ("enum", SUBJECTS),
    "active_status": ("bool", None),
}
SESSION_SPEC = {
    "session_id": ("id", r"S\d{6}"),
    "tutor_id": ("id", r"T\d{4}"),
    "session_datetime": ("datetime", None),
    "scheduled_duration_min": ("int", {30, 60, 90}),
    "actual_duration_min": ("int", (25, 105)),
    "subject": ("enum", SUBJECTS),
    "grade_level": ("enum", GRADES),
    "is_first_session": ("bool", None),
    "session_completed": ("bool", None),
    "student_showed": ("bool", None),
    "tutor_showed": ("bool", None),
    "connection_quality": ("enum", CONNECTIONS),
    "had_technical_issues": ("bool", None),
    "student_attention_pct": ("float", (10.0, 100.0)),
    "tutor_camera_on_pct": ("float", (70.0, 100.0)),
    "tutor_speak_ratio": ("float", (0.20, 0.80)),
    "screen_share_pct": ("float", (10.0, 95.0)),
    "overall_sentiment": ("float", (-0.5, 0.95)),
    "student_sentiment": ("float", (-0.5, 0.95)),
    "tutor_sentiment": ("float", (-0.2, 0.95)),
    "empathy_score": ("float", (1.0, 10.0)),
    "clarity_score": ("float", (1.0, 10.0)),
    "engagement_score": ("float", (1.0, 10.0)),
    "student_rating": ("float", (1.0, 5.0)),
    "student_satisfaction": ("float", (1.0, 10.0)),
    "would_recommend": ("bool", None),
}
AGGREGATE_SPEC = {
    "tutor_id": ("id", r"T\d{4}"),
    "total_sessions_30d": ("int", (0, 300)),
    "total_sessions_7d": ("int", (0, 70)),
    "avg_rating_30d": ("float", (2.0, 5.0)),
    "avg_rating_7d": ("float", (2.0, 5.0)),
    "avg_engagement_score": ("float", (1.0, 10.0)),
    "avg_empathy_score": ("float", (1.0, 10.0)),
    "avg_clarity_score": ("float", (1.0, 10.0)),
    "avg_student_satisfaction": ("float", (1.0, 10.0)),
    "first_session_count": ("int", (0, 50)),
    "first_session_avg_rating": ("float", (2.0, 5.0)),
    "poor_first_session_flag": ("bool", None),
    "recommendation_rate": ("float", (0.0, 1.0)),
    "technical_issue_rate": ("float", (0.0, 1.0)),
    "sentiment_trend_7d": ("float", (-0.5, 0.95)),
    "churn_probability": ("float", (0.0, 1.0)),
    "churn_risk_level": ("enum", RISK_LEVELS),
    "churn_signals_detected": ("int", (0, 8)),
}
SPECS = {"tutor_profiles": PROFILE_SPEC, "sessions": SESSION_SPEC, "tutor_aggregates": AGGREGATE_SPEC}

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

# Spec section 7, the platform's churn rule
CHURN = SimpleNamespace(declining_drop=0.3, low_engagement=5.5, high_reschedule=0.15,
                        poor_first=3.5, poor_first_weight=2, no_shows=2, activity_ratio=0.25,
                        per_signal=0.12, cap=0.85, noise_max=0.10, high=0.5, medium=0.3)

INT_RE = re.compile(r"^-?\d+$")
DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


# --- reading a run's folder ----------------------------------------------------------------------

def _bool(raw: pd.Series) -> pd.Series:
    return raw.map({"True": True, "False": False, "": None}).astype("boolean")


def _typed(raw: pd.DataFrame, spec: dict) -> pd.DataFrame:
    """The table with the spec's types, read from the raw text (empty cell = missing)."""
    out = raw.copy()
    for col, (kind, _) in spec.items():
        if col not in raw:
            continue
        if kind == "bool":
            out[col] = _bool(raw[col])
        elif kind in ("int", "float"):
            out[col] = pd.to_numeric(raw[col].replace("", np.nan), errors="coerce").astype("float64")
        elif kind == "datetime":
            out[col] = pd.to_datetime(raw[col], format="%Y-%m-%d %H:%M:%S", errors="coerce")
        else:
            out[col] = raw[col].replace("", None)
    return out


@functools.lru_cache(maxsize=None)
def load(folder: str) -> SimpleNamespace:
    """Everything a run wrote that the tests read, once per folder."""
    d = Path(folder)
    raw = {name: pd.read_csv(d / f"{name}.csv", dtype=str, keep_default_na=False) for name in SPECS}
    typed = {name: _typed(raw[name], spec) for name, spec in SPECS.items()}
    run = json.loads((d / "run.json").read_text())
    end = pd.Timestamp(dt.datetime.fromisoformat(str(run["window_end"])))
    return SimpleNamespace(
        dir=d, raw=raw, run=run, **typed,
        reschedules=pd.read_csv(d / "ground_truth" / "reschedules.csv", dtype=str, keep_default_na=False),
        students=pd.read_csv(d / "ground_truth" / "students.csv", dtype=str, keep_default_na=False),
        window_end=end, window_start=end - pd.Timedelta(days=int(run["window_days"])),
    )


@pytest.fixture(params=["dev_run", "production_run"], ids=["dev", "production"])
def data(request) -> SimpleNamespace:
    """The spec's rules hold in the dev run and in the production run."""
    return load(str(request.getfixturevalue(request.param)))


def rows(df: pd.DataFrame, mask, cols) -> str:
    """A few offending rows, for assertion messages."""
    return df.loc[np.asarray(mask, bool), cols].head(8).to_string()


def simulate_all(jobs: list[tuple[Path, tuple]]) -> list[Path]:
    """Several runs side by side (each is its own process)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(lambda job: simulate(job[0], *job[1]), jobs))


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


def test_completed_exactly_when_tutor_and_student_both_showed(data):
    s = data.sessions
    done = s["session_completed"].to_numpy(bool)
    tutor, student = s["tutor_showed"].to_numpy(bool), s["student_showed"].to_numpy(bool)
    assert not (~tutor & done).any(), "tutor_showed False but session_completed True"
    bad = done != (tutor & student)
    assert not bad.any(), f"{bad.sum()} rows where session_completed != tutor_showed & student_showed"


def test_tutor_speak_ratio_is_between_020_and_080(data):
    speak = data.sessions["tutor_speak_ratio"].dropna()
    assert len(speak) > 0
    assert speak.between(0.20, 0.80).all(), f"speak ratio out of [0.2, 0.8]: {speak[~speak.between(0.2, 0.8)].tolist()[:5]}"


def test_would_recommend_means_satisfaction_at_least_7(data):
    s = data.sessions[data.sessions["session_completed"].to_numpy(bool)]
    expected = s["student_satisfaction"] >= 7.0
    bad = (s["would_recommend"].astype(bool) != expected).to_numpy()
    assert not bad.any(), f"{bad.sum()} rows: would_recommend != (satisfaction >= 7):\n" \
                          f"{rows(s, bad, ['session_id', 'student_satisfaction', 'would_recommend'])}"


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


# --- the aggregates are a platform job over sessions.csv ------------------------------------------

def recompute_aggregates(d: SimpleNamespace) -> pd.DataFrame:
    """What a platform's nightly job computes from sessions.csv at the end of the window."""
    s = d.sessions
    s = s[s["session_completed"].to_numpy(bool)].copy()
    s["rating10"] = (s["student_rating"] * 10).round()          # exact sums of one-decimal ratings
    s30 = s[s["session_datetime"] >= d.window_end - pd.Timedelta(days=30)]
    s7 = s[s["session_datetime"] >= d.window_end - pd.Timedelta(days=7)]
    ids = d.tutor_profiles["tutor_id"]
    g30, g7 = s30.groupby("tutor_id"), s7.groupby("tutor_id")
    first = s30[s30["is_first_session"].astype(bool)].groupby("tutor_id")

    def per(series, fill=np.nan):
        return series.reindex(ids, fill_value=fill).to_numpy("float64")

    out = pd.DataFrame({"tutor_id": ids})
    out["total_sessions_30d"] = per(g30.size(), 0)
    out["total_sessions_7d"] = per(g7.size(), 0)
    out["avg_rating_30d"] = per(g30["rating10"].sum()) / out["total_sessions_30d"].replace(0, np.nan) / 10
    r7 = per(g7["rating10"].sum()) / out["total_sessions_7d"].replace(0, np.nan) / 10
    out["avg_rating_7d"] = np.where(out["total_sessions_7d"] >= 3, r7, np.nan)
    for col, src in (("avg_engagement_score", "engagement_score"), ("avg_empathy_score", "empathy_score"),
                     ("avg_clarity_score", "clarity_score"), ("avg_student_satisfaction", "student_satisfaction")):
        out[col] = per(g30[src].mean())
    out["first_session_count"] = per(first.size(), 0)
    first_sum10 = per(first["rating10"].sum())
    out["first_session_avg_rating"] = first_sum10 / out["first_session_count"].replace(0, np.nan) / 10
    # the platform flags on the average it publishes (two decimals)
    out["poor_first_session_flag"] = (out["first_session_count"] >= 1) & (out["first_session_avg_rating"].round(2) < 3.5)
    out["recommendation_rate"] = per(g30["would_recommend"].apply(lambda x: x.astype(float).mean()))
    out["technical_issue_rate"] = per(g30["had_technical_issues"].apply(lambda x: x.astype(float).mean()))
    out["sentiment_trend_7d"] = per(g7["overall_sentiment"].mean())
    return out


AGG_COMPARED = ["total_sessions_30d", "total_sessions_7d", "avg_rating_30d", "avg_rating_7d",
                "avg_engagement_score", "avg_empathy_score", "avg_clarity_score",
                "avg_student_satisfaction", "first_session_count", "first_session_avg_rating",
                "recommendation_rate", "technical_issue_rate", "sentiment_trend_7d"]


def test_aggregates_are_recomputed_from_sessions(data):
    a = data.tutor_aggregates.set_index("tutor_id")
    r = recompute_aggregates(data).set_index("tutor_id").loc[a.index]
    problems = []
    for col in AGG_COMPARED:
        got, want = a[col].to_numpy("float64"), r[col].to_numpy("float64")
        both_nan = np.isnan(got) & np.isnan(want)
        close = np.isclose(got, want, atol=0.01, rtol=0) | both_nan
        if not close.all():
            i = np.flatnonzero(~close)
            problems.append(f"{col}: {len(i)} tutors differ, e.g. " +
                            ", ".join(f"{a.index[k]} published {got[k]} vs recomputed {want[k]:.4f}" for k in i[:3]))
    flag_bad = a["poor_first_session_flag"].astype(bool).to_numpy() != r["poor_first_session_flag"].to_numpy(bool)
    if flag_bad.any():
        problems.append(f"poor_first_session_flag differs for {list(a.index[flag_bad][:5])}")
    assert not problems, "tutor_aggregates.csv is not what sessions.csv gives:\n  " + "\n  ".join(problems)


def _signal_bounds(value, threshold, eps, below=True):
    """(certainly fires, possibly fires) for `value < threshold` (or `>`), given rounding `eps`."""
    v = np.asarray(value, float)
    with np.errstate(invalid="ignore"):
        if below:
            sure, maybe = v < threshold - eps, v < threshold + eps
        else:
            sure, maybe = v > threshold + eps, v > threshold - eps
    return np.nan_to_num(sure, nan=0).astype(bool), np.nan_to_num(maybe, nan=0).astype(bool)


def test_churn_signals_and_probability_follow_the_spec_formula(data):
    """Section 7: six signals (poor first sessions count twice), 0.12 per signal capped at 0.85,
    plus noise in [0, 0.1), never above 0.85. The signals are recomputed from the tables; a signal
    whose input lies within rounding distance of its threshold may go either way."""
    a = data.tutor_aggregates.set_index("tutor_id")
    p = data.tutor_profiles.set_index("tutor_id").loc[a.index]
    r = recompute_aggregates(data).set_index("tutor_id").loc[a.index]
    r30, r7 = r["avg_rating_30d"].to_numpy(), r["avg_rating_7d"].to_numpy()
    signals = {
        # the platform compares the two ratings it reports, each rounded to two decimals
        "declining_ratings": (_signal_bounds(r7 - r30, -CHURN.declining_drop, 0.010001), 1),
        "low_engagement": (_signal_bounds(r["avg_engagement_score"], CHURN.low_engagement, 0.006), 1),
        "high_reschedule_rate": (_signal_bounds(p["reschedule_rate"], CHURN.high_reschedule, 0.0006, below=False), 1),
        "poor_first_sessions": (_signal_bounds(r["first_session_avg_rating"], CHURN.poor_first, 0.005), CHURN.poor_first_weight),
        "no_shows": (_signal_bounds(p["no_show_count"], CHURN.no_shows, 0.0, below=False), 1),
        "declining_activity": (_signal_bounds(r["total_sessions_7d"] - r["total_sessions_30d"] * CHURN.activity_ratio, 0.0, 0.0), 1),
    }
    lo = sum(sure.astype(int) * w for (sure, _), w in signals.values())
    hi = sum(maybe.astype(int) * w for (_, maybe), w in signals.values())
    count = a["churn_signals_detected"].to_numpy()
    bad = (count < lo) | (count > hi)
    assert not bad.any(), (f"churn_signals_detected does not count the spec's signals for "
                           f"{list(a.index[bad][:5])}: published {count[bad][:5]}, expected between {lo[bad][:5]} and {hi[bad][:5]}")
    base = np.minimum(count * CHURN.per_signal, CHURN.cap)
    prob = a["churn_probability"].to_numpy()
    low, high = base - 0.0005, np.minimum(base + CHURN.noise_max, CHURN.cap) + 0.0005
    bad = (prob < low) | (prob > high)
    assert not bad.any(), (f"churn_probability is not min(signals*0.12, 0.85) + noise(0, 0.1) capped at 0.85 for "
                           f"{list(a.index[bad][:5])}: {prob[bad][:5]} with signals {count[bad][:5]}")
    assert (count > 0).any(), "no tutor has any churn signal"


def test_reschedule_rate_matches_tutor_initiated_reschedules(data):
    """reschedule_rate is the tutor's history in the simulation (warm-up and window): the moves
    the tutor made to their sessions that reached their time, over those sessions. Rebuilt here
    from the event log; and every reschedule in ground_truth/reschedules.csv (window sessions)
    is one of them."""
    p = data.tutor_profiles
    window_end_min = (int(data.run["window_days"]) + int(data.run["warmup_days"])) * 1440
    with np.load(data.dir / "events.npz") as log:
        tutor_of = dict(zip(log["session_booked.session"].tolist(), log["session_booked.tutor"].tolist()))
        reached = [int(sid) for sid, t in zip(log["session_outcome.session"], log["session_outcome.t"])
                   if t < window_end_min]
        moved_by_tutor = {int(sid) for sid, by in zip(log["session_rescheduled.session"],
                                                       log["session_rescheduled.by"]) if by == 0}
    n = np.bincount([tutor_of[sid] for sid in reached], minlength=len(p))
    counted = np.bincount([tutor_of[sid] for sid in reached if sid in moved_by_tutor], minlength=len(p))
    implied = p["reschedule_rate"].to_numpy() * n
    bad = np.abs(implied - counted) > 0.0005 * n + 1e-9
    assert not bad.any(), (f"reschedule_rate x sessions != tutor-initiated reschedules for "
                           f"{list(p['tutor_id'][bad][:5])}: rate*n {implied[bad][:5]}, counted {counted[bad][:5]}")
    assert counted.sum() > 0, "no tutor ever rescheduled"
    res = data.reschedules
    assert (res["initiated_by"] == "tutor").sum() <= counted.sum()


def test_no_show_count_is_the_tutors_missed_sessions(data):
    s, p = data.sessions, data.tutor_profiles
    missed = (~s["tutor_showed"].astype(bool)).groupby(s["tutor_id"]).sum()
    missed = missed.reindex(p["tutor_id"], fill_value=0).to_numpy()
    bad = p["no_show_count"].to_numpy() != missed
    assert not bad.any(), (f"no_show_count != sessions with tutor_showed False for {list(p['tutor_id'][bad][:5])}: "
                           f"{p['no_show_count'].to_numpy()[bad][:5]} vs {missed[bad][:5]}")


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


# --- volume ------------------------------------------------------------------------------------

def test_production_volume(production_run):
    """Spec sections 11 and 17: 150 tutors, 30 days, ~22,500 sessions (750 a day)."""
    d = load(str(production_run))
    n = len(d.raw["sessions"])
    assert d.run["window_days"] == 30 and d.run["tutors"] == 150
    assert 22_500 * 0.95 <= n <= 22_500 * 1.05, f"production made {n:,} sessions, the spec wants 22,500 +- 5%"
    assert len(d.raw["tutor_profiles"]) == 150
    assert len(d.raw["tutor_aggregates"]) == 150


# --- determinism and common random numbers ---------------------------------------------------------

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
    even when that event was scheduled first (a 09:00 platform job sees the 09:00 sessions)."""
    import simpy

    from world.sessions import Bell, SessionDesk
    env = simpy.Environment()
    desk = SimpleNamespace(env=env, bells={})
    order = []

    def job():
        yield env.timeout(9 * 60)
        order.append("job")

    def journey(name, booked_at):
        yield env.timeout(booked_at)
        yield SessionDesk._bell(desk, 9)
        order.append(name)

    env.process(job())
    for name, booked_at in (("first", 10), ("second", 20), ("third", 20)):
        env.process(journey(name, booked_at))
    env.run(until=30)
    assert sum(isinstance(item[3], Bell) for item in env._queue) == 1, "one event for the hour"
    env.run()
    assert order == ["first", "second", "third", "job"]
    assert desk.bells == {}, "a bell is forgotten once it has struck"


def test_a_parameter_no_agent_reads_changes_nothing(dev_run, tmp_path):
    """Common random numbers: a scenario that differs only in its descriptions draws the same."""
    out = simulate(tmp_path / "described", "--mode", "dev", "--seed", DEV_SEED,
                   "--set", 'description="a what-if that changes nothing"',
                   "--set", 'tutors.personas.rock_star.description="renamed"')
    assert json.loads((out / "run.json").read_text())["scenario_document"]["description"] == "a what-if that changes nothing"
    for name in ("sessions.csv", "tutor_profiles.csv", "tutor_aggregates.csv"):
        assert (out / name).read_bytes() == (dev_run / name).read_bytes(), f"{name} changed with the description"


# --- behaviour: causes have effects ------------------------------------------------------------

def test_more_no_show_tutors_raise_no_shows_and_churn(tmp_path):
    """The no-show persona's share 0.08 -> 0.30 (taken from the solid performers): same seeds,
    40 tutors. Mean no_show_count and mean churn_probability both rise."""
    shift = ("--set", "tutors.personas.no_show_problem.share=0.30",
             "--set", "tutors.personas.solid_performer.share=0.28")
    seeds = (DEV_SEED, DEV_SEED + 1)
    jobs = []
    for seed in seeds:
        base = ("--mode", "dev", "--tutors", 40, "--seed", seed, "--no-event-log")
        jobs += [(tmp_path / f"base{seed}", base), (tmp_path / f"more{seed}", base + shift)]
    outs = simulate_all(jobs)

    def means(folders):
        p = pd.concat([pd.read_csv(f / "tutor_profiles.csv") for f in folders])
        a = pd.concat([pd.read_csv(f / "tutor_aggregates.csv") for f in folders])
        return p["no_show_count"].mean(), a["churn_probability"].mean()

    base_ns, base_churn = means(outs[0::2])
    more_ns, more_churn = means(outs[1::2])
    assert more_ns > base_ns, f"mean no_show_count did not rise: {base_ns:.3f} -> {more_ns:.3f}"
    assert more_churn > base_churn, f"mean churn_probability did not rise: {base_churn:.3f} -> {more_churn:.3f}"


def test_no_show_scale_raises_the_tutor_no_show_share(dev_run, tmp_path):
    document = json.loads((dev_run / "run.json").read_text())["scenario_document"]
    scale = float(document["behaviour"]["no_show_scale"])
    raised_scale = scale * 10 if scale > 0 else 1.0
    out = simulate(tmp_path / "scaled", "--mode", "dev", "--seed", DEV_SEED, "--no-event-log",
                   "--set", f"behaviour.no_show_scale={raised_scale}")
    share = lambda f: (~pd.read_csv(f / "sessions.csv")["tutor_showed"].astype(bool)).mean()  # noqa: E731
    base, raised = share(dev_run), share(out)
    assert raised > base, f"no_show_scale {scale} -> {raised_scale}: tutor no-show share {base:.4f} -> {raised:.4f}"


# --- the command line ----------------------------------------------------------------------------

def _invalid_toml(tmp: Path):
    path = tmp / "broken.toml"
    path.write_text('name = "broken"\n[calendar\nwindow_days = 3\n')
    return [str(path)], ["broken.toml"]


def _unknown_key(tmp: Path):
    path = tmp / "typo.toml"
    path.write_text(f'extends = "{(ROOT / "scenarios" / "dev.toml").as_posix()}"\n'
                    f'[behaviour]\nno_show_scael = 0.5\n')
    return [str(path)], ["typo.toml", "no_show_scael"]


BAD_INPUT = {
    "tutors-zero": lambda tmp: (["--tutors", "0"], ["--tutors", "0"]),
    "tutors-negative": lambda tmp: (["--tutors", "-3"], ["--tutors", "-3"]),
    "tutors-not-a-number": lambda tmp: (["--tutors", "abc"], ["--tutors", "abc"]),
    "unknown-mode": lambda tmp: (["--mode", "nope"], ["--mode", "nope"]),
    "missing-scenario": lambda tmp: ([str(tmp / "no_such_scenario.toml")], ["no_such_scenario.toml"]),
    "invalid-toml": _invalid_toml,
    "unknown-key": _unknown_key,
    "negative-window": lambda tmp: (["--set", "calendar.window_days=-1"], ["window_days"]),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_is_one_line_exit_2_and_no_output_folder(case, tmp_path):
    args, words = BAD_INPUT[case](tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    out = tmp_path / "out"
    code, stdout, stderr = run_cli(*args, "--out", out, timeout=60)
    assert code == 2, f"exit code {code}, stderr:\n{stderr}"
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].strip(), f"stderr is not exactly one line:\n{stderr}"
    for word in words:
        assert word in lines[0], f"the error does not name {word!r}: {lines[0]}"
    assert "Traceback" not in stderr and stdout == ""
    assert not out.exists(), "--out folder created by a failed run"
    assert sorted(p.name for p in tmp_path.iterdir()) == before, "a failed run left files beside --out"


@pytest.mark.parametrize("when", ["simulating", "writing"])
def test_ctrl_c_is_one_line_exit_130_and_leaves_everything_as_it_was(when, tmp_path):
    """Ctrl-C (SIGINT to the process group, as a terminal sends it) while the production run
    simulates the window (2 s in), or once its first file is in the temporary folder (the tables
    being written beside the look-ahead): one line on stderr, exit 130, the existing --out folder
    untouched, nothing beside it, no process left behind."""
    import os
    import signal
    import subprocess
    import sys
    out = tmp_path / "out"
    out.mkdir()
    (out / "marker.txt").write_text("keep me\n")

    def own_group_with_ctrl_c():
        os.setsid()
        signal.signal(signal.SIGINT, signal.SIG_DFL)   # as in a terminal (a background job ignores it)
    proc = subprocess.Popen([sys.executable, "run.py", "--out", str(out), "--no-progress"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=own_group_with_ctrl_c)
    def group():
        table = subprocess.run(["ps", "-eo", "pid=,pgid="], capture_output=True, text=True).stdout.split()
        return [pid for pid, g in zip(table[::2], table[1::2]) if g == str(proc.pid)]
    if when == "simulating":
        time.sleep(2.0)
    else:
        deadline = time.time() + 120
        while proc.poll() is None and time.time() < deadline and not any(
                f.is_file() for d in tmp_path.glob(".out.tmp-*") for f in d.rglob("*")):
            time.sleep(0.02)
    if proc.poll() is not None:
        pytest.skip(f"the run ended before it was {when}: nothing to interrupt")
    from analysis.cpus import default_jobs
    if default_jobs() >= 2:
        assert len(group()) >= 2, "the run has not started its model process: nothing to check below"
    os.killpg(proc.pid, signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, f"exit {proc.returncode}:\n{stderr[-2000:]}"
    assert stderr.strip().splitlines() == ["run.py: interrupted"], stderr[-2000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"], "an interrupted run left files beside --out"
    assert sorted(p.name for p in out.iterdir()) == ["marker.txt"]
    deadline = time.time() + 10
    while True:
        left = group()
        if not left or time.time() > deadline:
            break
        time.sleep(0.2)
    assert not left, f"processes of the interrupted run still alive: {left}"


@pytest.mark.parametrize("args", [["--tutors", "0"], ["--set", "calendar.window_days=-1"]], ids=["bad-flag", "bad-scenario"])
def test_failed_run_leaves_an_existing_output_folder_untouched(args, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "marker.txt").write_text("keep me\n")
    code, _, _ = run_cli(*args, "--out", out, timeout=60)
    assert code == 2
    assert sorted(p.name for p in out.iterdir()) == ["marker.txt"]
    assert (out / "marker.txt").read_text() == "keep me\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_reader_that_stops_reading_gets_no_traceback():
    """`run.py schema | head`: the output's reader goes away; run.py ends quietly (exit 1, like
    Python's own tools) instead of printing a BrokenPipeError traceback."""
    import subprocess
    import sys
    proc = subprocess.Popen([sys.executable, "run.py", "schema"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.close()                 # nobody reads: the first write fails
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 1, err
    assert "Traceback" not in err and "BrokenPipe" not in err, err


def test_help_is_quick_and_names_the_main_flags():
    started = time.perf_counter()
    code, stdout, stderr = run_cli("--help", timeout=60)
    elapsed = time.perf_counter() - started
    assert code == 0, stderr
    for flag in ("--tutors", "--days", "--sessions-per-day", "--seed", "--out"):
        assert flag in stdout, f"--help does not mention {flag}"
    assert elapsed < 5.0, f"--help took {elapsed:.1f} s"


@pytest.mark.parametrize("args", [["--help"], ["--tutors", "0"], ["--set", "calendar.window_days=-1"]],
                         ids=["help", "bad-flag", "bad-scenario"])
def test_help_and_errors_do_not_import_the_simulation_stack(args, tmp_path):
    """--help and argument errors answer at once: mesa, simpy and pandas are not imported."""
    _, _, stderr = run_cli(*args, "--out", tmp_path / "out", python_flags=("-X", "importtime"), timeout=60)
    imported = {line.rsplit("|", 1)[-1].strip().split(".")[0]
                for line in stderr.splitlines() if line.startswith("import time:")}
    heavy = imported & {"mesa", "simpy", "pandas"}
    assert not heavy, f"run.py {' '.join(args)} imports {sorted(heavy)}"


def test_the_simulation_loads_mesas_core_only_and_mesa_stays_whole():
    """world/mesa_core.py: building the platform imports mesa's Model, Agent and DataCollector
    without mesa's spaces (networkx, scipy.spatial), its batch runner (which would switch the
    process to "spawn") or pandas (until the DataCollector builds a table); and mesa is still all
    there for any code that asks for more of it."""
    import subprocess
    import sys
    probe = (
        "import multiprocessing, sys\n"
        "method = multiprocessing.get_start_method(allow_none=True)\n"
        "import world.model\n"
        "heavy = ['networkx', 'mesa.space', 'mesa.batchrunner']\n"
        "if 'mesa.experimental' not in sys.modules:   # mesa 3.3's core; 3.5's Model imports it itself\n"
        "    heavy += ['scipy.spatial', 'pandas']\n"
        "loaded = sorted(m for m in heavy if m in sys.modules)\n"
        "assert not loaded, f'the simulation imported {loaded}'\n"
        "assert multiprocessing.get_start_method(allow_none=True) == method, 'the start method changed'\n"
        "import mesa, mesa.model, mesa.agent, mesa.datacollection\n"
        "assert world.model.Platform.__mro__[1] is mesa.model.Model is mesa.Model\n"
        "import inspect, logging\n"
        "if hasattr(mesa.model, '_mesa_logger'):   # named as mesa names it, without reading frames' source\n"
        "    assert mesa.model._mesa_logger.name == 'MESA.mesa.model', mesa.model._mesa_logger.name\n"
        "    assert sys.modules['mesa.mesa_logging'].inspect is inspect, 'mesa_logging kept the stand-in'\n"
        "    logged = [c.cell_contents for c in (mesa.Model.__init__.__closure__ or ()) if isinstance(c.cell_contents, str)]\n"
        "    assert logged in ([], ['Model']), logged\n"
        "assert mesa.Agent is mesa.agent.Agent and mesa.DataCollector is mesa.datacollection.DataCollector\n"
        "from mesa import batch_run\n"
        "assert mesa.space.MultiGrid and mesa.__version__.startswith('3.'), mesa.__version__\n"
        "assert mesa.Model is mesa.model.Model, 'completing mesa replaced its classes'\n"
        "collector = mesa.DataCollector(model_reporters={'n': lambda m: 7})\n"
        "collector.collect(mesa.Model())\n"
        "import pandas\n"
        "assert collector.get_model_vars_dataframe().equals(pandas.DataFrame({'n': [7]}))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize("shape", [0.5, 1.0, 1.5, 2.0, 5.0, 30.0])
def test_gamma_quantile_agrees_with_scipy(shape):
    """agents/inverse_cdf.py stands in for scipy.special.gammaincinv (the copula of experience and
    reliability): the same quantile to 1e-12, tails included."""
    from scipy import special

    from agents.inverse_cdf import gamma_quantile
    us = [1e-9, 1e-5, 1e-3, 0.999, 1 - 1e-5, 1 - 1e-9, *np.linspace(0.01, 0.99, 99)]
    mine = np.array([gamma_quantile(shape, u) for u in us])
    np.testing.assert_allclose(mine, special.gammaincinv(shape, us), rtol=1e-12, atol=0)


@pytest.mark.parametrize("a,b", [(8, 2), (3, 2), (2, 2), (6, 1), (1, 1), (0.5, 0.5), (20, 3), (2, 8)])
def test_beta_quantile_agrees_with_scipy(a, b):
    from scipy import special

    from agents.inverse_cdf import beta_quantile
    us = [1e-9, 1e-5, 1e-3, 0.999, 1 - 1e-5, 1 - 1e-9, *np.linspace(0.01, 0.99, 99)]
    mine = np.array([beta_quantile(a, b, u) for u in us])
    np.testing.assert_allclose(mine, special.betaincinv(a, b, us), rtol=1e-12, atol=0)


def test_units_are_the_units_of_each_key():
    """Streams.units hashes its keys' common start once (the churn noise of every tutor, every
    day): the same numbers as unit() key by key, whatever the keys hold."""
    from world.streams import Streams
    streams = Streams(42)
    keys = [(i, day) for i in (0, 7, 149) for day in (0, 13, 44)] + [("x", 1.5), (None,), (-3, "a, b)")]
    assert streams.units(("platform", "churn_noise"), keys) == [streams.unit("platform", "churn_noise", *k) for k in keys]
    assert Streams(43).units(("p",), [(1,)]) != streams.units(("p",), [(1,)])


def test_round_tenth_is_round_to_one_decimal():
    """The rating's and satisfaction's rounding: the very float `round(x, 1)` gives, ties and the
    floats next to them, negative zero and large values included."""
    import math
    import random

    from agents.student import round_tenth
    rng = random.Random(5)
    values = [rng.uniform(-20.0, 120.0) for _ in range(200_000)] + [k / 100 for k in range(-2000, 12000)]
    for k in range(-400, 2400):
        tie = k / 20
        values += [tie, math.nextafter(tie, math.inf), math.nextafter(tie, -math.inf), tie + 5e-16, tie - 5e-16]
    values += [0.0, -0.0, 1e-300, -1e-300, 1e15 + 0.25, -0.04]
    for x in values:
        expected, got = round(x, 1), round_tenth(x)
        assert got == expected and math.copysign(1.0, got) == math.copysign(1.0, expected), (x, got, expected)
