"""The tables' CSV writer (output/csv_arrow.py, through output/writers.py) writes the bytes pandas'
`to_csv` writes: for random frames of every column type the tables have, with the values that
format differently (whole numbers, negative zero, missing values, texts that need quotes), and
for the values it leaves to pandas (exponents, infinities, carriage returns, one column)."""
from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest

from output import writers
from output.csv_arrow import csv_bytes

TEXTS = ["", "S000001", "Math", "x,y", 'say "hi"', "two\nlines", " padded ", "é ü", "{\"a\":1}"]


def _pandas(df: pd.DataFrame, header: bool = True) -> bytes:
    return df.to_csv(index=False, header=header, lineterminator="\n").encode("utf-8")


def _frame(rng: random.Random, n: int) -> pd.DataFrame:
    def maybe(values, p=0.2):
        return [None if rng.random() < p else v for v in values]
    floats = [rng.choice([0.0, -0.0, 100.0, 4.05, 0.316, 83.4, 1234567.5, 0.0001, -2.5,
                          round(rng.uniform(-1e6, 1e6), rng.randint(0, 3)), float("nan")]) for _ in range(n)]
    return pd.DataFrame({
        "f": np.array(floats, dtype="float64"),
        "i": np.array([rng.randint(-10**12, 10**12) for _ in range(n)], dtype="int64"),
        "i32": np.array([rng.randint(-100, 100) for _ in range(n)], dtype="int32"),
        "b": np.array([rng.random() < 0.5 for _ in range(n)]),
        "nb": pd.array(maybe([rng.random() < 0.5 for _ in range(n)]), dtype="boolean"),
        "ni": pd.array(maybe([rng.randint(0, 500) for _ in range(n)]), dtype="Int64"),
        "nf": pd.array(maybe([rng.choice([1.5, 2.0, -0.25]) for _ in range(n)]), dtype="Float64"),
        "s": pd.Series(maybe([rng.choice(TEXTS) for _ in range(n)]), dtype="str"),
        "o": pd.Series(maybe([rng.choice(TEXTS) for _ in range(n)]), dtype="object"),
    })


@pytest.mark.parametrize("seed", range(5))
def test_random_frames_are_written_as_pandas_writes_them(seed):
    df = _frame(random.Random(seed), 500)
    for header in (True, False):
        got = csv_bytes(df, header)
        assert got is not None, "every column type here is one the writer handles"
        assert got == _pandas(df, header)


@pytest.mark.parametrize("column", [
    pd.Series([1.0, 1e16]), pd.Series([1.0, 5e-05]), pd.Series([1.0, float("inf")]),
    pd.Series(["a", "carriage\rreturn"], dtype="str"), pd.Series([1.5, 2.5], dtype="float32"),
    pd.Series(["a", 3], dtype="object"), pd.to_datetime(pd.Series(["2026-10-02", "2026-10-03"])),
])
def test_values_it_cannot_promise_are_left_to_pandas_and_still_written_as_pandas(column, tmp_path):
    df = pd.DataFrame({"id": ["a", "b"], "v": column})
    assert csv_bytes(df) is None
    writers.write_csv(df, tmp_path / "t.csv")
    assert (tmp_path / "t.csv").read_bytes() == _pandas(df)


def test_one_column_and_no_rows_are_left_to_pandas(tmp_path):
    for df in (pd.DataFrame({"s": ["", "x"]}), pd.DataFrame({"a": pd.Series([], dtype="int64"), "b": []})):
        assert csv_bytes(df) is None
        writers.write_csv(df, tmp_path / "t.csv")
        assert (tmp_path / "t.csv").read_bytes() == _pandas(df)


def test_a_frame_written_in_row_chunks_is_the_frame_written_whole(tmp_path, monkeypatch):
    """The writer turns CSV_ROWS rows at a time into text: any chunk size gives pandas' bytes,
    through TableParts as through write_csv, even where one chunk falls back to pandas."""
    df = _frame(random.Random(7), 1000)
    df.loc[650, "o"] = "carriage\rreturn"                 # this row's chunk is pandas'
    monkeypatch.setattr(writers, "CSV_ROWS", 97)
    writers.write_csv(df, tmp_path / "whole.csv")
    parts = writers.TableParts(tmp_path / "parts.csv", "csv", "t")
    for start in range(0, len(df), 300):
        parts.write(df.iloc[start:start + 300])
    parts.close()
    assert (tmp_path / "whole.csv").read_bytes() == _pandas(df)
    assert (tmp_path / "parts.csv").read_bytes() == _pandas(df)


def test_a_runs_tables_rebuilt_by_pandas_alone_are_the_same_bytes(dev_run, tmp_path, monkeypatch):
    """`run.py tables` on a copy of a dev run, with the Arrow writer turned off (every frame written
    by pandas' to_csv), gives back every CSV table the run wrote, byte for byte."""
    import shutil

    import output.csv_arrow
    import run
    copy = tmp_path / "data"
    shutil.copytree(dev_run, copy)
    monkeypatch.setattr(output.csv_arrow, "csv_bytes", lambda df, header=True: None)
    assert run.main(["tables", str(copy)]) == 0
    rebuilt = sorted(p.relative_to(copy) for p in copy.rglob("*.csv"))
    assert len(rebuilt) >= 10
    for name in rebuilt:
        assert (copy / name).read_bytes() == (dev_run / name).read_bytes(), name
