"""A student: what they came for, when they like to learn, and how they judge a session.

Students arrive (the platform's acquisition), book a tutor, and after every session decide to
continue, switch tutor or leave, from how the session went and their patience.
"""
from __future__ import annotations

import mesa

from agents.decision_stream import DecisionStream
from agents.decisions import CONTINUE, DONE, LEAVE, SWITCH
from agents.traits import draw, pick


class Student(mesa.Agent):
    def __init__(self, model, index: int, streams, existing: bool = False):
        super().__init__(model)
        self.index = index
        # one stream per student: traits are drawn first, in a fixed order, then decisions, which
        # the student keeps as the stream's next numbers (agents/decision_stream.py)
        self.streams = streams
        rng = streams.stream("student", index)
        (self.grade, self.subject, self.duration, self.cadence, self.attention, self.no_show_prob,
         self.reschedule_prob, self.goal_sessions, self.patience, self.rating_bias, self.tech_setup,
         prior) = self._traits(rng, model.settings.students, existing)
        self.stream = DecisionStream(rng, self._remade_stream)
        self.days_between_sessions = 7.0 / self.cadence
        self.hour_weight = model.hour_weights[self.grade]      # [weekday][hour], shared by grade
        self.hour_profile = model.hour_profiles[self.grade]    # its number, for the marketplace's caches
        # state
        self.active = True
        self.tutor = None
        self.tutors_seen: set[int] = set()
        self.booked = None                  # the session booked next (world/sessions.py)
        self.journey = None                 # the SimPy process that waits for it
        self.arrived_at = model.env.now
        self.existing = existing
        self.sessions_done = self.prior_sessions = prior

    @staticmethod
    def _traits(rng, sc, existing: bool) -> tuple:
        """The traits, in the order the stream draws them, and the sessions behind a student who was
        one before the simulation started."""
        grade = pick(sc.grade_weights, rng)
        subject = pick(sc.subject_weights, rng)
        duration = int(pick(sc.duration_weights[grade], rng))
        cadence = int(pick(sc.cadence_weights, rng))          # sessions per week
        attention = draw(sc.attention, rng)
        no_show_prob = draw(sc.no_show_prob, rng)
        reschedule_prob = draw(sc.reschedule_prob, rng)
        goal_sessions = max(1, int(round(draw(sc.goal_sessions, rng))))
        patience = draw(sc.patience, rng)
        rating_bias = draw(sc.rating_bias, rng)
        tech_setup = draw(sc.tech_setup, rng)
        prior = rng.randint(1, max(1, goal_sessions - 1)) if existing else 0
        return (grade, subject, duration, cadence, attention, no_show_prob, reschedule_prob,
                goal_sessions, patience, rating_bias, tech_setup, prior)

    def _remade_stream(self):
        """The student's stream made afresh, standing after the traits, as at their arrival."""
        rng = self.streams.stream("student", self.index)
        self._traits(rng, self.model.settings.students, self.existing)
        return rng

    def arrival(self, codes: dict) -> tuple:
        """The student's arrival as the event log keeps it (`student_arrived`): the time, the index,
        whether they were already a student, then the traits they keep, grade and subject as
        `codes` numbers them."""
        return (self.arrived_at, self.index, self.existing, codes[self.grade], codes[self.subject],
                self.duration, self.cadence, self.attention, self.no_show_prob, self.reschedule_prob,
                self.goal_sessions, self.patience, self.rating_bias, self.tech_setup, self.prior_sessions)

    def decide(self, p: float) -> bool:
        return self.stream.random() < p

    def leave(self) -> None:
        """The student leaves the platform for good. They decide nothing more, so their draws go,
        and so do they: the platform forgets them (world/model.py); their traits were recorded
        when they arrived."""
        self.active = False
        self.stream = None
        self.remove()       # Mesa lets go of the agent

    def react(self, held: bool, tutor_showed: bool, rating: float | None,
              first: bool) -> tuple[int, float, float, float]:
        """After a session time: continue with this tutor, switch tutor, leave, or be done.
        Returns the action, the probability of the draw that decided it, and the chances of
        leaving and of switching (otherwise) that the student faced."""
        b = self.model.behaviour
        impatience = 1.0 - self.patience
        if not tutor_showed:
            p_leave = b.leave_after_tutor_no_show * impatience
            p_switch = b.switch_after_tutor_no_show
        elif not held:                      # the student missed it: they book again
            return CONTINUE, 1.0, 0.0, 0.0
        elif self.sessions_done >= self.goal_sessions:
            return DONE, 1.0, 0.0, 0.0
        elif rating < b.poor_rating:
            p_leave = (b.leave_after_poor_first if first else b.leave_after_poor) * impatience
            p_switch = b.switch_after_poor_first if first else b.switch_after_poor
        else:
            return CONTINUE, 1.0, 0.0, 0.0
        u = self.stream.random()
        if u < p_leave:
            return LEAVE, p_leave, p_leave, p_switch
        if u < p_leave + (1 - p_leave) * p_switch:
            return SWITCH, (1 - p_leave) * p_switch, p_leave, p_switch
        return CONTINUE, (1 - p_leave) * (1 - p_switch), p_leave, p_switch

    def rate(self, quality: float, empathy: float, first: bool, connection: int, tech_issue: bool,
             tutor_reliability: float, z_rating: float, z_satisfaction: float):
        """The post-session survey: star rating (one decimal), satisfaction 1-10, recommend.
        A first session also judges the tutor's punctuality and preparation: an unreliable tutor
        (late, unprepared) makes a poorer first impression. `z_rating`, `z_satisfaction`: the
        session's standard normal draws for the noise in the student's judgement."""
        b = self.model.behaviour
        raw = (b.rating_base + b.rating_slope * quality + self.rating_bias
               + ((b.first_session_penalty
                   - b.first_session_unreliability_penalty
                   * max(0.0, b.first_session_reliability_floor - tutor_reliability) ** 2) if first else 0.0)
               + self.model.connection_penalty[connection]
               + (b.tech_issue_rating_penalty if tech_issue else 0.0)
               + b.rating_noise_sd * z_rating)
        rating = round_tenth(1.0 if raw < 1.0 else 5.0 if raw > 5.0 else raw)
        sat = (b.satisfaction_base + b.satisfaction_rating_weight * rating
               + b.satisfaction_empathy_weight * (empathy - b.reference.empathy)
               + b.satisfaction_noise_sd * z_satisfaction)
        satisfaction = round_tenth(1.0 if sat < 1.0 else 10.0 if sat > 10.0 else sat)
        return rating, satisfaction, satisfaction >= b.recommend_threshold


def round_tenth(x: float) -> float:
    """`round(x, 1)`, the same float, at a fraction of the cost: the nearest integer to 10x, over
    10 (a correctly rounded division, so the float nearest that decimal, which is what `round`
    returns). Within 1e-9 of a tie, where 10x's own rounding could decide it, and at zero (its
    sign), `round` itself decides."""
    t = x * 10.0
    n = round(t)
    if n == 0 or abs(abs(t - n) - 0.5) < 1e-9:
        return round(x, 1)
    return n / 10.0
