"""The platform's rolling view of each tutor: the last 30 and 7 days of sessions, as it stands.

The daily jobs (interventions, experiments) read the same signals that the aggregates table
reports at the window's end, but on any day: every session outcome and every tutor-initiated
reschedule is pushed here as it happens (a listener of the SessionDesk), and per-tutor running
sums are kept over sliding windows, so a day's snapshot of all tutors costs O(tutors), not
O(sessions). The churn formula itself is world/formulas.py, shared with output/tables.py.
"""
from __future__ import annotations

from array import array
from itertools import chain

import numpy as np

from world.clock import MINUTES_PER_DAY
from world.formulas import churn_score, churn_signals

# positions in a session_observed row (see world/observation.py)
OBS_TECH, OBS_ENGAGEMENT, OBS_RATING = 5, 15, 17
DAY30 = 30 * MINUTES_PER_DAY
DAY7 = 7 * MINUTES_PER_DAY
NAN = float("nan")
METRICS = {"engagement_lift": 0, "rating_lift": 1}
FIRST, TECH = 1, 2           # a held session's flags
CUT_AT = 64                 # a window's dead start is cut off beyond this many sessions


class Rolling:
    """One tutor's sliding windows, as columns of plain numbers (`array`), not a tuple per session:
    at platform size the last 30 days hold about a million sessions, and two tuples a session with
    their own floats cost about 300 bytes where these columns cost 34 (lists of the floats would
    cost about 120; an array's append costs a few hundred instructions more, under 1% of a run).

    Held sessions: their time, rating, engagement and flags (first session, technical issue),
    appended in time order; `head30` and `head7` mark the first still inside the 30 and 7 days
    (the 7 days are the 30's most recent sessions). Sessions that reached their time: their time
    and whether the tutor missed it. Tutor-initiated reschedules: their time. A window's start
    moves forward by a head; the dead start of the columns is cut off once it is most of them."""
    __slots__ = ("t", "rating", "eng", "flags", "head30", "head7", "out_t", "out_missed", "out_head",
                 "moves", "moves_head", "rating30", "eng30", "first_n", "first_rating",
                 "first_poor", "tech30", "rating7", "eng7", "no_show30")

    def __init__(self):
        self.t, self.rating, self.eng = array("d"), array("d"), array("d")
        self.flags = array("b")            # FIRST | TECH
        self.out_t, self.out_missed = array("d"), array("b")
        self.moves = array("d")
        self.head30 = self.head7 = self.out_head = self.moves_head = 0
        self.first_n = self.first_poor = self.no_show30 = 0
        self.rating30 = self.eng30 = self.first_rating = self.tech30 = self.rating7 = self.eng7 = 0.0

    def add_held(self, t: float, rating: float, eng: float, first: bool, tech: bool, poor: float) -> None:
        self.t.append(t)
        self.rating.append(rating)
        self.eng.append(eng)
        self.flags.append((FIRST if first else 0) | (TECH if tech else 0))
        self.rating30 += rating
        self.rating7 += rating
        self.eng30 += eng
        self.eng7 += eng
        if tech:
            self.tech30 += 1
        if first:
            self.first_n += 1
            self.first_rating += rating
            if rating < poor:
                self.first_poor += 1

    def add_reached(self, t: float, missed: bool) -> None:
        """A session reached its time; `missed`: the tutor did not show."""
        self.out_t.append(t)
        if missed:
            self.out_missed.append(1)
            self.no_show30 += 1
        else:
            self.out_missed.append(0)

    def evict(self, now: float, poor: float) -> None:
        lo30, lo7 = now - DAY30, now - DAY7
        t, end = self.t, len(self.t)
        i = self.head7
        if i < end and t[i] < lo7:
            rating, eng = self.rating, self.eng
            while i < end and t[i] < lo7:
                self.rating7 -= rating[i]
                self.eng7 -= eng[i]
                i += 1
            self.head7 = i
        i = self.head30
        if i < end and t[i] < lo30:
            rating, eng, flags = self.rating, self.eng, self.flags
            while i < end and t[i] < lo30:
                r, f = rating[i], flags[i]
                self.rating30 -= r
                self.eng30 -= eng[i]
                if f & TECH:
                    self.tech30 -= 1
                if f & FIRST:
                    self.first_n -= 1
                    self.first_rating -= r
                    if r < poor:
                        self.first_poor -= 1
                i += 1
            self.head30 = i
            if i > CUT_AT and 2 * i > end:
                for column in (t, rating, eng, flags):
                    del column[:i]
                self.head7 -= i
                self.head30 = 0
        o, end, i = self.out_t, len(self.out_t), self.out_head
        if i < end and o[i] < lo30:
            missed = self.out_missed
            while i < end and o[i] < lo30:
                self.no_show30 -= missed[i]
                i += 1
            if i > CUT_AT and 2 * i > end:
                del o[:i], missed[:i]
                i = 0
            self.out_head = i
        m, end, i = self.moves, len(self.moves), self.moves_head
        while i < end and m[i] < lo30:
            i += 1
        if i > CUT_AT and 2 * i > end:
            del m[:i]
            i = 0
        self.moves_head = i

    @property
    def n30(self) -> int:
        """Held sessions in the last 30 days (as of the last `evict`)."""
        return len(self.t) - self.head30

    @property
    def n7(self) -> int:
        """Held sessions in the last 7 days (as of the last `evict`)."""
        return len(self.t) - self.head7

    @property
    def reached30(self) -> int:
        """Sessions that reached their time in the last 30 days."""
        return len(self.out_t) - self.out_head

    @property
    def moved30(self) -> int:
        """Tutor-initiated reschedules in the last 30 days."""
        return len(self.moves) - self.moves_head


class Signals:
    """Per-tutor rolling state, fed by the session desk, read by the platform's daily jobs."""

    def __init__(self, model):
        self.model = model
        self.cfg = model.settings.platform.churn
        self.streams = model.streams
        self.tutors = model.tutors
        self.rolling = [Rolling() for _ in model.tutors]
        self.poor = model.behaviour.poor_rating      # a first session rated below it went poorly
        # traits the platform reads that never change: one read-only array each, shared by every
        # day's snapshot instead of rebuilt from 150 tutors every day
        self.months_experience = _read_only(np.array([t.months_experience for t in model.tutors]))
        self.certification_level = _read_only(np.array([t.certification for t in model.tutors]))
        model.desk.listeners.append(self)

    # --- fed by the session desk ----------------------------------------------------------------
    def session_happened(self, s, t: float, held: bool, tutor_showed: bool, row) -> None:
        r = self.rolling[s.tutor.index]
        r.add_reached(t, not tutor_showed)
        if held:
            r.add_held(t, row[OBS_RATING], row[OBS_ENGAGEMENT], s.first, row[OBS_TECH], self.poor)

    def session_moved(self, s, mover: int, t: float) -> None:
        if mover == 0:
            self.rolling[s.tutor.index].moves.append(t)     # a tutor-initiated reschedule

    # --- read by the tutors and the jobs -------------------------------------------------------
    def recent(self, index: int, now: float) -> tuple:
        """The tutor's own last 30 days as they lived them (agents/tutor.py RECENT_FIELDS), which
        their quit decision reads: the same facts the platform's signals sum, unrounded, with no
        minimum of sessions and no noise."""
        r = self.rolling[index]
        r.evict(now, self.poor)
        return (r.n7, r.n30, r.rating7 / r.n7 if r.n7 else NAN, r.rating30 / r.n30 if r.n30 else NAN,
                r.eng30 / r.n30 if r.n30 else NAN, r.first_n, r.first_poor, r.no_show30, r.reached30, r.moved30)

    def mean7(self, index: int, now: float, metric: str) -> tuple[float, int]:
        """The tutor's mean engagement (or rating) over the 7 days before `now`, and how many
        sessions it is over."""
        r = self.rolling[index]
        r.evict(now, self.poor)
        if r.n7 == 0:
            return float("nan"), 0
        total = r.eng7 if METRICS[metric] == 0 else r.rating7
        return total / r.n7, r.n7

    def record_day(self, now: float, snap: dict) -> None:
        """The day's row of every active tutor in the event log (`tutor_day`): the churn
        probability the platform computed, and the tutor's hazards of the day."""
        table = self.model.recorder.tutor_day
        if not table.recording:         # the look-ahead after the window: nobody reads these rows
            return
        idx = np.flatnonzero(snap["active_status"])
        tutors, habits = self.tutors, self.model.engagement.habits
        # one pass over the active tutors, by plain ints (not numpy's); a tutor's burnout once,
        # for their reliability too (reliability_now(t) is reliability_at(burnout(t)))
        p_quit, p_login, burnout, reliability = [], [], [], []
        for i in idx.tolist():
            tutor = tutors[i]
            b = tutor.burnout(now)
            p_quit.append(tutor.p_quit)
            p_login.append(habits[i].p_today)
            burnout.append(b)
            reliability.append(tutor.reliability_at(b))
        table.extend((np.full(len(idx), now), idx, snap["churn_probability"][idx], snap["churn_signals_detected"][idx],
                      p_quit, p_login, burnout, reliability))

    def snapshot(self, now: float) -> dict[str, np.ndarray]:
        """Every tutor's signals as they stand at `now` (the aggregates' columns, vectorised),
        with the churn formula applied. Arrays are indexed by tutor index."""
        n = len(self.tutors)
        rows = []
        for r in self.rolling:
            r.evict(now, self.poor)
            rows.append((r.n30, r.n7, r.rating30, r.rating7, r.eng30, r.first_n, r.first_rating,
                         r.tech30, r.no_show30, r.reached30, r.moved30))
        # fromiter over the flattened rows: the same float64 values as np.array(rows, dtype=float),
        # a third cheaper than numpy's discovery of a nested list's shape
        values = np.fromiter(chain.from_iterable(rows), dtype=float, count=11 * n)
        n30, n7, rs30, rs7, es30, fn, fr, ts30, no_show, n_out, moves = values.reshape(n, 11).T
        cfg = self.cfg
        with np.errstate(invalid="ignore", divide="ignore"):
            r30 = np.round(np.where(n30 > 0, rs30 / n30, np.nan), 2)
            r7 = np.round(np.where(n7 >= cfg.min_sessions_7d, rs7 / n7, np.nan), 2)
            eng = np.round(np.where(n30 > 0, es30 / n30, np.nan), 2)
            fs_avg = np.round(np.where(fn > 0, fr / fn, np.nan), 2)
            tech = np.where(n30 > 0, ts30 / n30, np.nan)
            resched = np.where(n_out > 0, moves / n_out, 0.0)
        signals = churn_signals(cfg, rating_7d=r7, rating_30d=r30, engagement=eng,
                                reschedule_rate=resched, first_session_avg=fs_avg,
                                no_show_count=no_show, sessions_7d=n7, sessions_30d=n30)
        day = int(now // MINUTES_PER_DAY)
        noise = np.array(self.streams.units(("platform", "churn_noise"), [(i, day) for i in range(n)]))
        count, prob, level = churn_score(cfg, signals, noise)
        return {
            "active_status": np.array([t.active for t in self.tutors]),
            "total_sessions_30d": n30.astype(int), "total_sessions_7d": n7.astype(int),
            "avg_rating_30d": r30, "avg_rating_7d": r7, "avg_engagement_score": eng,
            "first_session_count": fn.astype(int), "first_session_avg_rating": fs_avg,
            "technical_issue_rate": tech, "reschedule_rate": resched,
            "no_show_count": no_show.astype(int),
            "churn_probability": prob, "churn_risk_level": level,
            "churn_signals_detected": count.astype(int),
            "months_experience": self.months_experience,
            "certification_level": self.certification_level,
        }


def _read_only(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a
