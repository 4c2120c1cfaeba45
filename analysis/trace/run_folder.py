"""A run folder, read for tracing: the event log, the ground truth and run.json (`Run`), with
the ids and simulated times the trace prints."""
from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import numpy as np

from agents.ids import tutor_id
from output.reading import BadInput, read_csv, read_event_log
from world.clock import Calendar


class _Doc:
    """Attribute access to a raw scenario document; a missing value reads as NaN."""

    def __init__(self, d: dict):
        self._d = d

    def __getattr__(self, key):
        if key.startswith("__"):
            raise AttributeError(key)
        return _Doc.wrap(self._d.get(key, float("nan")))

    @staticmethod
    def wrap(v):
        return _Doc(v) if isinstance(v, dict) else [_Doc.wrap(x) for x in v] if isinstance(v, list) else v


class Run:
    """A run folder, read for tracing."""

    def __init__(self, folder: Path, need_students: bool):
        from world.events import SCHEMA
        from world.scenario import ScenarioError, validate_document
        if not folder.is_dir():
            raise BadInput(f"{folder}: no such folder")
        path = folder / "run.json"
        if not path.is_file():
            raise BadInput(f"{path}: not found (not a run folder?)")
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
            self.window_days, self.warmup_days = int(manifest["window_days"]), int(manifest["warmup_days"])
            calendar = Calendar(str(manifest["window_end"]), self.window_days, self.warmup_days)
            doc = manifest["scenario_document"]
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError) as e:
            raise BadInput(f"{path}: not a run manifest ({type(e).__name__}: {e})") from None
        try:
            self.scenario = validate_document(doc, f"{path}:scenario_document")
        except ScenarioError:
            # a run of another tutorsim version: its scenario is read as it is (what is missing
            # prints as n/a); the trace needs only a few coefficients for its words
            if not isinstance(doc, dict):
                raise BadInput(f"{path}: scenario_document is not a table") from None
            self.scenario = _Doc(doc)
        log = read_event_log(folder)
        # a log of an older tutorsim lacks some columns: they read as missing (n/a)
        for etype, cols in SCHEMA.items():
            table = log.setdefault(etype, {})
            n = len(next(iter(table.values()))) if table else 0
            for col, dtype in cols:
                if col not in table:
                    kind = np.dtype(dtype).kind
                    table[col] = np.full(n, np.nan if kind == "f" else (-1 if kind in "iu" else False),
                                         dtype="f8" if kind == "f" else dtype)
        self.log = log
        self.start_dt = calendar.start_dt
        self.window_start = calendar.window_start
        self.window_end = calendar.window_end
        self.tutors = read_csv(folder / "ground_truth" / "tutor_traits.csv")
        self.students = read_csv(folder / "ground_truth" / "students.csv") if need_students else None
        self._labels()

    def _labels(self):
        log = self.log
        out = log["session_outcome"]
        win = (out["t"] >= self.window_start) & (out["t"] < self.window_end)
        order = np.lexsort((out["session"][win], out["t"][win]))     # as sessions.csv: time, then session
        self.session_label = {int(s): f"S{i + 1:06d}" for i, s in enumerate(out["session"][win][order])}
        iv = log["intervention"]
        win = (iv["t"] >= self.window_start) & (iv["t"] < self.window_end)
        order = np.lexsort((iv["intervention"][win], iv["t"][win]))
        self.intervention_label = {int(k): f"INT{i + 1:04d}" for i, k in enumerate(iv["intervention"][win][order])}

    # --- ids and times ---------------------------------------------------------------------------
    def when(self, t: float) -> dt.datetime:
        return self.start_dt + dt.timedelta(seconds=round(float(t) * 60.0))

    def stamp(self, t) -> str | None:
        return None if t is None or math.isnan(t) else self.when(t).strftime("%Y-%m-%d %H:%M:%S")

    def short(self, t) -> str:
        return "n/a" if t is None or math.isnan(t) else self.when(t).strftime("%m-%d %H:%M")

    def minute(self, when: dt.datetime) -> float:
        return (when - self.start_dt).total_seconds() / 60.0

    def phase(self, t: float) -> str:
        return "warmup" if t < self.window_start else "window" if t < self.window_end else "after"

    def session(self, sid) -> str:
        return self.session_label.get(int(sid), f"#{int(sid)}")

    def intervention(self, iid) -> str:
        return "(in-app)" if iid < 0 else self.intervention_label.get(int(iid), f"#{int(iid)}")

    tutor_id = staticmethod(tutor_id)

    @staticmethod
    def student_id(i) -> str:
        return f"ST{int(i) + 1:06d}"
