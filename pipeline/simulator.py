"""The run's simulating process: the warm-up, the window and the look-ahead, in a fork that ends
when they are done.

A run with --jobs 2 forks it after its second process (pipeline/worker.py). It simulates the
warm-up and the window, spooling the event log into the run's folder (output/recorder.py), and
sends the window (pipeline/one_run.py `Window`: small and plain) to the run's own process, which
hands it to the second process to write the tables; it simulates the look-ahead meanwhile, sends
its events (the churn labels' quits, the upcoming sessions' outcomes) and ends.

Ending is how a platform's memory goes back to the system: the kernel takes the process's pages
back whole, at once. (Freed inside a process that lives on, a platform-sized simulation's millions
of small objects took a collection of several seconds, and the allocators still kept most of their
pages: 960 of 1,300 MiB at a million sessions.) The report, which reads the tables two and three
times over, then runs beside no simulation.

Ctrl-C is the run's own process's to handle: this one ignores it and ends when that process
terminates it. An error here (a full disk while spooling) is sent back and raised there, as the
same exception.
"""
from __future__ import annotations

import multiprocessing as mp
import os

from analysis.cpus import can_fork, ignore_ctrl_c


class SimulationDied(RuntimeError):
    """The simulating process ended without sending what it owed (killed, out of memory)."""


class Simulator:
    """The simulating process, from the run's own process's side. `start()` gives None where no
    process can be forked: the caller then simulates itself."""

    def __init__(self, process, conn):
        self._process = process
        self._conn = conn

    @classmethod
    def start(cls, steps) -> Simulator | None:
        """Fork the process and take `steps` (pipeline/one_run.py `simulation`, not yet started) in
        it, sending each step's values to this process: the window's, then the look-ahead's."""
        if not can_fork():
            return None
        ctx = mp.get_context("fork")
        ours, theirs = ctx.Pipe(duplex=False)
        process = ctx.Process(target=_serve, args=(theirs, ours, steps), name="tutorsim-simulation", daemon=True)
        try:
            process.start()
        except OSError:                 # no fork now (memory, process limit): simulated here
            return None
        finally:
            theirs.close()
        return cls(process, ours)

    @property
    def exitcode(self) -> int | None:
        """The process's exit code once it has ended, None while it runs."""
        return self._process.exitcode

    def window(self):
        """(the window, seconds the warm-up and the window took), once the window is simulated."""
        return self._receive()

    def lookahead(self):
        """(the look-ahead's events, seconds it took), once the process has ended: its memory is
        the system's again."""
        got = self._receive()
        self._process.join()
        return got

    def _receive(self):
        try:
            kind, *rest = self._conn.recv()
        except EOFError:
            self._process.join()
            code = self._process.exitcode
            how = (f"was killed (signal {-code}; out of memory?)" if code is not None and code < 0
                   else f"ended with exit code {code}")
            raise SimulationDied(f"the simulation's process {how} before it finished") from None
        if kind == "error":
            raise rest[0]
        return tuple(rest)

    def close(self) -> None:
        """End the process if it still runs (the run failed or was interrupted)."""
        if self._process is None:
            return
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()
        self._conn.close()
        self._process = None


def _serve(conn, parents_end, steps) -> None:
    parents_end.close()
    ignore_ctrl_c()                  # the run's own process stops us (close: terminate)
    code = 0
    try:
        for values in steps:
            conn.send(("ok", *values))
    except BaseException as e:  # noqa: BLE001 - raised again in the run's own process
        code = 1
        try:
            conn.send(("error", e))
        except Exception:       # noqa: BLE001 - an exception that cannot be pickled: said in words
            conn.send(("error", RuntimeError(f"{type(e).__name__}: {e}")))
    finally:
        conn.close()
        # the platform's millions of objects are not freed one by one: the process ends here
        os._exit(code)
