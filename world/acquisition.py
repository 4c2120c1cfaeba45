"""Where students come from: the platform's marketing keeps enough of them active to meet demand.

The scenario gives demand as sessions per day. The platform starts with the students it already
has (mid-way through their courses), and every midnight acquires as many new students as have
left, arriving at random times of the day. The number it aims for is corrected daily towards demand divided by the sessions
an active student actually had per day over the last week.
How many of the sessions are first sessions, then, is decided by how long students stay.
"""
from __future__ import annotations

from world.clock import MINUTES_PER_DAY
from world.events import EXISTING


class Acquisition:
    def __init__(self, model):
        self.model = model
        sc = model.settings
        self.demand = sc.demand.sessions_per_day
        self.gain = sc.platform.acquisition_gain
        cw = sc.students.cadence_weights
        # a student has a session every 7/cadence days, plus about a day of slack in booking
        mean_interval = sum(w * 7.0 / k for k, w in cw.items()) / sum(cw.values()) + 1.0
        self.target_active = self.demand * mean_interval
        # marketing has limits: it never aims for more than twice the students demand implies
        self.max_active = 2.0 * self.target_active
        self.rng = model.streams.stream("platform", "acquisition")
        self.held_by_day: list[int] = []
        self.active_by_day: list[int] = []

    def seed_population(self) -> None:
        """The students the platform already has when the simulation starts."""
        model = self.model
        for _ in range(int(round(self.target_active))):
            student = model.new_student(existing=True)
            first_day = int(student.stream.uniform(0, student.days_between_sessions))
            found = model.marketplace.match(student, first_day, student.stream)
            if found is None:
                model.student_leaves(student)
                continue
            tutor, hour_key, preferred, choice = found
            model.desk.book(student, tutor, hour_key, preferred, first=False, why=EXISTING, choice=choice)

    def run(self):
        """Each day: correct the target, then bring in today's new students."""
        env, model = self.model.env, self.model
        while True:
            day_start = env.now
            self._correct_target()
            n = max(0, int(round(self.target_active - model.active_students)))
            for at in sorted(self.rng.uniform(0, MINUTES_PER_DAY) for _ in range(n)):
                yield env.timeout(day_start + at - env.now)
                student = model.new_student(existing=False)
                day = int(env.now // MINUTES_PER_DAY)
                if not model.desk.book_new_tutor(student, day + 1):
                    model.student_leaves(student)
            yield env.timeout(day_start + MINUTES_PER_DAY - env.now)

    def _correct_target(self) -> None:
        """Aim for demand / (sessions a student really had per day over the last week)."""
        held, active = self.held_by_day[-7:], self.active_by_day[-7:]
        if len(held) < 7 or sum(held) == 0:
            return
        per_student = sum(held) / sum(active)
        wanted = min(self.max_active, self.demand / per_student)
        self.target_active += self.gain * (wanted - self.target_active)
