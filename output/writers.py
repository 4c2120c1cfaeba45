"""Writing a run's files: CSV tables, the event log, the manifest; all or nothing.

A run writes into a temporary folder beside the destination and moves it into place only when
every file is complete, so an interrupted or failed run never leaves half a dataset behind.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:           # the simulating process imports this module, and never pandas
    import pandas as pd


CSV_ROWS = 100_000          # rows of a table turned into text at a time


def write_csv(df: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        _write_csv_rows(df, f, header=True)


def _write_csv_rows(df: pd.DataFrame, f, header: bool) -> None:
    """The frame's CSV lines into the binary file `f`, as pandas writes them, `CSV_ROWS` rows at a
    time (the text of a million sessions is 160 MB): made in Arrow's C loops where
    output/csv_arrow.py can promise the same bytes, else by pandas."""
    from output.csv_arrow import csv_bytes
    for start in range(0, max(len(df), 1), CSV_ROWS):
        part = df.iloc[start:start + CSV_ROWS]
        first = header and start == 0
        data = csv_bytes(part, first)
        if data is None:
            data = part.to_csv(index=False, header=first, lineterminator="\n").encode("utf-8")
        f.write(data)


def formats(outputs) -> list[str]:
    """The file formats of a run's tables (the scenario's `outputs.format`): ["csv"], ["parquet"]
    or both."""
    return ["csv", "parquet"] if outputs.format == "both" else [outputs.format]


def write_table(df: pd.DataFrame, path: Path, fmt: str, table: str) -> None:
    """One table as CSV or as Parquet typed by the data dictionary's entry for `table`."""
    if fmt == "csv":
        write_csv(df, path)
    else:
        from output.parquet import write_parquet
        write_parquet(df, path, table)


class TableParts:
    """One table file written from consecutive parts with the same columns (output/tables.py
    `sessions_parts`): the CSV's header, then each part's rows appended; Parquet, a row group per
    part. Whole or in parts, a CSV holds the same bytes."""

    def __init__(self, path: Path, fmt: str, table: str):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path, self.fmt, self.table = path, fmt, table
        self._file = None

    def write(self, df: pd.DataFrame) -> None:
        if self.fmt == "csv":
            first = self._file is None
            if first:
                self._file = self.path.open("wb")
            _write_csv_rows(df, self._file, header=first)
        else:
            if self._file is None:
                from output.parquet import ParquetParts
                self._file = ParquetParts(self.path, self.table)
            self._file.write(df)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def write_json(obj, path: Path) -> None:
    path.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")


@contextlib.contextmanager
def atomic_directory(dest: Path):
    """Yields a fresh temporary folder beside `dest`; on success it replaces `dest`."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.parent / f".{dest.name}.tmp-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = dest.parent / f".{dest.name}.old-{os.getpid()}"
    if dest.exists():
        dest.rename(old)
    tmp.rename(dest)
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)
