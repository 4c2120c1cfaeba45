"""The event log without its codes: tidy pandas tables per event type, ids, names and times decoded.

    from analysis.events import read_events
    tables = read_events("data")                          # {event type: DataFrame}
    quits = read_events("data", type="tutor_quit")        # one DataFrame
    mine = read_events("data", tutor="T0042")             # every event type, this tutor's rows

`events.npz` stores agents as indexes, outcomes as small integer codes and times as minutes since
the simulation's start (world/events.py says what each field is). Here every column comes back in
the words of the tables: `tutor` -> `tutor_id` (T0042), `student` -> `student_id`, a session ->
`session_id` as sessions.csv numbers it (blank for sessions outside the window, which keep
`session_number`, the log's own number, as every session does), an email -> `intervention_id` as
interventions.csv numbers it (and `intervention_number`), an experiment and its variant -> their
ids and names from the scenario, codes -> their names, times -> timestamps, addresses -> dotted text.
Each table also gets `phase` (warmup, window or after) from its time.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis.trace.run_folder import Run
from output.reading import BadInput
from world import events as E
from world.engagement import ip_text

TIME_FIELDS = {"t", "start", "old_start", "new_start", "decided", "send_at", "at", "acted_at"}
# (event type or "*", field) -> the code table that names the field's values
CODES = {
    ("*", "subject"): E.SUBJECTS, ("*", "grade"): E.GRADES, ("*", "device"): E.DEVICES,
    ("*", "channel"): E.CHANNELS, ("session_booked", "why"): E.BOOK_REASON,
    ("session_rescheduled", "by"): E.INITIATOR, ("session_move_refused", "by"): E.INITIATOR,
    ("session_move_refused", "reason"): E.MOVE_REFUSED, ("session_cancelled", "reason"): E.CANCEL_REASON,
    ("session_observed", "connection"): E.CONNECTION, ("session_not_held", "connection"): E.CONNECTION,
    ("session_not_held", "connected"): E.CONNECTED, ("student_decision", "action"): E.STUDENT_ACTIONS,
    ("tutor_quit", "reason"): E.LEAVE_REASON, ("tutor_login", "kind"): E.LOGIN_KINDS,
    ("tutor_action", "action"): E.TUTOR_ACTIONS, ("intervention", "itype"): E.INTERVENTION_TYPES,
    ("intervention_step", "step"): E.STEPS, ("coaching", "what"): E.COACHING, ("trait_change", "cause"): E.CAUSES,
}
# tutor_action's detail names a profile field or a message kind, by the action
DETAIL = {E.PROFILE: E.PROFILE_FIELDS, E.MESSAGE: E.MESSAGE_KINDS}


def code_table(etype: str, field: str):
    return CODES.get((etype, field), CODES.get(("*", field)))


def _names(codes: np.ndarray, names) -> np.ndarray:
    table = np.asarray(list(names) + [None], dtype=object)
    codes = np.asarray(codes, dtype=np.int64)
    return table[np.where((codes >= 0) & (codes < len(names)), codes, len(names))]


def _texts(values) -> np.ndarray:
    return np.array(list(values), dtype=object)


def _numbers(arr) -> pd.arrays.IntegerArray:
    """The log's own numbers, blank where it has none (-1)."""
    arr = np.asarray(arr, dtype=np.int64)
    return pd.arrays.IntegerArray(arr, arr < 0)


class Decoder:
    """A run folder's event log, decoded one event type at a time."""

    def __init__(self, folder: Path):
        self.run = Run(Path(folder), need_students=False)
        self.start = pd.Timestamp(self.run.start_dt)
        experiments = getattr(self.run.scenario, "experiments", [])
        self.experiment_ids = [e.id for e in experiments]
        self.variants = [list(e.variants) for e in experiments]
        booked = self.run.log["session_booked"]
        self.session_tutor = dict(zip(booked["session"].tolist(), booked["tutor"].tolist()))
        iv = self.run.log["intervention"]
        self.intervention_tutor = dict(zip(iv["intervention"].tolist(), iv["tutor"].tolist()))

    def times(self, minutes) -> pd.Series:
        seconds = np.round(np.asarray(minutes, dtype="float64") * 60.0)
        return self.start + pd.to_timedelta(seconds, unit="s")

    def table(self, etype: str, tutor: int | None = None) -> pd.DataFrame:
        cols = self.run.log[etype]
        keep = self._rows(etype, cols, tutor)
        cols = {name: arr[keep] for name, arr in cols.items()}
        out: dict[str, object] = {}
        for name, arr in cols.items():
            if name in TIME_FIELDS:
                out["time" if name == "t" else name] = self.times(arr)
            elif name == "tutor":
                out["tutor_id"] = _texts(self.run.tutor_id(i) for i in arr)
            elif name == "student":
                out["student_id"] = _texts(None if i < 0 else self.run.student_id(i) for i in arr)
            elif name == "session":
                out["session_id"] = _texts(None if i < 0 else self.run.session_label.get(int(i)) for i in arr)
                out["session_number"] = _numbers(arr)
            elif name == "intervention":
                out["intervention_id"] = _texts(None if i < 0 else self.run.intervention_label.get(int(i)) for i in arr)
                out["intervention_number"] = _numbers(arr)
            elif name == "experiment":
                out["experiment_id"] = _names(arr, self.experiment_ids)
            elif name == "variant":
                exp = np.asarray(cols["experiment"], dtype=np.int64)
                out["variant"] = _texts(None if e < 0 or v < 0 else self.variants[e][v] for e, v in zip(exp, arr))
            elif name == "ip":
                out["ip"] = _texts(ip_text(i) for i in arr)
            elif etype == "tutor_action" and name == "detail":
                action = cols["action"]
                out["detail"] = _texts(DETAIL[a][d] if a in DETAIL and 0 <= d < len(DETAIL[a]) else None
                                       for a, d in zip(action.tolist(), arr.tolist()))
            elif code_table(etype, name) is not None:
                out[name] = _names(arr, code_table(etype, name))
            else:
                out[name] = arr
        frame = pd.DataFrame(out)
        t = cols["t"]
        frame.insert(1, "phase", np.where(t < self.run.window_start, "warmup",
                                          np.where(t < self.run.window_end, "window", "after")))
        return frame

    def _rows(self, etype: str, cols: dict, tutor: int | None) -> np.ndarray:
        n = len(cols["t"])
        if tutor is None:
            return np.ones(n, dtype=bool)
        if "tutor" in cols:
            return cols["tutor"] == tutor
        if "session" in cols:
            return np.array([self.session_tutor.get(int(s)) == tutor for s in cols["session"]], dtype=bool)
        if "intervention" in cols:
            return np.array([self.intervention_tutor.get(int(i)) == tutor for i in cols["intervention"]], dtype=bool)
        return np.zeros(n, dtype=bool)


def tutor_index(tutor_id: str, n_tutors: int) -> int:
    """T0042 -> 41, or BadInput."""
    if not (isinstance(tutor_id, str) and tutor_id[:1] == "T" and tutor_id[1:].isdigit()):
        raise BadInput(f"--tutor {tutor_id}: not a tutor id (T0042)")
    i = int(tutor_id[1:]) - 1
    if not 0 <= i < n_tutors:
        raise BadInput(f"--tutor {tutor_id}: no such tutor in this run (T0001-T{n_tutors:04d})")
    return i


def read_events(data, type: str | list[str] | None = None, tutor: str | None = None):  # noqa: A002 - the issue's name
    """The run folder `data`'s event log, decoded (see the module's docstring). `type`: one event
    type (a DataFrame comes back) or a list of them (a dict); None: every type (a dict).
    `tutor`: only that tutor's rows (of event types that concern one tutor: theirs, their
    sessions', their emails'). Raises BadInput naming what is wrong."""
    decoder = Decoder(Path(data))
    names = list(E.SCHEMA) if type is None else [type] if isinstance(type, str) else list(type)
    unknown = [n for n in names if n not in E.SCHEMA]
    if unknown:
        raise BadInput(f"unknown event type {unknown[0]!r}; the types are: {', '.join(E.SCHEMA)}")
    who = None if tutor is None else tutor_index(tutor, len(decoder.run.tutors))
    tables = {name: decoder.table(name, who) for name in names}
    return tables[names[0]] if isinstance(type, str) else tables
