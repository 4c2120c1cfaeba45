"""Replications of scenarios, for compare and sweep: the tasks, and running them.

    run_task(task)           simulate one scenario document with one seed in a temporary folder
                             and return its outcomes: the unit of work, for a local process pool
                             or a Dask cluster alike (so a top-level, importable function)
    execute(tasks, ...)      every task, in this process, a local process pool or on Dask
    compare(...)             A and B over replications with seeds S, S+1, ... (common random
                             numbers: every agent's streams are keyed by seed, agent and purpose,
                             so B's differences from A are the effect, not noise); the per-run
                             outcomes and analysis.whatif's difference table
    sweep(...)               the cartesian grid x replications, as one tidy table

A task simulates with pipeline/one_run.run and reads the tables it wrote with
analysis.whatif.outcomes.
"""
from __future__ import annotations

import contextlib
import logging
import multiprocessing
import signal
import tempfile
import threading
from pathlib import Path
from typing import Callable

import pandas as pd

from analysis.cpus import ignore_ctrl_c
from analysis.whatif import Arm, difference_table, outcome_list, outcomes


def run_task(task: dict) -> dict:
    """Simulate `task["document"]` (a merged scenario document) with `task["seed"]` and return
    {"seed": ..., **outcomes}. The run is written to `task["out"]` if given (kept), else into a
    temporary folder that is removed. Importable by reference, so a Dask worker can run it."""
    from pipeline.one_run import run
    from world.scenario import apply_overrides, validate_document

    # what a what-if run needs: its tables and churn labels (the look-ahead runs, as the scenario
    # says), not the churn model; the event log only where the run is kept (so that `trace` can
    # read it). The commands refuse a --set of these keys (pipeline/whatif_keys.py), never
    # override it silently.
    kept = bool(task.get("out"))
    document = apply_overrides(task["document"], [f"seed={int(task['seed'])}", "outputs.model=false",
                                                  f"outputs.event_log={'true' if kept else 'false'}"])
    scenario = validate_document(document, task.get("source", "scenario"))
    if task.get("out"):
        out = Path(task["out"])
        run(scenario, document, out)
        return {"seed": int(task["seed"]), **outcomes(out)}
    # a local run works in the command's temporary folder (`scratch`), which goes with it if the
    # command is interrupted; a run on a remote Dask worker in that worker's temporary folder
    scratch = task.get("scratch")
    if scratch and not Path(scratch).is_dir():
        scratch = None
    with tempfile.TemporaryDirectory(prefix="tutorsim-whatif-", dir=scratch) as tmp:
        out = Path(tmp) / "run"
        run(scenario, document, out)
        return {"seed": int(task["seed"]), **outcomes(out)}


def _pool_context():
    """fork is fastest (the workers inherit the imported modules) but is unsafe once the parent
    runs other threads (a Dask client, say): then spawn."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


@contextlib.contextmanager
def dask_client(scheduler: str):
    """A Dask client: `local:N` starts a local cluster of N single-threaded worker processes (each
    keeps its imports from one run to the next) and closes it on the way out; any other value is a
    running scheduler's address."""
    import dask
    from distributed import Client, LocalCluster
    if scheduler.startswith("local:"):
        # a worker's sampling profiler (every 10 ms) and its monitors take the GIL from the run
        # it is simulating: off for the command's own cluster. Its workers are forked where the
        # system can: they start with this process's imports (tutorsim, pandas, mesa) instead of
        # importing them again, 2 s of a short sweep (bench/sweep_bench.py)
        quiet = {"distributed.worker.profile.enabled": False, "distributed.admin.system-monitor.interval": "2s",
                 "distributed.admin.system-monitor.gil.enabled": False}
        if "fork" in multiprocessing.get_all_start_methods():
            quiet["distributed.worker.multiprocessing-method"] = "fork"
        # Ctrl-C is the command's to handle: the cluster's processes are started ignoring it (they
        # inherit that), and the command stops them at once (not after their runs)
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if _main_thread() else None
        try:
            with dask.config.set(quiet):
                cluster = LocalCluster(n_workers=int(scheduler[len("local:"):]), threads_per_worker=1,
                                       processes=True, dashboard_address=None)
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
        client = Client(cluster)
        try:
            yield client
        except BaseException:
            # interrupted or failed: the workers' processes (this process's children) are killed
            # mid-run, then the cluster closes what is left; its complaints (lost connections,
            # logged by the scheduler in this process) are not the error: they are not shown
            logging.getLogger("distributed").setLevel(logging.CRITICAL)
            for child in multiprocessing.active_children():
                child.kill()
            with contextlib.suppress(Exception):
                client.close(timeout=2)
            with contextlib.suppress(Exception):
                cluster.close(timeout=2)
            raise
        client.close()
        cluster.close()
    else:
        with Client(scheduler, timeout="20s") as client:
            yield client


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def execute(tasks: list[dict], workers: int = 1, scheduler: str | None = None,
            on_done: Callable[[int, int], None] | None = None) -> list[dict]:
    """Run every task; results in the order of `tasks`. `scheduler`: Dask (`dask_client`: local:N
    or a scheduler's address) runs them instead of a local process pool."""
    n = len(tasks)
    results: list = [None] * n
    if scheduler is not None:
        from distributed import as_completed as dask_completed
        with dask_client(scheduler) as client:
            futures = client.map(run_task, tasks, pure=False)
            index = {f.key: i for i, f in enumerate(futures)}
            for done, future in enumerate(dask_completed(futures), 1):
                results[index[future.key]] = future.result()
                if on_done:
                    on_done(done, n)
        return results
    if workers <= 1 or n <= 1:
        for i, task in enumerate(tasks):
            results[i] = run_task(task)
            if on_done:
                on_done(i + 1, n)
        return results
    # a multiprocessing Pool, not a ProcessPoolExecutor: on Ctrl-C (or a failed run) its workers
    # are terminated at once, where an executor waits for the runs in progress to end
    # (one run per worker process: each starts from this small process, so memory does not grow
    # with the replications; Ctrl-C is this process's to handle: the workers ignore it)
    context = _pool_context()
    if context.get_start_method() == "fork":
        _preload()                  # imported once here, inherited by every worker the pool forks
    pool = context.Pool(min(workers, n), initializer=ignore_ctrl_c, maxtasksperchild=1)
    try:
        for done, (i, result) in enumerate(pool.imap_unordered(_indexed, list(enumerate(tasks))), 1):
            results[i] = result
            if on_done:
                on_done(done, n)
    except BaseException:
        pool.terminate()
        raise
    else:
        pool.close()
    finally:
        pool.join()
    return results


def _preload() -> None:
    """What a run imports (the simulation, the tables' writers): about a second a worker process
    would otherwise spend on every run, since each run has a fresh one."""
    import pipeline.one_run  # noqa: F401
    import world.scenario  # noqa: F401
    from output import run_folder
    run_folder.preload()


def _indexed(job: tuple[int, dict]) -> tuple[int, dict]:
    """A pool's unit of work: the task's place and its result."""
    i, task = job
    return i, run_task(task)


# --- compare ---------------------------------------------------------------------------------------

def compare_tasks(a: Arm, b: Arm, replications: int, seed: int, independent: bool = False,
                  keep_runs: Path | None = None, scratch: Path | None = None) -> list[dict]:
    """A with seeds seed..seed+N-1; B with the same seeds, or (independent) seed+N..seed+2N-1."""
    tasks = []
    for arm, offset in ((a, 0), (b, replications if independent else 0)):
        for r in range(replications):
            task = {"arm": arm.name, "replication": r, "seed": seed + offset + r,
                    "document": arm.document, "source": arm.source, "scratch": str(scratch) if scratch else None}
            if keep_runs is not None:
                task["out"] = str(Path(keep_runs) / f"{arm.name}_{r}")
            tasks.append(task)
    return tasks


def compare(a: Arm, b: Arm, replications: int, seed: int, independent: bool = False, workers: int = 1,
            scheduler: str | None = None, keep_runs: Path | None = None, scratch: Path | None = None,
            on_done=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Returns (per-run outcomes: arm, replication, seed, outcomes...; the difference table).
    `scratch`: a folder for the runs' temporary folders (the command's own)."""
    tasks = compare_tasks(a, b, replications, seed, independent, keep_runs, scratch)
    results = execute(tasks, workers=workers, scheduler=scheduler, on_done=on_done)
    runs = pd.DataFrame([{"arm": t["arm"], "replication": t["replication"], **r} for t, r in zip(tasks, results)])
    runs = runs[["arm", "replication", "seed", *outcome_columns(results)]]
    table = difference_table(runs[runs["arm"] == a.name].reset_index(drop=True),
                             runs[runs["arm"] == b.name].reset_index(drop=True), paired=not independent)
    return runs, table


# --- sweep ------------------------------------------------------------------------------------------

def sweep_tasks(points: list[dict], document_of: Callable[[dict], dict], source: str,
                replications: int, seed: int, scratch: Path | None = None) -> list[dict]:
    """One task per grid point and replication; every point uses seeds seed..seed+N-1 (common
    random numbers across the grid)."""
    tasks = []
    for p, point in enumerate(points):
        doc = document_of(point)
        for r in range(replications):
            tasks.append({"point": p, "params": point, "replication": r, "seed": seed + r,
                          "document": doc, "source": source, "scratch": str(scratch) if scratch else None})
    return tasks


def sweep(points: list[dict], document_of: Callable[[dict], dict], source: str, replications: int,
          seed: int, workers: int = 1, scheduler: str | None = None, scratch: Path | None = None,
          on_done=None) -> pd.DataFrame:
    """The tidy table: one row per grid point and replication (parameter columns, replication,
    seed, outcome columns), in grid order."""
    tasks = sweep_tasks(points, document_of, source, replications, seed, scratch)
    results = execute(tasks, workers=workers, scheduler=scheduler, on_done=on_done)
    rows = [{**t["params"], "replication": t["replication"], **r} for t, r in zip(tasks, results)]
    keys = list(points[0]) if points else []
    return pd.DataFrame(rows)[[*keys, "replication", "seed", *outcome_columns(results)]]


def outcome_columns(results: list[dict]) -> list[str]:
    """The outcomes the runs measured, in their canonical order."""
    keys = dict.fromkeys(k for r in results for k in r if k != "seed")
    return [o.key for o in outcome_list(list(keys))]
