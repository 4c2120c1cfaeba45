"""`run.py live`: the platform running on, in (accelerated) real time, into PostgreSQL.

    history: the warm-up and a window ending now (this hour), simulated and loaded as
        `run.py --window-end now` and `run.py import` would (or, if the database already holds
        this live run, simulated again silently up to where the database ends: the same
        scenario and seed give the same world);
    then a batch every quarter of a wall-clock second: the simulated clock has moved on (speed 1:
        it is the wall clock; speed s: s simulated seconds a second); the world is simulated up to
        it; if nothing happened since the last batch (no event recorded: most quarter-seconds at
        speed 1) the batch only moves the moment the database holds; otherwise the tables are
        flattened as a run ending at that moment writes them
        (output/tables.py, output/platform_tables.py); what has changed goes into the database
        in one transaction (output/live_sink.py):
            sessions          when they end (a no-show: at its time), with what was measured,
            engagement events at their time,
            tutor profiles (quits, last logins, no-shows), interventions (each step), experiments
                and their assignments (exposures, conversions): as they stand at the moment,
            at each simulated hour, the platform's hourly job: the aggregates (tutor_aggregates)
                and the bookings of the next upcoming_days (dashboard: `B...` sessions, gone
                once they happen; sessions.csv's `S` row takes over);
        and the moment the database now holds everything before (table tutorsim_live).

A batch is all or nothing, so Ctrl-C between or during batches leaves the database as of the
last committed moment, and starting again continues from there (upserts by natural keys).
A batch crosses no hour: when the clock has passed one, the batch ends at it and runs the job.
The hourly job's batch and the last one (at --until) are always whole.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import shutil
import tempfile
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

HOUR = 60.0                      # simulated minutes between the platform's hourly jobs
STATE = ("tutor_profiles", "interventions", "experiments", "experiment_assignments")   # as they stand
HOURLY = ("tutor_aggregates", "upcoming_sessions")                    # the hourly job's


def run_key(document: dict, target: str) -> str:
    """A live run's identity: its scenario (without the window's end, which `now` sets) and target."""
    doc = json.loads(json.dumps(document, default=str))
    doc.get("calendar", {}).pop("window_end", None)
    return hashlib.sha256(json.dumps([doc, target], sort_keys=True).encode()).hexdigest()[:16]


class LiveClock:
    """Simulated minutes (the run's) against the wall clock: speed 1 is the wall clock itself;
    speed s runs s times faster from `resume` (simulated minutes) on, counted from now."""

    def __init__(self, calendar, speed: float, resume: float):
        self.cal = calendar
        self.speed = speed
        self.resume = resume
        self.wall0 = time.monotonic()

    def now(self) -> float:
        if self.speed == 1.0:
            return (dt.datetime.now() - self.cal.start_dt).total_seconds() / 60.0
        return self.resume + self.speed * (time.monotonic() - self.wall0) / 60.0

    def wall_at(self, t: float) -> float:
        """The monotonic wall time at which the simulated clock reaches `t`."""
        return time.monotonic() - (self.now() - t) * 60.0 / self.speed


@dataclass
class Snapshot:
    """The tables as a run ending at `at` (simulated minutes) writes them; of the streamed tables
    (sessions, events) only the rows that may be due from the batch's start on."""
    at: float
    hourly: bool                      # the hourly job's moment: its tables are written too
    tables: dict[str, pd.DataFrame]
    released: dict[str, pd.Series] = field(default_factory=dict)   # stream table -> release time
    usual: dict[str, dict] | None = None      # hourly: each tutor's measured connections


class LiveWorld:
    """The simulation, run up to the live clock, and its tables at each batch's moment."""

    def __init__(self, scenario, document: dict, workdir: Path):
        from output.recorder import Recorder
        from world.model import Platform
        self.scenario = scenario
        self.document = document
        self.spool = Path(workdir) / ".events"
        self.model = Platform(scenario, Recorder(self.spool))
        self.cal = self.model.calendar
        self.seen: dict[str, int] = {}           # the log's rows at the last snapshot
        self.next_due = 0.0                      # the first session to end after it (minutes)

    def advance(self, at: float) -> bool:
        """Simulate on to `at`; whether a batch ending there has anything to write: an event
        recorded since the last snapshot, or a session ending (a minute's margin for rounding)."""
        if at > self.model.env.now:
            self.model.run_until(at)
        return self.model.recorder.counts() != self.seen or self.next_due - 1.0 < at

    def run_history(self):
        """Warm-up and window; returns the pipeline's Window (for the history's files)."""
        from pipeline.window import Window
        self.model.run_window()
        self.model.recorder.flush()
        window = Window.at_end_of(self.model, self.model.recorder.counts(), self.scenario, self.document)
        # from now on the platform's in-login actions are simulated too (a run stops them at the
        # window's end: only engagement_events.csv shows them)
        if self.scenario.outputs.engagement_events:
            self.model.engagement.detail_until = math.inf
        return window

    def snapshot(self, at: float, hourly: bool, since: float) -> Snapshot:
        """Simulate on to `at` and flatten the tables as a run ending then would (the hourly
        job's too with `hourly`). Of the streamed tables only the rows that may be due from
        `since` on are formatted (numbered as in the whole table): a batch costs the history's
        counts, not its text."""
        import copy

        import numpy as np

        from output import tables, upcoming
        from output.platform_tables import build_platform_tables
        from output.recorder import read_spool
        from world.events import DEVICES
        model = self.model
        self.advance(at)
        model.recorder.flush()
        self.seen = model.recorder.counts()
        log = read_spool(self.spool, model.recorder.counts())
        cal = copy.copy(self.cal)
        cal.window_end, cal.window_end_dt = at, cal.to_datetime(at)
        cal.total_days = int(at // (24 * HOUR))      # the day of the churn score's daily noise
        traits = pd.DataFrame([t.traits() for t in model.tutors])
        traits["usual_device"] = [DEVICES[h.device] for h in model.engagement.habits]
        ctx = tables.Context(cal, traits, tables.students_frame(log["student_arrived"]),
                             self.scenario.platform.churn, self.scenario.seed)
        sf = tables.session_frame(log, ctx)
        profiles = tables.profiles_table(sf, log, ctx)
        # a session is due when it ends (a missed one at its time): none before since - the longest
        longest = float(np.nan_to_num(sf["actual_duration"].astype("float64").max())) if len(sf) else 0.0
        k = int(np.searchsorted(sf["start_final"].to_numpy("float64"), since - longest, "left"))
        recent = sf.iloc[k:].reset_index(drop=True)
        ends = (recent["start_final"].to_numpy("float64")
                + np.where(recent["completed"].to_numpy(bool), recent["actual_duration"].astype("float64").fillna(0), 0))
        self.next_due = float(ends[ends >= at].min()) if (ends >= at).any() else math.inf
        sessions = tables.sessions_table(recent, ctx, first=k + 1)
        built = {"tutor_profiles": profiles, "sessions": sessions,
                 "not_held_sessions": tables.not_held_table(log, recent, first=k + 1)}
        if hourly:
            built["tutor_aggregates"] = tables.aggregates_table(sf, profiles, ctx)
        built.update(build_platform_tables(log, ctx, self.scenario, events_since=since, unsubscribes=False))
        days = self.scenario.outputs.upcoming_days
        if days and hourly:
            built["upcoming_sessions"] = upcoming.upcoming_table(upcoming.upcoming_frame(log, ctx, days), ctx)
        snap = Snapshot(at, hourly, built)
        start = pd.to_datetime(sessions["session_datetime"])
        snap.released["sessions"] = start + pd.to_timedelta(
            sessions["actual_duration_min"].fillna(0).astype("float64"), unit="min")
        held_at = pd.Series(snap.released["sessions"].to_numpy(), index=sessions["session_id"].to_numpy())
        snap.released["not_held_sessions"] = held_at.reindex(built["not_held_sessions"]["session_id"]).reset_index(drop=True)
        if "engagement_events" in built:
            snap.released["engagement_events"] = pd.to_datetime(built["engagement_events"]["timestamp"])
        if hourly:
            snap.usual = usual_connections(sf, ctx.tutors["tutor_id"].to_numpy())
        return snap


def usual_connections(sf: pd.DataFrame, tutor_ids) -> dict[str, dict]:
    """Each tutor's measured connections (the window's held sessions, output/tables.py's session
    frame), for the bookings ahead."""
    from world.events import CONNECTION
    held = sf[sf["completed"].to_numpy(bool)]
    pairs = zip(tutor_ids[held["tutor"].to_numpy(int)].tolist(), held["connection"].fillna(0).astype(int).tolist())
    out: dict[str, Counter] = {}
    for (tutor, code), n in Counter(pairs).items():
        out.setdefault(tutor, Counter())[CONNECTION[code]] = n
    return {t: dict(c) for t, c in out.items()}


def write_batch(folder: Path, snap: Snapshot, lo: dt.datetime, hi: dt.datetime, document: dict) -> None:
    """The batch's files: the stream rows due in [lo, hi), the state tables as they stand at
    `hi`, and the hourly job's tables if the snapshot has them."""
    from output.writers import write_table
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    from output.live_sink import STREAMED
    for name in STREAMED:
        if name in snap.tables:
            at = snap.released[name]
            rows = snap.tables[name][((at >= lo) & (at < hi)).to_numpy()]
            write_table(rows, folder / f"{name}.csv", "csv", name)
    for name in STATE + (HOURLY if snap.hourly else ()):
        if name in snap.tables:
            write_table(snap.tables[name], folder / f"{name}.csv", "csv", name)
    (folder / "run.json").write_text(json.dumps({"window_end": hi.isoformat(timespec="seconds"),
                                                 "scenario_document": document}, default=str))


def write_history(window, folder: Path) -> None:
    """The history's tables, as `run.py --window-end now` writes them (no labels, no model)."""
    from output.run_folder import RunFolder, manifest
    from output.writers import write_json
    files = RunFolder(window.read_log(), folder)
    files.write_tables()
    write_json(manifest(window.scenario, window.document, files.rows, window.calendar), folder / "run.json")


@dataclass
class Progress:
    """What the progress line and the bench read: the batches written and their lags."""
    rows: int = 0
    batches: int = 0
    hours: int = 0
    # wall s from a batch's first moment to its commit, the last 100,000 batches (a live run may
    # go on for days)
    latencies: deque = field(default_factory=lambda: deque(maxlen=100_000))
    gaps: deque = field(default_factory=lambda: deque(maxlen=100_000))   # wall s between commits
    last_commit: float | None = None
    simulated_until: dt.datetime | None = None


class Live:
    """One live run: `start()` (history or resume), then `run(until)` until the clock reaches
    `until` (simulated minutes; inf: until Ctrl-C)."""

    def __init__(self, scenario, document: dict, sink, speed: float, tick: float = 0.25, report=None):
        self.scenario, self.document, self.sink = scenario, document, sink
        self.speed = speed
        self.tick = min(1.0, tick)
        self.report = report or (lambda live: None)
        self.key = run_key(document, sink.target)
        self.work = Path(tempfile.mkdtemp(prefix="tutorsim-live-"))
        self.progress = Progress()
        self.world = self.clock = None
        self.released = 0.0
        self.resumed = False

    def state(self, moment: float) -> dict:
        cal = self.world.cal
        return {"scenario": self.scenario.name, "seed": self.scenario.seed, "window_end": cal.window_end_dt,
                "simulated_until": cal.to_datetime(moment), "speed": self.speed}

    def start(self, fresh_document: dict) -> None:
        """A new live run from a history ending now, or this run again from where the database
        ends. `fresh_document`: the scenario document with the window's end set for a new run."""
        from world.scenario import validate_document
        self.sink.prepare()
        held = self.sink.state(self.key)
        if held is not None:
            self.resumed = True
            window_end, until = held
            self.document = json.loads(json.dumps(self.document, default=str))
            self.document.setdefault("calendar", {})["window_end"] = window_end.isoformat(timespec="seconds")
            self.scenario = validate_document(self.document, "the live run's scenario")
        else:
            if self.sink.has_rows():
                raise LiveRefused("the database already holds other data (another run or live run): "
                                  "give --clear to replace it, or another database")
            self.document = fresh_document
            self.scenario = validate_document(fresh_document, "the live run's scenario")
        self.world = LiveWorld(self.scenario, self.document, self.work)
        window = self.world.run_history()
        cal = self.world.cal
        if held is None:
            history = self.work / "history"
            write_history(window, history)
            self.sink.load_history(history)
            self.released = cal.window_end
            self.sink.write(self._empty_batch(cal.window_end), self.key, self.state(cal.window_end))
        else:
            self.released = (until - cal.start_dt).total_seconds() / 60.0
        self.clock = LiveClock(cal, self.speed, self.released)

    def _empty_batch(self, moment: float) -> Path:
        folder = self.work / "batch"
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        (folder / "run.json").write_text(json.dumps({"window_end": self.world.cal.to_datetime(moment).isoformat(),
                                                     "scenario_document": self.document}, default=str))
        return folder

    def run(self, until: float = math.inf) -> None:
        """A batch every tick until the simulated clock reaches `until` (simulated minutes)."""
        while self.released < until:
            started = time.monotonic()
            now = min(self.clock.now(), until)
            hour = _hour_after(self.released)
            hourly = now >= hour
            if hourly:                                # the batch ends at the hour and runs its job
                now = hour
            if now > self.released:
                self._batch(now, hourly, whole=hourly or now >= until)
            if self.released < until and self.clock.now() < _hour_after(self.released):
                time.sleep(max(0.0, self.tick - (time.monotonic() - started)))   # caught up: wait

    def _batch(self, now: float, hourly: bool, whole: bool) -> None:
        cal = self.world.cal
        first_wall = self.clock.wall_at(self.released)
        folder = self.work / "batch"
        usual = None
        if self.world.advance(now) or whole:
            snap = self.world.snapshot(now, hourly, self.released)
            write_batch(folder, snap, cal.to_datetime(self.released), cal.to_datetime(now), self.document)
            if self.sink.target == "dashboard" and "upcoming_sessions" in snap.tables:
                usual = snap.usual
        else:                                         # nothing happened: the moment moves on
            self._empty_batch(now)
        p = self.progress
        p.rows += self.sink.write(folder, self.key, self.state(now), usual)
        p.batches += 1
        p.hours += hourly
        committed = time.monotonic()
        p.latencies.append(committed - first_wall)
        if p.last_commit is not None:
            p.gaps.append(committed - p.last_commit)
        p.last_commit = committed
        p.simulated_until = cal.to_datetime(now)
        self.released = now
        self.report(self)

    def lag_seconds(self) -> float:
        """How far (wall seconds) the database trails the simulated clock."""
        return max(0.0, (self.clock.now() - self.released) * 60.0 / self.speed) if self.clock else 0.0

    def close(self) -> None:
        shutil.rmtree(self.work, ignore_errors=True)


class LiveRefused(Exception):
    """The live run cannot start as asked: str() is the one line shown (exit 2)."""


def _hour_after(t: float) -> float:
    """The first hour boundary after minute `t`."""
    return (math.floor(t / HOUR) + 1) * HOUR
