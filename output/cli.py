"""Command-line argument helpers shared by run.py and its commands (argparse only: cheap to import).

A bad argument is one line on stderr and exit code 2, as everywhere in tutorsim.
"""
from __future__ import annotations

import argparse
import os
import sys


class BadInput(Exception):
    """A problem with a command's files or arguments: str(self) is the one line shown on stderr,
    and the command exits with code 2."""


def read_csv(path):
    """A table a command needs, or BadInput naming the file and what is wrong with it."""
    import pandas as pd
    if not path.is_file():
        raise BadInput(f"{path}: not found")
    try:
        return pd.read_csv(path)
    except (OSError, ValueError, UnicodeDecodeError) as e:
        raise BadInput(f"{path}: cannot read: {e}") from None


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line on stderr and exit code 2."""

    def error(self, message):
        sys.stderr.write(f"{self.prog}: error: {message} (see --help)\n")
        sys.exit(2)


def _number(text: str, kind, ok, expected: str):
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
    if not ok(value):
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return value


def positive_int(text: str) -> int:
    return _number(text, int, lambda v: v > 0, "a positive whole number")


def non_negative_int(text: str) -> int:
    return _number(text, int, lambda v: v >= 0, "a whole number >= 0")


def positive_float(text: str) -> float:
    return _number(text, float, lambda v: v > 0, "a positive number")


def default_jobs() -> int:
    """Processes a command uses by default: 2 where this process may use two CPUs or more, else 1
    (tutorsim's parallel parts are two-way: see output/pipeline.py)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count() or 1
    return 2 if cpus >= 2 else 1


def can_fork() -> bool:
    """Whether this platform can fork a process (tutorsim's second processes are forks: they
    start from this one's memory)."""
    import multiprocessing as mp
    return hasattr(os, "fork") and "fork" in mp.get_all_start_methods()
