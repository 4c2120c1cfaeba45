"""Reading a run folder's files back: a missing or unreadable file is one line naming it."""
from __future__ import annotations

import zipfile
from pathlib import Path


class BadInput(Exception):
    """A problem with a command's files or arguments: str(self) is the one line shown on stderr,
    and the command exits with code 2."""


def has_table(path) -> bool:
    """Whether the run wrote the table `path` (name.csv) as CSV or as Parquet."""
    path = Path(path)
    return path.is_file() or path.with_suffix(".parquet").is_file()


def open_text(path):
    """A run's table `path` (name.csv) opened as CSV text for the csv module; where the run wrote
    it as Parquet only, the same text made from name.parquet (output/parquet.py `csv_frame`).
    OSError where neither can be read."""
    path = Path(path)
    if not path.is_file() and path.with_suffix(".parquet").is_file():
        import io
        from output.parquet import csv_frame
        return io.StringIO(csv_frame(path.with_suffix(".parquet")).to_csv(index=False, lineterminator="\n"))
    return path.open(newline="", encoding="utf-8")


def read_table(path, **options):
    """`pd.read_csv(path, **options)` of a run's table `path` (name.csv); where the run wrote the
    table as Parquet only (--format parquet), the same frame from name.parquet: its values as the
    CSV would have held them (output/parquet.py `csv_frame`), read with the same options."""
    import pandas as pd
    path = Path(path)
    if path.is_file() or not path.with_suffix(".parquet").is_file():
        return pd.read_csv(path, **options)
    import io
    from output.parquet import csv_frame
    return pd.read_csv(io.StringIO(csv_frame(path.with_suffix(".parquet")).to_csv(index=False)), **options)


def read_csv(path):
    """A table a command needs (name.csv, or name.parquet where the run wrote Parquet only), or
    BadInput naming the file and what is wrong with it."""
    path = Path(path)
    if not path.is_file() and not path.with_suffix(".parquet").is_file():
        raise BadInput(f"{path}: not found")
    try:
        return read_table(path)
    except (OSError, ValueError, UnicodeDecodeError) as e:
        raise BadInput(f"{path}: cannot read: {e}") from None


def read_event_log(folder: Path) -> dict:
    """A run folder's event log (events.npz: event type -> column -> array), or BadInput naming
    the file and what is wrong with it."""
    from output.recorder import load_log
    path = Path(folder) / "events.npz"
    if not path.is_file():
        raise BadInput(f"{path}: not found (the run was made with --no-event-log?)")
    try:
        return load_log(path)
    except (OSError, ValueError, zipfile.BadZipFile, KeyError) as e:
        raise BadInput(f"{path}: cannot read the event log: {e}") from None
