"""The marketplace: which tutor a student finds, and which hour they agree on.

A tutor offers the hours of their weekly timetable (preferred block, and flexible hours with
the tutor's `hours_flex` probability weight), up to `capacity_per_day` sessions a day. A student
weighs the free hours by their own hour preference. Hours of day and weekend patterns of the
sessions table come from this meeting of two timetables, not from a target histogram.
"""
from __future__ import annotations

from itertools import accumulate

from agents.traits import choose
from world.match_index import MatchIndex

HOURS_PER_DAY = 24
MAX_REJECTIONS = 32              # draws from the index a pick may take before the scan picks instead


class Marketplace:
    def __init__(self, model, tutors):
        self.model = model
        self.calendar = model.calendar
        self.tutors = tutors
        platform = model.settings.platform
        self.full_roster_weight = platform.full_roster_weight
        # subject -> (tutor, weight factor): students favour a tutor whose primary subject it is
        self.by_subject: dict[str, list] = {}
        primary = platform.primary_subject_weight
        for t in tutors:
            for s in t.subjects:
                self.by_subject.setdefault(s, []).append((t, primary if s == t.primary_subject else 1.0))
        # the same tutors' open weights, per subject, for drawing in O(log n) (world/match_index.py)
        self.index = MatchIndex(model, self.by_subject)
        # hour profile + weekday -> the preferred block's hours as _weigh makes them, shared by all tutors
        self.preferred_hours: dict[int, dict] = {}

    # --- hours ---------------------------------------------------------------------------------
    def find_slot(self, tutor, student, first_day: int, n_days: int, rng, avoid: int = -1):
        """A free starting hour (absolute hour number) with this tutor from `first_day` on, and
        whether it is in the tutor's preferred block; None when nothing is free in those days.

        The student takes the first day that has an hour they like (weight >= 1) and picks among
        that day's free hours by preference; failing that, any acceptable hour in the days looked at.
        `avoid`: an hour not to take (the one a session is moved from).
        """
        now = self.model.env.now
        now_hour = int(now // 60) + 2     # at least two hours' notice
        booked = tutor.booked_slots
        cap = tutor.capacity_on(now)
        day_load = tutor.day_load
        week_start = self.calendar.first_weekday
        hour_weight, profile = student.hour_weight, student.hour_profile
        products = tutor.offer_weights
        free = []            # (hour, weight, preferred) of the free hours looked at, in order
        total = 0.0          # their weights' sum, added left to right (as sum() does on Python 3.11)
        for day in range(first_day, first_day + n_days):
            if day_load.get(day, 0) >= cap:
                continue
            wd = (week_start + day) % 7
            # (hour, weight, preferred, liked) of the hours the tutor offers that day and the
            # student would take at all, for this weekday and hour-preference profile
            offer = products.get(profile + wd)
            if offer is None:
                offer = products[profile + wd] = _weigh(tutor.offer[wd], hour_weight[wd],
                                                        self.preferred_hours.setdefault(profile + wd, {}))
            base = day * HOURS_PER_DAY
            liked = False
            for h, w, pref, good in offer:
                k = base + h
                if k <= now_hour or k in booked or k == avoid:
                    continue
                free.append((k, w, pref))
                total += w
                if good:
                    liked = True
            if liked:
                break
        if not free:
            return None
        r = rng.random() * total
        for k, w, pref in free:
            r -= w
            if r < 0:
                return k, pref
        return k, pref

    def reserve(self, tutor, hour_key: int, duration: int) -> None:
        tutor.booked_slots.add(hour_key)
        if duration > 60:
            tutor.booked_slots.add(hour_key + 1)
        day = hour_key // HOURS_PER_DAY
        tutor.day_load[day] = tutor.day_load.get(day, 0) + 1

    def release(self, tutor, hour_key: int, duration: int) -> None:
        tutor.booked_slots.discard(hour_key)
        if duration > 60:
            tutor.booked_slots.discard(hour_key + 1)
        day = hour_key // HOURS_PER_DAY
        tutor.day_load[day] -= 1

    def hold_free_hour(self, tutor, hour_key: int) -> int:
        """Hold for the tutor's own use (a coaching call) the first hour from `hour_key` on with no
        session: students cannot book it. Not a session: the day's session count is untouched."""
        booked = tutor.booked_slots
        while hour_key in booked:
            hour_key += 1
        booked.add(hour_key)
        return hour_key

    def offers(self, tutor, hour_key: int) -> bool:
        """Whether the tutor offers students that hour (their timetable for its weekday)."""
        day, h = divmod(hour_key, HOURS_PER_DAY)
        return any(hour == h for hour, _, _ in tutor.offer[(self.calendar.first_weekday + day) % 7])

    def forget_past(self, day: int) -> None:
        """Forget the tutors' bookings of the days before `day` (`find_slot` never looks back):
        what a tutor holds stays the size of the days ahead, however long the run."""
        first_hour = day * HOURS_PER_DAY
        for tutor in self.tutors:
            tutor.booked_slots = {k for k in tutor.booked_slots if k >= first_hour}
            tutor.day_load = {d: n for d, n in tutor.day_load.items() if d >= day}

    # --- tutors --------------------------------------------------------------------------------
    def match(self, student, first_day: int, rng, tries: int = 4):
        """A new tutor for the student: one teaching the subject and accepting new students, found
        with probability rising with the room left in their week and with the rating the platform
        shows, and favouring the tutor's primary subject. Returns (tutor, hour_key, preferred,
        choice) or None; choice = (the chance the pick had, number of candidates, the tutor's room)
        for the event log.

        Up to `tries` picks, each followed by a look for a free hour; the first pick with one
        wins. A pick comes from the subject's index of open tutors (world/match_index.py), drawn
        again while the student cannot take the tutor drawn: it falls, as the scan's pick, in
        proportion to the weight among the tutors the scan weighs for this student (`scan`).
        The scan itself picks when the index cannot: the student has had every open tutor, or
        `MAX_REJECTIONS` draws in a row were tutors they cannot take (then for the tries left)."""
        index = self.index
        if student.cadence < index.min_cadence:     # (no scenario's student: the index leaves them out)
            return self.match_by_scan(student, first_day, rng, tries)
        index.advance()
        tree = index.trees.get(student.subject)
        if tree is None or tree.count == 0:
            return None     # no tutor of the subject is open to new students: the scan finds none
        days = 1 + self.model.settings.students.days_flex
        scanned = self._scanned(student) if index.only_seen_open(tree, student.tutors_seen) else None
        for _ in range(tries):
            drawn = None if scanned is not None else index.draw(tree, student, rng, MAX_REJECTIONS)
            if drawn is not None:
                k, tutor = drawn
                w = tree.weight(k)
                free = 1.0 - tutor.roster_load / tutor.roster_room
                if free < self.full_roster_weight:
                    free = self.full_roster_weight
                choice = (w / tree.total, tree.count, free)
            else:
                if scanned is None:
                    scanned = self._scanned(student)
                candidates, weights, cumulative = scanned
                if not candidates:
                    return None
                i = choose(cumulative, rng)
                tutor, room = candidates[i]
                choice = (weights[i] / cumulative[-1], len(candidates), room)
            slot = self.find_slot(tutor, student, first_day, days, rng)
            if slot is not None:
                return tutor, slot[0], slot[1], choice
        return None

    def _scanned(self, student):
        candidates, weights = self.scan(student)
        return candidates, weights, list(accumulate(weights))     # as rng.choices(weights=) would

    def scan(self, student):
        """The reference: every tutor of the student's subject weighed, O(tutors). Returns the
        candidates ((tutor, room) list) and their weights: the tutors the student has not had if
        any can take them, else those they have had."""
        # a tutor whose roster is full (their students' weekly sessions fill it) accepts no new
        # students ... nor one who has already taken the platform's weekly intake of new students
        intake = self.model.settings.platform.new_students_per_week
        week_ago = self.model.env.now - 7 * 1440
        cadence, seen = student.cadence, student.tutors_seen
        floor = self.full_roster_weight
        # tutors the student has not had yet come first; failing them, those they have had
        fresh, fresh_weights, again, again_weights = [], [], [], []     # (tutor, room), weight
        for t, factor in self.by_subject.get(student.subject, ()):
            if not t.active:
                continue
            week = t.roster_room
            load = t.roster_load
            if load + cadence > week:
                continue
            # (fewer first sessions in the queue than the limit, old ones included, need no count)
            if len(t.intake) >= intake and t.intake_since(week_ago) >= intake:
                continue
            free = 1.0 - load / week
            if free < floor:
                free = floor
            # the rating shown, weighed by students' rating_sensitivity; the primary subject
            w = free * t.appeal * factor
            if t.index in seen:
                again.append((t, free))
                again_weights.append(w)
            else:
                fresh.append((t, free))
                fresh_weights.append(w)
        return (fresh, fresh_weights) if fresh else (again, again_weights)

    def match_by_scan(self, student, first_day: int, rng, tries: int = 4):
        """`match` as the scan alone makes it (the reference; O(tutors) per call)."""
        candidates, weights, cumulative = self._scanned(student)
        if not candidates:
            return None
        days = 1 + self.model.settings.students.days_flex
        for _ in range(tries):
            i = choose(cumulative, rng)
            tutor, room = candidates[i]
            slot = self.find_slot(tutor, student, first_day, days, rng)
            if slot is not None:
                return tutor, slot[0], slot[1], (weights[i] / cumulative[-1], len(candidates), room)
        return None


def _weigh(offer: tuple, want: list, shared: dict) -> tuple:
    """The hours of a tutor's day `offer` ((hour, willingness, preferred)) that a student with
    hour preferences `want` would take, with the product weight and whether the student likes it
    (weight >= 1). An hour of the preferred block (willingness 1) weighs the same for every tutor:
    its entry is made once per hour profile and weekday and shared (`shared`: hour -> entry, or
    () where the student would not take it), instead of once per tutor."""
    out = []
    for h, mult, pref in offer:
        same_for_all = pref and mult == 1.0
        entry = shared.get(h) if same_for_all else None
        if entry is None:
            w = want[h] * mult
            entry = (h, w, pref, w >= 1.0) if w > 0 else ()
            if same_for_all:
                shared[h] = entry
        if entry:
            out.append(entry)
    return tuple(out)
