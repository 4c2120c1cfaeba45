"""A tutor: persona-driven traits, a weekly timetable, and the decisions a tutor takes.

Traits are drawn once from the persona's distributions (scenario data). Decisions (move a
session, show up, quit) are Bernoulli draws from the tutor's own stream, with the probability
computed from traits and state; each returns that probability so the event log can say why.
"""
from __future__ import annotations

from collections import deque

import mesa

from agents.ids import tutor_id
from agents.traits import correlated_uniforms, draw, pick, quantile

MORNING_BLOCK = (8, 9, 10, 11)            # 8am-12pm
EVENING_BLOCK = (15, 16, 17, 18, 19, 20)  # 3pm-9pm
WEEKEND_BLOCK = tuple(range(8, 21))       # weekend tutors spread 8am-9pm
ODD_HOURS = (6, 22)                       # 6-7am, 10-11pm


class Tutor(mesa.Agent):
    """One tutor. `index` is 0-based; `tutor_id` is the spec's T0001 form."""

    def __init__(self, model, index: int, persona_name: str, traits, streams, primary_subject: str,
                 n_subjects: int):
        super().__init__(model)
        self.index = index
        self.tutor_id = tutor_id(index)
        self.persona = persona_name
        rng_traits = streams.stream("tutor", index, "traits")
        self.stream = streams.stream("tutor", index, "decisions")
        self.session_stream = streams.stream("tutor", index, "sessions")
        # the noise of what is observed in the tutor's sessions: standard normal draws, batched
        self.session_noise = streams.normals("tutor", index, "session_noise")
        self.primary_subject = primary_subject
        self.n_subjects = n_subjects
        # the clock counts minutes (the model's calendar says how many make a day)
        self.day_minutes = model.calendar.minutes_per_day
        self._draw_traits(traits, rng_traits, model.calendar)
        # state
        self.active = True
        self.quit_day: int | None = None
        self.booked_slots: set[int] = set()          # absolute hours with a session starting
        self.day_load: dict[int, int] = {}           # day -> sessions booked that day
        self.upcoming: dict = {}                    # sid -> Session not yet at its time (ordered)
        self.roster_load = 0.0                       # sessions a week wanted by the tutor's students
        self.inbox: deque = deque()                  # times the platform's emails reached the tutor
        self.unsubscribed = False                    # the tutor asked for no more of them
        self.lessons = 0.0                           # coaching calls had (self-study: its share)
        mail = model.settings.engagement.email
        self.inbox_memory = mail.memory_days * self.day_minutes   # how long an email weighs ...
        self.inbox_tolerance = mail.tolerance                      # ... and how many are taken calmly
        self.missed_sessions: deque = deque()        # times of the tutor's no-shows, last 30 days
        self.bookings = 0                            # sessions booked with the tutor
        self.intake: deque = deque()                 # times new students booked a first session
        self.moves = 0                               # of which the tutor moved
        self.last_session_time = 0.0
        self.completed = 0                           # sessions held in the simulation
        self.rating_sum = 0.0                        # of all ratings received in the simulation
        # what the platform shows new students (a prior until the tutor has ratings), and how much
        # it draws them (world/marketplace.py match): (shown / 5) ** students.rating_sensitivity
        self.rating_sensitivity = model.settings.students.rating_sensitivity
        platform = model.settings.platform
        self.prior_rating, self.prior_weight = platform.listing_prior_rating, platform.listing_prior_sessions
        self._show(self.prior_rating)                # sets shown_rating and appeal
        self.p_quit = float("nan")                   # today's quit hazard (decided at midnight)
        # (reliability, chance) last worked out by reschedule_ and no_show_probability_at
        self._move_chance = self._no_show_chance = (float("nan"), float("nan"))

    # --- traits ------------------------------------------------------------------------------
    def _draw_traits(self, t, rng, calendar):
        # seasoned tutors are more reliable: experience and reliability share a latent factor
        u_exp, u_rel = correlated_uniforms(self.model.settings.tutors.experience_reliability_rho, rng)
        self.months_experience = int(round(quantile(t.months_experience, u_exp)))
        self.reliability = quantile(t.reliability, u_rel)
        self.skill = draw(t.skill, rng)
        self.empathy = draw(t.empathy, rng)
        self.clarity = draw(t.clarity, rng)
        self.speak_style = draw(t.speak_style, rng)
        self.camera_habit = draw(t.camera_habit, rng)
        self.tech_setup = draw(t.tech_setup, rng)
        self.screen_share_habit = draw(t.screen_share_habit, rng)
        self.capacity_per_day = max(1, int(round(draw(t.capacity_per_day, rng))))
        self.hours_flex = draw(t.hours_flex, rng)
        self.historical_sessions_per_month = draw(t.historical_sessions_per_month, rng)
        self.quit_propensity = self.drawn_quit_propensity = draw(t.quit_propensity, rng)
        self.responsiveness = draw(t.responsiveness, rng)
        self.coachability = draw(t.coachability, rng)
        self.burnout_max = draw(t.burnout_max, rng)
        onset = draw(t.burnout_onset_day, rng) if t.burnout_onset_day is not None else None
        # burnout starts on a day of the window (negative: during the warm-up)
        self.burnout_onset = None if onset is None else calendar.window_start + onset * calendar.minutes_per_day
        self.certification = pick(t.certification, rng)
        others = [s for s in self.model.subjects if s != self.primary_subject]
        self.subjects = [self.primary_subject] + rng.sample(others, self.n_subjects - 1)
        self.weekend_only = rng.random() < t.weekend_only_share
        self.morning = rng.random() < t.morning_share
        self.odd_hours = rng.random() < t.odd_hours_share
        self._build_timetable(rng, draw(t.working_days, rng), t.weekend_day_weight)
        self._build_offer()

    def commit_more_hours(self, flex_gain: float, capacity_gain: int) -> None:
        """After coaching that asks for it: more willing to teach outside the preferred block, and
        more sessions a day; the offer and the weekly capacity follow."""
        self.hours_flex += flex_gain
        self.capacity_per_day += capacity_gain
        self._build_offer()

    def _build_offer(self):
        """Per weekday: the hours offered, with the tutor's willingness (1 in the preferred
        block, `hours_flex` outside it) and whether the hour is preferred."""
        self.offer = [tuple((h, 1.0, True) for h in self.preferred[wd])
                      + tuple((h, self.hours_flex, False) for h in self.flexible[wd]) for wd in range(7)]
        # the marketplace's products of this offer and a student's hour preferences, kept per
        # (student's hour profile + weekday) for as long as the offer stands (world/marketplace.py)
        self.offer_weights: dict = {}
        # sessions a week the tutor can really give: hours offered, up to the daily maximum; and
        # the share of them the tutor fills with their students' weekly sessions (the roster)
        self.weekly_capacity = sum(min(self.capacity_per_day, len(o)) for o in self.offer)
        self.roster_room = self.model.settings.platform.roster_fill * self.weekly_capacity
        self.model.tutor_changed(self)               # the room weighs the tutor in students' search

    def _build_timetable(self, rng, working_days: float, weekend_day_weight: float):
        """Preferred hours per weekday (0 = Monday) and the hours accepted if asked."""
        block = MORNING_BLOCK if self.morning else EVENING_BLOCK
        # hours next to the preferred block are accepted if asked; the other block is not
        near = (7, 12, 13, 14, 15, 16) if self.morning else (13, 14, 21)
        self.preferred = [() for _ in range(7)]
        self.flexible = [() for _ in range(7)]
        if self.weekend_only:
            for wd in (5, 6):
                self.preferred[wd] = WEEKEND_BLOCK
                self.flexible[wd] = (7, 21) + (ODD_HOURS if self.odd_hours else ())
            return
        n = max(1, min(7, int(round(working_days))))
        # weekends are worked less often than weekdays
        w = weekend_day_weight
        days = sorted(_weighted_sample(list(range(7)), [1, 1, 1, 1, 1, w, w], n, rng))
        for wd in days:
            self.preferred[wd] = block
            self.flexible[wd] = near + (ODD_HOURS if self.odd_hours else ())

    def traits(self) -> dict:
        """Ground truth: what the tutor is, which the platform would not see in full."""
        return {
            "tutor_id": self.tutor_id, "persona": self.persona,
            "months_experience": self.months_experience, "certification": self.certification,
            "subjects": ",".join(self.subjects), "primary_subject": self.primary_subject,
            "reliability": self.reliability, "skill": self.skill, "empathy": self.empathy,
            "clarity": self.clarity, "speak_style": self.speak_style,
            "camera_habit": self.camera_habit, "tech_setup": self.tech_setup,
            "screen_share_habit": self.screen_share_habit, "capacity_per_day": self.capacity_per_day,
            "hours_flex": self.hours_flex, "morning": self.morning, "weekend_only": self.weekend_only,
            "odd_hours": self.odd_hours,
            "working_weekdays": "".join(str(wd) for wd in range(7) if self.preferred[wd]),
            "historical_sessions_per_month": self.historical_sessions_per_month,
            "quit_propensity": self.quit_propensity, "responsiveness": self.responsiveness,
            "coachability": self.coachability, "burnout_onset_min": self.burnout_onset,
            "burnout_max": self.burnout_max,
        }


    # --- state ---------------------------------------------------------------------------------
    def burnout(self, t: float) -> float:
        if self.burnout_onset is None or t <= self.burnout_onset:
            return 0.0
        ramp = self.model.behaviour.burnout_ramp_days * self.day_minutes
        return self.burnout_max * min(1.0, (t - self.burnout_onset) / ramp)

    def reliability_now(self, t: float) -> float:
        """Reliability as it is today: burnout wears it down."""
        return self.reliability_at(self.burnout(t))

    def reliability_at(self, burnout: float) -> float:
        """Reliability at this level of burnout (`burnout(t)`, when it is already known)."""
        return self.reliability * (1.0 - self.model.behaviour.burnout_reliability_cut * burnout)

    def intake_since(self, t: float) -> int:
        """New students who booked a first session with the tutor since time t."""
        q = self.intake
        while q and q[0] < t:
            q.popleft()
        return len(q)

    def capacity_on(self, t: float) -> int:
        """Sessions the tutor takes on a day; burnout makes them take fewer."""
        b = self.burnout(t)
        if b <= 0.0:
            return self.capacity_per_day
        return max(1, int(round(self.capacity_per_day * (1.0 - self.model.behaviour.burnout_capacity_cut * b))))

    # --- decisions -----------------------------------------------------------------------------
    def reschedule_probability_at(self, reliability_now: float) -> float:
        """The chance of moving a session booked now, at today's reliability. (Reliability stays
        the same from session to session unless burnout or coaching moves it: the last answer is
        kept, and worked out again only for another reliability.)"""
        if reliability_now != self._move_chance[0]:
            b = self.model.behaviour
            self._move_chance = (reliability_now,
                                 min(0.95, b.reschedule_scale * (1 - reliability_now) ** b.reschedule_power))
        return self._move_chance[1]

    def no_show_probability_at(self, reliability_now: float) -> float:
        """The chance of missing a session, at today's reliability (kept as above)."""
        if reliability_now != self._no_show_chance[0]:
            b = self.model.behaviour
            self._no_show_chance = (reliability_now,
                                    min(0.95, b.no_show_scale * (1 - reliability_now) ** b.no_show_power))
        return self._no_show_chance[1]

    def quit_factors(self, t: float, recent) -> list[float]:
        """Today's multipliers of the quit propensity, one per cause in agents/decisions.py QUIT_CAUSES order, each
        (1 + the scenario's gain x how much of the cause the tutor lives with). `recent` is the
        tutor's last 30 days as they lived them (decisions.py RECENT_FIELDS: sessions held in 7 and 30 days,
        mean ratings, mean engagement, first sessions and how many went poorly, their own
        no-shows, sessions that reached their time, sessions they moved)."""
        b = self.model.behaviour
        n7, n30, rating7, rating30, engagement30, firsts, poor_firsts, no_shows, outcomes, moves = recent
        low = decline = poor = low_eng = slow = 0.0
        if n7:
            low = max(0.0, b.quit_rating_floor - rating7)
            if n30 > n7:
                decline = max(0.0, rating30 - rating7)
        if firsts:
            poor = poor_firsts / firsts
        if n30:
            low_eng = max(0.0, b.quit_engagement_floor - engagement30)
            # the last 7 days against the weekly pace of the last 30 (of the days simulated so far)
            span = min(30.0, t / self.day_minutes)
            if span > 7.0:
                slow = max(0.0, 1.0 - n7 * span / (7.0 * n30))
        moved = moves / (outcomes + moves) if moves else 0.0
        annoyed = max(0, self.emails_recent(t) - self.inbox_tolerance)
        idle = t - self.last_session_time > 7 * self.day_minutes
        return [b.quit_certification_factor[self.certification],
                1.0 + b.quit_burnout_gain * self.burnout(t),
                1.0 + b.quit_low_rating_gain * low,
                1.0 + b.quit_rating_decline_gain * decline,
                1.0 + b.quit_poor_first_gain * poor,
                1.0 + b.quit_no_show_gain * no_shows,
                1.0 + b.quit_reschedule_gain * moved,
                1.0 + b.quit_low_engagement_gain * low_eng,
                1.0 + b.quit_activity_gain * slow,
                1.0 + b.quit_idle_gain if idle else 1.0,
                1.0 + b.quit_email_gain * annoyed]

    def quit_probability(self, t: float, recent) -> float:
        """Today's hazard of leaving the platform: the propensity x every cause's multiplier."""
        p = self.quit_propensity
        for m in self.quit_factors(t, recent):
            p *= m
        return min(1.0, p)

    def emails_recent(self, t: float) -> int:
        """The platform's emails the tutor received in the last `engagement.email.memory_days`."""
        q = self.inbox
        since = t - self.inbox_memory
        while q and q[0] < since:
            q.popleft()
        return len(q)

    def decide(self, p: float) -> bool:
        return self.stream.random() < p

    # --- the tutor's day -----------------------------------------------------------------------
    def day_loop(self):
        """Every midnight the tutor may decide to stop tutoring for good."""
        env = self.model.env
        while self.active:
            yield env.timeout(self.day_minutes)
            p = self.p_quit = self.quit_probability(env.now, self.model.tutor_recent(self))
            self.model.tutor_weighed_quitting(p)
            if self.decide(p):
                self.model.tutor_quits(self, p)

    def note_session(self, t: float, rating: float | None):
        self.last_session_time = t
        if rating is not None:
            self.completed += 1
            self.rating_sum += rating
            # shrunk towards the platform's prior until the tutor has a few ratings, as listings do
            self._show((self.rating_sum + self.prior_rating * self.prior_weight)
                       / (self.completed + self.prior_weight))

    def _show(self, rating: float) -> None:
        """The rating new students see, and the appeal it gives the tutor in their search."""
        self.shown_rating = rating
        self.appeal = (rating / 5.0) ** self.rating_sensitivity
        self.model.tutor_changed(self)               # the marketplace's index weighs the appeal


def _weighted_sample(items, weights, k, rng):
    """k distinct items, drawn without replacement with the given weights."""
    items, weights, out = list(items), list(weights), []
    for _ in range(min(k, len(items))):
        i = rng.choices(range(len(items)), weights=weights)[0]
        out.append(items.pop(i))
        weights.pop(i)
    return out
