"""From a scenario to a folder of tables: simulate, hand the window over, write everything at once.

    simulate the warm-up and the window, the event log spooled to disk in chunks as it goes
      (output/recorder.py), into the run's temporary folder
    -> `Window`: the log's row counts at the window's end, the agents' traits, the daily series
    -> the tables, written from the spooled log cut at   | the look-ahead, simulated on from
       those counts (output/run_folder.py)                |   the window's end
    -> the churn labels (from the look-ahead's tutor quits), the upcoming sessions' outcomes,
       run.json, the churn model; report.html
    -> the spool goes, the temporary folder moves into place.

With jobs >= 2 the right column runs in a process of its own that ends with the look-ahead
(pipeline/simulator.py: its memory goes back to the system whole, before the report reads the
tables), and the left column in the run's second process (pipeline/worker.py), forked before the
platform is built: it imports the table writers and the model's libraries meanwhile, and reads the
window's log from the spool. This process hands the window and the look-ahead's events from one
to the other. With one job, or where those processes cannot run, everything runs here, one step
after the other; the files are the same bytes either way.

A platform split into markets (scenario `platform.markets`, pipeline/markets.py) has one
simulation per market, each spooling into a folder of its own and, with jobs >= 2, in a process of
its own, side by side; the run's window is made of theirs (its log merged from their spools when
the tables are written: output/market_logs.py) and so are the look-ahead's events.
"""
from __future__ import annotations

import gc
import shutil
import time
from pathlib import Path

from output.recorder import Recorder
from output.writers import atomic_directory
from pipeline.finish import finish
from pipeline.markets import market_logs, market_scenarios, run_window
from pipeline.simulator import Simulator
from pipeline.window import Window
from pipeline.worker import Worker
from world.model import Platform, enable_gc_without_a_walk

LOOKAHEAD_KEEPS = ("tutor_quit",)      # the only events the churn labels read after the window
SPOOL = ".events"                      # the spool's folder in the run's temporary folder


def simulate_window(scenario, progress: bool = False, spool: Path | None = None):
    """Run the warm-up and the window, spooling the event log into `spool` (None: in memory).
    Returns the model, the progress bar (or None) and how many events of each type the log holds
    at the window's end, every one of them packed (and spooled)."""
    recorder = Recorder(spool)
    model = Platform(scenario, recorder)
    bar = None
    if progress:
        import threading

        from tqdm import tqdm
        # one process draws the bar: a thread lock will do. tqdm's default also makes a
        # multiprocessing lock, a named semaphore that Python's resource tracker then reports as
        # leaked when the run leaves at once (run.py exit_now)
        tqdm.set_lock(threading.RLock())
        bar = tqdm(total=model.calendar.sim_days, unit="day", desc=f"simulating {scenario.name}",
                   leave=False, dynamic_ncols=True, disable=None)
    model.run_window(on_day=(lambda day: bar.update(1)) if bar else None)
    recorder.flush()
    return model, bar, recorder.counts()


def run(scenario, document: dict, out: Path, progress: bool = False, jobs: int = 1, report: bool = False) -> dict:
    """Simulate and write `out` atomically (with report.html if `report`: pipeline/run_report.py).
    Returns a summary for the command line."""
    started = time.perf_counter()
    # a platform in several markets: the markets' processes hold the memory the model's libraries
    # would take beside them while the tables are written; those load after the tables, meanwhile
    # the markets finish their look-ahead
    worker = (Worker.start(scenario.outputs.model, report, libraries_first=scenario.platform.markets == 1)
              if jobs >= 2 else None)
    simulators: list = []
    files = None
    # the millions of objects the simulation makes here (one job, or no simulating process) stay
    # alive until the run ends: the cyclic garbage collector stays off meanwhile. (Turned on again between the window and the
    # look-ahead, its first collection walked every one of them: 0.3 s at production's scale.)
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        with atomic_directory(out) as tmp:
            try:
                markets = market_scenarios(scenario)
                steps = [simulation(sc, document, progress and k == 0, _spool(tmp, k, len(markets)))
                         for k, sc in enumerate(markets)]
                # each market in its own process, which ends with its look-ahead
                simulators = [Simulator.start(s) if worker is not None else None for s in steps]
                windows, simulate_s = _take(simulators, steps, "window")
                window = windows[0] if len(windows) == 1 else run_window(windows, scenario, document, tmp / SPOOL)
                handed = worker is not None and worker.write_tables(window, tmp)
                if not handed:
                    files = _write_tables_here(window, tmp, report)
                room = worker.room if handed and report else None
                afters, lookahead_s = _take(simulators, steps, "lookahead", room)
                # (numbered by logs of its own: the window's went to the second process)
                after = afters[0] if len(afters) == 1 else market_logs(windows).merge_lookahead(afters)
                done = worker.finish(after, jobs) if handed else None
                if done is None:            # one job, or the worker failed: the rest is written here
                    if files is None:
                        files = _write_tables_here(window, tmp, report)
                    rows, trained, text = finish(files, after, jobs)
                    made = _report_here(files, jobs) if report else None
                    tables_s = files.seconds
                else:
                    rows, trained, text, tables_s, made = done
            except BaseException:
                # they may be writing into tmp: stopped before tmp goes
                for helper in (*simulators, worker):
                    if helper is not None:
                        helper.close()
                raise
            shutil.rmtree(tmp / SPOOL)
    finally:
        for helper in (*simulators, worker):
            if helper is not None:
                helper.close()
        if gc_was_enabled:
            enable_gc_without_a_walk()
    return {
        "rows": rows,
        "events": dict(window.counts),
        "window_days": scenario.calendar.window_days,
        "window": (window.calendar.window_start_dt, window.calendar.window_end_dt),
        "simulate_s": simulate_s,                   # warm-up and window
        "lookahead_s": lookahead_s,
        "tables_s": tables_s,                       # writing the tables (beside the look-ahead, or before it)
        "tables_beside_lookahead": done is not None,
        "model": trained,
        "model_text": text,
        "report": made,                             # report.html: its bytes and seconds, or the error
        "total_s": time.perf_counter() - started,
        "out": str(out),
    }


def _spool(tmp: Path, market: int, markets: int) -> Path:
    """Where a market spools its log: the run's spool, or a folder of its own in it."""
    return tmp / SPOOL if markets == 1 else tmp / SPOOL / f"market{market}"


def _take(simulators: list, steps: list, step: str, ended=None):
    """Each market's next step ("window" or "lookahead"), from its simulating process or simulated
    here: (the markets' values, seconds: the slowest of those simulated side by side, plus those
    simulated here one after the other). `ended()` is called each time a market's simulating
    process has ended and another's still runs."""
    values, beside, here = [], 0.0, 0.0
    for k, (simulator, market) in enumerate(zip(simulators, steps)):
        if simulator is not None:
            value, seconds = getattr(simulator, step)()
            beside = max(beside, seconds)
            if ended is not None and k < len(steps) - 1:
                ended()
        else:
            value, seconds = next(market)
            here += seconds
        values.append(value)
    return values, beside + here


def simulation(scenario, document: dict, progress: bool, spool: Path):
    """A run's simulation, step by step (a generator: nothing runs until it is asked for the first
    step, here or in the simulating process, pipeline/simulator.py): (the `Window`, seconds the
    warm-up and the window took), then (the look-ahead's events, seconds it took)."""
    started = time.perf_counter()
    model, bar, counts = simulate_window(scenario, progress, spool)
    window = Window.at_end_of(model, counts, scenario, document)
    yield window, time.perf_counter() - started
    started = time.perf_counter()
    after = lookahead_events(model, window, bar)
    if bar is not None:
        bar.close()
    yield after, time.perf_counter() - started


def lookahead_events(model, window, bar=None) -> dict:
    """Simulate the look-ahead, recording only what is read of it: the tutors' quits (the churn
    labels) and, for `outputs.upcoming_days` plus output/upcoming.py's margin, the outcomes, moves
    and cancellations of the sessions booked before the window's end (their ground truth). Returns
    {"tutor_quit": the quits of the whole run, event type: the look-ahead's rows of those sessions}."""
    from output.upcoming import MARGIN_DAYS, SESSION_EVENTS
    rec, cal = model.recorder, model.calendar
    days = window.scenario.outputs.upcoming_days
    sessions = SESSION_EVENTS if days else ()
    rec.record_only(LOOKAHEAD_KEEPS + sessions)
    stop_after = cal.total_days + days + MARGIN_DAYS          # the day whose end stops the sessions'

    def on_day(day: int) -> None:
        if bar is not None:
            bar.update(1)
        if day == stop_after and sessions:
            rec.record_only(LOOKAHEAD_KEEPS)

    model.run_lookahead(on_day)
    after = {"tutor_quit": rec.tutor_quit.arrays()}
    for etype in sessions:
        rows = getattr(rec, etype).arrays_from(window.counts[etype])
        keep = rows["session"] < window.booked_before_end
        after[etype] = {col: arr[keep] for col, arr in rows.items()}
    return after


def _report_here(files, jobs: int) -> dict:
    from pipeline.run_report import RunReport
    builder = RunReport(files)
    builder.early(stop=lambda: False)
    return builder.finish(jobs)


def _write_tables_here(window, folder: Path, keep_frames: bool = False):
    from output.run_folder import RunFolder
    files = RunFolder(window.read_log(), folder)
    files.keep_frames = keep_frames     # the report reads the tables from memory
    files.write_tables()
    return files
