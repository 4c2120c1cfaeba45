"""Simulated time: minutes since the start of the warm-up, and the observed window."""
from __future__ import annotations

import datetime as dt

MINUTES_PER_HOUR = 60
MINUTES_PER_DAY = 24 * 60


def settle(env):
    """A zero-delay wait: whatever was already due at this minute happens first. (SimPy takes the
    events of one time and priority in the order they were scheduled, so a platform job that wakes
    at 09:00 and settles sees every session that began at 09:00, whenever it was booked.)"""
    return env.timeout(0)


class Calendar:
    """The warm-up runs first; the window (what the tables show) ends at `window_end` midnight."""

    def __init__(self, window_end: str, window_days: int, warmup_days: int, lookahead_days: int = 0):
        self.minutes_per_day = MINUTES_PER_DAY
        self.window_days = window_days
        self.warmup_days = warmup_days
        self.total_days = window_days + warmup_days                  # warm-up + window
        # the look-ahead is simulated after the window (churn labels only): sim_days in all
        self.lookahead_days = lookahead_days
        self.sim_days = self.total_days + lookahead_days
        end = dt.datetime.fromisoformat(window_end)
        self.window_end_dt = end
        self.start_dt = end - dt.timedelta(days=self.total_days)
        self.window_start = warmup_days * MINUTES_PER_DAY          # in minutes
        self.window_end = self.total_days * MINUTES_PER_DAY
        self.lookahead_end = self.sim_days * MINUTES_PER_DAY
        self.first_weekday = self.start_dt.weekday()                 # of day 0; Monday = 0

    def weekday(self, day: int) -> int:
        return (self.first_weekday + day) % 7

    def is_weekend_day(self, day: int) -> bool:
        return self.weekday(day) >= 5

    def to_datetime(self, t: float) -> dt.datetime:
        return self.start_dt + dt.timedelta(minutes=float(t))
