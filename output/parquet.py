"""Parquet files with real types, from the same frames the CSV files are written from.

Each column's type comes from the data dictionary (output/dictionary.py): timestamps as
timestamp[ms], yes/no columns as nullable booleans, enums as dictionary strings over the code
table's names (in its order), integers with blanks as nullable int64, `list<string>` columns as
lists, JSON as text. The values are the CSV's: the same rows, the same rounding. The file has no
pandas metadata and no creation time, so the same run gives the same bytes.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from output import dictionary

TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"


def _not_null(series: pd.Series) -> np.ndarray:
    return series.notna().to_numpy()


def _column(series: pd.Series, col: dict) -> pa.Array:
    kind = col["type"]
    present = _not_null(series)
    if kind == "timestamp":
        stamps = pd.to_datetime(series, format=TIMESTAMP_FORMAT)
        return pa.array(stamps, type=pa.timestamp("ms"), from_pandas=True)      # Parquet's coarsest unit
    if kind == "integer":
        return pa.array(pd.array(series, dtype="Int64"), type=pa.int64())
    if kind == "float":
        return pa.array(series.to_numpy("float64", na_value=np.nan), type=pa.float64(), from_pandas=True)
    if kind == "boolean":
        values = series.astype("boolean")
        return pa.array(values, type=pa.bool_())
    if kind == "enum":
        names = col["values"]
        codes = pd.Categorical(series, categories=names).codes       # -1: blank, or not a name
        unknown = sorted(set(series[(codes < 0) & present].astype(str)))
        if unknown:
            raise ValueError(f"column {col['name']}: values {unknown[:3]} are not in the dictionary's {names}")
        indices = pa.array(codes.astype(np.int8), mask=codes < 0, type=pa.int8())
        return pa.DictionaryArray.from_arrays(indices, pa.array(names, type=pa.string()))
    if kind == "list<string>":
        return pa.array([None if v is None or v != v else str(v).split(",") for v in series.astype(object)],
                        type=pa.list_(pa.string()))
    return pa.array(series.astype(object).where(present, None), type=pa.string(), from_pandas=True)


def arrow_table(df: pd.DataFrame, table: str) -> pa.Table:
    """The frame as an Arrow table typed by the dictionary's entry for `table` (every column the
    frame has, in its order; a column the dictionary does not know is an error)."""
    known = dictionary.columns(table)
    missing = [c for c in df.columns if c not in known]
    if missing:
        raise KeyError(f"output/dictionary.toml has no columns {missing} for {table}")
    arrays = [_column(df[name].reset_index(drop=True), known[name]) for name in df.columns]
    fields = [pa.field(name, arr.type, nullable=known[name]["nullable"]) for name, arr in zip(df.columns, arrays)]
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def csv_frame(path: Path) -> pd.DataFrame:
    """A Parquet file of a run read back as the values its CSV holds: lists comma-joined,
    dictionary strings as text (to_csv then writes the CSV's timestamps, booleans and numbers)."""
    # integers with blanks stay integers (pyarrow's default makes them floats: 86.0)
    frame = pq.read_table(path).to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
    for name in frame.columns:
        col = frame[name]
        if isinstance(col.dtype, pd.CategoricalDtype):
            frame[name] = col.astype(object)
        elif col.dtype == object and col.map(lambda v: isinstance(v, (list, np.ndarray))).any():
            frame[name] = col.map(lambda v: None if v is None else ",".join(v))
    return frame


def write_parquet(df: pd.DataFrame, path: Path, table: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(arrow_table(df, table), path, compression="zstd")


class ParquetParts:
    """A Parquet file written a part at a time (output/writers.py `TableParts`): one row group per
    part, with the schema the dictionary gives the table (the same for every part)."""

    def __init__(self, path: Path, table: str):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path, self.table = path, table
        self._writer = None

    def write(self, df: pd.DataFrame) -> None:
        part = arrow_table(df, self.table)
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, part.schema, compression="zstd")
        self._writer.write_table(part)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
