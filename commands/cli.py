"""Command-line argument helpers shared by the commands (argparse only: cheap to import).

A bad argument is one line on stderr and exit code 2, as everywhere in tutorsim.
"""
from __future__ import annotations

import argparse
import os
import stat
import sys
from pathlib import Path


class Terminated(KeyboardInterrupt):
    """SIGTERM (a `kill`, a service manager, a CI timeout), raised by run.py's handler: stopped
    like Ctrl-C, so that the temporary folder goes and the processes the command started are
    stopped on the way out; but said, and exited, as a termination."""


def stop_code(stop: KeyboardInterrupt) -> tuple[str, int]:
    """How a command stopped by Ctrl-C or SIGTERM says so: ("interrupted", 130) or ("terminated", 143)."""
    return ("terminated", 143) if isinstance(stop, Terminated) else ("interrupted", 130)


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


def out_cannot_be_written(prog: str, out: Path) -> bool:
    """An --out the run could not put its folder at, found before anything is simulated: its
    one-line error written, True. The run writes a temporary folder beside `out` and renames it
    into place, so `out`'s nearest existing parent must be a writable folder; an `out` that exists
    must be a folder whose owner may write to it (a read-only one is left as it is, not replaced,
    whoever runs the command). The nearest existing parent is tried by making and removing an
    empty folder in it."""
    import tempfile
    problem = None
    if out.exists() and not out.is_dir():
        problem = "exists and is not a folder"
    elif out.exists() and not out.stat().st_mode & stat.S_IWUSR:
        problem = "exists and is read-only: not replaced"
    else:
        parent = out.absolute().parent
        while not parent.exists():
            parent = parent.parent
        if not parent.is_dir():
            problem = f"cannot be created: {parent} is not a folder"
        else:
            try:
                os.rmdir(tempfile.mkdtemp(prefix=f".{out.name}.probe-", dir=parent))
            except OSError as e:
                problem = f"cannot be created in {parent}: {e.strerror}"
    if problem:
        sys.stderr.write(f"{prog}: error: --out {out}: {problem}\n")
        return True
    return False
