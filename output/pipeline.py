"""From a scenario to a folder of tables: simulate, flatten the log, write everything at once."""
from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from output import tables
from output.labels import churn_labels, window_log
from output.platform_tables import build_platform_tables
from output.recorder import Recorder, save_log
from output.writers import atomic_directory, write_csv, write_json
from world.model import Platform

SPEC_TABLES = ("tutor_profiles", "sessions", "tutor_aggregates")


def simulate(scenario, progress: bool = False):
    """Run the scenario (warm-up, window, then the look-ahead). Returns the model, the event log
    as it was at the window's end (what every table is built from), what was taken at the
    window's end ({"ctx": Context, "daily": daily series}) and the whole log (look-ahead included:
    for the churn labels only)."""
    recorder = Recorder()
    model = Platform(scenario, recorder)
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=model.calendar.sim_days, unit="day", desc=f"simulating {scenario.name}",
                   leave=False, dynamic_ncols=True, disable=None)
    at_end = {}

    def window_ends():
        at_end.update(counts=recorder.counts(), ctx=context_of(model), daily=model.daily_series())

    model.run(on_day=(lambda day: bar.update(1)) if bar else None, on_window_end=window_ends)
    if bar:
        bar.close()
    full = recorder.arrays()
    return model, window_log(full, at_end.pop("counts")), at_end, full


def context_of(model) -> tables.Context:
    tutors = pd.DataFrame([t.traits() for t in model.tutors])
    # the platform habit drawn for each tutor by world/engagement.py (the device they log in from)
    from world.engagement import DEVICES
    tutors["usual_device"] = [DEVICES[h.device] for h in model.engagement.habits]
    students = pd.DataFrame([s.traits() for s in model.students])
    return tables.Context(model.calendar, tutors, students, model.scenario.platform.churn, model.scenario.seed)


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


def run(scenario, document: dict, out: Path, progress: bool = False) -> dict:
    """Simulate and write `out` atomically. Returns a summary for the command line."""
    started = time.perf_counter()
    model, log, at_end, full_log = simulate(scenario, progress=progress)
    simulated = time.perf_counter()
    ctx = at_end["ctx"]
    built = tables.build_core_tables(log, ctx)
    built.update(build_platform_tables(log, ctx, scenario))
    built["ground_truth/churn_labels"] = churn_labels(full_log, ctx, scenario.calendar.lookahead_days)
    del full_log
    trained = None
    rows = {}
    with atomic_directory(out) as tmp:
        for name, df in built.items():
            write_csv(df, tmp / f"{name}.csv")
            rows[name] = len(df)
        write_csv(ctx.tutors, tmp / "ground_truth" / "tutor_traits.csv")
        write_csv(ctx.students, tmp / "ground_truth" / "students.csv")
        write_csv(at_end["daily"], tmp / "daily.csv")
        if scenario.outputs.event_log:
            save_log(log, tmp / "events.npz")
        write_json(manifest(scenario, document, rows), tmp / "run.json")
        if scenario.outputs.model:          # the churn model, on the tables just written
            from output.churn_model import train_safely
            trained = train_safely(tmp, scenario.seed)
    return {
        "rows": rows,
        "events": {k: len(next(iter(v.values()))) if v else 0 for k, v in log.items()},
        "window_days": scenario.calendar.window_days,
        "simulate_s": simulated - started,
        "model": trained,
        "total_s": time.perf_counter() - started,
        "out": str(out),
    }
