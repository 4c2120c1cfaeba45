"""From a scenario to a folder of tables: simulate, hand the window over, write everything at once.

    simulate the warm-up and the window (this process)
    -> `Window`: the event log cut at the window's end, the agents' traits, the daily series
       (the log packed by a fork of this process with jobs >= 2)
    -> the tables, written from it (output/run_folder.py)   | the look-ahead, simulated on from
                                                             |   the window's end (here)
    -> the churn labels (from the look-ahead's tutor quits), run.json, the churn model
    -> the temporary folder moves into place.

With jobs >= 2 the left column runs in the run's second process (pipeline/worker.py), forked before
the platform is built: it imports the table writers and the model's libraries while this process
simulates.
With one job, or where that process cannot run, everything runs here, one step after the other;
the files are the same bytes either way.
"""
from __future__ import annotations

import gc
import time
from pathlib import Path

from output.recorder import Recorder, window_log
from output.writers import atomic_directory
from pipeline.finish import finish
from pipeline.worker import Worker
from world.model import Platform, enable_gc_without_a_walk

LOOKAHEAD_KEEPS = ("tutor_quit",)      # the only events the churn labels read after the window


def simulate_window(scenario, progress: bool = False):
    """Run the warm-up and the window. Returns the model, the progress bar (or None) and how many
    events of each type the log holds at the window's end."""
    recorder = Recorder()
    model = Platform(scenario, recorder)
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=model.calendar.sim_days, unit="day", desc=f"simulating {scenario.name}",
                   leave=False, dynamic_ncols=True, disable=None)
    model.run_window(on_day=(lambda day: bar.update(1)) if bar else None)
    return model, bar, recorder.counts()


class Window:
    """What the files are written from, taken at the window's end: the event log cut there, the
    agents' traits, the daily series, the scenario. Plain arrays, rows and values, so that it can
    be handed to another process; the simulation then goes on into the look-ahead.

    Taken in two steps. What the look-ahead would change (the tutors' traits: coaching moves
    them; the daily series; how many events and students there are) is read at once. The event
    log and the students' traits, which the look-ahead only adds to, are packed by `pack`, later
    or elsewhere: with --jobs 2 a fork of the simulating process packs them (pipeline/worker.py)
    while this one goes on into the look-ahead, 0.3 s sooner."""

    def __init__(self, model, counts: dict, scenario, document: dict):
        from world.events import DEVICES
        self.scenario = scenario
        self.document = document
        self.calendar = model.calendar
        self.counts = counts                # events of each type in the log at the window's end
        self.tutor_traits = [t.traits() for t in model.tutors]
        self.usual_devices = [DEVICES[h.device] for h in model.engagement.habits]
        self.student_count = len(model.students)
        # Mesa's DataCollector: one list per daily model-level series
        self.daily = {name: list(values) for name, values in model.datacollector.model_vars.items()}
        self.log = self.student_traits = None

    def pack(self, model) -> Window:
        """The event log as it was at the window's end, and the traits of the students who had
        come by then, from `model` then or any time after."""
        self.log = window_log(model.recorder.arrays(), self.counts)
        self.student_traits = [s.traits() for s in model.students[:self.student_count]]
        return self


def run(scenario, document: dict, out: Path, progress: bool = False, jobs: int = 1) -> dict:
    """Simulate and write `out` atomically. Returns a summary for the command line."""
    started = time.perf_counter()
    worker = Worker.start(scenario.outputs.model) if jobs >= 2 else None
    files = None
    # the millions of objects the simulation makes stay alive until the run ends: the cyclic
    # garbage collector stays off meanwhile. (Turned on again between the window and the
    # look-ahead, its first collection walked every one of them: 0.3 s at production's scale.)
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        model, bar, counts = simulate_window(scenario, progress)
        simulated = time.perf_counter()
        window = Window(model, counts, scenario, document)
        with atomic_directory(out) as tmp:
            try:
                handed = worker is not None and worker.write_tables(window, model, tmp)
                if not handed:
                    files = _write_tables_here(window.pack(model), tmp)
                # from here on the log keeps only what the labels read: the look-ahead's sessions,
                # emails and logins are never written
                model.recorder.record_only(LOOKAHEAD_KEEPS)
                ahead_started = time.perf_counter()
                model.run_lookahead((lambda day: bar.update(1)) if bar else None)
                lookahead_s = time.perf_counter() - ahead_started
                quits = model.recorder.tutor_quit.arrays()
                if bar is not None:
                    bar.close()
                done = worker.finish(quits, jobs) if handed else None
                if done is None:            # one job, or the worker failed: the rest is written here
                    if files is None:
                        files = _write_tables_here(window.pack(model), tmp)
                    rows, trained, text = finish(files, quits, jobs)
                    tables_s = files.seconds
                else:
                    rows, trained, text, tables_s = done
            except BaseException:
                if worker is not None:      # it may be writing into tmp: stopped before tmp goes
                    worker.close()
                raise
    finally:
        if worker is not None:
            worker.close()
        if gc_was_enabled:
            enable_gc_without_a_walk()
    return {
        "rows": rows,
        "events": dict(window.counts),
        "window_days": scenario.calendar.window_days,
        "simulate_s": simulated - started,          # warm-up and window
        "lookahead_s": lookahead_s,
        "tables_s": tables_s,                       # writing the tables (beside the look-ahead, or before it)
        "tables_beside_lookahead": done is not None,
        "model": trained,
        "model_text": text,
        "total_s": time.perf_counter() - started,
        "out": str(out),
    }


def _write_tables_here(window, folder: Path):
    from output.run_folder import RunFolder
    files = RunFolder(window, folder)
    files.write_tables()
    return files
