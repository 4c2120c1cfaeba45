"""State kept small for a platform-sized world gives exactly the numbers the plain form gives: a
student's decision draws are their Twister's, and a tutor's 30- and 7-day windows sum what a
list of the sessions inside them sums.
"""
from __future__ import annotations

import random

import pytest


@pytest.mark.parametrize("existing", [False, True])
def test_a_students_decision_draws_are_their_twisters(existing):
    """agents/decision_stream.py keeps the next numbers, not the Twister: over several refills
    (48, then 96, then 192 more), random() and uniform() give the same floats, in the same order,
    as the student's own stream after its traits."""
    from agents.decision_stream import FIRST, DecisionStream
    from agents.student import Student
    from world.scenario import load
    from world.streams import Streams

    settings = load("scenarios/production.toml").students
    streams = Streams(7)
    index = 123
    twister = streams.stream("student", index)
    Student._traits(twister, settings, existing)

    class Remade:           # what a Student holds of itself to remake its stream
        def __call__(self):
            rng = streams.stream("student", index)
            Student._traits(rng, settings, existing)
            return rng

    mine = DecisionStream(Remade()(), Remade())      # given the stream as it stands after the traits
    n = FIRST + 2 * FIRST + 4 * FIRST + 5          # into the fourth block
    for k in range(n):
        if k % 3 == 0:
            assert mine.uniform(0.5, 1.5) == twister.uniform(0.5, 1.5), k
        else:
            assert mine.random() == twister.random(), k


def test_tutor_windows_sum_the_sessions_inside_them():
    """world/signals.py Rolling keeps columns with moving starts (cut off now and then) instead
    of deques of tuples: at any later time its counts and sums equal a direct sum over the
    sessions within 30 and 7 days, over hundreds of sessions (several cut-offs)."""
    from world.signals import DAY7, DAY30, Rolling

    rng = random.Random(3)
    poor = 3.0
    r = Rolling()
    held, reached, moves = [], [], []
    t = 0.0
    for step in range(3000):
        t += rng.choice([0.0, 60.0, 600.0, 1440.0, 7000.0])
        kind = rng.random()
        if kind < 0.6:
            s = (t, round(rng.uniform(1, 5), 1), round(rng.random(), 2), rng.random() < 0.2, rng.random() < 0.1)
            held.append(s)
            r.add_held(*s, poor)
            reached.append((t, 0))
            r.add_reached(t, False)
        elif kind < 0.75:
            reached.append((t, 1))
            r.add_reached(t, True)
        elif kind < 0.85:
            moves.append(t)
            r.moves.append(t)
        if step % 7 == 0:
            now = t + rng.choice([0.0, 30.0, 1440.0])
            r.evict(now, poor)
            in30 = [s for s in held if s[0] >= now - DAY30]
            in7 = [s for s in held if s[0] >= now - DAY7]
            first = [s for s in in30 if s[3]]
            assert (r.n30, r.n7, r.first_n) == (len(in30), len(in7), len(first))
            assert r.rating30 == pytest.approx(sum(s[1] for s in in30), abs=1e-6)
            assert r.eng30 == pytest.approx(sum(s[2] for s in in30), abs=1e-6)
            assert r.rating7 == pytest.approx(sum(s[1] for s in in7), abs=1e-6)
            assert r.eng7 == pytest.approx(sum(s[2] for s in in7), abs=1e-6)
            assert r.first_rating == pytest.approx(sum(s[1] for s in first), abs=1e-6)
            assert r.first_poor == sum(s[1] < poor for s in first)
            assert r.tech30 == sum(s[4] for s in in30)
            assert r.reached30 == sum(1 for o in reached if o[0] >= now - DAY30)
            assert r.no_show30 == sum(o[1] for o in reached if o[0] >= now - DAY30)
            assert r.moved30 == sum(1 for m in moves if m >= now - DAY30)
    assert len(r.t) < len(held) / 4        # the dead starts were cut off
