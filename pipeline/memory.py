"""Handing a process's free memory back to the system between the phases of a run.

glibc's allocator keeps the memory a process has freed inside its heap for the next allocations;
after a phase that built and dropped a gigabyte of frames (the run's second process writing the
tables), most of it would stay counted against the run while the next phase runs. `malloc_trim(0)`
(glibc's own call, where there is one) returns the free pages inside the heap; elsewhere this does
nothing.
"""
from __future__ import annotations


def give_back_free_memory() -> None:
    trim = getattr(_libc(), "malloc_trim", None)
    if trim is not None:
        trim(0)


def _libc():
    import ctypes
    try:
        return ctypes.CDLL(None)
    except OSError:
        return None
