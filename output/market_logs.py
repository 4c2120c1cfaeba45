"""One event log from the logs of a platform's independent markets (scenario `platform.markets`).

Each market is simulated as a platform of its own (pipeline/markets.py): it numbers its tutors,
students, sessions and interventions from 0 and spools its own log (output/recorder.py). The run's
log is their union, written as one platform's log reads, so that everything downstream (the
tables, events.npz, trace, validate) reads it unchanged:

- each event type's rows in the order of the simulated clock across the markets: by when they were
  recorded (the running maximum of `t`: a session's observation carries its start and is recorded
  at its end), then by market; each market's own order is kept;
- tutors numbered market after market (market k's tutor i is the sum of the earlier markets'
  tutors plus i);
- students, sessions and interventions numbered in the order the rows that make them come in the
  merged log (student_arrived, session_booked, intervention): dense and in time order, as one
  platform numbers them; -1 ("none") stays -1;
- experiment_started: one row per experiment, at its first start, with the markets' eligible and
  assigned tutors summed (each market assigns its own eligible tutors, in the experiment's
  allocation).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from output.recorder import spool_path
from world.events import SCHEMA

# the columns that number something other than tutors, and the (event type, column) that makes each
MADE_BY = {"student": ("student_arrived", "student"), "session": ("session_booked", "session"),
           "intervention": ("intervention", "intervention")}
SUMMED = ("eligible", "assigned")           # experiment_started's counts, added over the markets


def clock_order(times: list[np.ndarray]) -> np.ndarray:
    """The merged order of rows given, per market, the rows' times in the market's own order: by
    the running maximum of the times, then market, then the market's order (a stable sort)."""
    key = np.concatenate([np.maximum.accumulate(t) if len(t) else t.astype("f8") for t in times])
    market = np.concatenate([np.full(len(t), k, dtype=np.int16) for k, t in enumerate(times)])
    return np.lexsort((market, key))


class MarketLogs:
    """The markets' spooled logs, each cut at its counts at the window's end: `parts` is a list of
    (spool folder, counts); `tutors` the markets' tutor counts, in market order."""

    def __init__(self, parts, tutors: list[int]):
        self.parts = [(Path(spool), dict(counts)) for spool, counts in parts]
        self.offsets = [int(x) for x in np.cumsum([0, *tutors])[:-1]]
        self._maps: dict[str, list[np.ndarray]] = {}
        self._orders: dict[str, np.ndarray] = {}     # of the types that number something (MADE_BY)

    def counts(self) -> dict[str, int]:
        """Rows of each event type in the merged log."""
        out = {etype: sum(counts.get(etype, 0) for _, counts in self.parts) for etype in SCHEMA}
        out["experiment_started"] = len(np.unique(np.concatenate(
            [self._read(k, "experiment_started", "experiment") for k in range(len(self.parts))])))
        return out

    def write(self, into: Path) -> None:
        """Write the merged log into the spool folder `into` (read_spool reads it, cut at `counts()`)."""
        for etype, columns in SCHEMA.items():
            names = [name for name, _ in columns]
            if etype == "experiment_started":
                merged = self.merge_rows(etype, [self._table(k, etype, names) for k in range(len(self.parts))])
                for name, dtype in columns:
                    merged[name].astype(dtype).tofile(spool_path(into, etype, name))
                continue
            order = self._order(etype)
            for name, dtype in columns:         # a column at a time: at platform size a type is 100 MB
                values = self._global(name, [self._read(k, etype, name) for k in range(len(self.parts))])
                values[order].astype(dtype, copy=False).tofile(spool_path(into, etype, name))

    def merge_rows(self, etype: str, tables: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
        """Rows of `etype` given per market (columns, the market's numbering), as one table."""
        order = clock_order([table["t"] for table in tables])
        merged = {name: self._global(name, [table[name] for table in tables])[order] for name in tables[0]}
        if etype == "experiment_started" and len(order):
            ids, first, which = np.unique(merged["experiment"], return_index=True, return_inverse=True)
            keep = np.argsort(first)            # the experiments in the order they first start
            combined = {name: values[first][keep] for name, values in merged.items()}
            for name in SUMMED:
                sums = np.bincount(which, weights=merged[name], minlength=len(ids))
                combined[name] = sums[keep].astype(merged[name].dtype)
            merged = combined
        return merged

    def merge_lookahead(self, afters: list[dict]) -> dict:
        """The markets' look-ahead events (pipeline/one_run.py `lookahead_events`) as one run's: the
        tutors' quits of the whole run (the window's in the merged log's order, then the
        look-ahead's) and the upcoming sessions' rows, numbered as the merged log numbers them."""
        cut = [counts.get("tutor_quit", 0) for _, counts in self.parts]
        quits = [after["tutor_quit"] for after in afters]
        window = self.merge_rows("tutor_quit", [{c: v[:n] for c, v in q.items()} for q, n in zip(quits, cut)])
        later = self.merge_rows("tutor_quit", [{c: v[n:] for c, v in q.items()} for q, n in zip(quits, cut)])
        merged = {"tutor_quit": {c: np.concatenate([window[c], later[c]]) for c in window}}
        for etype in afters[0]:
            if etype != "tutor_quit":
                merged[etype] = self.merge_rows(etype, [after[etype] for after in afters])
        return merged

    # --- numbering -----------------------------------------------------------------------------------
    def _global(self, name: str, parts: list[np.ndarray]) -> np.ndarray:
        """A column's parts, one per market, concatenated with the markets' numbers made the run's."""
        if name == "tutor":
            parts = [np.where(p >= 0, p + off, p).astype(p.dtype) for p, off in zip(parts, self.offsets)]
        elif name in MADE_BY:
            maps = self._map(name)
            parts = [np.where(p >= 0, m[np.maximum(p, 0)], p).astype(p.dtype) if len(m) else p
                     for p, m in zip(parts, maps)]
        return np.concatenate(parts)

    def _map(self, kind: str) -> list[np.ndarray]:
        """Per market, the run's number of each of the market's own numbers of `kind`."""
        if kind not in self._maps:
            etype, col = MADE_BY[kind]
            markets = range(len(self.parts))
            order = self._order(etype)
            rank = np.empty(len(order), dtype=np.int64)
            rank[order] = np.arange(len(order))
            maps, start = [], 0
            for k in markets:
                ids = self._read(k, etype, col).astype(np.int64)
                m = np.full(int(ids.max()) + 1 if len(ids) else 0, -1, dtype=np.int64)
                m[ids] = rank[start:start + len(ids)]
                maps.append(m)
                start += len(ids)
            self._maps[kind] = maps
        return self._maps[kind]

    def _order(self, etype: str) -> np.ndarray:
        """`clock_order` of the type's rows; kept for the types that number something, which the
        numbering and the merge both order (the others' orders, up to 8 MB a million rows, are not)."""
        order = self._orders.get(etype)
        if order is None:
            order = clock_order([self._read(k, etype, "t") for k in range(len(self.parts))])
            if etype in {made for made, _ in MADE_BY.values()}:
                self._orders[etype] = order
        return order

    def _read(self, k: int, etype: str, name: str) -> np.ndarray:
        spool, counts = self.parts[k]
        return np.fromfile(spool_path(spool, etype, name), dtype=dict(SCHEMA[etype])[name],
                           count=counts.get(etype, 0))

    def _table(self, k: int, etype: str, names) -> dict[str, np.ndarray]:
        return {name: self._read(k, etype, name) for name in names}
