"""How many processes a command uses by default, and whether this platform can fork them."""
from __future__ import annotations

import os


def default_jobs() -> int:
    """Processes a command uses by default: 2 where this process may use two CPUs or more, else 1
    (tutorsim's parallel parts are two-way: see pipeline/one_run.py)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count() or 1
    return 2 if cpus >= 2 else 1


def ignore_ctrl_c() -> None:
    """The start of a forked helper (the run's simulating and second processes, a pool's workers):
    Ctrl-C is its parent's to handle (no traceback from each helper), and SIGTERM ends it at once,
    so that the parent's terminate() stops it whatever handler the parent had set."""
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def can_fork() -> bool:
    """Whether this platform can fork a process (tutorsim's second processes are forks: they
    start from this one's memory)."""
    import multiprocessing as mp
    return hasattr(os, "fork") and "fork" in mp.get_all_start_methods()
