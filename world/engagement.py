"""Tutors' own activity on the platform (spec section 12): logins and what a login leads to.

Every midnight each active tutor decides whether they will log in that day: the chance is their
weekly habit (`login_rate` x the `responsiveness` trait, less when burned out) spread over the
week, lower at weekends. A tutor who has a session that day often logs in 1-4 h before the first
one (preparing it); otherwise they log in at their usual time (morning tutors 8-10am, evening
tutors 6-9pm). During a login the tutor may schedule (confirm) their next upcoming sessions 30-60
minutes later (at most `schedule_max_per_login`), message a student, or update the profile. A
session that a tutor scheduled in the platform is marked completed there right after it ends
(the session desk tells us).

What the tables see as engagement events is this activity: tutor-initiated platform actions.
Sessions themselves are in sessions.csv; only the sessions a tutor handled in the platform
appear here (see output/platform_tables.py).

The login decisions use the tutor's own "engagement" stream, the in-login actions a separate
"platform_actions" stream, so switching the actions off (outputs.engagement_events = false)
leaves every login, and everything that follows from logins, unchanged.
"""
from __future__ import annotations

from operator import attrgetter

from agents.traits import pick
from world.clock import MINUTES_PER_DAY
from world.events import COMPLETED, DEVICES, MESSAGE, PROFILE, PROFILE_FIELDS, SCHEDULED, position

HOME_DEVICES = (0, 1)          # desktop and laptop connect from home; the others from a carrier
END = position("session_observed", "t")     # the session's end time in a session_observed row
# the order of a tutor's upcoming sessions: soonest first, then booked first (a C-level key: the
# same tuples a lambda would build, at a fraction of the cost, for every login)
START_THEN_SID = attrgetter("start", "sid")


def ip_text(ip: int) -> str:
    """The dotted form of an address stored as an unsigned 32-bit number."""
    ip = int(ip)
    return f"{ip >> 24}.{(ip >> 16) & 255}.{(ip >> 8) & 255}.{ip & 255}"


class Habits:
    """A tutor's platform habits: drawn once from their own stream."""
    __slots__ = ("rng", "actions_rng", "rate", "device", "home_ip", "p_today")


class Engagement:
    def __init__(self, model):
        self.model = model
        self.env = model.env
        self.rec = model.recorder
        self.cfg = model.settings.engagement
        # in-login actions are only ever seen in engagement_events.csv: not simulated when that
        # table is off, nor in the look-ahead after the window (churn labels only)
        self.detail_until = model.calendar.window_end if model.settings.outputs.engagement_events else -1.0
        self.is_weekend = model.calendar.is_weekend_day
        self.horizon_minutes = self.cfg.schedule_horizon_hours * 60.0
        self.listeners: list = []            # objects with tutor_logged_in(tutor, t)
        self.scheduled: set[int] = set()     # sessions a tutor scheduled in the platform
        self.habits = [self._habits(t, model.streams) for t in model.tutors]
        model.desk.listeners.append(self)

    def _habits(self, tutor, streams) -> Habits:
        h = Habits()
        h.rng = streams.stream("tutor", tutor.index, "engagement")
        h.actions_rng = streams.stream("tutor", tutor.index, "platform_actions")
        h.device = DEVICES.index(pick(self.cfg.devices, h.rng))
        h.home_ip = (10 << 24) | h.rng.getrandbits(24)
        h.rate = self.cfg.login_rate * tutor.responsiveness
        h.p_today = float("nan")             # today's login probability (the daily table reads it)
        return h

    def _device(self, h: Habits, rng) -> tuple[int, int]:
        """Device of this login and the address it comes from."""
        device = h.device if rng.random() < self.cfg.device_habit else DEVICES.index(pick(self.cfg.devices, rng))
        if device in HOME_DEVICES:
            return device, h.home_ip
        return device, (100 << 24) | ((64 | rng.getrandbits(6)) << 16) | rng.getrandbits(16)

    # --- the day's logins ------------------------------------------------------------------------
    def run(self):
        env = self.env
        day = int(env.now // MINUTES_PER_DAY)
        while True:
            for when, index, sid, p in self._plan(day):
                if when > env.now:
                    yield env.timeout(when - env.now)
                self._login(self.model.tutors[index], sid, p)
            day += 1
            yield env.timeout(day * MINUTES_PER_DAY - env.now)

    def _plan(self, day: int) -> list[tuple]:
        """At midnight: who logs in today, when, and (pre-session logins) before which session."""
        cfg = self.cfg
        start = day * MINUTES_PER_DAY
        day_factor = (cfg.weekend_factor if self.is_weekend(day) else 1.0) / (5.0 + 2.0 * cfg.weekend_factor)
        earliest = start + cfg.earliest_login_hour * 60.0
        lo, hi = cfg.pre_session_lead_hours
        # read once a day, not once per tutor (a scenario section's attribute costs more than a local)
        burnout_drop, pre_session_share, habits = cfg.burnout_login_drop, cfg.pre_session_share, self.habits
        min_lead = lo * 60.0 + 30.0
        end = start + MINUTES_PER_DAY
        plan = []
        for tutor in self.model.tutors:
            if not tutor.active:
                continue
            h = habits[tutor.index]
            rng = h.rng
            p = h.p_today = min(1.0, h.rate * day_factor * (1.0 - burnout_drop * tutor.burnout(start)))
            if rng.random() >= p:
                continue
            when, sid = None, -1
            if rng.random() < pre_session_share:
                first = None
                for s in tutor.upcoming.values():
                    # room for a lead of at least `lo` hours and half an hour more
                    if (start <= s.start < end and s.start - earliest >= min_lead
                            and (first is None or s.start < first.start)):
                        first = s
                if first is not None:
                    lead = rng.uniform(lo, min(hi, (first.start - earliest) / 60.0))
                    when, sid = first.start - lead * 60.0, first.sid
            if when is None:
                a, b = cfg.peak_hours["morning" if tutor.morning else "evening"]
                when = start + rng.uniform(a, b) * 60.0
            plan.append((when, tutor.index, sid, p))
        plan.sort()
        return plan

    def _login(self, tutor, sid: int, p: float) -> None:
        if not tutor.active:
            return
        t = self.env.now
        h = self.habits[tutor.index]
        device, ip = self._device(h, h.rng)
        self.rec.tutor_login.append((t, tutor.index, 1 if sid >= 0 else 0, device, ip, sid, p))
        for listener in self.listeners:
            listener.tutor_logged_in(tutor, t)
        if t < self.detail_until:
            self._actions(tutor, h, t, sid, device, ip)

    # --- what a login leads to -------------------------------------------------------------------
    def _actions(self, tutor, h: Habits, t: float, sid: int, device: int, ip: int) -> None:
        cfg = self.cfg
        rng = h.actions_rng
        rec = self.rec.tutor_action
        soon = self._upcoming(tutor, t)
        # the session the tutor logged in for first, then the soonest ones not scheduled yet
        first = tutor.upcoming.get(sid) if sid >= 0 else None
        targets = ([first] if first is not None else []) + [s for s in soon if s is not first]
        targets = [s for s in targets if s.sid not in self.scheduled][:cfg.schedule_max_per_login]
        for target in targets:
            if rng.random() >= cfg.schedule_prob:
                continue
            at = t + rng.uniform(*cfg.schedule_after_login_minutes)
            if at < target.start:
                self.scheduled.add(target.sid)
                rec.append((at, tutor.index, SCHEDULED, target.sid, target.student.index, device, ip, -1,
                            cfg.schedule_prob))
        if soon and rng.random() < cfg.message_prob:
            # a welcome to a new student if one is coming, else a reminder to the next one
            s = next((s for s in soon if s.first), soon[0])
            at = t + rng.uniform(*cfg.message_delay_minutes)
            rec.append((at, tutor.index, MESSAGE, s.sid, s.student.index, device, ip,
                        0 if s.first else 1, cfg.message_prob))
        if rng.random() < cfg.profile_update_prob:
            at = t + rng.uniform(*cfg.profile_delay_minutes)
            rec.append((at, tutor.index, PROFILE, -1, -1, device, ip, rng.randrange(len(PROFILE_FIELDS)),
                        cfg.profile_update_prob))

    def _upcoming(self, tutor, t: float) -> list:
        """The tutor's sessions starting between an hour from now and the horizon, soonest first."""
        lo, hi = t + 60.0, t + self.horizon_minutes
        soon = [s for s in tutor.upcoming.values() if lo <= s.start <= hi]
        soon.sort(key=START_THEN_SID)
        return soon

    # --- the session desk tells us how sessions went ---------------------------------------------
    def session_happened(self, s, t: float, held: bool, tutor_showed: bool, row) -> None:
        if s.sid not in self.scheduled:
            return
        self.scheduled.discard(s.sid)
        if held and t < self.detail_until:
            h = self.habits[s.tutor.index]
            rng = h.actions_rng
            at = row[END] + rng.uniform(*self.cfg.completed_delay_minutes)
            device, ip = self._device(h, rng)
            self.rec.tutor_action.append((at, s.tutor.index, COMPLETED, s.sid, s.student.index, device, ip, -1, 1.0))

    def session_moved(self, s, mover: int, t: float) -> None:
        pass
