"""The event log: one columnar table per event type.

The simulation appends one tuple per event (the cheapest thing Python can do); every
`CHUNK_ROWS` rows (checked once a simulated hour: world/model.py `pack_log`) a table is packed
into typed numpy columns.
A recorder given a spool folder writes each packed chunk there at once, appended to one file per
column, and keeps nothing of it: the process holds at most an hour's rows and `CHUNK_ROWS` pending
rows per event type, however long the run (a run spools into its temporary folder; whoever
writes the tables reads the columns back, `read_spool`). Without a spool the chunks stay in
memory. Agents, subjects and outcomes are small integer codes; the event types, their fields and
the code tables live in world/events.py, the agents' names in the ground truth.
"""
from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from world.events import SCHEMA

CHUNK_ROWS = 4096


def _discard(row) -> None:
    """The append of a table that no longer records."""


def spool_path(spool: Path, etype: str, column: str) -> Path:
    return Path(spool) / f"{etype}.{column}"


def read_spool(spool: Path, counts: dict[str, int]) -> SpooledLog:
    """The first `counts[type]` rows of every event type spooled into `spool`: the log as it was
    when those were the counts (rows are only ever appended, in time order). With the counts at
    the window's end, the window's log (output/labels.py says why the tables read only that)."""
    return SpooledLog(spool, counts)


class SpooledLog(Mapping):
    """An event log cut at `counts`, read from its spool: `log[type]` reads that type's columns
    from the files each time it is asked for, so nothing is held between two tables' reads (at
    platform size the window's log is a third of a gigabyte, and each table reads a few of its
    types). The files are in the page cache: a read of a million rows takes milliseconds."""

    def __init__(self, spool: Path, counts: dict[str, int]):
        self.spool = Path(spool)
        self.counts = dict(counts)

    def __getitem__(self, etype: str) -> dict[str, np.ndarray]:
        n = self.counts.get(etype, 0)
        return {name: np.fromfile(spool_path(self.spool, etype, name), dtype=dtype, count=n)
                for name, dtype in SCHEMA[etype]}

    def columns(self, etype: str, names) -> dict[str, np.ndarray]:
        """Only the columns `names` of `etype`: only their files are read."""
        n = self.counts.get(etype, 0)
        dtypes = dict(SCHEMA[etype])
        return {name: np.fromfile(spool_path(self.spool, etype, name), dtype=dtypes[name], count=n)
                for name in names}

    def __iter__(self):
        return iter(SCHEMA)

    def __len__(self) -> int:
        return len(SCHEMA)


def log_columns(log, etype: str, names) -> dict[str, np.ndarray]:
    """The columns `names` of the event type `etype` of `log`: an event log held in memory (type ->
    column -> array) or a `SpooledLog`, which then reads only those columns' files."""
    if isinstance(log, SpooledLog):
        return log.columns(etype, names)
    table = log[etype]
    return {name: table[name] for name in names}


class EventTable:
    __slots__ = ("name", "columns", "rows", "chunks", "append", "recording", "spool", "spooled")

    def __init__(self, name: str, columns: list[tuple[str, str]], spool: Path | None = None):
        self.name = name
        self.columns = columns
        self.rows: list[tuple] = []
        self.chunks: list[dict[str, np.ndarray]] = []
        self.append = self.rows.append
        self.recording = True
        self.spool = spool          # the folder the packed chunks go to, or None: kept in `chunks`
        self.spooled = 0            # rows written there
        if spool is not None:
            for col, _ in columns:
                spool_path(spool, name, col).touch()

    def stop(self) -> None:
        """Record nothing more: later appends and extends are dropped."""
        self.recording = False
        self.append = _discard

    def __len__(self) -> int:
        return self.spooled + len(self.rows) + sum(len(c[self.columns[0][0]]) for c in self.chunks)

    def extend(self, columns) -> None:
        """Append many rows at once, given as one sequence per column (schema order): a daily
        job's rows for every tutor, without a tuple per row."""
        if not self.recording:
            return
        self.pack()
        if len(columns[0]):
            self._keep({name: np.asarray(col, dtype=dtype) for (name, dtype), col in zip(self.columns, columns)})

    def pack(self) -> None:
        """Move the pending rows into a typed columnar chunk.

        The rows go through one structured array, converted field by field in numpy's C loop
        (the same casts as a column's np.asarray), and each column is copied out contiguous:
        about a third less time than transposing the tuples with zip(*rows) and converting each
        column (most of what is left is reading the Python objects, scattered in memory)."""
        if not self.rows:
            return
        records = np.array(self.rows, dtype=np.dtype(self.columns))
        self._keep({name: np.ascontiguousarray(records[name]) for name, _ in self.columns})
        self.rows.clear()

    def _keep(self, chunk: dict[str, np.ndarray]) -> None:
        if self.spool is None:
            self.chunks.append(chunk)
            return
        for name, arr in chunk.items():
            with open(spool_path(self.spool, self.name, name), "ab") as f:
                arr.tofile(f)
        self.spooled += len(arr)

    def arrays_from(self, start: int) -> dict[str, np.ndarray]:
        """The rows from row `start` on (a spooled table reads only those from its files)."""
        if self.spool is None:
            return {name: arr[start:] for name, arr in self.arrays().items()}
        self.pack()
        return {name: np.fromfile(spool_path(self.spool, self.name, name), dtype=dtype,
                                  count=max(0, self.spooled - start), offset=start * np.dtype(dtype).itemsize)
                for name, dtype in self.columns}

    def arrays(self) -> dict[str, np.ndarray]:
        self.pack()
        if self.spool is not None:
            return {name: np.fromfile(spool_path(self.spool, self.name, name), dtype=dtype, count=self.spooled)
                    for name, dtype in self.columns}
        if not self.chunks:
            return {name: np.zeros(0, dtype=dtype) for name, dtype in self.columns}
        if len(self.chunks) > 1:
            self.chunks = [{name: np.concatenate([c[name] for c in self.chunks])
                            for name, _ in self.columns}]
        return self.chunks[0]


class Recorder:
    """Holds one EventTable per event type, as attributes: `recorder.session_booked.append(...)`.
    `spool`: a folder for the packed chunks (created), or None to keep them in memory."""

    def __init__(self, spool: Path | None = None):
        if spool is not None:
            Path(spool).mkdir(parents=True, exist_ok=True)
        self.spool = spool
        self.tables = {name: EventTable(name, cols, spool) for name, cols in SCHEMA.items()}
        for name, table in self.tables.items():
            setattr(self, name, table)

    def compact(self) -> None:
        for table in self.tables.values():
            if len(table.rows) >= CHUNK_ROWS:
                table.pack()

    def flush(self) -> None:
        """Pack every pending row (into the spool, if there is one)."""
        for table in self.tables.values():
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


# the look-ahead's tutor quits, added to a run's events.npz once the look-ahead has run (the rest
# of the archive is the window's log, written while the look-ahead runs); load_log puts them back
# after the window's quits, so that a quit after the window can be traced
AFTER_WINDOW = "tutor_quit_after"


# zlib's fastest level: at a million sessions, 4.3 s for the log's 344 MB against 13.5 s at its
# default (6), for an archive 4% larger (157 MB against 151)
COMPRESS_LEVEL = 1


def save_log(log: dict[str, dict[str, np.ndarray]], path: Path, mode: str = "w") -> None:
    """Write the log as an .npz archive (readable with numpy.load) with fixed timestamps inside,
    so that the same run gives the same bytes. mode "a" adds the tables of `log` to the archive."""
    with zipfile.ZipFile(path, mode, compression=zipfile.ZIP_DEFLATED) as zf:
        for etype in sorted(log):
            for col, arr in _one_column_at_a_time(log, etype):
                buf = io.BytesIO()
                np.lib.format.write_array(buf, np.ascontiguousarray(arr), allow_pickle=False)
                info = zipfile.ZipInfo(f"{etype}.{col}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, buf.getvalue(), compresslevel=COMPRESS_LEVEL)


def _one_column_at_a_time(log, etype: str):
    """(column, values) of `etype` in `log`, each column read only when reached (`log_columns`: at
    platform size a whole event type is a hundred megabytes)."""
    names = [col for col, _ in SCHEMA[etype]] if isinstance(log, SpooledLog) else list(log[etype])
    for col in names:
        yield col, log_columns(log, etype, (col,))[col]


def load_log(path: Path) -> dict[str, dict[str, np.ndarray]]:
    log: dict[str, dict[str, np.ndarray]] = {name: {} for name in SCHEMA}
    with np.load(path, allow_pickle=False) as data:
        for key in data.files:
            etype, col = key.split(".", 1)
            log.setdefault(etype, {})[col] = data[key]
    after = log.pop(AFTER_WINDOW, None)
    if after:
        quits = log["tutor_quit"]
        for col in list(quits):
            quits[col] = np.concatenate([quits[col], after[col]])
    return log
