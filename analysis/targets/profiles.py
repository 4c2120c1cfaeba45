"""Section 1: tutor profiles (tutor_profiles.csv)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.targets.tolerance import SHARE_POINTS
from analysis.targets.checks import (Measured, Skip, corr, enum, field, figure, metric, rng,
                                     rule, share, shares)
from analysis.targets.columns import P, SUBJECTS
from analysis.targets.predicates import (above, at_least, between, equals, id_pattern, is_false,
                                         is_true, same, true)
from analysis.targets.views import window_end

# ------------------------------------------------------------------ custom measurements


def history_of_8_a_month(df: pd.DataFrame) -> pd.Series:
    """total_sessions_completed >= 8 x months_experience."""
    return df["total_sessions_completed"] >= 8 * df["months_experience"]


def subjects_taught_valid(df: pd.DataFrame) -> pd.Series:
    """subjects_taught is a comma-separated list of 1-3 distinct spec subjects."""
    return df["subjects_taught"].astype("string").str.split(",").map(
        lambda xs: isinstance(xs, list) and 1 <= len(xs) <= 3 and len(set(xs)) == len(xs)
        and all(x.strip() in SUBJECTS for x in xs)).astype(bool)


def subject_count(df: pd.DataFrame) -> pd.Series:
    """The number of subjects in subjects_taught."""
    return df["subjects_taught"].astype("string").str.split(",").str.len()


def primary_subject_taught(df: pd.DataFrame) -> pd.Series:
    """primary_subject is a spec subject listed in the tutor's subjects_taught."""
    return pd.Series([isinstance(s, str) and isinstance(p, str) and p in SUBJECTS
                      and p in [x.strip() for x in s.split(",")]
                      for s, p in zip(df["subjects_taught"], df["primary_subject"])],
                     index=df.index, dtype=bool)


def cert_retention(d):
    """Active share of Advanced and Expert tutors minus active share of Basic tutors."""
    p = d.table("profiles")
    act = is_true(p["active_status"])
    hi_cert = p["certification_level"].isin(["Advanced", "Expert"])
    basic = p["certification_level"] == "Basic"
    if not hi_cert.any() or not basic.any():
        raise Skip("no Basic or no Advanced/Expert tutors")
    return Measured(act[hi_cert].mean() - act[basic].mean(), n=int((hi_cert | basic).sum()))


def rating_skewness(d):
    """Sample skewness of avg_historical_rating."""
    r = d.table("profiles")["avg_historical_rating"]
    return Measured(float(r.skew()), n=int(r.notna().sum()))


def no_shows_as_in_sessions(df: pd.DataFrame, d) -> pd.Series:
    """no_show_count is the number of the tutor's sessions in sessions.csv with tutor_showed
    False (the window's no-shows)."""
    s = d.table("sessions")
    missed = is_false(s["tutor_showed"]).groupby(s["tutor_id"]).sum()
    return df["no_show_count"] == df["tutor_id"].map(missed).fillna(0)


def reschedules_as_recorded(d):
    """r(reschedule_rate, the tutor's tutor-initiated reschedules in ground_truth/reschedules.csv
    over their sessions in sessions.csv): the rate also counts the warm-up's sessions and moves,
    so the two agree closely, not exactly."""
    p, s, r = d.table("profiles"), d.table("sessions"), d.table("reschedules")
    r = r[r["initiated_by"] == "tutor"].merge(s[["session_id", "tutor_id"]], on="session_id")
    rate = (r.groupby("tutor_id").size() / s.groupby("tutor_id").size()).fillna(0)
    x = p["tutor_id"].map(rate).fillna(0)
    if len(p) < 4 or x.std() == 0 or p["reschedule_rate"].std() == 0:
        raise Skip("too few tutors or no reschedules")
    value = float(np.corrcoef(x, p["reschedule_rate"])[0, 1])
    return Measured(value, n=len(p), text=f"r {value:+.3f} (n={len(p)})")


def active_iff_not_stopped(df: pd.DataFrame, d) -> pd.Series:
    """active_status is False exactly for the tutors who stopped (quit or were suspended) before
    the window's end, as ground_truth/churn_labels.csv records."""
    labels = d.table("labels").set_index("tutor_id")["churned_at"]
    stopped = df["tutor_id"].map(labels) < window_end(d)
    return is_false(df["active_status"]) == stopped.fillna(False)


def inactive_sessions(d):
    """Mean sessions in the window of inactive tutors minus that of active tutors (a tutor
    without sessions counts 0)."""
    p = d.table("profiles")[["tutor_id", "active_status"]]
    a = d.view("activity")[["tutor_id", "sessions"]]
    m = p.merge(a, on="tutor_id", how="left").fillna({"sessions": 0})
    act = is_true(m["active_status"])
    if act.all() or not act.any():
        raise Skip("no inactive (or no active) tutors")
    return Measured(m.loc[~act, "sessions"].mean() - m.loc[act, "sessions"].mean(), n=len(m),
                    text=f"{m.loc[~act, 'sessions'].mean():.1f} vs "
                         f"{m.loc[act, 'sessions'].mean():.1f} sessions")


# ----------------------------------------------------------------------------- the claims

rule(1, "tutor_id matches T\\d{4} and is unique", level="tutor", needs=P, view="profiles",
     ok=id_pattern(r"T\d{4}", "tutor_id"), ident="tutor_id")

# months_experience
field(1, "profiles", "months_experience", level="tutor", needs=P, family="gamma",
      params=(2, 12), lo=1, hi=120, mean=24, sd=17, integer=True,
      note="Gamma(2, 12): mean 24, SD 17")
share(1, "'most tutors 6-36 months': share with 6 <= months <= 36", level="tutor", needs=P,
      view="profiles", pred=between("months_experience", 6, 36), lo=0.50, hi=None,
      note="Gamma(2, 12) gives 73%; 'most' read as > 50%")
share(1, "'few veterans 5+ years': share with months > 60", level="tutor", needs=P,
      view="profiles", pred=above("months_experience", 60), target=0.04,
      note="Gamma(2, 12) tail beyond 60 months is 4%")

# total_sessions_completed
rng(1, "profiles", "total_sessions_completed", 8, 3000, level="tutor", needs=P, integer=True)
corr(1, "total_sessions_completed ~ months * uniform(8, 25): months_experience vs "
        "total_sessions_completed", level="tutor", needs=P, view="profiles",
     x="months_experience", y="total_sessions_completed", target=0.89,
     note="r = 0.89 when drawn by the spec's formula (simulated)")
share(1, "total_sessions_completed >= 8 x months_experience (history of at least 8 a month, "
         "plus the sessions held in the simulation)", level="tutor", needs=P,
      view="profiles", pred=history_of_8_a_month,
      target=1.0, note="see 'total_sessions_completed' in the contradictions")

# certification_level
enum(1, "profiles", "certification_level", ("Basic", "Advanced", "Expert"), level="tutor",
     needs=P)
shares(1, "certification_level Basic/Advanced/Expert", level="tutor", needs=P,
       view="profiles", col="certification_level",
       targets={"Basic": 0.50, "Advanced": 0.35, "Expert": 0.15})
metric(1, "'higher certification = better retention': active share of Advanced+Expert "
          "minus active share of Basic", level="tutor", needs=P,
       fn=cert_retention, lo=0.0, hi=None,
       note="spec gives no size; we require the sign")

# avg_historical_rating
field(1, "profiles", "avg_historical_rating", level="tutor", needs=P, family="beta",
      params=(8, 2), lo=2.0, hi=5.0, mean=4.2, sd=0.36, sd_check=False,
      note="the SD of Beta(8, 2) scaled to 2-5 (0.36) sets the band; its own mean is 4.4",
      mean_key="historical_rating_mean")
metric(1, "avg_historical_rating 'skewed high': sample skewness", level="tutor", needs=P,
       lo=None, hi=0.0, target_text="< 0", fn=rating_skewness, key="historical_rating_skew",
       note="Beta(8, 2) has skewness -0.88")
corr(1, "'correlates with experience': months_experience vs avg_historical_rating",
     level="tutor", needs=P, view="profiles", x="months_experience", y="avg_historical_rating",
     lo=0.0, hi=None, note="positive; '+0.15 max' conflicts with the personas (see contradictions)")

# reliability_score, reschedule_rate
field(1, "profiles", "reliability_score", level="tutor", needs=P, family="beta", params=(8, 2),
      lo=0.0, hi=1.0, mean=0.80, sd=0.12, note="Beta(8, 2): mean 0.80, SD 0.12",
      mean_key="reliability_mean")
rng(1, "profiles", "reschedule_rate", 0.0, 0.35, level="tutor", needs=P)
figure("profiles", "reschedule_rate", P, "none", lo=0.0, hi=0.35, markers=(0.15, 0.20))
corr(1, "reschedule_rate is 'inverse reliability': reliability_score vs reschedule_rate",
     level="tutor", needs=P, view="profiles", x="reliability_score", y="reschedule_rate",
     lo=-1.0, hi=-0.30, note="spec gives no coefficient; we require r <= -0.30")

# no_show_count, reschedules
rng(1, "profiles", "no_show_count", 0, 10, level="tutor", needs=P, integer=True)
figure("profiles", "no_show_count", P, "poisson_mix", (0.16, 3), lo=0, hi=10, markers=(2.5,))
share(1, "'16% of tutors have no-show issues': share with no_show_count >= 3", level="tutor",
      needs=P, view="profiles", pred=at_least("no_show_count", 3), target=0.16,
      key="no_show_tutors", note="threshold of the churn signal (no_show_count > 2)")
share(1, "'98.2% of reschedules tutor-initiated' (ground_truth/reschedules.csv)",
      level="reschedule", needs=("reschedules",), view="reschedules",
      pred=equals("initiated_by", "tutor"), target=0.982, hi=1.0,
      lo=0.982 - SHARE_POINTS, note="not measurable from the spec tables")

# subjects
rule(1, "subjects_taught lists 1-3 distinct spec subjects", level="tutor", needs=P,
     view="profiles", ident="tutor_id", ok=subjects_taught_valid)
shares(1, "number of subjects taught 1/2/3", level="tutor", needs=P, view="profiles",
       col=subject_count, targets={1: 0.40, 2: 0.40, 3: 0.20}, label="subjects taught")
rule(1, "primary_subject is a spec subject and one of subjects_taught", level="tutor", needs=P,
     view="profiles", ident="tutor_id", ok=primary_subject_taught)
shares(1, "primary_subject uniform over 6 subjects", level="tutor", needs=P, view="profiles",
       col="primary_subject", targets={s: 1 / 6 for s in SUBJECTS})
share(1, "'most sessions in this subject': sessions held in the tutor's primary_subject",
      level="session", needs=("sessions", "profiles"), view="sessions+",
      pred=same("subject", "primary_subject"), lo=0.50, hi=None,
      key="primary_subject_sessions",
      note="measured over sessions joined to profiles; 'most' read as > 50%")

rule(1, "no_show_count is the tutor's sessions in sessions.csv with tutor_showed False",
     level="tutor", needs=("profiles", "sessions"), view="profiles", ident="tutor_id",
     ok=no_shows_as_in_sessions, with_data=True)
metric(1, "reschedule_rate agrees with the tutor's own moves in ground_truth/reschedules.csv "
          "over their sessions", level="tutor", needs=("profiles", "sessions", "reschedules"),
       fn=reschedules_as_recorded, lo=0.80, hi=1.0, target_text="r >= 0.80",
       note="the rate also counts the warm-up's sessions and moves")

# active_status
share(1, "active_status True", level="tutor", needs=P, view="profiles",
      pred=true("active_status"), target=0.92)
rule(1, "active_status is False iff the tutor stopped before the window's end "
        "(ground_truth/churn_labels.csv)", level="tutor", needs=("profiles", "labels"),
     view="profiles", ident="tutor_id", ok=active_iff_not_stopped, with_data=True)
metric(1, "'inactive tutors don't get scheduled': mean sessions in the window of inactive "
          "tutors minus active tutors", level="tutor", needs=("profiles", "sessions"),
       fn=inactive_sessions, lo=None, hi=0.0,
       note="tutors who quit during the window keep their earlier sessions; we require fewer")
