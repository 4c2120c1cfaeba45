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

# event type -> its columns (name, numpy dtype). Every type starts with the time in minutes.
SCHEMA: dict[str, list[tuple[str, str]]] = {
    "student_arrived": [("t", "f8"), ("student", "i4"), ("existing", "?")],
    "session_booked": [("t", "f8"), ("session", "i4"), ("tutor", "i4"), ("student", "i4"),
                       ("start", "f8"), ("duration", "i2"), ("subject", "i1"), ("first", "?"),
                       ("in_preferred_hours", "?")],
    "session_rescheduled": [("t", "f8"), ("session", "i4"), ("by", "i1"), ("old_start", "f8"),
                            ("new_start", "f8"), ("p", "f4"), ("burnout", "f4")],
    "session_cancelled": [("t", "f8"), ("session", "i4"), ("reason", "i1")],
    "session_outcome": [("t", "f8"), ("session", "i4"), ("tutor_showed", "?"),
                        ("student_showed", "?"), ("p_tutor_no_show", "f4"),
                        ("p_student_no_show", "f4"), ("burnout", "f4")],
    "session_observed": [("t", "f8"), ("session", "i4"), ("actual_duration", "i2"),
                         ("connection", "i1"), ("network_load", "f4"), ("tech_issue", "?"),
                         ("attention", "f4"), ("camera", "f4"), ("speak", "f4"), ("screen", "f4"),
                         ("sentiment_overall", "f4"), ("sentiment_student", "f4"),
                         ("sentiment_tutor", "f4"), ("empathy", "f4"), ("clarity", "f4"),
                         ("engagement", "f4"), ("quality", "f4"), ("rating", "f4"),
                         ("satisfaction", "f4"), ("recommend", "?")],
    "student_decision": [("t", "f8"), ("student", "i4"), ("session", "i4"), ("action", "i1"),
                         ("p", "f4")],
    "tutor_quit": [("t", "f8"), ("tutor", "i4"), ("p", "f4"), ("burnout", "f4"),
                   ("recent_rating", "f4")],
}


class EventTable:
    __slots__ = ("name", "columns", "rows", "chunks", "append")

    def __init__(self, name: str, columns: list[tuple[str, str]]):
        self.name = name
        self.columns = columns
        self.rows: list[tuple] = []
        self.chunks: list[dict[str, np.ndarray]] = []
        self.append = self.rows.append

    def __len__(self) -> int:
        return len(self.rows) + sum(len(c[self.columns[0][0]]) for c in self.chunks)

    def pack(self) -> None:
        """Move the pending rows into a typed columnar chunk."""
        if not self.rows:
            return
        cols = list(zip(*self.rows))
        self.chunks.append({name: np.asarray(col, dtype=dtype)
                            for (name, dtype), col in zip(self.columns, cols)})
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

    def counts(self) -> dict[str, int]:
        return {name: len(t) for name, t in self.tables.items()}

    def arrays(self) -> dict[str, dict[str, np.ndarray]]:
        return {name: t.arrays() for name, t in self.tables.items()}


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
