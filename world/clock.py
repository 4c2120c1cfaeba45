"""Simulated time: minutes since the start of the warm-up, and the observed window."""
from __future__ import annotations

import datetime as dt

import simpy
from simpy.events import NORMAL, URGENT

MINUTES_PER_HOUR = 60
MINUTES_PER_DAY = 24 * 60


class Bell(simpy.Event):
    """The start of an hour, for the sessions booked at it (world/sessions.py): an event that
    strikes `delay` minutes from now, before the ordinary events due at the same minute (a platform
    job at 09:00 sees the sessions that began at 09:00, whenever they were booked)."""

    def __init__(self, env: Clock, delay: float):
        if delay < 0:
            raise ValueError(f"Negative delay {delay}")
        super().__init__(env)
        self.delay = delay
        self.succeed()              # its value is set now; the Clock schedules it at its hour


class Clock(simpy.Environment):
    """SimPy's environment, with one addition through its public `schedule`: a Bell is scheduled
    at its delay with SimPy's URGENT priority, which SimPy takes before NORMAL events of the same
    time. Everything else is scheduled as SimPy schedules it."""

    def schedule(self, event: simpy.Event, priority=NORMAL, delay: float = 0) -> None:
        if event.__class__ is Bell:
            priority, delay = URGENT, event.delay
        super().schedule(event, priority, delay)


class Calendar:
    """The warm-up runs first, from a midnight; the window (what the tables show) is the
    `window_days` days before `window_end`: a date (the window ends at its midnight) or a
    date-time to the minute (it ends then: the clock still starts at a midnight, so the warm-up
    begins that many minutes earlier in the day and the window's last day is cut at that time)."""

    def __init__(self, window_end: str, window_days: int, warmup_days: int, lookahead_days: int = 0):
        self.minutes_per_day = MINUTES_PER_DAY
        self.window_days = window_days
        self.warmup_days = warmup_days
        self.total_days = window_days + warmup_days                  # whole days of warm-up + window
        # the look-ahead is simulated after the window (churn labels only)
        self.lookahead_days = lookahead_days
        end = dt.datetime.fromisoformat(window_end)
        midnight = end.replace(hour=0, minute=0, second=0, microsecond=0)
        self.end_offset = (end - midnight).total_seconds() / 60.0    # minutes after the last midnight
        self.window_end_dt = end
        self.window_start_dt = end - dt.timedelta(days=window_days)
        self.start_dt = midnight - dt.timedelta(days=self.total_days)
        self.window_start = warmup_days * MINUTES_PER_DAY + self.end_offset          # in minutes
        self.window_end = self.total_days * MINUTES_PER_DAY + self.end_offset
        self.lookahead_end = self.window_end + lookahead_days * MINUTES_PER_DAY
        # days the clock enters: a window ending in the day's course starts one more
        self.sim_days = self.total_days + lookahead_days + (1 if self.end_offset else 0)
        self.first_weekday = self.start_dt.weekday()                 # of day 0; Monday = 0

    def weekday(self, day: int) -> int:
        return (self.first_weekday + day) % 7

    def is_weekend_day(self, day: int) -> bool:
        return self.weekday(day) >= 5

    def to_datetime(self, t: float) -> dt.datetime:
        return self.start_dt + dt.timedelta(minutes=float(t))
