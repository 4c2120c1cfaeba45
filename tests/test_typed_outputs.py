"""Outputs a data team can load without friction: Parquet with real types holding the CSV's rows and
values, and a data dictionary (schema.json, README.md) that lists exactly the columns written.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tests.conftest import DEV_SEED, simulate, simulate_all

pq = pytest.importorskip("pyarrow.parquet")
import pyarrow as pa  # noqa: E402

ARROW = {"string": pa.string(), "timestamp": pa.timestamp("ms"), "integer": pa.int64(), "float": pa.float64(),
         "boolean": pa.bool_(), "json": pa.string(), "list<string>": pa.list_(pa.string())}


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """A dev run writing CSV and Parquet."""
    return simulate(tmp_path_factory.mktemp("both") / "out", "--mode", "dev", "--seed", DEV_SEED, "--format", "both")


def _tables_of(folder, ext):
    return sorted(str(p.relative_to(folder)) for p in folder.glob(f"*.{ext}"))


def _tables(folder):
    return sorted(str(p.relative_to(folder))[:-4] for p in folder.rglob("*.csv"))


def test_every_table_is_written_in_both_formats_and_the_dictionary_lists_exactly_them(both):
    schema = json.loads((both / "schema.json").read_text())["tables"]
    written = _tables(both)
    assert len(written) == 16 and "sessions" in written and "ground_truth/unsubscribes" in written
    assert {"upcoming_sessions", "not_held_sessions", "ground_truth/upcoming_outcomes"} <= set(written)
    assert sorted(schema) == written, "schema.json lists other files than the run wrote"
    for name in written:
        header = list(pd.read_csv(both / f"{name}.csv", nrows=0).columns)
        assert [c["name"] for c in schema[name]["columns"]] == header, f"{name}: the dictionary's columns differ"
        assert pq.read_schema(both / f"{name}.parquet").names == header, f"{name}.parquet has other columns"
        assert schema[name]["files"] == [f"{name}.csv", f"{name}.parquet"]
        assert schema[name]["rows"] == len(pd.read_csv(both / f"{name}.csv"))
        for col in schema[name]["columns"]:
            assert col["produced_by"].strip(), f"{name}.{col['name']} says nothing of what produces it"
    readme = (both / "README.md").read_text()
    for name in written:
        assert f"## {name}" in readme
        for col in schema[name]["columns"]:
            assert f"`{col['name']}`" in readme


def test_parquet_holds_the_csv_rows_and_values_with_the_dictionarys_types(both):
    schema = json.loads((both / "schema.json").read_text())["tables"]
    for name, table in schema.items():
        csv = pd.read_csv(both / f"{name}.csv", keep_default_na=False, na_values=[""], dtype=str)
        arrow = pq.read_table(both / f"{name}.parquet")
        assert arrow.num_rows == len(csv), f"{name}: {arrow.num_rows} Parquet rows, {len(csv)} CSV rows"
        for col in table["columns"]:
            field, kind = arrow.schema.field(col["name"]), col["type"]
            if kind == "enum":
                assert pa.types.is_dictionary(field.type) and field.type.value_type == pa.string(), (name, col["name"])
                assert arrow.column(col["name"]).combine_chunks().dictionary.to_pylist() == col["values"]
            else:
                assert field.type == ARROW[kind], f"{name}.{col['name']}: {field.type}, the dictionary says {kind}"
            texts = csv[col["name"]]
            values = arrow.column(col["name"]).to_pylist()
            blank = texts.isna().to_numpy()
            assert [v is None for v in values] == list(blank), f"{name}.{col['name']}: blanks differ"
            if not col["nullable"]:
                assert not blank.any(), f"{name}.{col['name']} is not nullable in the dictionary but has blanks"
            shown = [_as_csv(v, kind) for v, b in zip(values, blank) if not b]
            expected = list(texts[~blank])
            if kind == "float":
                assert np.array_equal(np.array(shown, float), np.array(expected, float)), f"{name}.{col['name']}"
            elif kind == "integer":
                assert [int(float(v)) for v in expected] == [int(v) for v in shown], f"{name}.{col['name']}"
            else:
                assert shown == expected, f"{name}.{col['name']}: {shown[:3]} vs {expected[:3]}"


def _as_csv(value, kind: str) -> str:
    if kind == "timestamp":
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if kind == "list<string>":
        return ",".join(value)
    return str(value)


def test_parquet_is_deterministic_and_csv_alone_writes_no_parquet(both, tmp_path, dev_run):
    again, = simulate_all([(tmp_path / "again", ("--mode", "dev", "--seed", DEV_SEED, "--format", "both"))])
    for name in _tables(both):
        assert (again / f"{name}.parquet").read_bytes() == (both / f"{name}.parquet").read_bytes(), \
            f"{name}.parquet differs between two runs with the same seed"
        assert (both / f"{name}.csv").read_bytes() == (dev_run / f"{name}.csv").read_bytes(), \
            f"{name}.csv changed with --format both"
    assert not list(dev_run.rglob("*.parquet")), "a CSV run wrote Parquet files"
    assert json.loads((dev_run / "schema.json").read_text())["tables"]["sessions"]["files"] == ["sessions.csv"]


def test_a_parquet_only_run_reads_as_the_csv_run(dev_run, tmp_path):
    """--format parquet writes no CSV; validate, the churn model and trace read the Parquet files
    and say what they say of the CSV run with the same seed."""
    from tests.conftest import run_cli
    folder = tmp_path / "pq"
    code, stdout, stderr = run_cli("--mode", "dev", "--seed", DEV_SEED, "--format", "parquet", "--no-progress",
                                   "--out", folder)
    assert code == 0, stderr
    assert not list(folder.rglob("*.csv")) and (folder / "sessions.parquet").is_file()
    assert (folder / "model" / "metrics.json").read_bytes() == (dev_run / "model" / "metrics.json").read_bytes()
    reports = []
    for run in (folder, dev_run):
        code, stdout, stderr = run_cli("validate", run)
        assert code in (0, 1), stderr
        reports.append((run / "report.md").read_text().replace(str(run), "DATA"))
    assert reports[0] == reports[1], "validate reads the Parquet run differently"
    traces = [run_cli("trace", "T0003", run)[1] for run in (folder, dev_run)]
    assert traces[0] == traces[1] and "T0003" in traces[0]
    # the database import loads the same rows; `tables` rebuilds the Parquet files byte for byte
    import shutil
    import sqlite3
    dumps = []
    for run, db in ((folder, tmp_path / "pq.db"), (dev_run, tmp_path / "csv.db")):
        code, stdout, stderr = run_cli("import", run, "--db", f"sqlite:///{db}")
        assert code == 0, stderr
        with sqlite3.connect(db) as con:
            dumps.append(list(con.iterdump()))
    assert dumps[0] == dumps[1], "the database holds other rows when imported from Parquet"
    copy = tmp_path / "rebuilt"
    shutil.copytree(folder, copy)
    code, stdout, stderr = run_cli("tables", copy)
    assert code == 0 and "sessions.parquet" in stdout, stderr
    for name in _tables_of(folder, "parquet"):
        assert (copy / name).read_bytes() == (folder / name).read_bytes(), f"tables rebuilt {name} differently"
