"""Formulas the platform applies to observations (spec sections 4 and 7).

These are not behaviour: they are how the platform scores what it observed, used both by the
session observer (engagement score) and by the aggregates job and the daily intervention job
(churn signals, probability, risk level). They work on numbers or on numpy arrays alike.
"""
from __future__ import annotations

import numpy as np


def speak_balance(speak_ratio, width: float):
    """1 at an even 50/50 split, falling to 0 at |ratio - 0.5| >= width."""
    return np.clip(1.0 - np.abs(np.asarray(speak_ratio) - 0.5) / width, 0.0, 1.0)


def engagement_score(attention_pct, balance, sentiment):
    """The spec's composite: (attention*0.4 + balance*30 + (sentiment+1)*15) / 10, on 1..10."""
    return np.clip((np.asarray(attention_pct) * 0.4 + balance * 30.0 + (sentiment + 1.0) * 15.0) / 10.0, 1.0, 10.0)


def engagement_score_scalar(attention_pct: float, speak_ratio: float, sentiment: float, width: float) -> float:
    balance = max(0.0, 1.0 - abs(speak_ratio - 0.5) / width)
    return min(10.0, max(1.0, (attention_pct * 0.4 + balance * 30.0 + (sentiment + 1.0) * 15.0) / 10.0))


def churn_signals(cfg, *, rating_7d, rating_30d, engagement, reschedule_rate, first_session_avg,
                  no_show_count, sessions_7d, sessions_30d) -> dict[str, np.ndarray]:
    """Each signal of spec section 7 as a boolean array (missing values never fire a signal)."""
    r7, r30 = np.asarray(rating_7d, float), np.asarray(rating_30d, float)
    with np.errstate(invalid="ignore"):
        return {
            "declining_ratings": np.nan_to_num(r7 < r30 - cfg.declining_rating_drop, nan=0).astype(bool),
            "low_engagement": np.nan_to_num(np.asarray(engagement, float) < cfg.low_engagement, nan=0).astype(bool),
            "high_reschedule_rate": np.asarray(reschedule_rate, float) > cfg.high_reschedule_rate,
            "poor_first_sessions": np.nan_to_num(np.asarray(first_session_avg, float) < cfg.poor_first_session, nan=0).astype(bool),
            "no_shows": np.asarray(no_show_count) > cfg.no_show_count,
            "declining_activity": np.asarray(sessions_7d) < np.asarray(sessions_30d) * cfg.declining_activity_ratio,
        }


def churn_score(cfg, signals: dict[str, np.ndarray], noise: np.ndarray):
    """Weighted signal count, probability (capped) and risk level."""
    count = sum(s.astype(int) * (cfg.poor_first_session_weight if name == "poor_first_sessions" else 1)
                for name, s in signals.items())
    prob = np.minimum(np.minimum(count * cfg.per_signal, cfg.cap) + noise * cfg.noise_max, cfg.cap)
    level = np.where(prob >= cfg.high, "High", np.where(prob >= cfg.medium, "Medium", "Low"))
    return count, prob, level
