"""A student's sessions, one after another, as one SimPy process: the student's journey.

    booked -> (maybe moved by the tutor or the student, hours before) -> at its time, tutor and
    student show up or not -> if both came, the session is held and observed, the student rates
    it -> the student continues with the tutor (the next session is booked), switches tutor (a
    first session with another), leaves, or is done.

A student has one session booked at a time, so one process per student carries them from their
first booking to the day they leave; it waits for each booked session in turn. A tutor who quits
interrupts the journeys of the students they still have sessions with; each looks for another
tutor.
"""
from __future__ import annotations

from statistics import NormalDist

import simpy

from agents.decisions import CONTINUE, SWITCH
from world.clock import MINUTES_PER_DAY, Bell
from world.events import (AGAIN, NEW, NO_FREE_HOUR, PLATFORM_CAP, SUBJECTS, SWITCHING, TUTOR_QUIT, UNAVAILABLE,
                          position)
from world.observation import Observer

SUBJECT_CODE = {s: i for i, s in enumerate(SUBJECTS)}
RATING = position("session_observed", "rating")
NORMAL = NormalDist()
OWN_TUTOR = (1.0, 1, float("nan"))   # a booking with the student's own tutor: (p, candidates, room)


class Session:
    __slots__ = ("sid", "tutor", "student", "hour_key", "start", "duration", "first", "p_move")

    def __init__(self, sid, tutor, student, hour_key, duration, first):
        self.sid = sid
        self.tutor = tutor
        self.student = student
        self.hour_key = hour_key
        self.start = hour_key * 60.0
        self.duration = duration
        self.first = first
        self.p_move = 0.0        # the tutor's chance of moving it, faced at booking


class SessionDesk:
    """Books sessions and runs each student's journey through them."""

    def __init__(self, model):
        self.model = model
        self.env = model.env
        self.rec = model.recorder
        self.market = model.marketplace
        self.b = model.behaviour
        self.rebook_jitter = model.settings.students.rebook_jitter
        self.days_flex = model.settings.students.days_flex
        self.observer = Observer(model)
        self.streams = model.streams
        self.next_sid = 0
        self.bells: dict[int, Bell] = {}     # hour -> the event that strikes it (`_bell`)
        # the platform's services that watch sessions (world/signals.py, world/engagement.py):
        # each has session_happened(s, t, held, tutor_showed, row) and session_moved(s, mover, t)
        self.listeners: list = []

    # --- booking -------------------------------------------------------------------------------
    def book(self, student, tutor, hour_key: int, preferred: bool, first: bool, why: int = AGAIN,
             choice: tuple = OWN_TUTOR) -> Session:
        s = Session(self.next_sid, tutor, student, hour_key, student.duration, first)
        self.next_sid += 1
        self.market.reserve(tutor, hour_key, s.duration)
        tutor.upcoming[s.sid] = s
        tutor.bookings += 1
        if first:
            tutor.intake.append(self.env.now)
            self.model.tutor_changed(tutor)     # it may fill the tutor's weekly intake
        if student.tutor is not tutor:
            self.model.assign_tutor(student, tutor)
        student.tutors_seen.add(tutor.index)
        self.rec.session_booked.append((self.env.now, s.sid, tutor.index, student.index, s.start,
                                        s.duration, SUBJECT_CODE[student.subject], first, preferred,
                                        why, *choice, tutor.shown_rating))
        student.booked = s
        if student.journey is None or not student.journey.is_alive:     # the first booking
            student.journey = self.env.process(self.journey(student))
        return s

    def book_with(self, student, tutor, wish_day: int) -> bool:
        """The student's next session with the tutor they have; if the tutor is full around the
        day they wished, they look at the week after before giving up on this tutor."""
        slot = self.market.find_slot(tutor, student, wish_day, 1 + self.days_flex, student.stream)
        if slot is None:
            slot = self.market.find_slot(tutor, student, wish_day + 1 + self.days_flex, 7, student.stream)
        if slot is None:
            return False
        self.book(student, tutor, slot[0], slot[1], first=False)
        return True

    def book_new_tutor(self, student, wish_day: int, why: int = NEW) -> bool:
        """A first session with a tutor the student has not had yet."""
        found = self.market.match(student, wish_day, student.stream)
        if found is None:
            return False
        tutor, hour_key, preferred, choice = found
        self.book(student, tutor, hour_key, preferred, first=True, why=why, choice=choice)
        return True

    # --- the student's journey ------------------------------------------------------------------
    def journey(self, student):
        """Wait for the session the student has booked, maybe moved on the way, then hold it; its
        outcome books the next one or ends the journey (the student leaves or is done)."""
        env = self.env
        while student.booked is not None:
            s = student.booked
            try:
                mover, p, when, why = self._who_moves_it(s)
                if mover is not None:
                    yield env.timeout(when - env.now)
                    self._move(s, mover, p, why)
                yield self._bell(s.hour_key)
            except simpy.Interrupt as stop:
                student.booked = None
                self._cancelled(s, stop.cause)
                continue
            student.booked = None
            self._session_time(s)

    def _bell(self, hour_key: int) -> Bell:
        """The event that strikes when hour `hour_key` begins: every journey with a session at that
        hour waits on it, and they go on in the order they began to wait. (One event per hour, not
        one per session: SimPy's queue holds a few hundred events instead of thousands, and
        taking the next one from it costs half as much.) The bell strikes before the ordinary
        events due at the same minute (world/clock.py `Bell`)."""
        bell = self.bells.get(hour_key)
        if bell is None:
            bell = self.bells[hour_key] = Bell(self.env, hour_key * 60.0 - self.env.now)
            bell.callbacks.append(lambda _: self.bells.pop(hour_key))
        return bell

    def _who_moves_it(self, s: Session):
        """At booking, whether the tutor (or, rarely, the student) will move this session, when, and
        why: (the tutor's burnout, the time, the tutor's reliability) as the move was decided."""
        tutor, student, now = s.tutor, s.student, self.env.now
        burnout = tutor.burnout(now)
        reliability = tutor.reliability_at(burnout)
        p_tutor = s.p_move = tutor.reschedule_probability_at(reliability)
        if tutor.decide(p_tutor):
            mover, p = 0, p_tutor
        elif student.decide(student.reschedule_prob):
            mover, p = 1, student.reschedule_prob
        else:
            return None, 0.0, 0.0, None
        lo, hi = self.b.reschedule_lead_hours
        when = max(now, s.start - 60.0 * tutor.stream.uniform(lo, hi))
        return mover, p, when, (burnout, now, reliability)

    def _move(self, s: Session, mover: int, p: float, why: tuple) -> None:
        """`why`: (burnout, time, reliability) when the move was decided, at booking."""
        tutor, student = s.tutor, s.student
        # platform policy: a tutor who has already moved this share of their bookings cannot move more
        if mover == 0 and tutor.moves >= self.model.settings.platform.max_reschedule_share * tutor.bookings:
            self._move_refused(s, mover, p, PLATFORM_CAP)
            return
        lo, hi = self.b.reschedule_shift_days
        day = s.hour_key // 24 + tutor.stream.randint(lo, hi)
        slot = self.market.find_slot(tutor, student, day, 1 + self.days_flex, tutor.stream, avoid=s.hour_key)
        if slot is None:   # nothing near: the tutor offers a time the week after
            slot = self.market.find_slot(tutor, student, day + 1 + self.days_flex, 7, tutor.stream, avoid=s.hour_key)
        if slot is None:
            self._move_refused(s, mover, p, NO_FREE_HOUR)
            return
        self.market.release(tutor, s.hour_key, s.duration)
        old = s.start
        s.hour_key = slot[0]
        s.start = slot[0] * 60.0
        self.market.reserve(tutor, s.hour_key, s.duration)
        if mover == 0:
            tutor.moves += 1
        self.rec.session_rescheduled.append((self.env.now, s.sid, mover, old, s.start, p, *why))
        for listener in self.listeners:
            listener.session_moved(s, mover, self.env.now)

    def _move_refused(self, s: Session, mover: int, p: float, reason: int) -> None:
        """The move decided at booking does not happen: the session stays where it is."""
        tutor = s.tutor
        self.rec.session_move_refused.append((self.env.now, s.sid, mover, reason, s.start, p, tutor.moves,
                                              tutor.bookings))

    def _who_shows_up(self, s: Session, t: float) -> tuple[bool, bool, float, float]:
        """At the session's time the tutor, then the student, decides whether to come: the tutor
        from today's reliability (burnout wears it), the student from their habit. Recorded with
        the chances they faced. Returns (tutor showed, student showed, burnout, reliability)."""
        tutor, student = s.tutor, s.student
        burnout = tutor.burnout(t)
        rel = tutor.reliability_at(burnout)
        p_tutor = tutor.no_show_probability_at(rel)
        tutor_showed = not tutor.decide(p_tutor)
        p_student = student.no_show_prob
        student_showed = not student.decide(p_student)
        self.rec.session_outcome.append((t, s.sid, tutor_showed, student_showed, p_tutor, p_student, burnout,
                                         rel, s.p_move))
        return tutor_showed, student_showed, burnout, rel

    def _session_time(self, s: Session) -> None:
        """The session's hour has come: who shows up; if both, the session is held, observed and
        rated; the student then decides what comes next (`_book_next`)."""
        t = self.env.now
        tutor, student = s.tutor, s.student
        tutor.upcoming.pop(s.sid, None)
        tutor_showed, student_showed, burnout, rel = self._who_shows_up(s, t)
        held = tutor_showed and student_showed
        if not tutor_showed:
            self.model.tutor_missed_session(tutor)
        self.model.sessions_today += 1
        rating = None
        end = t + s.duration
        if held:
            row = self.observer.observe(s, t, burnout, rel)
            self.rec.session_observed.append(row)
            rating = row[RATING]
            end = row[0]
            student.sessions_done += 1
            self.model.ratings_today.append(rating)
        else:
            self._not_held(s, t, tutor_showed, student_showed)
        tutor.note_session(t, rating)
        action, p, p_leave, p_switch = student.react(held, tutor_showed, rating, s.first)
        self.rec.student_decision.append((end, student.index, s.sid, action, p, p_leave, p_switch,
                                          float("nan") if rating is None else rating, s.first,
                                          student.patience, student.sessions_done))
        for listener in self.listeners:
            listener.session_happened(s, t, held, tutor_showed, row if held else None)
        self._book_next(student, action, t)

    def _not_held(self, s: Session, t: float, tutor_showed: bool, student_showed: bool) -> None:
        """Only one came into the room (or nobody): the platform measured the connection of the
        one who came, on a session's scale, as if the other end had the same setup (the noise: a
        draw keyed by the session, so no other draw moves). Nobody came: the tutor's usual
        connection at that hour, without noise (what a dashboard that needs a value is given)."""
        who = 0 if tutor_showed else 1 if student_showed else 2
        setup = s.student.tech_setup if who == 1 else s.tutor.tech_setup
        z = 0.0 if who == 2 else NORMAL.inv_cdf(min(max(self.streams.unit("session", s.sid, "lone_connection"), 1e-12),
                                                    1.0 - 1e-12))
        load = self.observer.week_load[int(t // 60) % (7 * 24)]
        self.rec.session_not_held.append((t, s.sid, who, self.model.network.connection(setup, setup, load, z)))

    def _book_next(self, student, action: int, t: float) -> None:
        """What the student decided after the session: the next session with the same tutor, a
        first one with another, or leaving."""
        day = int(t // MINUTES_PER_DAY)
        why = SWITCHING
        if action == CONTINUE:
            gap = max(1, round(student.days_between_sessions * student.stream.uniform(1.0 - self.rebook_jitter, 1.0 + self.rebook_jitter)))
            if student.tutor.active and self.book_with(student, student.tutor, day + gap):
                return
            action, why = SWITCH, UNAVAILABLE
        if action == SWITCH and self.book_new_tutor(student, day + 1, why):
            return
        self.model.student_leaves(student)

    def _cancelled(self, s: Session, reason) -> None:
        """The tutor quit before this session: the student looks for another tutor."""
        self.rec.session_cancelled.append((self.env.now, s.sid, 0))
        s.tutor.upcoming.pop(s.sid, None)
        student = s.student
        if not self.book_new_tutor(student, int(self.env.now // MINUTES_PER_DAY) + 1, TUTOR_QUIT):
            self.model.student_leaves(student)
