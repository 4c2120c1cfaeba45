"""From a scenario to a folder of tables: simulate, flatten the log, write everything at once."""
from __future__ import annotations

import gc
import time
from pathlib import Path

import pandas as pd

from output import tables
from output.labels import churn_labels, window_log
from output.lookahead import Lookahead
from output.model_process import ModelProcess
from output.platform_tables import build_platform_tables
from output.recorder import Recorder, save_log
from output.writers import atomic_directory, write_csv, write_json
from world.model import Platform

SPEC_TABLES = ("tutor_profiles", "sessions", "tutor_aggregates")


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


def _close(bar, model, ahead) -> None:
    if bar is not None:
        if ahead.forked:     # the child drew the look-ahead's days on its own copy of the bar
            bar.n = model.calendar.sim_days
        bar.close()


def context_of(model) -> tables.Context:
    tutors = pd.DataFrame([t.traits() for t in model.tutors])
    # the platform habit drawn for each tutor by world/engagement.py (the device they log in from)
    from world.engagement import DEVICES
    tutors["usual_device"] = [DEVICES[h.device] for h in model.engagement.habits]
    students = pd.DataFrame([s.traits() for s in model.students])
    return tables.Context(model.calendar, tutors, students, model.settings.platform.churn, model.settings.seed)


def manifest(scenario, document: dict, counts: dict) -> dict:
    cal = scenario.calendar
    return {
        "scenario": scenario.name,
        "seed": scenario.seed,
        "tutors": scenario.tutors.count,
        "window_days": cal.window_days,
        "warmup_days": cal.warmup_days,
        "lookahead_days": cal.lookahead_days,
        "window_end": cal.window_end,
        "sessions_per_day": scenario.demand.sessions_per_day,
        "rows": counts,
        "scenario_document": document,
    }


def run(scenario, document: dict, out: Path, progress: bool = False, jobs: int = 1) -> dict:
    """Simulate and write `out` atomically. Returns a summary for the command line.

    With jobs >= 2 three processes share the work, and the files are the same bytes as with one:
    the churn model's process loads its libraries while this one simulates the warm-up and the
    window (output/model_process.py); the look-ahead after the window runs in a forked process
    while this one flattens and writes the tables (output/lookahead.py); then the model trains."""
    started = time.perf_counter()
    trainer = ModelProcess(jobs) if scenario.outputs.model else None
    ahead = None
    try:
        model, bar, counts = simulate_window(scenario, progress)
        simulated = time.perf_counter()
        ahead = Lookahead(model, (lambda day: bar.update(1)) if bar else None, jobs)
        # this process's model stays as the window left it: everything below reads that state
        ctx, daily = context_of(model), model.daily_series()
        # the millions of objects the simulation made stay alive until the end: the cyclic
        # garbage collector need not walk them again while the tables are built
        gc.freeze()
        log = window_log(model.recorder.arrays(), counts)
        built = tables.build_core_tables(log, ctx)
        built.update(build_platform_tables(log, ctx, scenario))
        trained = None
        rows = {}
        with atomic_directory(out) as tmp:
            for name, df in built.items():
                write_csv(df, tmp / f"{name}.csv")
                rows[name] = len(df)
            write_csv(ctx.tutors, tmp / "ground_truth" / "tutor_traits.csv")
            write_csv(ctx.students, tmp / "ground_truth" / "students.csv")
            write_csv(daily, tmp / "daily.csv")
            if scenario.outputs.event_log:
                save_log(log, tmp / "events.npz")
            labels = churn_labels({"tutor_quit": ahead.quits()}, ctx, scenario.calendar.lookahead_days)
            _close(bar, model, ahead)
            write_csv(labels, tmp / "ground_truth" / "churn_labels.csv")
            rows["ground_truth/churn_labels"] = len(labels)
            write_json(manifest(scenario, document, rows), tmp / "run.json")
            if trainer is not None:             # the churn model, on the tables just written
                trained = trainer.train(tmp, scenario.seed, jobs)
    finally:
        if ahead is not None:
            ahead.cancel()
        if trainer is not None:
            trainer.close()
        gc.unfreeze()
    return {
        "rows": rows,
        "events": {k: len(next(iter(v.values()))) if v else 0 for k, v in log.items()},
        "window_days": scenario.calendar.window_days,
        "simulate_s": simulated - started,          # warm-up and window
        "lookahead_s": ahead.seconds,
        "lookahead_forked": ahead.forked,
        "model": trained,
        "total_s": time.perf_counter() - started,
        "out": str(out),
    }
