"""Flattening the event log into the spec's tables.

Every table is a pure function of the event log plus the agents' static traits (the ground-truth
tables), so any of them can be rebuilt from a saved log without simulating again. Work is
vectorised with pandas/numpy; nothing here touches simulation state.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from output.recorder import log_columns
from world.clock import MINUTES_PER_DAY
from world.events import CONNECTED, CONNECTION, GRADES, INITIATOR, SUBJECTS
from world.formulas import churn_score, churn_signals
from world.streams import Streams

SESSION_COLUMNS = [
    "session_id", "tutor_id", "student_id", "session_datetime", "scheduled_duration_min",
    "actual_duration_min", "subject", "grade_level", "is_first_session", "session_completed",
    "student_showed", "tutor_showed", "connection_quality", "had_technical_issues",
    "student_attention_pct", "tutor_camera_on_pct", "tutor_speak_ratio", "screen_share_pct",
    "overall_sentiment", "student_sentiment", "tutor_sentiment", "empathy_score", "clarity_score",
    "engagement_score", "student_rating", "student_satisfaction", "would_recommend",
]
PROFILE_COLUMNS = [
    "tutor_id", "months_experience", "total_sessions_completed", "certification_level",
    "avg_historical_rating", "reliability_score", "reschedule_rate", "no_show_count",
    "subjects_taught", "primary_subject", "active_status",
    "last_login",                       # beyond the spec: the dashboard's (docs/columns.md)
]
NOT_HELD_COLUMNS = ["session_id", "connected", "connection_quality"]
AGGREGATE_COLUMNS = [
    "tutor_id", "total_sessions_30d", "total_sessions_7d", "avg_rating_30d", "avg_rating_7d",
    "avg_engagement_score", "avg_empathy_score", "avg_clarity_score", "avg_student_satisfaction",
    "first_session_count", "first_session_avg_rating", "poor_first_session_flag",
    "recommendation_rate", "technical_issue_rate", "sentiment_trend_7d", "churn_probability",
    "churn_risk_level", "churn_signals_detected",
]

# column of session_observed -> (table column, decimals)
OBSERVED = {
    "attention": ("student_attention_pct", 1), "camera": ("tutor_camera_on_pct", 1),
    "speak": ("tutor_speak_ratio", 3), "screen": ("screen_share_pct", 1),
    "sentiment_overall": ("overall_sentiment", 3), "sentiment_student": ("student_sentiment", 3),
    "sentiment_tutor": ("tutor_sentiment", 3), "empathy": ("empathy_score", 2),
    "clarity": ("clarity_score", 2), "engagement": ("engagement_score", 2),
    "rating": ("student_rating", 1), "satisfaction": ("student_satisfaction", 1),
}


def numbered(prefix: str, n: int, digits: int, first: int = 1) -> list[str]:
    """The ids prefix + first..first+n-1 with `digits` digits: numbered("S", 2, 6) = ["S000001",
    "S000002"] (%-formatting takes half the time of an f-string with a format spec, 21,825 ids a
    table)."""
    return list(map(f"{prefix}%0{digits}d".__mod__, range(first, first + n)))


def datetime_texts(cal, minutes) -> np.ndarray:
    """Minutes since the calendar's start -> 'YYYY-mm-dd HH:MM:SS' strings (None where NaN).

    Each distinct time is formatted once: pandas' strftime costs about a microsecond a value,
    and times repeat (sessions start on the hour or the half hour: 493 distinct times for 21,825
    sessions in a production window)."""
    t = np.asarray(minutes, dtype="float64")
    out = np.full(len(t), None, dtype=object)
    ok = ~np.isnan(t)
    if ok.any():
        distinct, inverse = np.unique(t[ok], return_inverse=True)
        stamps = pd.Timestamp(cal.start_dt) + pd.to_timedelta(distinct, unit="min")
        out[ok] = stamps.strftime("%Y-%m-%d %H:%M:%S").to_numpy(dtype=object)[inverse]
    return out


STUDENT_TRAITS = ("duration", "cadence_per_week", "attention", "no_show_prob", "reschedule_prob",
                  "goal_sessions", "patience", "rating_bias", "tech_setup")


def students_frame(arrived: dict) -> pd.DataFrame:
    """The ground truth's students, one row per student in index order, from the log's
    `student_arrived` rows (which come in that order): the traits each kept from arrival."""
    return pd.DataFrame({
        "student_id": numbered("ST", len(arrived["student"]), 6),
        "grade": np.asarray(GRADES, dtype=object)[arrived["grade"]],
        "subject": np.asarray(SUBJECTS, dtype=object)[arrived["subject"]],
        **{name: arrived[name] for name in STUDENT_TRAITS},
        "arrived_at_min": arrived["t"],
        "existing": arrived["existing"],
        "prior_sessions": arrived["prior_sessions"],
    })


class Context:
    """What the flattening needs besides the log: calendar bounds and the agents' static traits."""

    def __init__(self, calendar, tutors: pd.DataFrame, students: pd.DataFrame, churn_cfg, seed: int):
        self.calendar = calendar
        self.tutors = tutors.reset_index(drop=True)      # row i = tutor index i
        self.students = students.reset_index(drop=True)  # row i = student index i
        self.churn = churn_cfg
        self.seed = seed


PART_ROWS = 100_000     # sessions of sessions.csv built and written at a time (`sessions_parts`)

# what session_frame keeps of each session, by the event type that holds it: what the tables read
FRAME_BOOKED = ("tutor", "student", "duration", "subject", "first")
FRAME_OUTCOME = ("tutor_showed", "student_showed")
FRAME_OBSERVED = ("actual_duration", "connection", "tech_issue", *OBSERVED, "recommend")


def rows_of(keys: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """The row of each of `wanted` in `keys` (distinct values), -1 where it is not there: a join
    on positions, without the frames a pandas join makes on the way."""
    if not len(keys):
        return np.full(len(wanted), -1, dtype=np.int64)
    order = None if np.all(keys[1:] > keys[:-1]) else np.argsort(keys, kind="stable")
    ordered = keys if order is None else keys[order]
    i = np.minimum(np.searchsorted(ordered, wanted), len(ordered) - 1)
    rows = i if order is None else order[i]
    return np.where(ordered[i] == wanted, rows, -1)


def _missing_where(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """values[rows], with a gap where rows is -1: NaN in a float column (integers become
    floats), and NaN among Python booleans in an object column (as a pandas join leaves them)."""
    seen = rows >= 0
    if values.dtype == bool:
        out = np.full(len(rows), np.nan, dtype=object)
        out[seen] = values[rows[seen]].astype(object)
        return out
    out = np.full(len(rows), np.nan, dtype=values.dtype if values.dtype.kind == "f" else "float64")
    out[seen] = values[rows[seen]]
    return out


def session_frame(log, ctx: Context) -> pd.DataFrame:
    """All sessions that reached their time inside the window, one row each, with internal codes
    (session, tutor, student, start, ...) and the observed values (NaN where the session was not
    held); sorted by time, then session. Columns: session, start_final, FRAME_OUTCOME, FRAME_BOOKED,
    FRAME_OBSERVED, completed."""
    cal = ctx.calendar
    outcome = log_columns(log, "session_outcome", ("t", "session", *FRAME_OUTCOME))
    t = outcome["t"]
    inside = np.flatnonzero((t >= cal.window_start) & (t < cal.window_end))
    inside = inside[np.lexsort((outcome["session"][inside], t[inside]))]
    session = outcome["session"][inside]
    cols = {"session": session, "start_final": t[inside]}
    cols.update((name, outcome[name][inside]) for name in FRAME_OUTCOME)
    booked = log_columns(log, "session_booked", ("session", *FRAME_BOOKED))
    b = rows_of(booked["session"], session)            # every session that reached its time was booked
    cols.update((name, booked[name][b]) for name in FRAME_BOOKED)
    observed = log_columns(log, "session_observed", ("session", *FRAME_OBSERVED))
    o = rows_of(observed["session"], session)
    cols.update((name, _missing_where(observed[name], o)) for name in FRAME_OBSERVED)
    df = pd.DataFrame(cols, copy=False)         # the columns as they are, not copied into blocks
    # the survey's answers have one decimal: averages are taken of those, exactly
    for col in ("rating", "satisfaction"):
        df[col] = df[col].astype("float64").round(1)
    df["completed"] = df["tutor_showed"] & df["student_showed"]
    return df


def sessions_table(sf: pd.DataFrame, ctx: Context, first: int = 1) -> pd.DataFrame:
    """sessions.csv from session_frame's rows; `first`: the number of sf's first row (a slice of
    the frame from row first-1 on keeps its ids: pipeline/live.py's batches)."""
    cal = ctx.calendar
    n = len(sf)
    done = sf["completed"].to_numpy()
    out = pd.DataFrame({
        "session_id": numbered("S", n, 6, first),
        "tutor_id": ctx.tutors["tutor_id"].to_numpy()[sf["tutor"].to_numpy()],
        "student_id": ctx.students["student_id"].to_numpy()[sf["student"].to_numpy()],
        "session_datetime": datetime_texts(cal, sf["start_final"]),
        "scheduled_duration_min": sf["duration"].astype(int),
        "actual_duration_min": pd.array(np.where(done, sf["actual_duration"].fillna(0), 0), dtype="Int64"),
        "subject": np.asarray(SUBJECTS)[sf["subject"].to_numpy()],
        "grade_level": ctx.students["grade"].to_numpy()[sf["student"].to_numpy()],
        "is_first_session": sf["first"].astype(bool),
        "session_completed": sf["completed"].astype(bool),
        "student_showed": sf["student_showed"].astype(bool),
        "tutor_showed": sf["tutor_showed"].astype(bool),
    })
    out.loc[~done, "actual_duration_min"] = pd.NA
    conn = np.asarray(CONNECTION, dtype=object)[sf["connection"].fillna(0).astype(int).to_numpy()]
    out["connection_quality"] = pd.Series(np.where(done, conn, None), dtype="object")
    out["had_technical_issues"] = pd.array(np.where(done, sf["tech_issue"].fillna(False).astype(bool), False), dtype="boolean")
    out.loc[~done, "had_technical_issues"] = pd.NA
    for col, (name, decimals) in OBSERVED.items():
        out[name] = sf[col].astype("float64").round(decimals).where(done)
    rec = pd.array(sf["recommend"].fillna(False).astype(bool), dtype="boolean")
    out["would_recommend"] = rec
    out.loc[~done, "would_recommend"] = pd.NA
    return out[SESSION_COLUMNS]


def profiles_table(sf: pd.DataFrame, log, ctx: Context) -> pd.DataFrame:
    tutors = ctx.tutors
    n = len(tutors)
    cal = ctx.calendar
    idx = np.arange(n)
    no_shows = np.bincount(sf["tutor"], weights=~sf["tutor_showed"].to_numpy(bool), minlength=n)
    # the reschedule rate is the tutor's history in the simulation (warm-up and window): every
    # session that reached its time by the window's end, and the moves the tutor made to them
    booked_all = pd.DataFrame(log_columns(log, "session_booked", ("session", "tutor")))
    reached = pd.DataFrame(log_columns(log, "session_outcome", ("t", "session")))
    reached = reached.loc[reached["t"] < cal.window_end, ["session"]].merge(booked_all, on="session")
    moved = pd.DataFrame(log_columns(log, "session_rescheduled", ("session", "by")))
    moved = moved[(moved["by"] == 0) & moved["session"].isin(reached["session"])].merge(booked_all, on="session")
    sessions = np.bincount(reached["tutor"], minlength=n)
    reschedules = np.bincount(moved["tutor"], minlength=n)
    # history: every rating the tutor received in the simulation up to the window's end
    obs = pd.DataFrame(log_columns(log, "session_observed", ("t", "session", "rating")))
    obs = obs[obs["t"] < cal.window_end].merge(booked_all, on="session", how="left")
    rating_sum = np.bincount(obs["tutor"], weights=obs["rating"].astype("float64").round(1), minlength=n)
    rating_n = np.bincount(obs["tutor"], minlength=n)
    quit_t = pd.DataFrame(log["tutor_quit"])
    quit_before_end = set(quit_t.loc[quit_t["t"] < cal.window_end, "tutor"].tolist())
    logins = pd.DataFrame(log_columns(log, "tutor_login", ("t", "tutor")))
    logins = logins[logins["t"] < cal.window_end]
    last_login = logins.groupby("tutor")["t"].max().reindex(idx).to_numpy("float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        hist_rating = np.where(rating_n > 0, rating_sum / np.maximum(rating_n, 1), np.nan)
        resched_rate = np.where(sessions > 0, reschedules / np.maximum(sessions, 1), 0.0)
    before_sim = np.round(tutors["months_experience"] * tutors["historical_sessions_per_month"]).astype(int)
    return pd.DataFrame({
        "tutor_id": tutors["tutor_id"],
        "months_experience": tutors["months_experience"].astype(int),
        "total_sessions_completed": before_sim + rating_n,
        "certification_level": tutors["certification"],
        "avg_historical_rating": np.round(hist_rating, 2),
        "reliability_score": tutors["reliability"].round(3),
        "reschedule_rate": np.round(resched_rate, 3),
        "no_show_count": no_shows.astype(int),
        "subjects_taught": tutors["subjects"],
        "primary_subject": tutors["primary_subject"],
        "active_status": [i not in quit_before_end for i in idx],
        "last_login": datetime_texts(cal, last_login),
    })[PROFILE_COLUMNS]


def _per_tutor_mean(values: pd.Series, tutors: pd.Series, mask: np.ndarray, n: int):
    v = values.to_numpy("float64")
    m = mask & ~np.isnan(v)
    cnt = np.bincount(tutors[m], minlength=n)
    s = np.bincount(tutors[m], weights=v[m], minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(cnt > 0, s / np.maximum(cnt, 1), np.nan), cnt


def aggregates_table(sf: pd.DataFrame, profiles: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """The platform's rolling job, run at the end of the window (spec sections 6 and 7)."""
    cal, cfg = ctx.calendar, ctx.churn
    n = len(ctx.tutors)
    tut = sf["tutor"].to_numpy()
    t = sf["start_final"].to_numpy()
    done = sf["completed"].to_numpy(bool)
    last30 = done & (t >= cal.window_end - 30 * MINUTES_PER_DAY)
    last7 = done & (t >= cal.window_end - 7 * MINUTES_PER_DAY)
    first = sf["first"].to_numpy(bool)
    r30, n30 = _per_tutor_mean(sf["rating"], tut, last30, n)
    r7, n7 = _per_tutor_mean(sf["rating"], tut, last7, n)
    r7 = np.where(n7 >= cfg.min_sessions_7d, r7, np.nan)
    eng, _ = _per_tutor_mean(sf["engagement"], tut, last30, n)
    emp, _ = _per_tutor_mean(sf["empathy"], tut, last30, n)
    cla, _ = _per_tutor_mean(sf["clarity"], tut, last30, n)
    sat, _ = _per_tutor_mean(sf["satisfaction"], tut, last30, n)
    rec, _ = _per_tutor_mean(sf["recommend"].astype("float64"), tut, last30, n)
    tech, _ = _per_tutor_mean(sf["tech_issue"].astype("float64"), tut, last30, n)
    sent7, _ = _per_tutor_mean(sf["sentiment_overall"], tut, last7, n)
    fs_avg, fs_n = _per_tutor_mean(sf["rating"], tut, last30 & first, n)
    # the platform reports two decimals and flags on what it reports
    r30, r7, eng, emp, cla, sat, fs_avg = (np.round(v, 2) for v in (r30, r7, eng, emp, cla, sat, fs_avg))
    signals = churn_signals(
        cfg, rating_7d=r7, rating_30d=r30, engagement=eng,
        reschedule_rate=profiles["reschedule_rate"].to_numpy(), first_session_avg=fs_avg,
        no_show_count=profiles["no_show_count"].to_numpy(), sessions_7d=n7, sessions_30d=n30)
    streams = Streams(ctx.seed)
    day = cal.total_days
    noise = np.array(streams.units(("platform", "churn_noise"), [(i, day) for i in range(n)]))
    count, prob, _ = churn_score(cfg, signals, noise)
    prob = np.round(prob, 3)            # the level follows the probability the platform publishes
    level = np.where(prob >= cfg.high, "High", np.where(prob >= cfg.medium, "Medium", "Low"))
    return pd.DataFrame({
        "tutor_id": ctx.tutors["tutor_id"],
        "total_sessions_30d": n30,
        "total_sessions_7d": n7,
        "avg_rating_30d": np.round(r30, 2),
        "avg_rating_7d": np.round(r7, 2),
        "avg_engagement_score": np.round(eng, 2),
        "avg_empathy_score": np.round(emp, 2),
        "avg_clarity_score": np.round(cla, 2),
        "avg_student_satisfaction": np.round(sat, 2),
        "first_session_count": fs_n,
        "first_session_avg_rating": np.round(fs_avg, 2),
        "poor_first_session_flag": np.nan_to_num(fs_avg < cfg.poor_first_session, nan=0).astype(bool) & (fs_n >= 1),
        "recommendation_rate": np.round(rec, 3),
        "technical_issue_rate": np.round(tech, 3),
        "sentiment_trend_7d": np.round(sent7, 3),
        "churn_probability": prob,
        "churn_risk_level": level,
        "churn_signals_detected": count.astype(int),
    })[AGGREGATE_COLUMNS]


def session_ids(rows, first: int = 1) -> list[str]:
    """sessions.csv's session_id of the session frame's `rows` (positions; the frame's row 0 is
    S{first})."""
    return ["S%06d" % (r + first) for r in np.asarray(rows).tolist()]


def reschedules_table(log, sf: pd.DataFrame) -> pd.DataFrame:
    """Ground truth: every reschedule of a window session and who initiated it."""
    moved = log_columns(log, "session_rescheduled", ("session", "by", "p"))
    row = rows_of(sf["session"].to_numpy(), moved["session"])
    inside = row >= 0
    return pd.DataFrame({
        "session_id": np.asarray(session_ids(row[inside]), dtype=object),
        "initiated_by": np.asarray(INITIATOR)[moved["by"][inside]],
        "probability": moved["p"][inside].astype("float64").round(4),
    })


def not_held_table(log, sf: pd.DataFrame, first: int = 1) -> pd.DataFrame:
    """Beyond the spec, for a dashboard whose session columns may not be empty: every window
    session that was not held, who came into the room and the connection measured for them
    (world/sessions.py `_not_held`), in sessions.csv's order (sf's row 0 is S{first})."""
    nh = pd.DataFrame(log["session_not_held"]).drop_duplicates("session").set_index("session")
    missed = ~sf["completed"].to_numpy(bool)
    rows = nh.reindex(sf.loc[missed, "session"].to_numpy())
    return pd.DataFrame({
        "session_id": np.asarray(session_ids(np.flatnonzero(missed), first), dtype=object),
        "connected": np.asarray(CONNECTED + (None,), dtype=object)[rows["connected"].fillna(len(CONNECTED)).astype(int)],
        "connection_quality": np.asarray(CONNECTION + (None,), dtype=object)[rows["connection"].fillna(len(CONNECTION)).astype(int)],
    })[NOT_HELD_COLUMNS]


def core_tables(log, ctx: Context):
    """The tables of tutors and sessions, one (name, frame) at a time in the order the run writes
    them: each can be written and let go before the next is built (at platform size the sessions
    table alone is a quarter of a gigabyte)."""
    sf = session_frame(log, ctx)
    profiles = profiles_table(sf, log, ctx)
    yield "tutor_profiles", profiles
    yield "sessions", sessions_parts(sf, ctx)
    yield "tutor_aggregates", aggregates_table(sf, profiles, ctx)
    yield "ground_truth/reschedules", reschedules_table(log, sf)
    yield "not_held_sessions", not_held_table(log, sf)


def build_core_tables(log, ctx: Context) -> dict[str, pd.DataFrame]:
    """core_tables's tables as whole frames."""
    return {name: whole(built) for name, built in core_tables(log, ctx)}


class Parts:
    """A table built in consecutive parts (the same columns, rows in the table's order), each
    made only when iterated: output/run_folder.py writes each one and lets it go before the next."""

    def __init__(self, make_parts):
        self._make = make_parts

    def __iter__(self):
        return iter(self._make())


def whole(built) -> pd.DataFrame:
    """A table from core_tables as one frame, whether it came whole or in `Parts`."""
    if isinstance(built, Parts):
        return pd.concat(list(built), ignore_index=True)
    return built


def sessions_parts(sf: pd.DataFrame, ctx: Context, rows: int | None = None) -> Parts:
    """sessions.csv in parts of `rows` sessions (PART_ROWS), each numbered as in the whole table."""
    rows = rows or PART_ROWS

    def make():
        for lo in range(0, max(len(sf), 1), rows):
            yield sessions_table(sf.iloc[lo:lo + rows].reset_index(drop=True), ctx, first=lo + 1)
    return Parts(make)
