"""The platform: a Mesa model whose clock is a SimPy environment.

It owns the agents (tutors and students register themselves with Mesa), the platform services
(marketplace, session desk, network, acquisition) and the recorder it is handed. A daily SimPy
process advances Mesa's step counter and collects the daily model-level series.
"""
from __future__ import annotations

import contextlib
import gc

import mesa

from agents.student import Student
from agents.tutor import Tutor
from world.acquisition import Acquisition
from world.clock import MINUTES_PER_DAY, Calendar, Clock
from world.engagement import Engagement
from world.events import CONNECTION, GRADES, SUBJECTS
from world.experiments import Experiments
from world.interventions import Interventions
from world.marketplace import Marketplace
from world.network import Network
from world.sessions import SessionDesk
from world.signals import Signals
from world.streams import Streams

PACK_EVERY = 60        # minutes between two looks at the event log's waiting rows (`pack_log`)


def enable_gc_without_a_walk() -> None:
    """Turn the cyclic garbage collector back on after a simulation ran with it off. Everything
    made meanwhile is in its youngest generation, which its next run (at the next allocation)
    would walk whole: 0.3 s at production's scale. Moved first to its oldest generation (freeze,
    then unfreeze: constant time), it is walked only by a full collection, when one is due.
    Where something else froze objects, they stay frozen."""
    if gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()
    gc.enable()


class PlainValues:
    """A scenario section's values as plain attributes: the same values, read at half the cost of
    a pydantic model's attribute (they are only read; the scenario itself is frozen)."""

    def __init__(self, section):
        self.__dict__.update(dict(section))


def persona_counts(personas: dict, n: int) -> dict[str, int]:
    """Tutors per persona: shares times n, rounded by largest remainder (so they sum to n)."""
    return largest_remainder({name: p.share for name, p in personas.items()}, n)


def largest_remainder(shares: dict, n: int) -> dict:
    """Split n in the given shares, in whole numbers that sum to n."""
    exact = {k: v * n for k, v in shares.items()}
    counts = {name: int(v) for name, v in exact.items()}
    left = n - sum(counts.values())
    for name in sorted(exact, key=lambda k: (-(exact[k] - counts[k]), str(k)))[:left]:
        counts[name] += 1
    return counts


def persona_traits(tutors_cfg, persona):
    """The persona's traits, falling back to [tutors.defaults] for those it does not give."""
    defaults = tutors_cfg.defaults
    merged = {k: getattr(persona, k) if getattr(persona, k) is not None else getattr(defaults, k)
              for k in type(defaults).model_fields}
    return type(defaults).model_construct(**merged)


class Platform(mesa.Model):
    def __init__(self, scenario, recorder):
        super().__init__(rng=scenario.seed)
        # the scenario file's settings (not `self.scenario`: Mesa 3.5's Model owns that name)
        self.settings = scenario
        # the behaviour coefficients, read a few dozen times per session, as plain attributes
        self.behaviour = PlainValues(scenario.behaviour)
        self.recorder = recorder
        self.env = Clock()
        cal = scenario.calendar
        self.calendar = Calendar(cal.window_end, cal.window_days, cal.warmup_days, cal.lookahead_days)
        self.streams = Streams(scenario.seed)
        self.subjects = SUBJECTS                 # what tutors teach and students come for
        self.network = Network(scenario.network)
        self.connection_penalty = [scenario.behaviour.connection_rating_penalty[c] for c in CONNECTION]
        self.sessions_today = 0
        self.quit_hazard_today = 0.0                 # the hazards tutors decided with at the last midnight
        self.ratings_today: list[float] = []
        self.rating_totals: list[tuple[float, int]] = []   # each day's (sum, count) of ratings
        self.active_students = 0
        self.students_arrived = 0               # the next student's index
        self.students: dict[int, Student] = {}   # the students on the platform now, by index
        self.student_codes = {name: i for names in (GRADES, SUBJECTS) for i, name in enumerate(names)}
        self.hour_weights = {grade: [[pref.weekday.get(h, pref.other) for h in range(24)] if wd < 5 else
                                     [pref.weekend.get(h, pref.other) for h in range(24)] for wd in range(7)]
                             for grade, pref in scenario.students.hours.items()}
        # a number per grade's profile, spaced by 7 so that profile + weekday is a cache key
        self.hour_profiles = {grade: 7 * k for k, grade in enumerate(self.hour_weights)}

        self.match_index = None                  # the marketplace's (tutors tell it of changes)
        self.tutors = self._create_tutors()
        self.marketplace = Marketplace(self, self.tutors)
        self.match_index = self.marketplace.index
        self.desk = SessionDesk(self)
        self.acquisition = Acquisition(self)
        # the platform loop: tutors' own activity, the intervention job, experiments
        self.signals = Signals(self)
        self.engagement = Engagement(self)
        self.interventions = Interventions(self, self.signals)
        self.experiments = Experiments(self, self.signals, self.interventions, self.engagement)
        reporters = {
            "day": lambda m: m.steps - 1,
            "active_tutors": lambda m: sum(1 for t in m.tutors if t.active),
            "active_students": lambda m: m.active_students,
            "sessions": lambda m: m.sessions_today,
            "mean_rating": lambda m: round(sum(m.ratings_today) / len(m.ratings_today), 3) if m.ratings_today else None,
        }
        # what-if hook: once world/interventions.py counts the interventions still open (sent and
        # not yet settled) as `open_count()`, daily.csv gets an `open_interventions` column
        if callable(getattr(self.interventions, "open_count", None)):
            reporters["open_interventions"] = lambda m: m.interventions.open_count()
        reporters["expected_quits"] = lambda m: round(m.quit_hazard_today, 6)
        self.datacollector = mesa.DataCollector(model_reporters=reporters)

        self.acquisition.seed_population()
        for tutor in self.tutors:
            self.env.process(tutor.day_loop())
        self.env.process(self.acquisition.run())
        self.env.process(self.experiments.run())
        self.env.process(self.engagement.run())
        self.env.process(self.interventions.run())
        self.env.process(self.daily())
        self.env.process(self.pack_log())

    def _create_tutors(self) -> list[Tutor]:
        cfg = self.settings.tutors
        # Each tutor has a fixed place in a queue (its own draw); the personas fill the queue in
        # the file's order, in their exact counts. Moving share between two personas that are
        # next to each other in the file changes only the tutors at their border, so a what-if
        # on persona shares keeps every other tutor as it was (common random numbers).
        queue = sorted(range(cfg.count), key=lambda i: self.streams.unit("tutor", i, "persona"))
        slots = [""] * cfg.count
        position = 0
        for name, count in persona_counts(cfg.personas, cfg.count).items():
            for i in queue[position:position + count]:
                slots[i] = name
            position += count
        traits = {name: persona_traits(cfg, p) for name, p in cfg.personas.items()}
        # the platform recruits evenly across subjects (primary subjects in equal numbers) and
        # the breadth of tutors' subjects in the scenario's proportions, exactly
        subjects = [SUBJECTS[i % len(SUBJECTS)] for i in range(cfg.count)]
        self.streams.stream("population", "primary_subjects").shuffle(subjects)
        breadth = []
        shares = {k + 1: w / sum(cfg.subjects_count_weights) for k, w in enumerate(cfg.subjects_count_weights)}
        for k, count in largest_remainder(shares, cfg.count).items():
            breadth += [k] * count
        self.streams.stream("population", "subject_counts").shuffle(breadth)
        return [Tutor(self, i, name, traits[name], self.streams, subjects[i], breadth[i])
                for i, name in enumerate(slots)]

    # --- population changes ----------------------------------------------------------------------
    def new_student(self, existing: bool) -> Student:
        student = Student(self, self.students_arrived, self.streams, existing=existing)
        self.students_arrived += 1
        self.students[student.index] = student
        self.active_students += 1
        self.recorder.student_arrived.append(student.arrival(self.student_codes))
        return student

    def tutor_missed_session(self, tutor: Tutor) -> None:
        """Platform policy: a tutor who misses `no_show_suspension` sessions within 30 days is
        suspended."""
        limit = self.settings.platform.no_show_suspension
        t = self.env.now
        misses = tutor.missed_sessions
        misses.append(t)
        while misses and misses[0] <= t - 30 * MINUTES_PER_DAY:
            misses.popleft()
        if limit and len(misses) >= limit and tutor.active:
            self.tutor_quits(tutor, 1.0, reason=1)

    def tutor_changed(self, tutor: Tutor) -> None:
        """What weighs a tutor in new students' search changed (roster load or room, rating shown,
        activity, intake of new students): the marketplace's index takes it in."""
        index = self.match_index
        if index is not None:
            index.changed(tutor)

    def assign_tutor(self, student: Student, tutor) -> None:
        """The student's regular tutor changes: their weekly sessions move to the new roster."""
        old = student.tutor
        if old is not None:
            old.roster_load -= student.cadence
            self.tutor_changed(old)
        student.tutor = tutor
        if tutor is not None:
            tutor.roster_load += student.cadence
            self.tutor_changed(tutor)

    def student_leaves(self, student: Student) -> None:
        if student.active:
            student.leave()
            self.active_students -= 1
            self.assign_tutor(student, None)
            del self.students[student.index]

    def tutor_weighed_quitting(self, p: float) -> None:
        """A tutor decided at midnight whether to quit, with hazard p: the day's expected quits."""
        self.quit_hazard_today += p

    def tutor_recent(self, tutor: Tutor) -> tuple:
        """The tutor's last 30 days as they lived them, for their quit decision (world/signals.py)."""
        return self.signals.recent(tutor.index, self.env.now)

    def tutor_quits(self, tutor: Tutor, p: float, reason: int = 0) -> None:
        """The tutor stops: by their own decision (reason 0, with probability p that day) or
        suspended by the platform (reason 1). The row keeps every cause's multiplier that day."""
        t = self.env.now
        tutor.active = False
        self.tutor_changed(tutor)
        tutor.quit_day = int(t // MINUTES_PER_DAY)
        recent = self.tutor_recent(tutor)
        self.recorder.tutor_quit.append((t, tutor.index, reason, p, tutor.quit_propensity, tutor.burnout(t),
                                         recent[2], sum(1 for m in tutor.missed_sessions if m > t - 30 * MINUTES_PER_DAY),
                                         *tutor.quit_factors(t, recent)))
        for s in list(tutor.upcoming.values()):
            s.student.journey.interrupt("tutor_quit")

    # --- the clock -------------------------------------------------------------------------------
    def step(self) -> None:
        """One simulated day has ended: collect the day's series and start the next."""
        self.datacollector.collect(self)
        self.rating_totals.append((sum(self.ratings_today), len(self.ratings_today)))
        self.acquisition.held_by_day.append(self.sessions_today)
        self.acquisition.active_by_day.append(self.active_students)
        self.sessions_today = 0
        self.ratings_today = []
        self.quit_hazard_today = 0.0
        if self.steps % 7 == 0:                 # once a week: the bookings of days gone go
            self.marketplace.forget_past(self.steps)

    def daily(self):
        while True:
            yield self.env.timeout(MINUTES_PER_DAY)
            self.step()

    def pack_log(self):
        """Every hour the event log packs (and spools) each table that has gathered enough rows
        (output/recorder.py): the rows waiting as tuples stay a few thousand per table, where a day's
        would be tens of thousands at platform size. Packing changes nothing the simulation reads."""
        while True:
            yield self.env.timeout(PACK_EVERY)
            self.recorder.compact()

    def run_window(self, on_day=None) -> None:
        """Warm-up and window: the days the tables describe (`on_day(day)` after each, for
        progress). The look-ahead, `run_lookahead`, continues from where this stops: the clock
        only moves forward, so nothing after the window changes what happened in it."""
        cal = self.calendar
        self._run_days(0, cal.total_days, on_day)
        if cal.end_offset:          # a window that ends in the day's course: up to that minute
            self.run_until(cal.window_end)

    def run_lookahead(self, on_day=None) -> None:
        """The days after the window, simulated only to learn who stops soon after it."""
        self._run_days(self.calendar.total_days, self.calendar.sim_days, on_day)

    def _run_days(self, first: int, stop: int, on_day) -> None:
        with _collector_paused():
            for day in range(first, stop):
                self.env.run(until=(day + 1) * MINUTES_PER_DAY + 1e-6)
                if on_day is not None:
                    on_day(day)

    def run_until(self, t: float) -> None:
        """On to minute `t`, the events due then included (as at a day's end)."""
        with _collector_paused():
            self.env.run(until=t + 1e-6)


@contextlib.contextmanager
def _collector_paused():
    """The simulation makes millions of small acyclic objects: the cyclic garbage collector would
    walk them again and again for nothing, so it pauses while the clock runs."""
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if gc_was_enabled:
            enable_gc_without_a_walk()
