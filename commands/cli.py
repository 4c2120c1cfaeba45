"""Command-line argument helpers shared by the commands (argparse only: cheap to import).

A bad argument is one line on stderr and exit code 2, as everywhere in tutorsim.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


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


def out_is_not_a_folder(prog: str, out: Path) -> bool:
    """An --out that exists and is not a folder: its one-line error written, True."""
    if out.exists() and not out.is_dir():
        sys.stderr.write(f"{prog}: error: --out {out}: exists and is not a folder\n")
        return True
    return False
