"""The event log: one columnar table per event type.

The simulation appends one tuple per event (the cheapest thing Python can do); every
`CHUNK_ROWS` rows a table is packed into typed numpy columns, so memory stays at a few bytes per
field however long the run. Agents, subjects and outcomes are small integer codes; the names live
in the code tables below and in the agents' ground-truth tables.
"""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np

CHUNK_ROWS = 65536

CONNECTION = ("Excellent", "Good", "Fair", "Poor")
INITIATOR = ("tutor", "student")
CANCEL_REASON = ("tutor_quit", "student_left")
# why a move decided at booking did not happen: the platform refuses a tutor's moves beyond
# platform.max_reschedule_share of their bookings, or no free hour was found
MOVE_REFUSED = ("platform_cap", "no_free_hour")
LEAVE_REASON = ("quit", "suspended")          # why a tutor stopped: their decision, or the platform's
# why a student booked: already a student at the start, a new student, their next session with
# their tutor, a switch after a session, their tutor had no free hour (or had stopped), their
# booked session was cancelled because the tutor quit
BOOK_REASON = ("existing", "new", "continue", "switch", "tutor_unavailable", "tutor_quit")

# event type -> its columns (name, numpy dtype). Every type starts with the time in minutes.
# Every decision carries the probability it faced and the inputs that produced it (state that
# changes over time: reliability now, burnout, ratings...); static traits are in the ground truth.
SCHEMA: dict[str, list[tuple[str, str]]] = {
    "student_arrived": [("t", "f8"), ("student", "i4"), ("existing", "?")],
    # why: BOOK_REASON; p: the chance of picking this tutor among `candidates` open tutors (weight
    # share: room left in the tutor's week x the rating shown x primary subject; 1 with their own
    # tutor), room and shown_rating: the chosen tutor's (room NaN with their own tutor)
    "session_booked": [("t", "f8"), ("session", "i4"), ("tutor", "i4"), ("student", "i4"),
                       ("start", "f8"), ("duration", "i2"), ("subject", "i1"), ("first", "?"),
                       ("in_preferred_hours", "?"), ("why", "i1"), ("p", "f4"), ("candidates", "i2"),
                       ("room", "f4"), ("shown_rating", "f4")],
    # decided at booking (`decided`, with the tutor's reliability now and burnout then), done
    # hours before the session (t); p: the mover's probability (student: their habit)
    "session_rescheduled": [("t", "f8"), ("session", "i4"), ("by", "i1"), ("old_start", "f8"),
                            ("new_start", "f8"), ("p", "f4"), ("burnout", "f4"), ("decided", "f8"),
                            ("reliability", "f4")],
    # a move decided at booking that did not happen (reason: MOVE_REFUSED); start: the session's
    # time, which stands; moves and bookings: the tutor's so far (what the platform's cap compares)
    "session_move_refused": [("t", "f8"), ("session", "i4"), ("by", "i1"), ("reason", "i1"),
                             ("start", "f8"), ("p", "f4"), ("moves", "i4"), ("bookings", "i4")],
    "session_cancelled": [("t", "f8"), ("session", "i4"), ("reason", "i1")],
    # reliability: the tutor's reliability now (burnout wears it), which made p_tutor_no_show and
    # enters a first session's rating; p_reschedule: the tutor's chance of moving this session,
    # faced when it was booked
    "session_outcome": [("t", "f8"), ("session", "i4"), ("tutor_showed", "?"),
                        ("student_showed", "?"), ("p_tutor_no_show", "f4"),
                        ("p_student_no_show", "f4"), ("burnout", "f4"), ("reliability", "f4"),
                        ("p_reschedule", "f4")],
    "session_observed": [("t", "f8"), ("session", "i4"), ("actual_duration", "i2"),
                         ("connection", "i1"), ("network_load", "f4"), ("tech_issue", "?"),
                         ("attention", "f4"), ("camera", "f4"), ("speak", "f4"), ("screen", "f4"),
                         ("sentiment_overall", "f4"), ("sentiment_student", "f4"),
                         ("sentiment_tutor", "f4"), ("empathy", "f4"), ("clarity", "f4"),
                         ("engagement", "f4"), ("quality", "f4"), ("rating", "f4"),
                         ("satisfaction", "f4"), ("recommend", "?")],
    # after a session time: action (agents/student.py ACTIONS) with the probability of the draw
    # that decided it, the chances of leaving and switching it faced, and what drove them
    "student_decision": [("t", "f8"), ("student", "i4"), ("session", "i4"), ("action", "i1"),
                         ("p", "f4"), ("p_leave", "f4"), ("p_switch", "f4"), ("rating", "f4"),
                         ("first", "?"), ("patience", "f4"), ("sessions_done", "i2")],
    # p = propensity x certification factor x (1 + gain x burnout) x low-rating and idle factors
    # (reason 1, suspended: p = 1, missed_30d no-shows in the last 30 days)
    "tutor_quit": [("t", "f8"), ("tutor", "i4"), ("reason", "i1"), ("p", "f4"), ("burnout", "f4"),
                   ("recent_rating", "f4"), ("idle", "?"), ("cert_factor", "f4"),
                   ("propensity", "f4"), ("missed_30d", "i2")],
    # the platform's daily view of every active tutor (at the intervention job's hour): the churn
    # probability it computed, with the tutor's own hazards that day (quit, login: decided at
    # midnight), burnout and reliability now
    "tutor_day": [("t", "f8"), ("tutor", "i4"), ("churn_probability", "f4"), ("churn_signals", "i1"),
                  ("p_quit", "f4"), ("p_login", "f4"), ("burnout", "f4"), ("reliability", "f4")],
    # --- the platform loop (codes: world/engagement.py, world/interventions.py, world/experiments.py)
    # a tutor logs in: routine or before a session (session = that session, else -1); p = the
    # day's login probability
    "tutor_login": [("t", "f8"), ("tutor", "i4"), ("kind", "i1"), ("device", "i1"), ("ip", "u4"),
                    ("session", "i4"), ("p", "f4")],
    # what a tutor does on the platform: schedule / complete a session, update the profile,
    # message a student (detail: profile field or message kind, else -1)
    "tutor_action": [("t", "f8"), ("tutor", "i4"), ("action", "i1"), ("session", "i4"),
                     ("student", "i4"), ("device", "i1"), ("ip", "u4"), ("detail", "i1"), ("p", "f4")],
    # the platform decides to email a tutor (the daily job, or an experiment's campaign), with the
    # signals it read; experiment/variant -1 when none
    "intervention": [("t", "f8"), ("intervention", "i4"), ("tutor", "i4"), ("itype", "i1"),
                     ("campaign", "?"), ("experiment", "i2"), ("variant", "i1"), ("send_at", "f8"),
                     ("churn_probability", "f4"), ("churn_signals", "i1"), ("rating_30d", "f4"),
                     ("rating_7d", "f4"), ("engagement_30d", "f4"), ("first_session_avg", "f4"),
                     ("tech_rate", "f4"), ("sessions_7d", "i2"), ("sessions_30d", "i2")],
    # one step of an email: sent, delivered, failed, opened, clicked, responded, or a decision
    # against a step (unopened, unclicked, unanswered); p: the step's probability, made of the
    # tutor's responsiveness (trait), burnout then, fit (the off-hours factor of an open: 1 in the
    # tutor's active hours) and the variant's multiplier (open, click appeal)
    "intervention_step": [("t", "f8"), ("intervention", "i4"), ("step", "i1"), ("p", "f4"),
                          ("burnout", "f4"), ("fit", "f4"), ("multiplier", "f4")],
    # coaching booked / attended / missed (at: the coaching time)
    "coaching": [("t", "f8"), ("tutor", "i4"), ("intervention", "i4"), ("experiment", "i2"),
                 ("what", "i1"), ("at", "f8"), ("p", "f4")],
    # a tutor's traits change (deltas); k = effect x coachability x share that drove it
    "trait_change": [("t", "f8"), ("tutor", "i4"), ("intervention", "i4"), ("experiment", "i2"),
                     ("cause", "i1"), ("k", "f4"), ("skill", "f4"), ("reliability", "f4"),
                     ("empathy", "f4"), ("speak_style", "f4"), ("tech_setup", "f4"),
                     ("hours_flex", "f4"), ("quit_propensity", "f4"), ("capacity", "i1")],
    "experiment_started": [("t", "f8"), ("experiment", "i2"), ("eligible", "i4"), ("assigned", "i4")],
    "experiment_assigned": [("t", "f8"), ("experiment", "i2"), ("tutor", "i4"), ("variant", "i1")],
    "experiment_exposed": [("t", "f8"), ("experiment", "i2"), ("tutor", "i4"), ("channel", "i1"),
                           ("p", "f4")],
    # the tutor takes the variant's call to action (a click); baseline: the metric's 7-day mean
    "experiment_acted": [("t", "f8"), ("experiment", "i2"), ("tutor", "i4"), ("channel", "i1"),
                         ("baseline", "f4"), ("n_before", "i2"), ("p", "f4")],
    # conversion_days after the action the platform compares the metric before and after
    "experiment_evaluated": [("t", "f8"), ("experiment", "i2"), ("tutor", "i4"), ("acted_at", "f8"),
                             ("before", "f4"), ("after", "f4"), ("n_before", "i2"), ("n_after", "i2"),
                             ("lift", "f4"), ("converted", "?")],
}


def _discard(row) -> None:
    """The append of a table that no longer records."""


class EventTable:
    __slots__ = ("name", "columns", "rows", "chunks", "append", "recording")

    def __init__(self, name: str, columns: list[tuple[str, str]]):
        self.name = name
        self.columns = columns
        self.rows: list[tuple] = []
        self.chunks: list[dict[str, np.ndarray]] = []
        self.append = self.rows.append
        self.recording = True

    def stop(self) -> None:
        """Record nothing more: later appends and extends are dropped."""
        self.recording = False
        self.append = _discard

    def __len__(self) -> int:
        return len(self.rows) + sum(len(c[self.columns[0][0]]) for c in self.chunks)

    def extend(self, columns) -> None:
        """Append many rows at once, given as one sequence per column (schema order): a daily
        job's rows for every tutor, without a tuple per row."""
        if not self.recording:
            return
        self.pack()
        if len(columns[0]):
            self.chunks.append({name: np.asarray(col, dtype=dtype)
                                for (name, dtype), col in zip(self.columns, columns)})

    def pack(self) -> None:
        """Move the pending rows into a typed columnar chunk.

        The rows go through one structured array, converted field by field in numpy's C loop
        (the same casts as a column's np.asarray), and each column is copied out contiguous:
        about a third less time than transposing the tuples with zip(*rows) and converting each
        column (most of what is left is reading the Python objects, scattered in memory)."""
        if not self.rows:
            return
        records = np.array(self.rows, dtype=np.dtype(self.columns))
        self.chunks.append({name: np.ascontiguousarray(records[name]) for name, _ in self.columns})
        self.rows.clear()

    def arrays(self) -> dict[str, np.ndarray]:
        self.pack()
        if not self.chunks:
            return {name: np.zeros(0, dtype=dtype) for name, dtype in self.columns}
        if len(self.chunks) > 1:
            self.chunks = [{name: np.concatenate([c[name] for c in self.chunks])
                            for name, _ in self.columns}]
        return self.chunks[0]


class Recorder:
    """Holds one EventTable per event type, as attributes: `recorder.session_booked.append(...)`."""

    def __init__(self):
        self.tables = {name: EventTable(name, cols) for name, cols in SCHEMA.items()}
        for name, table in self.tables.items():
            setattr(self, name, table)

    def compact(self) -> None:
        for table in self.tables.values():
            if len(table.rows) >= CHUNK_ROWS:
                table.pack()

    def record_only(self, names) -> None:
        """From now on record only the event types in `names` (the look-ahead after the window
        needs only the tutors' quits, for the churn labels)."""
        for name, table in self.tables.items():
            if name not in names:
                table.stop()

    def counts(self) -> dict[str, int]:
        return {name: len(t) for name, t in self.tables.items()}

    def arrays(self) -> dict[str, dict[str, np.ndarray]]:
        return {name: t.arrays() for name, t in self.tables.items()}


def window_log(log: dict[str, dict[str, np.ndarray]], counts: dict[str, int]) -> dict[str, dict[str, np.ndarray]]:
    """The log as it was at the window's end: each event type's first `counts[type]` rows
    (events are appended in time order, so these are the events recorded by then; output/labels.py
    says why the tables read only these)."""
    return {etype: {col: arr[:counts.get(etype, 0)] for col, arr in cols.items()}
            for etype, cols in log.items()}


def save_log(log: dict[str, dict[str, np.ndarray]], path: Path) -> None:
    """Write the log as an .npz archive (readable with numpy.load) with fixed timestamps inside,
    so that the same run gives the same bytes."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for etype in sorted(log):
            for col, arr in log[etype].items():
                buf = io.BytesIO()
                np.lib.format.write_array(buf, np.ascontiguousarray(arr), allow_pickle=False)
                info = zipfile.ZipInfo(f"{etype}.{col}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, buf.getvalue())


def load_log(path: Path) -> dict[str, dict[str, np.ndarray]]:
    log: dict[str, dict[str, np.ndarray]] = {name: {} for name in SCHEMA}
    with np.load(path, allow_pickle=False) as data:
        for key in data.files:
            etype, col = key.split(".", 1)
            log.setdefault(etype, {})[col] = data[key]
    return log
