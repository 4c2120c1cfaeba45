"""What a run writes into its folder, from the window the simulation hands over.

At the window's end the simulation hands over a `Window` (pipeline/one_run.py): the event log cut
at the window's end, the agents' traits and the daily series, as plain arrays and rows. This
module turns it into the files, with pandas: first the spec's tables, the platform's tables, the
ground truth, daily.csv and the event log; then, once the look-ahead has run, the churn labels
and run.json. With --jobs 2 that happens in the run's second process (pipeline/worker.py) while
the simulating process runs the look-ahead; with --jobs 1 in the
same process. The same functions either way: the same bytes.
"""
from __future__ import annotations

import pickle
import time
from collections.abc import MutableMapping
from pathlib import Path

import pandas as pd

from output import dictionary, tables, upcoming
from output.labels import churn_labels
from output.platform_tables import build_platform_tables
from output.recorder import AFTER_WINDOW, save_log
from output.writers import TableParts, formats, write_json, write_table


def preload() -> None:
    """What writing the tables imports on the way, loaded ahead (pipeline/worker.py): the
    experiments' chi-square tail (output/platform_tables.py) comes from scipy.special."""
    import scipy.special  # noqa: F401


def manifest(scenario, document: dict, counts: dict, calendar) -> dict:
    """run.json; `calendar`: the run's world/clock.Calendar."""
    cal = scenario.calendar
    return {
        "scenario": scenario.name,
        "seed": scenario.seed,
        "tutors": scenario.tutors.count,
        "window_days": cal.window_days,
        "warmup_days": cal.warmup_days,
        "lookahead_days": cal.lookahead_days,
        "window_end": cal.window_end,
        # the window as the tables' timestamps count it: [start, end)
        "window": {"start": f"{calendar.window_start_dt:%Y-%m-%d %H:%M:%S}",
                   "end": f"{calendar.window_end_dt:%Y-%m-%d %H:%M:%S}"},
        "sessions_per_day": scenario.demand.sessions_per_day,
        "rows": counts,
        "scenario_document": document,
    }


class RunFolder:
    """Writes a window's files into `folder` (the run's temporary folder): `write_tables()`, then
    `write_labels(after)`. `rows` counts the rows of the tables the summary reports, `files`
    those of every table file written (the data dictionary lists them)."""

    def __init__(self, window, folder: Path):
        self.window = window
        self.folder = Path(folder)
        self.rows: dict[str, int] = {}
        self.files: dict[str, int] = {}
        self.keep_frames = False            # keep every table written in `frames` (for the HTML report)
        self.frames: MutableMapping = {}    # in memory, or on disk (`keep_frames_on_disk`)
        self.formats = formats(window.scenario.outputs)
        self.seconds = 0.0                  # spent writing the tables (write_tables)
        self.upcoming = None                # the upcoming sessions (output/upcoming.py), once written
        self.built_upcoming_ids = None
        started = time.perf_counter()
        tutors = pd.DataFrame(window.tutor_traits)
        # the platform habit drawn for each tutor by world/engagement.py (the device they log in from)
        tutors["usual_device"] = window.usual_devices
        students = tables.students_frame(window.log["student_arrived"])
        scenario = window.scenario
        self.ctx = tables.Context(window.calendar, tutors, students, scenario.platform.churn, scenario.seed)
        self.seconds += time.perf_counter() - started

    def keep_frames_on_disk(self, folder: Path) -> None:
        """Keep every table written for the HTML report, pickled into `folder` until it is read
        (`SpilledFrames`): the run's second process then holds none of them while the look-ahead
        is simulated beside it."""
        self.keep_frames = True
        self.frames = SpilledFrames(folder)

    def write_tables(self) -> dict[str, int]:
        """The tables, the ground truth of the agents, daily.csv and the event log."""
        started = time.perf_counter()
        window, ctx, folder = self.window, self.ctx, self.folder
        # each table is written as soon as it is built, and let go (unless kept for the report)
        for name, df in tables.core_tables(window.log, ctx):
            self._write_counted(df, name)
            del df                      # before the next one is built
        for name, df in build_platform_tables(window.log, ctx, window.scenario).items():
            self._write_counted(df, name)
        days = window.scenario.outputs.upcoming_days
        if days:
            self.upcoming = upcoming.upcoming_frame(window.log, ctx, days)
            upcoming_sessions = upcoming.upcoming_table(self.upcoming, ctx)
            self.built_upcoming_ids = upcoming_sessions["session_id"].to_numpy()
            self._write_counted(upcoming_sessions, "upcoming_sessions")
        self._write(ctx.tutors, "ground_truth/tutor_traits")
        self._write(ctx.students, "ground_truth/students")
        # Mesa's DataCollector's model variables, as its get_model_vars_dataframe() builds them
        self._write(pd.DataFrame(window.daily), "daily")
        if window.scenario.outputs.event_log:
            save_log(window.log, folder / "events.npz")
        self.seconds += time.perf_counter() - started
        return dict(self.rows)

    def write_labels(self, after: dict) -> dict[str, int]:
        """After the look-ahead (`after`: pipeline/one_run.py `lookahead_events`): the churn labels
        from the tutor quits of the whole run (`tutor_quit` columns, window and look-ahead), what
        became of the upcoming sessions, and run.json."""
        scenario = self.window.scenario
        quits = after["tutor_quit"]
        labels = churn_labels({"tutor_quit": quits}, self.ctx, scenario.calendar.lookahead_days)
        if scenario.outputs.event_log:
            # the quits of the look-ahead, so that `trace` can show why a tutor stopped after the window
            n = len(self.window.log["tutor_quit"]["t"])
            save_log({AFTER_WINDOW: {col: arr[n:] for col, arr in quits.items()}}, self.folder / "events.npz", mode="a")
        self._write(labels, "ground_truth/churn_labels")
        self.rows["ground_truth/churn_labels"] = len(labels)
        if self.upcoming is not None:
            ids = self.built_upcoming_ids
            truth = upcoming.outcomes_table(self.upcoming, ids, self.ctx, self.window.log, after)
            self._write(truth, "ground_truth/upcoming_outcomes")
            self.rows["ground_truth/upcoming_outcomes"] = len(truth)
        write_json(manifest(scenario, self.window.document, self.rows, self.window.calendar),
                   self.folder / "run.json")
        dictionary.write(self.folder, self.files, self.formats, scenario.name, scenario.seed)
        return dict(self.rows)

    def _write_counted(self, built, name: str) -> None:
        """A table the run's summary counts the rows of: a frame, or `tables.Parts`, each part
        written (appended) and let go before the next is built."""
        if not isinstance(built, tables.Parts):
            self._write(built, name)
            self.rows[name] = len(built)
            return
        files = [TableParts(self.folder / f"{name}.{fmt}", fmt, name) for fmt in self.formats]
        kept, n = [], 0
        try:
            for part in built:
                for f in files:
                    f.write(part)
                n += len(part)
                if isinstance(self.frames, SpilledFrames):
                    self.frames.add_part(name, part)
                elif self.keep_frames:
                    kept.append(part)
                del part
        finally:
            for f in files:
                f.close()
        if kept:
            self.frames[name] = pd.concat(kept, ignore_index=True)
        self.files[name] = self.rows[name] = n

    def _write(self, df: pd.DataFrame, name: str) -> None:
        """One table, as `name`.csv and/or `name`.parquet (the scenario's outputs.format)."""
        for fmt in self.formats:
            write_table(df, self.folder / f"{name}.{fmt}", fmt, name)
        self.files[name] = len(df)
        if self.keep_frames:
            self.frames[name] = df


class SpilledFrames(MutableMapping):
    """Frames kept on disk: each one pickled into `folder` when it is set (or a part at a time,
    `add_part`), read back when it is asked for, its files removed when it is taken (`pop`) or
    deleted. At platform size the tables kept for the report are a third of a gigabyte; pickled,
    they wait in the page cache, which the system can take back, instead of in the process."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._paths: dict[str, list[Path]] = {}
        self._written = 0

    def add_part(self, name: str, df: pd.DataFrame) -> None:
        """The next rows of the frame `name`."""
        path = self.folder / f"{self._written}.pickle"
        self._written += 1
        with path.open("wb") as f:
            pickle.dump(df, f, protocol=pickle.HIGHEST_PROTOCOL)
        self._paths.setdefault(name, []).append(path)

    def __setitem__(self, name: str, df: pd.DataFrame) -> None:
        self.pop(name, None)
        self.add_part(name, df)

    def __getitem__(self, name: str) -> pd.DataFrame:
        parts = []
        for path in self._paths[name]:
            with path.open("rb") as f:
                parts.append(pickle.load(f))
        return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)

    def pop_parts(self, name: str):
        """The frame `name` as the parts it was kept in, each read (and its file removed) only when
        reached, or None if there is no such frame: a reader can convert one part at a time."""
        paths = self._paths.pop(name, None)
        return None if paths is None else _read_and_remove(paths)

    def __delitem__(self, name: str) -> None:
        for path in self._paths.pop(name):
            path.unlink(missing_ok=True)

    def clear(self) -> None:
        """Every frame let go, none read back (MutableMapping's own would read each one)."""
        for name in list(self._paths):
            del self[name]

    def __iter__(self):
        return iter(list(self._paths))

    def __len__(self) -> int:
        return len(self._paths)


def _read_and_remove(paths):
    for path in paths:
        with path.open("rb") as f:
            part = pickle.load(f)
        path.unlink(missing_ok=True)
        yield part
