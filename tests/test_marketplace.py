"""The marketplace's index of open tutors (world/match_index.py) against the linear scan it
replaces (world/marketplace.py `Marketplace.scan`): the same choices in distribution, weights equal
to a fresh recomputation from the tutors after the simulation and random changes have moved them,
and the tutors a student has had when no other can take them.
"""
from __future__ import annotations

import math
import random
from pathlib import Path
from types import SimpleNamespace

import pytest
from scipy.stats import chi2_contingency, chisquare

from output.recorder import Recorder
from world import scenario
from world.model import Platform

DEV = Path(__file__).resolve().parents[1] / "scenarios" / "dev.toml"

# a few tutors reach the weekly intake of new students within days (a cap that lifts with time)
OVERRIDES = ["tutors.count=60", "platform.new_students_per_week=3"]
N_DRAWS = 20_000


def platform(days: int) -> Platform:
    model = Platform(scenario.load(DEV, OVERRIDES), Recorder())
    model._run_days(0, days, None)
    return model


@pytest.fixture(scope="module")
def model():
    return platform(8)


def student(model, subject: str, cadence: int, seen=()):
    """A student looking for a tutor (what `match` reads of one)."""
    grade = next(iter(model.hour_weights))
    return SimpleNamespace(subject=subject, cadence=cadence, tutors_seen=set(seen),
                           hour_weight=model.hour_weights[grade], hour_profile=model.hour_profiles[grade])


def always_free(tutor, student, first_day, n_days, rng, avoid=-1):
    return (0, True)


def scan_chances(market, s) -> dict:
    """tutor index -> the chance of the scan's pick."""
    candidates, weights = market.scan(s)
    total = math.fsum(weights)
    return {t.index: w / total for (t, _), w in zip(candidates, weights)}


def picks(market, s, seed: int, n: int = N_DRAWS) -> list:
    """The tutors `match` finds for the same student n times (every hour free: the first pick)."""
    rng = random.Random(seed)
    market.find_slot = always_free
    try:
        return [market.match(s, 0, rng) for _ in range(n)]
    finally:
        del market.find_slot


def assert_same_distribution(found: list, chances: dict, what: str) -> None:
    """Chi-square of the tutors found against the scan's chances (bins with few expected pooled)."""
    counts: dict[int, int] = {}
    for r in found:
        counts[r[0].index] = counts.get(r[0].index, 0) + 1
    assert set(counts) <= set(chances), f"{what}: tutors the scan would never pick: {set(counts) - set(chances)}"
    n = len(found)
    obs, exp, pool_o, pool_e = [], [], 0, 0.0
    for i, p in sorted(chances.items()):
        if n * p < 5:
            pool_o, pool_e = pool_o + counts.get(i, 0), pool_e + n * p
        else:
            obs.append(counts.get(i, 0))
            exp.append(n * p)
    if pool_e > 0:
        obs.append(pool_o)
        exp.append(pool_e)
    if len(obs) < 2:
        assert obs[0] == n
        return
    p_value = chisquare(obs, exp).pvalue
    assert p_value > 1e-3, f"{what}: choice frequencies differ from the scan's chances (chi-square p={p_value:.2e})"


def fresh_weights(model, tree) -> list:
    """Each tutor's open weight in this subject worked out again from the tutor, as the scan weighs
    them before the student's own exclusions."""
    intake = model.settings.platform.new_students_per_week
    smallest = min(model.settings.students.cadence_weights)
    week_ago = model.env.now - 7 * 1440
    out = []
    for t, factor in zip(tree.tutors, tree.factors):
        recent = sum(1 for x in t.intake if x >= week_ago)
        if not t.active or t.roster_load + smallest > t.roster_room or recent >= intake:
            out.append(0.0)
        else:
            out.append(max(0.02, 1.0 - t.roster_load / t.roster_room) * t.appeal * factor)
    return out


def assert_index_is_fresh(model) -> None:
    index = model.marketplace.index
    index.advance()
    for subject, tree in index.trees.items():
        want = fresh_weights(model, tree)
        got = [tree.weight(k) for k in range(len(tree.tutors))]
        for t, w, g in zip(tree.tutors, want, got):
            assert g == pytest.approx(w, rel=1e-9, abs=0.0), f"{subject}: tutor {t.index} weighs {g}, not {w}"
        assert tree.total == pytest.approx(math.fsum(want), rel=1e-9, abs=0.0), f"{subject}: total"
        assert tree.total >= 0.0
        assert tree.count == sum(1 for w in want if w > 0), f"{subject}: open tutors"
        inner = tree.tree
        assert all(inner[i] == inner[2 * i] + inner[2 * i + 1] for i in range(1, tree.size)), f"{subject}: sums"


# --- (a) the same choices as the scan -----------------------------------------------------------
def test_the_index_chooses_as_the_scan_would(model):
    """Per subject: a student with nobody seen, one who had the three heaviest tutors, and one
    whose cadence is beyond the room of about a third of the tutors (draws rejected, drawn again):
    the index's picks fall as the scan's chances say, and the log's p is the index's share."""
    market = model.marketplace
    index = market.index
    index.advance()
    assert index.capped, "the test's market should have tutors at their weekly intake"
    cases = []
    for subject, tree in index.trees.items():
        by_weight = sorted(range(len(tree.tutors)), key=lambda k: -tree.weight(k))
        heavy = [tree.tutors[k].index for k in by_weight[:3]]
        slack = sorted(t.roster_room - t.roster_load for t in tree.tutors if t.active)
        large = int(slack[len(slack) // 3])     # about a third of the tutors cannot take it
        cases += [(subject, 1, ()), (subject, 2, heavy), (subject, large, heavy[:1])]
    for seed, (subject, cadence, seen) in enumerate(cases):
        s = student(model, subject, cadence, seen)
        chances = scan_chances(market, s)
        found = picks(market, s, seed)
        assert all(r is not None for r in found)
        assert not seen or not {r[0].index for r in found} & set(seen)
        assert_same_distribution(found, chances, f"{subject}, cadence {cadence}, {len(seen)} seen")
        # what the log says: the pick's weight over the index's total and the tutors open there
        tree = index.trees[subject]
        for tutor, _, _, (p, n, room) in found[:200]:
            k = tree.position[tutor.index]
            assert p == tree.weight(k) / tree.total and n == tree.count
            floor = model.settings.platform.full_roster_weight
            assert room == max(floor, 1.0 - tutor.roster_load / tutor.roster_room)


def test_a_match_with_its_tries_finds_tutors_as_the_scan_would(model):
    """Several tries, the first pick with a free hour winning: with the tutors of every other
    position full, a tutor is found with chance p (1 - q^tries) / (1 - q), q the chance of a full
    one, and nobody with q^tries; and both ways of matching agree in distribution with the real
    hours too."""
    market = model.marketplace
    s = student(model, "Science", 2, ())
    chances = scan_chances(market, s)
    full = {i for i in chances if i % 2}
    q = sum(p for i, p in chances.items() if i in full)
    want = {i: p * (1 - q ** 4) / (1 - q) for i, p in chances.items() if i not in full}
    want[-1] = q ** 4
    rng = random.Random(99)
    market.find_slot = lambda tutor, *args, **kw: None if tutor.index in full else (0, True)
    try:
        found = [market.match(s, 0, rng) or (SimpleNamespace(index=-1),) for _ in range(N_DRAWS)]
    finally:
        del market.find_slot
    assert_same_distribution(found, want, "with tries")
    # with the real hours (a find_slot draw after each pick): the index against the scan itself
    first_day = int(model.env.now // 1440) + 1
    rng_a, rng_b = random.Random(5), random.Random(6)
    a = [market.match(s, first_day, rng_a) for _ in range(5_000)]
    b = [market.match_by_scan(s, first_day, rng_b) for _ in range(5_000)]
    key = lambda r: -1 if r is None else r[0].index      # noqa: E731
    count = {k: sum(1 for r in a + b if key(r) == k) for k in {key(r) for r in a + b}}
    rare = {k for k, n in count.items() if n < 20}           # pooled
    bins = sorted(set(count) - rare) + ([None] if rare else [])
    table = [[sum(1 for r in x if (key(r) in rare if k is None else key(r) == k)) for k in bins] for x in (a, b)]
    p_value = chi2_contingency(table).pvalue
    assert p_value > 1e-3, f"with real hours: index and scan differ (chi-square p={p_value:.2e})"


# --- (b) weights as a fresh recomputation gives them ---------------------------------------------
def test_index_weights_equal_a_fresh_recomputation_after_changes():
    """After every simulated day and after random changes through the model's hooks (ratings,
    roster loads, capacity, quits, first sessions up to the intake), each tutor's leaf, each
    subject's total and count of open tutors are what the tutors give worked out afresh."""
    model = platform(3)
    assert_index_is_fresh(model)
    rng = random.Random(3)
    index = model.marketplace.index
    capped, lifted = set(), set()
    for day in range(3, 9):
        # the simulation's own changes: bookings, ratings, switches, quits, intakes capped and lifted
        model._run_days(day, day + 1, None)
        assert_index_is_fresh(model)
        lifted |= capped - index.capped
        capped = set(index.capped)
        # and random ones through the same hooks
        for _ in range(40):
            t = rng.choice(model.tutors)
            what = rng.randrange(4)
            if what == 0:
                t.note_session(model.env.now, rng.choice([1.0, 2.5, 4.0, 5.0]))
            elif what == 1:
                model.assign_tutor(SimpleNamespace(tutor=None, cadence=rng.randint(1, 9)), t)
            elif what == 2:
                t.commit_more_hours(0.0, 1)
            elif t.active and not t.upcoming and rng.random() < 0.2:
                model.tutor_quits(t, 1.0)
        assert_index_is_fresh(model)
    assert lifted, "no tutor's intake cap lifted: the test did not see the heap at work"
    # a roster all but full: the least room left that is open (the 0.02 floor), then none
    t = max((t for t in model.tutors if t.active), key=lambda t: t.roster_room)
    smallest = min(model.settings.students.cadence_weights)
    model.assign_tutor(SimpleNamespace(tutor=None, cadence=t.roster_room - t.roster_load - smallest), t)
    assert 1.0 - t.roster_load / t.roster_room < 0.02
    assert_index_is_fresh(model)
    model.assign_tutor(SimpleNamespace(tutor=None, cadence=0.5), t)
    assert_index_is_fresh(model)
    # first sessions up to the weekly intake, with students who already have the tutor (booking
    # a first session does not move their roster: the intake alone closes the tutor)
    t = next(t for t in model.tutors if t.active and t.roster_load + 10 < t.roster_room
             and t.index not in index.capped and not any(
                 x >= model.env.now - 7 * 1440 for x in t.intake))
    day = int(model.env.now // 1440) + 1
    for _ in range(model.settings.platform.new_students_per_week):
        s = model.new_student(existing=False)
        model.assign_tutor(s, t)
        assert_index_is_fresh(model)
        hour, preferred = model.marketplace.find_slot(t, s, day, 14, rng)
        model.desk.book(s, t, hour, preferred, first=True)
        assert_index_is_fresh(model)
    assert t.index in index.capped


# --- (c) the tutors a student has had, when no other can take them -------------------------------
def test_when_no_unseen_tutor_can_take_the_student_the_pick_is_among_seen_ones(model):
    market = model.marketplace
    index = market.index
    index.advance()
    tree = index.trees["Math"]
    open_ = [t for k, t in enumerate(tree.tutors) if tree.weight(k) > 0]
    # every open tutor already had (the index knows it at once) ...
    s = student(model, "Math", 1, [t.index for t in open_])
    chances = scan_chances(market, s)
    assert set(chances) == {t.index for t in open_}
    found = picks(market, s, 21, 5_000)
    assert_same_distribution(found, chances, "all open tutors had")
    # ... or those not had all without room for the student's cadence (draws from the index fail)
    slack = sorted(((t.roster_room - t.roster_load, t.index) for t in open_), reverse=True)
    cadence = math.floor(slack[2][0])
    seen = [i for room, i in slack if room >= cadence]
    assert len(seen) < len(open_)
    s = student(model, "Math", cadence, seen)
    chances = scan_chances(market, s)
    assert set(chances) == set(seen)
    found = picks(market, s, 22, 5_000)
    assert {r[0].index for r in found} <= set(seen)
    assert_same_distribution(found, chances, "no unseen tutor with room")
    assert all(r[3][0] == pytest.approx(chances[r[0].index], rel=1e-6) and r[3][1] == len(seen) for r in found)
    # and nobody open at all: no tutor
    s = student(model, "Math", 10_000, ())
    assert market.scan(s) == ([], []) and market.match(s, 0, random.Random(1)) is None
