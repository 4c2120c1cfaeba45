"""The look-ahead after the window, on the second core while the tables are written.

The days after the window are simulated only to learn which tutors stop soon after it (the churn
labels, output/labels.py). Nothing in the tables depends on them, so once the window's last day
has run the simulation is forked: the child process carries the clock on through the look-ahead
and sends back the log of tutor quits, while the parent flattens and writes the tables. Both
processes start from the same state in memory, so the labels are exactly those of a run that
simulates the look-ahead in one process (`jobs=1`, or where `fork` does not exist): a test
compares the bytes.
"""
from __future__ import annotations

import multiprocessing as mp
import time

from output.cli import can_fork

KEEP = ("tutor_quit",)      # the only events the labels read


class Lookahead:
    """Run `model`'s look-ahead in a forked process from now on (jobs>=2), or in this process when
    `quits()` is first called (jobs=1); `quits()` returns the `tutor_quit` columns of the whole
    run, window and look-ahead. Until then this process's model stays as the window left it."""

    def __init__(self, model, on_day=None, jobs: int = 1):
        self.model = model
        # from here on the log keeps only what the labels read: the tables were cut at the
        # window's end, and the look-ahead's sessions, emails and logins are never written
        model.recorder.record_only(KEEP)
        self._result = None
        self._process = None
        self.seconds = 0.0          # wall time of the look-ahead, once quits() has returned
        if jobs >= 2 and can_fork() and model.calendar.sim_days > model.calendar.total_days:
            receive, send = mp.get_context("fork").Pipe(duplex=False)
            self._process = mp.get_context("fork").Process(target=_child, args=(model, on_day, send),
                                                          name="tutorsim-lookahead", daemon=True)
            self._process.start()
            send.close()
            self._receive = receive
        else:
            self._on_day = on_day            # simulated here, when quits() is first asked

    @property
    def forked(self) -> bool:
        return self._process is not None

    def quits(self) -> dict:
        if self._result is None and self._process is None:
            self._result = _lookahead(self.model, self._on_day)
        if self._result is None:
            try:
                self._result = self._receive.recv()
            except EOFError:
                self._process.join()
                self._result = ("error", f"the look-ahead process ended with exit code "
                                         f"{self._process.exitcode}", 0.0)
            finally:
                self._receive.close()
                self._process.join()
        status, value, self.seconds = self._result
        if status != "ok":
            raise RuntimeError(f"look-ahead after the window failed: {value}")
        return value

    def cancel(self) -> None:
        """Stop a forked look-ahead that is still running (the run failed or was interrupted)."""
        if self._process is not None and self._process.is_alive():
            self._process.terminate()
            self._process.join()


def _lookahead(model, on_day) -> tuple:
    started = time.perf_counter()
    model.run_lookahead(on_day)
    return "ok", model.recorder.tutor_quit.arrays(), time.perf_counter() - started


def _child(model, on_day, send) -> None:
    try:
        send.send(_lookahead(model, on_day))
    except BaseException as e:  # noqa: BLE001 - reported to the parent, which raises it
        send.send(("error", f"{type(e).__name__}: {e}", 0.0))
    finally:
        send.close()
