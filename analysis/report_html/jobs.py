"""The report's work shared by two processes (validate's checks in runs, realised churn, figures):
this one and a forked helper take the jobs from one shared counter, so they end together
whatever each job costs. Each job is a function of no arguments returning plain data (bytes, a
list of rows, a dict; inherited by the fork, never sent), so its result is the same whoever makes
it; an error is its message (str), and what the helper took but did not return (it failed or
died) is made here."""
from __future__ import annotations

from typing import Callable

from analysis.cpus import can_fork

Job = Callable[[], object]


def _fork_context():
    """multiprocessing's "fork" context where forking is safe here (no other thread, not a daemon),
    else None."""
    import multiprocessing as mp
    import threading
    if not can_fork() or threading.active_count() > 1 or mp.current_process().daemon:
        return None
    return mp.get_context("fork")


def _run(job: Job):
    try:
        return job()
    except Exception as e:  # noqa: BLE001 - one figure's trouble must not lose the page
        from analysis.figure_bytes import pyplot
        pyplot().close("all")
        return f"{type(e).__name__}: {e}".splitlines()[0]


def _take(names: list[str], counter):
    while True:
        with counter.get_lock():
            i = counter.value
            counter.value = i + 1
        if i >= len(names):
            return
        yield names[i]


def _child(send, jobs: dict, names: list[str], counter) -> None:
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)     # Ctrl-C is the parent's to handle
    done = {name: _run(jobs[name]) for name in _take(names, counter)}
    try:
        send.send(done)
    except OSError:
        pass
    send.close()


def run_jobs(jobs: dict[str, Job], processes: int = 2, then=None) -> dict:
    """{name: what the job returned (None: nothing to draw) or its error message} for every job, in
    `jobs`' order of taking (put the costly first). `then`, if given, is called here once the
    helper has started on `jobs`, and returns more jobs for this process alone (those it could
    not know before: `then` prepares them), made before it takes its share of `jobs`."""
    names = list(jobs)
    ctx = _fork_context() if processes >= 2 and len(names) >= 1 + (then is None) else None
    if ctx is None:
        mine = then() if then is not None else {}
        return {**{name: _run(job) for name, job in mine.items()}, **{name: _run(jobs[name]) for name in names}}
    counter = ctx.Value("q", 0)
    receive, send = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child, args=(send, jobs, names, counter), name="tutorsim-report", daemon=True)
    try:
        process.start()
    except OSError:                     # no fork now (memory, process limit): all of it here
        receive.close()
        send.close()
        return run_jobs(jobs, 1, then)
    send.close()
    out = {}
    try:
        mine = then() if then is not None else {}
        out.update({name: _run(job) for name, job in mine.items()})
        out.update({name: _run(jobs[name]) for name in _take(names, counter)})
        try:
            out.update(receive.recv())
        except (EOFError, OSError):
            pass                        # the helper died: what it took is drawn below
    finally:
        receive.close()
        if process.is_alive() and not all(name in out for name in names):
            process.terminate()
        process.join()
    out.update({name: _run(jobs[name]) for name in names if name not in out})
    return out
