"""The marketplace's index of tutors open to new students: per subject, a sum tree of weights.

A tutor's open weight in a subject is what the marketplace's linear scan (world/marketplace.py
`Marketplace.scan`) would weigh them with, before the student's own exclusions:

    max(full_roster_weight, 1 - roster_load / roster_room) x appeal x (primary_subject_weight in their
    primary subject)

when the tutor is active, has not taken the platform's weekly intake of new students, and has
room for the smallest weekly cadence a student can have; 0 otherwise. The model tells the index
when one of these inputs changes (`Platform.tutor_changed`: roster load, rating shown, roster
room, quitting, a first session booked), and the index notes the tutor (`changed`); the one input
that changes with time alone, the intake cap lifting when the oldest counted first session leaves
the 7 days, is kept in a heap. Both are applied at the start of each match (`advance`): a tutor
changed several times between two matches (every rated session changes the rating shown) is
weighed once, as they are then, which is what weighing them at every change would have left.

The tree is a flat binary sum tree (leaves at size + position): an update sets a leaf and adds
the two children again on the way up, O(log n), and drawing descends from the root, O(log n).
Every inner node is the sum of its children as they are now, not a running total updated by
differences, so the sums do not drift whatever the order of updates, are never negative, and
equal what a fresh build from the same weights gives, to the last bit: no periodic rebuild.
"""
from __future__ import annotations

from heapq import heappop, heappush

WEEK_MINUTES = 7 * 1440


class SubjectTree:
    """The open weights of one subject's tutors (in the marketplace's order) in a sum tree."""

    __slots__ = ("tutors", "factors", "position", "size", "tree", "count")

    def __init__(self, entries):
        self.tutors = [t for t, _ in entries]
        self.factors = [f for _, f in entries]
        self.position = {t.index: k for k, t in enumerate(self.tutors)}    # tutor index -> leaf
        size = 1
        while size < len(self.tutors):
            size <<= 1
        self.size = size
        self.tree = [0.0] * (2 * size)
        self.count = 0             # leaves with a positive weight: the tutors open to new students

    @property
    def total(self) -> float:
        return self.tree[1]

    def weight(self, pos: int) -> float:
        return self.tree[self.size + pos]

    def find(self, u: float) -> int:
        """The leaf where the running sum of the weights, left to right, passes u (0 <= u < total):
        a leaf with a positive weight whenever the total is positive (a child whose sum is 0 is
        never entered, whatever the rounding)."""
        tree, size = self.tree, self.size
        i = 1
        while i < size:
            i <<= 1
            left = tree[i]
            if u >= left and tree[i + 1] > 0.0:
                u -= left
                i += 1
        return i - size


class MatchIndex:
    """The subjects' trees, kept up to date with the tutors (`update`, `advance`)."""

    def __init__(self, model, by_subject: dict):
        self.model = model
        self.intake = model.settings.platform.new_students_per_week
        self.floor = model.settings.platform.full_roster_weight
        # the smallest weekly cadence a student can have: a tutor without that much room is closed
        self.min_cadence = min(int(k) for k in model.settings.students.cadence_weights)
        self.trees = {s: SubjectTree(entries) for s, entries in by_subject.items()}
        # tutor index -> (tree, leaf, factor) of each subject they teach
        self.places: list[tuple] = [()] * (1 + max((t.index for e in by_subject.values() for t, _ in e), default=-1))
        for tree in self.trees.values():
            for k, t in enumerate(tree.tutors):
                self.places[t.index] += ((tree, k, tree.factors[k]),)
        # (time of the first session that keeps the tutor capped, tutor) for each capped tutor
        self.uncap: list[tuple[float, object]] = []
        self.capped: set[int] = set()      # tutors with an entry in `uncap`
        self.pending: dict[int, object] = {}  # tutors changed since the last `advance`, by index
        for tree in self.trees.values():
            for t in tree.tutors:
                self.update(t)

    def changed(self, t) -> None:
        """One of the tutor's weight inputs changed: weighed again at the next `advance`."""
        self.pending[t.index] = t

    def update(self, t) -> None:
        """The tutor's leaves as they are now, and the sums above them (kept to plain
        operations: a few hundred thousand calls in a platform-sized run)."""
        w = 0.0
        if t.active:
            week = t.roster_room
            load = t.roster_load
            if load + self.min_cadence <= week and (len(t.intake) < self.intake or not self._is_capped(t)):
                free = 1.0 - load / week
                if free < self.floor:
                    free = self.floor
                w = free * t.appeal
        for sub, pos, factor in self.places[t.index]:
            v = w * factor
            tree = sub.tree
            i = sub.size + pos
            old = tree[i]
            if old == v:
                continue
            if old > 0.0:
                if not v > 0.0:
                    sub.count -= 1
            elif v > 0.0:
                sub.count += 1
            tree[i] = v
            while i > 1:
                v += tree[i ^ 1]
                i >>= 1
                tree[i] = v

    def _is_capped(self, t) -> bool:
        """Whether the tutor has taken the weekly intake (as the scan asks it), and if so, when it
        lifts: when the intake-th latest first session is more than 7 days old."""
        q, n = t.intake, self.intake
        if t.intake_since(self.model.env.now - WEEK_MINUTES) < n:
            return False
        if t.index not in self.capped:
            self.capped.add(t.index)
            heappush(self.uncap, (q[-n], t.index, t))
        return True

    def advance(self) -> None:
        """Bring the trees up to now: weigh the tutors changed since the last call, and open again
        those whose intake cap has lifted."""
        if self.pending:
            for t in self.pending.values():
                self.update(t)
            self.pending.clear()
        heap = self.uncap
        if not heap:
            return
        week_ago = self.model.env.now - WEEK_MINUTES
        while heap and heap[0][0] < week_ago:
            _, i, t = heappop(heap)
            self.capped.discard(i)
            self.update(t)

    def draw(self, tree: SubjectTree, student, rng, budget: int):
        """A tutor drawn in proportion to their open weight, drawn again (one more `rng.random()`)
        while the student cannot take them (cadence beyond their room, or already had): given
        acceptance, in proportion to the weight among the tutors the scan would weigh for this
        student. Returns (leaf, tutor) or None after `budget` draws without one."""
        total = tree.tree[1]
        tutors = tree.tutors
        cadence, seen = student.cadence, student.tutors_seen
        for _ in range(budget):
            k = tree.find(rng.random() * total)
            t = tutors[k]
            if t.roster_load + cadence <= t.roster_room and t.index not in seen:
                return k, t
        return None

    def only_seen_open(self, tree: SubjectTree, seen) -> bool:
        """Whether every tutor open in this subject is one the student has had."""
        if len(seen) < tree.count:
            return False
        position, leaves, size = tree.position, tree.tree, tree.size
        n = 0
        for i in seen:
            k = position.get(i)
            if k is not None and leaves[size + k] > 0.0:
                n += 1
        return n == tree.count
