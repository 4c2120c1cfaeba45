"""The run's second process: the files and the churn model, beside the simulation.

A run with --jobs 2 forks this process before the simulating one (pipeline/simulator.py). The
simulation then never imports scikit-learn or matplotlib (pandas and scipy come with mesa); this
one imports them all, on the second core:

    while the warm-up and the window are simulated: import pandas, scipy.special and the table
        builders; if the window is not ready half a second later, the model's libraries too
        (scikit-learn, matplotlib), which a short run that skips the model never loads (a
        platform in several markets loads them after the tables instead: beside the markets'
        look-ahead their 87 MiB would be the run's peak of memory);
    when the window is handed over (pipeline/window.py `Window`: the event log's row counts at
        the window's end, the traits, the daily series): read the log from the run's spool (merged
        from the markets' spools first, if there are several) and write the tables
        (output/run_folder.py), while the simulating processes run the look-ahead; then, if the
        model's libraries are loaded, warm them up (analysis/churn `warm_up`);
    when the look-ahead's events arrive (its tutor quits, the upcoming sessions' outcomes; the
        simulating process has ended, pipeline/simulator.py): write the churn labels, the upcoming
        outcomes and run.json, train the model (analysis/churn, which forks again for its
        cross-validation and figures), make the HTML report (pipeline/run_report.py: validate's
        checks and figures: those that need no labels shared with a forked helper, the tables
        left unread let go, then the rest and the page), and reply with the rows written and the model's
        metrics. (The report's checks ran beside the look-ahead once: at platform size their
        copies of the sessions, on top of the simulation, were the run's peak of memory. In a
        platform of several markets they start when all but the last market's simulation have
        ended, `room`: its memory and its core are free then.)

If this process cannot be started, fails or dies, the run's own process does the same work itself
from the window it was handed: the files are the same either way (tests compare them).
"""
from __future__ import annotations

import multiprocessing as mp
import queue
from pathlib import Path

from analysis.cpus import can_fork, ignore_ctrl_c
from pipeline.finish import finish
from pipeline.memory import give_back_free_memory

PATIENCE = 0.5      # seconds the worker waits for the window before loading the model's libraries
ROOM = "room"       # a simulating process has ended, another still runs (`Worker.room`)


class Worker:
    """The second process, from the run's own process's side. `start()` gives None where there is
    no fork (or no process could be started): the caller then does the work itself."""

    def __init__(self, process, inbox, replies):
        self._process = process
        self._inbox = inbox             # a multiprocessing Queue: put() returns at once (its thread sends)
        self._replies = replies
        self._replied = False           # the worker has answered: it ends by itself

    @classmethod
    def start(cls, train_model: bool, report: bool = False, libraries_first: bool = True) -> Worker | None:
        """`libraries_first`: load the model's and the report's libraries while the window is
        simulated (else after the tables: `_serve`)."""
        if not can_fork():
            return None
        ctx = mp.get_context("fork")
        inbox = ctx.Queue()
        replies, theirs = ctx.Pipe(duplex=False)
        # not a daemon: the model's training forks its own helpers (cross-validation, figures)
        process = ctx.Process(target=_serve, args=(inbox, theirs, replies, train_model, report, libraries_first),
                              name="tutorsim-worker", daemon=False)
        try:
            process.start()
        except OSError:                 # no fork now (memory, process limit): the work is done here
            return None
        finally:
            theirs.close()
        return cls(process, inbox, replies)

    def write_tables(self, window, folder: Path) -> bool:
        """Hand the window over: the worker reads its event log from the spool and writes its
        tables into `folder` meanwhile. False if the worker is gone. The window itself is small
        (row counts, traits, daily series): the queue's thread sends it while this process goes
        on into the look-ahead."""
        if not self._process.is_alive():
            return False
        self._inbox.put((window, str(folder)))
        return True

    def room(self) -> None:
        """A simulating process has ended and another still runs (a platform in several markets:
        pipeline/markets.py): its memory is free, and its core, for the report's first checks."""
        if self._process.is_alive():
            self._inbox.put(ROOM)

    def finish(self, after: dict, jobs: int):
        """The labels, run.json and the model, after the tables (pipeline/finish.py), and the report:
        (rows, metrics, one line on the model, seconds spent writing the tables, the report's
        outcome or None) or None if the worker failed or died: the caller then writes everything
        itself."""
        try:
            self._inbox.put((after, int(jobs)))
            reply = self._replies.recv()
        except (EOFError, OSError):
            return None
        self._replied = True
        return reply[1:] if reply[0] == "ok" else None

    def close(self) -> None:
        """Let the worker end (it has replied, or the run failed or was interrupted), or end it."""
        if self._process is None:
            return
        if self._process.is_alive():
            if not self._replied:
                self._inbox.put(None)   # a worker still waiting for work ends on this
            self._process.join(timeout=5)
            if self._process.is_alive():
                self._process.terminate()
        self._process.join()
        self._inbox.close()
        self._inbox.cancel_join_thread()     # nothing left to send matters now
        self._replies.close()
        self._process = None


def _preload(train_model: bool, report: bool) -> None:
    """Import the model's and the report's libraries (scikit-learn, matplotlib: 87 MiB)."""
    if train_model:
        from analysis.churn import preload
        preload()
    if report:
        from pipeline.run_report import preload as preload_report
        preload_report()


def _serve(inbox, replies, run_end, train_model: bool, report: bool = False, libraries_first: bool = True) -> None:
    # the run's own end of the pipe is inherited by the fork: closed here, so that it alone
    # holds it
    run_end.close()
    ignore_ctrl_c()                  # the run's own process stops us (close: terminate)
    from output import run_folder
    run_folder.preload()
    try:
        job = inbox.get(timeout=PATIENCE)
    except queue.Empty:                              # a long simulation: load the model's too
        if libraries_first:
            _preload(train_model, report)
        job = inbox.get()
    if job is None:
        return                                       # the run ended without handing anything over
    window, folder = job
    try:
        files = run_folder.RunFolder(window.read_log(), Path(folder))
        if report:                      # the report reads the tables after the look-ahead, from here
            files.keep_frames_on_disk(Path(window.spool) / "report_frames")
        files.write_tables()
        give_back_free_memory()         # what building the tables freed: before the report reads them
        if not libraries_first:
            _preload(train_model, report)
        if train_model and inbox.empty():
            from analysis import churn as churn_model
            if churn_model.sklearn_loaded():    # time to spare: the first training starts warm
                churn_model.warm_up()
        builder = None
        if report:
            from pipeline.run_report import RunReport
            builder = RunReport(files)
        job = inbox.get()
        while job == ROOM:                  # checks until the look-ahead's events arrive
            if builder is not None:
                builder.early(stop=lambda: not inbox.empty())
            job = inbox.get()
        if job is None:
            return
        after, jobs = job
        done = finish(files, after, jobs)
        made = None
        if builder is not None:
            builder.early_shared(jobs)
            made = builder.finish(jobs)
    except Exception as e:  # noqa: BLE001 - the run writes everything itself, and raises there
        replies.send(("error", f"{type(e).__name__}: {e}"))
        return
    replies.send(("ok", *done, files.seconds, made))
    replies.close()
