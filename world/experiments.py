"""A/B experiments on the platform's messages to tutors (spec sections 14 and 15).

An experiment is scenario data: a target segment, variants, and what each variant changes
(template, send hour, open/click appeal, the tutor's email frequency cap). At midnight of its
start day the platform reads every tutor's signals (world/signals.py), takes the tutors matching
the segment, assigns `allocation` of them (all for a full rollout) to the variants in equal
numbers, and shows each tutor their variant: by a campaign email (an intervention tagged with
the experiment) and/or an in-app card at the tutor's next login.

    exposed    the tutor first sees the variant: opens the email, or a login shows the card
               (`in_app_view_prob`), between `min_exposure_hours` and `exposure_hours` after
               assignment. Exposure therefore depends on how often the tutor logs in and reads
               mail: an in-app-only experiment reaches fewer tutors than email + in-app.
    acted      the tutor takes the call to action (clicks the email's link, or the card's, with
               the same click decision as any email); this books coaching (world/interventions.py).
    converted  `conversion_days` after the action (once the coaching it booked has happened) the
               platform compares the primary metric's mean over the last 7 days with its 7-day
               mean before the action; a rise of at least `conversion_threshold` is a conversion,
               the rise is the conversion value, and converted_at is the action's time.

While an experiment runs, the daily job's emails of the types it `applies_to` carry the tutor's
variant too. The analysis (chi-square test across variants) is a table-side formula over these
recorded outcomes (output/platform_tables.py).
"""
from __future__ import annotations

import math

from world.clock import MINUTES_PER_DAY
from world.events import IN_APP, SELF_STUDY
from world.scenario_schema import VariantEffect
NO_EFFECT = VariantEffect()


class Assignment:
    __slots__ = ("k", "tutor", "variant", "effect", "assigned", "exposed", "acted")

    def __init__(self, k, tutor, variant, effect, assigned):
        self.k = k
        self.tutor = tutor
        self.variant = variant
        self.effect = effect
        self.assigned = assigned
        self.exposed = None
        self.acted = None


def matches(segment: dict, snap: dict, i: int) -> bool:
    """Does tutor i's snapshot satisfy every criterion of a target segment?"""
    for key, cond in segment.items():
        value = snap[key][i]
        if isinstance(cond, list):
            value = value.item() if hasattr(value, "item") else value
            if value not in cond:
                return False
        else:
            v = float(value)
            if math.isnan(v) or (cond.min is not None and v < cond.min) or (cond.max is not None and v > cond.max):
                return False
    return True


class Experiments:
    def __init__(self, model, signals, interventions, engagement):
        self.model = model
        self.env = model.env
        self.rec = model.recorder
        sc = model.settings
        self.defs = sc.experiments
        self.policy = sc.platform.experiments
        self.mail = sc.engagement.email
        self.signals = signals
        self.interventions = interventions
        self.streams = model.streams
        start = model.calendar.window_start
        self.start_t = [start + e.start_day * MINUTES_PER_DAY for e in self.defs]
        self.end_t = [start + e.end_day * MINUTES_PER_DAY if e.end_day is not None else math.inf for e in self.defs]
        self.by_tutor: dict[int, list[Assignment]] = {}
        self.rng = [model.streams.stream("tutor", t.index, "experiments") for t in model.tutors]
        interventions.experiments = self
        engagement.listeners.append(self)

    # --- starting ----------------------------------------------------------------------------------
    def run(self):
        env = self.env
        for k in sorted(range(len(self.defs)), key=lambda k: (self.start_t[k], k)):
            if self.start_t[k] > env.now:
                yield env.timeout(self.start_t[k] - env.now)
            self._start(k)

    def _start(self, k: int) -> None:
        e = self.defs[k]
        now = self.env.now
        snap = self.signals.snapshot(now)
        tutors = self.model.tutors
        eligible = [i for i in range(len(tutors)) if snap["active_status"][i] and matches(e.target_segment, snap, i)]
        rng = self.streams.stream("platform", "experiment", e.id)
        m = int(round(e.allocation * len(eligible)))
        chosen = sorted(rng.sample(eligible, m))
        rng.shuffle(chosen)                      # then round-robin: equal numbers per variant
        self.rec.experiment_started.append((now, k, len(eligible), m))
        for j, i in enumerate(chosen):
            v = j % len(e.variants)
            a = Assignment(k, tutors[i], v, e.effects.get(e.variants[v], NO_EFFECT), now)
            self.by_tutor.setdefault(i, []).append(a)
            self.rec.experiment_assigned.append((now, k, i, v))
            if "email" in e.channels and not tutors[i].unsubscribed:
                self.interventions.send(tutors[i], e.intervention_type, snap, tag=a, campaign=True)

    # --- asked by the intervention job -----------------------------------------------------------
    def _running(self, a: Assignment, t: float) -> bool:
        return self.start_t[a.k] <= t < self.end_t[a.k]

    def tag(self, tutor, itype: str, t: float):
        """The assignment whose variant governs an email of this type to this tutor now, if any."""
        for a in self.by_tutor.get(tutor.index, ()):
            if self._running(a, t) and itype in self.defs[a.k].applies_to:
                return a
        return None

    def cap_days(self, tutor, t: float):
        """The tutor's email frequency cap if a running experiment's variant sets one."""
        for a in self.by_tutor.get(tutor.index, ()):
            if self._running(a, t) and a.effect.min_days_between is not None:
                return a.effect.min_days_between
        return None

    # --- exposure, action, conversion --------------------------------------------------------------
    def exposed(self, a: Assignment, t: float, channel: int, p: float) -> bool:
        pol = self.policy
        if (a.exposed is None and self._running(a, t)
                and a.assigned + pol.min_exposure_hours * 60.0 <= t <= a.assigned + pol.exposure_hours * 60.0):
            a.exposed = t
            self.rec.experiment_exposed.append((t, a.k, a.tutor.index, channel, p))
            return True
        return False

    def tutor_logged_in(self, tutor, t: float) -> None:
        """A login shows the tutor any in-app card of a variant they have not seen yet."""
        for a in self.by_tutor.get(tutor.index, ()):
            e = self.defs[a.k]
            if a.exposed is not None or "in_app" not in e.channels:
                continue
            rng = self.rng[tutor.index]
            p_view = self.mail.in_app_view_prob if e.in_app_view is None else e.in_app_view
            if rng.random() >= p_view or not self.exposed(a, t, IN_APP, p_view):
                continue
            self.interventions.improve(tutor, -1, a, e.intervention_type, SELF_STUDY,
                                       self.model.settings.platform.coaching.self_study_share)
            m = self.mail
            damp = 1.0 - m.burnout_drop * tutor.burnout(t)
            p_click = min(m.max_p, m.click_scale * tutor.responsiveness * damp * a.effect.click_multiplier)
            if rng.random() < p_click:
                delay = rng.uniform(*self.policy.in_app_delay_minutes)
                self.env.process(self._in_app_click(a, delay, p_click))

    def _in_app_click(self, a: Assignment, delay: float, p: float):
        yield self.env.timeout(delay)
        if a.tutor.active:
            self.acted(a, self.env.now, IN_APP, p)
            self.interventions.follow_link(a.tutor, -1, a, self.defs[a.k].intervention_type)

    def acted(self, a: Assignment, t: float, channel: int, p: float) -> None:
        """The tutor took the variant's call to action (counts once, after exposure, while running)."""
        if a.exposed is None or a.acted is not None or not self._running(a, t):
            return
        a.acted = t
        metric = self.defs[a.k].primary_metric
        before, n_before = self.signals.mean7(a.tutor.index, t, metric)
        self.rec.experiment_acted.append((t, a.k, a.tutor.index, channel, before, n_before, p))
        self.env.process(self._evaluate(a, t, metric, before, n_before))

    def _evaluate(self, a: Assignment, acted_at: float, metric: str, before: float, n_before: int):
        yield self.env.timeout(self.policy.conversion_days * MINUTES_PER_DAY)
        pol = self.policy
        after, n_after = self.signals.mean7(a.tutor.index, self.env.now, metric)
        enough = n_before >= pol.min_sessions and n_after >= pol.min_sessions and before > 0
        lift = (after - before) / before if enough else float("nan")
        converted = bool(enough and lift >= pol.conversion_threshold)
        self.rec.experiment_evaluated.append((self.env.now, a.k, a.tutor.index, acted_at, before, after,
                                              n_before, n_after, lift, converted))
