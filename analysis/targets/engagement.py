"""Section 12: engagement events (engagement_events.csv)."""
from __future__ import annotations

import json
from functools import partial

import pandas as pd

from analysis.targets.tolerance import SHARE_POINTS
from analysis.targets.checks import Measured, Skip, enum, fk, metric, rule
from analysis.targets.columns import E, EVENT_TYPES
from analysis.targets.measures import run_info, span_days, weekend_ratio
from analysis.targets.predicates import id_pattern, valid_json

# ------------------------------------------------------------------ custom measurements


def _tutor_count(d, fallback: pd.Series) -> int:
    for name in ("profiles", "aggregates"):
        if d.has(name):
            return int(d.table(name)["tutor_id"].nunique())
    return int(fallback.nunique())


def per_tutor_rate(d, event_type, period_days):
    """Events of one type per tutor per period of `period_days` days of the window."""
    ev = d.table("events")
    n = int((ev["event_type"] == event_type).sum())
    days = run_info(d)["days"]
    if not days:
        t = ev["timestamp"].dropna()
        days = max((t.max() - t.min()).total_seconds() / 86400, 1.0) if len(t) else 1.0
    tutors = _tutor_count(d, ev["tutor_id"])
    rate = n / tutors / (days / period_days)
    return Measured(rate, n=n, text=f"{rate:.2f} ({n:,} events)")


def login_before_session(d):
    """Share of logins followed by one of the tutor's sessions 1-4 h later."""
    ev, s = d.table("events"), d.table("sessions")
    lg = ev.loc[ev["event_type"] == "login", ["tutor_id", "timestamp"]].dropna()
    if lg.empty:
        raise Skip("no login events")
    lg = lg.assign(probe=lg["timestamp"] + pd.Timedelta(hours=1)).sort_values("probe")
    ss = s[["tutor_id", "session_datetime"]].dropna().sort_values("session_datetime")
    m = pd.merge_asof(lg, ss, left_on="probe", right_on="session_datetime", by="tutor_id",
                      direction="forward")
    ok = (m["session_datetime"] - m["timestamp"]) <= pd.Timedelta(hours=4)
    return Measured(float(ok.mean()), n=len(m))


def scheduled_after_login(d):
    """Share of session_scheduled events 30-60 min after the tutor's latest login."""
    ev = d.table("events")
    sc = ev.loc[ev["event_type"] == "session_scheduled", ["tutor_id", "timestamp"]].dropna()
    if sc.empty:
        raise Skip("no session_scheduled events")
    lg = ev.loc[ev["event_type"] == "login", ["tutor_id", "timestamp"]].dropna()
    lg = lg.rename(columns={"timestamp": "login"}).sort_values("login")
    sc = sc.assign(probe=sc["timestamp"] - pd.Timedelta(minutes=30)).sort_values("probe")
    m = pd.merge_asof(sc, lg, left_on="probe", right_on="login", by="tutor_id",
                      direction="backward")
    gap = m["timestamp"] - m["login"]
    ok = gap.between(pd.Timedelta(minutes=30), pd.Timedelta(minutes=60))
    return Measured(float(ok.mean()), n=len(m))


def _event_session_id(v):
    try:
        obj = json.loads(v)
    except (TypeError, ValueError):
        return None
    return obj.get("session_id") if isinstance(obj, dict) else None


def completed_after_session(d):
    """Share of session_completed events 0-15 min after their session (event_data.session_id)
    ends."""
    ev, s = d.table("events"), d.table("sessions")
    sc = ev[ev["event_type"] == "session_completed"]
    if sc.empty:
        raise Skip("no session_completed events")
    ids = (sc["event_data"].map(_event_session_id) if "event_data" in sc
           else pd.Series(dtype=object))
    if ids.isna().all():
        raise Skip("event_data carries no session_id")
    m = pd.DataFrame({"session_id": ids, "t": sc["timestamp"]}).merge(
        s[["session_id", "session_datetime", "actual_duration_min"]], on="session_id", how="left")
    end = m["session_datetime"] + pd.to_timedelta(m["actual_duration_min"], unit="min")
    gap = m["t"] - end
    ok = gap.between(pd.Timedelta(0), pd.Timedelta(minutes=15))
    return Measured(float(ok.mean()), n=len(m))


def event_ratio(d, event_type, per_event_type):
    """Events of one type per event of another type (per email sent if that is None)."""
    ev = d.table("events")
    n = int((ev["event_type"] == event_type).sum())
    if per_event_type is None:
        den = int(d.table("interventions")["sent_at"].notna().sum())
        what = "emails sent"
    else:
        den = int((ev["event_type"] == per_event_type).sum())
        what = per_event_type
    if den == 0:
        raise Skip(f"no {what}")
    return Measured(n / den, n=den, text=f"{n / den:.3f} ({n} / {den} {what})")


# ----------------------------------------------------------------------------- the claims

rule(12, "event_id matches EV\\d{6} and is unique", level="event", needs=E, view="events",
     ok=id_pattern(r"EV\d{6}", "event_id"), ident="event_id")
fk(12, "events", "tutor_id", "profiles", level="event", ident="event_id")
enum(12, "events", "event_type", EVENT_TYPES, level="event", needs=E)
rule(12, "event_data is valid JSON", level="event", needs=E, view="events", ident="event_id",
     ok=valid_json("event_data"))
metric(12, "timestamp spans at most the window ('last 30 days')", level="event", needs=E,
       fn=partial(span_days, table="events", col="timestamp"), lo=0, hi=None)

# logins
metric(12, "logins per tutor per week", level="tutor", needs=E, lo=2, hi=5,
       fn=partial(per_tutor_rate, event_type="login", period_days=7))
metric(12, "'60% correlation': share of logins 1-4 h before one of the tutor's sessions",
       level="event", needs=("events", "sessions"), target=0.60,
       tol=SHARE_POINTS, binomial=True, fn=login_before_session,
       note="'60% correlation' read as a share")
metric(12, "login weekend/weekday volume per day ('~30% lower')", level="event", needs=E,
       target=0.70, tol=SHARE_POINTS,
       fn=partial(weekend_ratio, table="events", col="timestamp", event_type="login"))

# sessions
metric(12, "session_scheduled 30-60 min after a login of the tutor", level="event", needs=E,
       target=1.0, tol=0.05, target_text=">= 0.95", fn=scheduled_after_login)
metric(12, "session_completed event right after the session ends (0-15 min, via "
           "event_data.session_id)", level="event", needs=("events", "sessions"), target=1.0,
       tol=0.05, target_text=">= 0.95", fn=completed_after_session)

# profile and emails
metric(12, "profile_updated per tutor per month", level="tutor", needs=E, lo=1, hi=2,
       fn=partial(per_tutor_rate, event_type="profile_updated", period_days=30))
metric(12, "email_opened events per email sent (interventions with sent_at)", level="event",
       needs=("events", "interventions"), target=0.70, tol=SHARE_POINTS,
       fn=partial(event_ratio, event_type="email_opened", per_event_type=None), binomial=True)
metric(12, "email_clicked events per email_opened event", level="event", needs=E, lo=0.30,
       hi=0.40, fn=partial(event_ratio, event_type="email_clicked", per_event_type="email_opened"),
       binomial=True)
