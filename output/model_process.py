"""The churn model's own process, started before the simulation.

Importing scikit-learn (and the parts of scipy it needs) and matplotlib takes more than a second.
A run that trains the model forks this process before it builds the platform: it loads those
libraries on the second core while the simulation runs on the first, then waits. Once the tables
and the labels are written, the run sends it the folder; it trains (output/churn_model.py, which
forks again for the cross-validation and the figures) and replies with the metrics.

If the process cannot be started, or dies, the model is trained in the run's own process: the
files are the same either way (tests/test_churn_model.py compares them).
"""
from __future__ import annotations

import multiprocessing as mp
import signal
from pathlib import Path

from output.cli import can_fork


class ModelProcess:
    def __init__(self, jobs: int):
        self._process = None
        if jobs >= 2 and can_fork():
            ctx = mp.get_context("fork")
            self._conn, theirs = ctx.Pipe()
            # not a daemon: it forks its own helpers (cross-validation, figures)
            self._process = ctx.Process(target=_serve, args=(theirs, self._conn), name="tutorsim-model",
                                        daemon=False)
            try:
                self._process.start()
            except OSError:                  # no fork now (memory, process limit): train here later
                self._process = None
            theirs.close()

    def train(self, folder: Path, seed: int, jobs: int) -> dict:
        """Train on the run folder `folder`; the metrics (output/churn_model.py's train_safely)."""
        if self._process is not None:
            try:
                self._conn.send((str(folder), int(seed), int(jobs)))
                return self._conn.recv()
            except (EOFError, OSError):
                pass                         # it died: train here
            finally:
                self.close()
        from output.churn_model import train_safely
        return train_safely(folder, seed, jobs)

    def close(self) -> None:
        """Stop the process (the run is over, failed or was interrupted)."""
        if self._process is None:
            return
        self._conn.close()                   # a process still waiting for work ends on this
        self._process.join(timeout=5)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join()
        self._process = None


def _serve(conn, run_end) -> None:
    # the run's end of the pipe is inherited by the fork: left open here, recv() below would
    # never see the run close it, and a failed run would wait for join()'s timeout
    run_end.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)     # Ctrl-C is the run's to handle: it stops us
    from output.churn_model import preload, train_safely
    preload()
    try:
        folder, seed, jobs = conn.recv()
    except (EOFError, OSError):
        return                               # the run ended without asking for a model
    conn.send(train_safely(folder, seed, jobs))
    conn.close()
