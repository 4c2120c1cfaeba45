"""Section 2: session data (sessions.csv)."""
from __future__ import annotations

from functools import partial

import pandas as pd

from analysis.targets.checks import Measured, Skip, enum, fk, metric, rng, rule, share, shares
from analysis.targets.columns import CONNECTIONS, GRADES, SESSION_OBSERVABLES, SUBJECTS, S
from analysis.targets.measures import span_days
from analysis.targets.predicates import (both, hour_between, id_pattern, implies, is_true,
                                         present, true)

# ------------------------------------------------------------------ custom measurements


def duration_near_scheduled(df: pd.DataFrame) -> pd.Series:
    """actual_duration_min within 15% of scheduled_duration_min (+0.5: whole minutes)."""
    return ((df["actual_duration_min"] - df["scheduled_duration_min"]).abs()
            <= 0.15 * df["scheduled_duration_min"] + 0.5)


def subject_taught(df: pd.DataFrame) -> pd.Series:
    """The session's subject is one of its tutor's subjects_taught (a tutor without a list
    passes)."""
    return pd.Series([not isinstance(t, str) or (isinstance(s, str) and s in t.split(","))
                      for s, t in zip(df["subject"].tolist(), df["subjects_taught"].tolist())],
                     index=df.index, dtype=bool)


def no_show_is_empty(df: pd.DataFrame) -> pd.Series:
    """A session not completed has none of the observables."""
    return is_true(df["session_completed"]) | df[[
        c for c in SESSION_OBSERVABLES if c in df]].isna().all(axis=1)


def no_show_link(d):
    """Window tutor no-show rate of tutors with no_show_count >= 3 minus the other tutors'."""
    a = d.view("activity")[["tutor_id", "tutor_no_show_rate"]]
    m = a.merge(d.table("profiles")[["tutor_id", "no_show_count"]], on="tutor_id")
    flag = m["no_show_count"] >= 3
    if flag.all() or not flag.any():
        raise Skip("all or none of the tutors have no_show_count >= 3")
    hi, lo = m.loc[flag, "tutor_no_show_rate"].mean(), m.loc[~flag, "tutor_no_show_rate"].mean()
    return Measured(hi - lo, n=len(m), text=f"{hi:.3f} vs {lo:.3f}")


# ----------------------------------------------------------------------------- the claims

rule(2, "session_id matches S\\d{6} and is unique", level="session", needs=S, view="sessions",
     ok=id_pattern(r"S\d{6}", "session_id"), ident="session_id")
fk(2, "sessions", "tutor_id", "profiles", level="session", ident="session_id")

# when
metric(2, "session_datetime spans at most the window ('last 30 days')", level="session",
       needs=S, fn=partial(span_days, table="sessions", col="session_datetime"), lo=0, hi=None,
       key="session_window")
rule(2, "session_datetime is present", level="session", needs=S, view="sessions",
     ident="session_id", ok=present("session_datetime"))
share(2, "'peak 3-9pm': sessions starting 15:00-20:59", level="session", needs=S,
      view="sessions", pred=hour_between("session_datetime", 15, 20),
      lo=0.50, hi=None, key="peak_hours", note="the largest block: at least half")

# how long
enum(2, "sessions", "scheduled_duration_min", (30, 60, 90), level="session", needs=S)
shares(2, "scheduled_duration_min 30/60/90", level="session", needs=S, view="sessions",
       col="scheduled_duration_min", targets={30: 0.15, 60: 0.75, 90: 0.10})
rng(2, "completed", "actual_duration_min", 25, 105, level="session", needs=S, integer=True)
share(2, "actual_duration_min within ±15% of scheduled (completed sessions)",
      level="session", needs=S, view="completed", pred=duration_near_scheduled,
      lo=0.95, hi=None, note="at least 95% of completed sessions (integer minutes: +0.5)")

# what, for whom
enum(2, "sessions", "subject", SUBJECTS, level="session", needs=S)
rule(2, "subject is one of the tutor's subjects_taught", level="session",
     needs=("sessions", "profiles"), view="sessions+", ident="session_id", ok=subject_taught)
enum(2, "sessions", "grade_level", GRADES, level="session", needs=S)
shares(2, "grade_level uniform over 5 levels", level="session", needs=S, view="sessions",
       col="grade_level", targets={g: 0.20 for g in GRADES})
share(2, "is_first_session True", level="session", needs=S, view="sessions",
      pred=true("is_first_session"), target=0.15)

# who showed
share(2, "session_completed True ('3% no-shows total')", level="session", needs=S,
      view="sessions", pred=true("session_completed"), target=0.97,
      tol=0.03, key="completed_share", note="±3 points: see contradictions")
share(2, "student_showed True", level="session", needs=S, view="sessions",
      pred=true("student_showed"), target=0.97, lo=0.945, hi=0.995,
      note="spec 97% with ±2.5 points below, up to 99.5% above (see contradictions)")
share(2, "tutor_showed True", level="session", needs=S, view="sessions",
      pred=true("tutor_showed"), lo=0.95, hi=0.995,
      note="upper bound 99.5%: see 'tutor no-shows' in the contradictions")
rule(2, "session_completed implies both the student and the tutor showed", level="session",
     needs=S, view="sessions", ident="session_id",
     ok=implies(true("session_completed"), both(true("student_showed"), true("tutor_showed"))))
rule(2, "a no-show session has no observables (duration, video, scores, feedback)",
     level="session", needs=S, view="sessions", ident="session_id", ok=no_show_is_empty,
     note="engine semantics: observables of a session not held are empty")
metric(2, "'based on tutor's no_show_count': window tutor no-show rate of tutors with "
          "no_show_count >= 3 minus the rest", level="tutor", needs=("sessions", "profiles"),
       fn=no_show_link, lo=0.0, hi=None, note="spec gives no size; sign only",
       target_text="> 0")

# connection
enum(2, "completed", "connection_quality", CONNECTIONS, level="session", needs=S)
shares(2, "connection_quality Excellent/Good/Fair/Poor (completed)", level="session",
       needs=S, view="completed", col="connection_quality",
       targets={"Excellent": 0.60, "Good": 0.30, "Fair": 0.08, "Poor": 0.02})
share(2, "had_technical_issues True (completed)", level="session", needs=S, view="completed",
      pred=true("had_technical_issues"), target=0.08)
