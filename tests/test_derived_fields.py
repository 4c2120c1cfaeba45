"""The published aggregates and profile counts are what the run's own records give: tutor_aggregates
is a platform job over sessions.csv (spec section 7's churn rule included), and reschedule_rate
and no_show_count count the tutor's history in the event log and sessions.csv.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from tests.conftest import CHURN


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
