"""`run.py import`: the tables into SQLite (always) and PostgreSQL (when TUTORSIM_PG_URL is set).

Every test imports a copy of the shared dev run (conftest.py) into a database of its own: a
SQLite file in tmp_path, or a fresh schema of the PostgreSQL database (dropped afterwards).
.ci/run starts a PostgreSQL server from the system's packages and sets TUTORSIM_PG_URL; without
it the PostgreSQL tests skip, or fail under CI=true.
"""
from __future__ import annotations

import csv
import shutil
import sqlite3
from pathlib import Path

import pytest

from output import db_import
from tests.conftest import run_cli
from tests.postgres import fresh_schema, needs_pg

TABLES = [t.name for t in db_import.TABLES]


def csv_rows(folder: Path, name: str) -> int:
    with (folder / f"{name}.csv").open(newline="", encoding="utf-8") as f:
        return sum(1 for _ in csv.reader(f)) - 1


def edit_csv(path: Path, change) -> None:
    """Rewrite a CSV with change(rows) applied (rows[0] is the header)."""
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    change(rows)
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def set_field(name: str, row: int, column: str, value: str):
    def change(rows):
        rows[row][rows[0].index(column)] = value
    return name, change


def drop_last_field(name: str, row: int):
    def change(rows):
        rows[row] = rows[row][:-1]
    return name, change


def duplicate_row(name: str, row: int):
    def change(rows):
        rows.append(list(rows[row]))
    return name, change


CORRUPTIONS = {
    "not-a-number": set_field("sessions", 10, "scheduled_duration_min", "sixty"),
    "short-row": drop_last_field("sessions", 20),
    "unknown-tutor": set_field("sessions", 30, "tutor_id", "T9999"),
    "bad-json": set_field("engagement_events", 5, "event_data", "{not json"),
    "duplicate-key": duplicate_row("tutor_profiles", 3),
    "bad-timestamp": set_field("experiment_assignments", 2, "assigned_at", "yesterday"),
    "bad-boolean": set_field("tutor_profiles", 4, "active_status", "maybe"),
}


@pytest.fixture
def data(dev_run, tmp_path) -> Path:
    """A private copy of the dev run's tables."""
    folder = tmp_path / "data"
    folder.mkdir()
    for name in TABLES:
        shutil.copy(dev_run / f"{name}.csv", folder / f"{name}.csv")
    return folder


def corrupt(data: Path, case: str) -> tuple[str, int]:
    name, change = CORRUPTIONS[case]
    edit_csv(data / f"{name}.csv", change)
    return name, 0


# ==================================================================================== SQLite

def import_cli(data: Path, db, *flags) -> tuple[int, str, str]:
    return run_cli("import", data, "--db", db, *flags)


def sqlite_dump(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return "\n".join(conn.iterdump())
    finally:
        conn.close()


def sqlite_counts(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}
    finally:
        conn.close()


def test_sqlite_row_counts_equal_the_csvs_and_keys_hold(data, tmp_path):
    db = tmp_path / "t.db"
    code, out, err = import_cli(data, db)
    assert code == 0, err
    assert sqlite_counts(db) == {t: csv_rows(data, t) for t in TABLES}
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert "one transaction" in out


def test_default_database_is_tutorsim_db_in_the_folder(data):
    code, out, err = run_cli("import", data)
    assert code == 0, err
    assert sqlite_counts(data / "tutorsim.db")["sessions"] == csv_rows(data, "sessions")


def test_sqlite_schema_keys_types_and_indexes(data, tmp_path):
    db = tmp_path / "t.db"
    assert import_cli(data, db)[0] == 0
    conn = sqlite3.connect(db)

    def types(table):
        return {r[1]: r[2] for r in conn.execute(f"PRAGMA table_info({table})")}

    def pk(table):
        return [r[1] for r in sorted((r for r in conn.execute(f"PRAGMA table_info({table})") if r[5]), key=lambda r: r[5])]

    def fks(table):
        return {(r[3], r[2]) for r in conn.execute(f"PRAGMA foreign_key_list({table})")}

    def indexed(table):
        out = set()
        for idx in conn.execute(f"PRAGMA index_list({table})"):
            out.add(tuple(r[2] for r in conn.execute(f"PRAGMA index_info({idx[1]})")))
        return out

    assert types("sessions")["session_datetime"] == "TIMESTAMP"
    assert types("sessions")["is_first_session"] == "BOOLEAN"
    assert types("sessions")["student_rating"] == "REAL"
    assert types("sessions")["scheduled_duration_min"] == "INTEGER"
    assert types("engagement_events")["event_data"] == "JSON"
    assert {types("experiments")[c] for c in ("variants", "target_segment", "secondary_metrics")} == {"JSON"}
    assert pk("experiment_assignments") == ["experiment_id", "tutor_id"]
    assert pk("sessions") == ["session_id"] and pk("tutor_aggregates") == ["tutor_id"]
    assert fks("sessions") == {("tutor_id", "tutor_profiles")}
    assert fks("tutor_aggregates") == {("tutor_id", "tutor_profiles")}
    assert fks("engagement_events") == {("tutor_id", "tutor_profiles")}
    assert fks("interventions") == {("tutor_id", "tutor_profiles"), ("experiment_id", "experiments")}
    assert fks("experiment_assignments") == {("tutor_id", "tutor_profiles"), ("experiment_id", "experiments")}
    assert {("tutor_id",), ("session_datetime",)} <= indexed("sessions")
    assert ("churn_risk_level",) in indexed("tutor_aggregates")
    assert ("tutor_id", "timestamp") in indexed("engagement_events")
    assert ("tutor_id",) in indexed("interventions")


def test_sqlite_values_round_trip(data, tmp_path):
    db = tmp_path / "t.db"
    assert import_cli(data, db)[0] == 0
    conn = sqlite3.connect(db)
    with (data / "sessions.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    missed = next(r for r in rows if r["session_completed"] == "False")
    got = dict(zip([d[0] for d in conn.execute("SELECT * FROM sessions LIMIT 0").description],
                   conn.execute("SELECT * FROM sessions WHERE session_id = ?", (missed["session_id"],)).fetchone()))
    assert got["session_completed"] == 0 and got["student_rating"] is None and got["actual_duration_min"] is None
    assert got["session_datetime"] == missed["session_datetime"]
    held = next(r for r in rows if r["session_completed"] == "True")
    got = conn.execute("SELECT student_rating, scheduled_duration_min, would_recommend FROM sessions WHERE session_id = ?",
                       (held["session_id"],)).fetchone()
    assert got == (float(held["student_rating"]), int(held["scheduled_duration_min"]), int(held["would_recommend"] == "True"))
    # JSON is queryable
    assert conn.execute("SELECT COUNT(*) FROM engagement_events WHERE json_extract(event_data, '$.device') IS NOT NULL").fetchone()[0] > 0


def test_sqlite_append_twice_is_idempotent(data, tmp_path):
    db = tmp_path / "t.db"
    assert import_cli(data, db)[0] == 0
    first = sqlite_dump(db)
    code, out, err = import_cli(data, db)
    assert code == 0, err
    assert sqlite_dump(db) == first
    assert " 0 inserted" in out


def test_sqlite_append_inserts_missing_rows_and_leaves_existing_ones(data, tmp_path):
    db = tmp_path / "t.db"
    assert import_cli(data, db)[0] == 0
    conn = sqlite3.connect(db)
    conn.execute("UPDATE tutor_profiles SET months_experience = 999 WHERE tutor_id = 'T0001'")
    conn.execute("DELETE FROM sessions WHERE session_id = 'S000005'")
    conn.commit()
    conn.close()
    assert import_cli(data, db)[0] == 0
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT months_experience FROM tutor_profiles WHERE tutor_id = 'T0001'").fetchone()[0] == 999
    assert conn.execute("SELECT COUNT(*) FROM sessions WHERE session_id = 'S000005'").fetchone()[0] == 1


def test_sqlite_clear_then_import(data, tmp_path):
    db = tmp_path / "t.db"
    assert import_cli(data, db)[0] == 0
    fresh = sqlite_dump(db)
    conn = sqlite3.connect(db)
    conn.execute("UPDATE tutor_profiles SET months_experience = 999 WHERE tutor_id = 'T0001'")
    conn.commit()
    conn.close()
    code, out, err = import_cli(data, db, "--clear")
    assert code == 0, err
    assert sqlite_dump(db) == fresh
    assert "cleared" in out


@pytest.mark.parametrize("state", ["empty", "with-data", "with-data-clear"])
@pytest.mark.parametrize("case", list(CORRUPTIONS))
def test_sqlite_bad_file_changes_nothing(data, tmp_path, case, state):
    db = tmp_path / "t.db"
    if state != "empty":
        assert import_cli(data, db)[0] == 0
        conn = sqlite3.connect(db)
        conn.execute("DELETE FROM sessions WHERE session_id = 'S000005'")   # something to append
        conn.commit()
        conn.close()
    before = sqlite_dump(db) if db.exists() else None
    bad = tmp_path / "bad"
    shutil.copytree(data, bad)
    name, _ = corrupt(bad, case)
    code, out, err = import_cli(bad, db, *(["--clear"] if state.endswith("clear") else []))
    assert code == 2, (code, out, err)
    assert err.count("\n") == 1 and f"{name}.csv" in err and "row " in err, err
    if before is None:
        assert not db.exists(), "a failed import into a new database left a file behind"
    else:
        assert sqlite_dump(db) == before, "a failed import changed the database"


@pytest.mark.parametrize("clear", [False, True])
def test_sqlite_failure_inside_the_transaction_rolls_everything_back(data, tmp_path, monkeypatch, clear):
    """A foreign key the database itself refuses (the file checks switched off): the tables
    inserted before it, the --clear and the schema are all rolled back."""
    db = tmp_path / "t.db"
    assert import_cli(data, db)[0] == 0
    before = sqlite_dump(db)
    bad = tmp_path / "bad"
    shutil.copytree(data, bad)
    edit_csv(bad / "experiment_assignments.csv", lambda rows: rows.append(["EXP001", "T9999"] + [""] * 5))
    monkeypatch.setattr(db_import, "check_references", lambda loaded, existing: [])
    with pytest.raises(db_import.DatabaseError, match="FOREIGN KEY"):
        db_import.import_folder(bad, str(db), clear=clear)
    assert sqlite_dump(db) == before


def test_missing_tables_are_skipped_with_a_note(data, tmp_path):
    (data / "experiments.csv").unlink()
    (data / "experiment_assignments.csv").unlink()
    db = tmp_path / "t.db"
    code, out, err = import_cli(data, db)
    assert code == 0, err
    assert "experiments              skipped" in out and "experiment_assignments   skipped" in out
    counts = sqlite_counts(db)
    assert counts["experiments"] == 0 and counts["sessions"] == csv_rows(data, "sessions")
    with (data / "interventions.csv").open(newline="") as f:
        refs = sum(1 for r in csv.DictReader(f) if r["experiment_id"])
    if refs:
        assert "note: interventions" in out
    assert sqlite3.connect(db).execute("PRAGMA foreign_key_check").fetchall() == []


@pytest.mark.parametrize("args,expected", [
    (["import", "/nonexistent/folder"], "no such folder"),
    (["import", ".", "--db", "mysql://x/y"], "--db"),
    (["import"], "DATA_DIR"),
])
def test_bad_arguments_are_one_line_exit_2(args, expected):
    code, out, err = run_cli(*args)
    assert code == 2 and err.count("\n") == 1 and expected in err, (code, err)


def test_schema_description_matches_the_table_writers():
    from output.platform_tables import (ASSIGNMENT_COLUMNS, EVENT_COLUMNS, EXPERIMENT_COLUMNS,
                                        INTERVENTION_COLUMNS)
    from output.tables import AGGREGATE_COLUMNS, PROFILE_COLUMNS, SESSION_COLUMNS
    written = {"tutor_profiles": PROFILE_COLUMNS, "sessions": SESSION_COLUMNS, "tutor_aggregates": AGGREGATE_COLUMNS,
               "engagement_events": EVENT_COLUMNS, "interventions": INTERVENTION_COLUMNS,
               "experiments": EXPERIMENT_COLUMNS, "experiment_assignments": ASSIGNMENT_COLUMNS}
    for name, columns in written.items():
        assert db_import.BY_NAME[name].names == list(columns), f"{name}: the import's columns differ from the writer's"


def test_production_sized_import_is_quick(production_run, tmp_path):
    code, out, err = import_cli(production_run, tmp_path / "p.db")
    assert code == 0, err
    seconds = float(out.rsplit("one transaction, ", 1)[1].split(" s")[0])
    assert seconds < 20, f"importing production into SQLite took {seconds:.1f} s"


# ================================================================================ PostgreSQL

@pytest.fixture
def pg():
    """A fresh schema in the test database; yields (URL that uses it, connection)."""
    with fresh_schema("tutorsim_test") as (url, conn):
        yield url, conn


def pg_snapshot(conn) -> dict:
    """Every tutorsim table's row count and a digest of its rows (None: no such table)."""
    out = {}
    for t in TABLES:
        exists = conn.execute("SELECT to_regclass(%s)", (t,)).fetchone()[0]
        if exists is None:
            out[t] = None
            continue
        out[t] = conn.execute(f"SELECT COUNT(*), md5(COALESCE(string_agg(x::text, '|' ORDER BY x::text), '')) "
                              f"FROM {t} x").fetchone()
    return out


@needs_pg
def test_postgresql_counts_types_keys_and_indexes(data, pg):
    url, conn = pg
    code, out, err = import_cli(data, url)
    assert code == 0, err
    assert "***" in out or "@" not in out, "the password is printed"
    for t in TABLES:
        assert conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] == csv_rows(data, t), t
    types = dict(conn.execute("SELECT table_name || '.' || column_name, data_type FROM information_schema.columns "
                              "WHERE table_schema = current_schema()").fetchall())
    assert types["sessions.session_datetime"] == "timestamp without time zone"
    assert types["sessions.is_first_session"] == "boolean"
    assert types["sessions.student_rating"] == "double precision"
    assert types["sessions.scheduled_duration_min"] == "integer"
    assert types["engagement_events.event_data"] == "jsonb"
    assert types["experiments.variants"] == types["experiments.target_segment"] == "jsonb"
    fks = set(conn.execute(
        "SELECT tc.table_name, kcu.column_name, ccu.table_name FROM information_schema.table_constraints tc "
        "JOIN information_schema.key_column_usage kcu ON tc.constraint_name = kcu.constraint_name AND tc.table_schema = kcu.table_schema "
        "JOIN information_schema.constraint_column_usage ccu ON tc.constraint_name = ccu.constraint_name AND tc.table_schema = ccu.table_schema "
        "WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = current_schema()").fetchall())
    assert fks == {("sessions", "tutor_id", "tutor_profiles"), ("tutor_aggregates", "tutor_id", "tutor_profiles"),
                   ("engagement_events", "tutor_id", "tutor_profiles"), ("interventions", "tutor_id", "tutor_profiles"),
                   ("interventions", "experiment_id", "experiments"),
                   ("experiment_assignments", "experiment_id", "experiments"),
                   ("experiment_assignments", "tutor_id", "tutor_profiles")}
    indexes = {r[0] for r in conn.execute("SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema()")}
    for table, cols in (("sessions", "tutor_id"), ("sessions", "session_datetime"),
                        ("tutor_aggregates", "churn_risk_level"), ("engagement_events", "tutor_id, \"timestamp\""),
                        ("interventions", "tutor_id")):
        assert any(f"ON {conn.execute('SELECT current_schema()').fetchone()[0]}.{table} USING btree ({cols})" in d
                   for d in indexes), (table, cols, indexes)
    pk = conn.execute("SELECT string_agg(a.attname, ',' ORDER BY array_position(i.indkey, a.attnum)) FROM pg_index i "
                      "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
                      "WHERE i.indrelid = 'experiment_assignments'::regclass AND i.indisprimary").fetchone()[0]
    assert pk == "experiment_id,tutor_id"
    # values: JSON is queryable, booleans and timestamps are real ones
    assert conn.execute("SELECT COUNT(*) FROM engagement_events WHERE event_data ? 'device'").fetchone()[0] > 0
    assert conn.execute("SELECT COUNT(*) FROM sessions WHERE session_completed AND student_rating IS NULL").fetchone()[0] == 0
    assert conn.execute("SELECT MIN(session_datetime) < MAX(session_datetime) FROM sessions").fetchone()[0] is True


@needs_pg
def test_postgresql_append_twice_then_clear(data, pg):
    url, conn = pg
    assert import_cli(data, url)[0] == 0
    first = pg_snapshot(conn)
    code, out, err = import_cli(data, url)
    assert code == 0, err
    assert pg_snapshot(conn) == first
    conn.execute("UPDATE tutor_profiles SET months_experience = 999 WHERE tutor_id = 'T0001'")
    conn.execute("DELETE FROM sessions WHERE session_id = 'S000005'")
    assert import_cli(data, url)[0] == 0
    assert conn.execute("SELECT months_experience FROM tutor_profiles WHERE tutor_id = 'T0001'").fetchone()[0] == 999
    assert conn.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == csv_rows(data, "sessions")
    code, out, err = import_cli(data, url, "--clear")
    assert code == 0, err
    assert pg_snapshot(conn) == first


@needs_pg
@pytest.mark.parametrize("case", ["not-a-number", "unknown-tutor", "bad-json", "duplicate-key"])
@pytest.mark.parametrize("clear", [False, True])
def test_postgresql_bad_file_changes_nothing(data, pg, tmp_path, case, clear):
    url, conn = pg
    empty = pg_snapshot(conn)
    bad = tmp_path / "bad"
    shutil.copytree(data, bad)
    corrupt(bad, case)
    code, out, err = import_cli(bad, url)
    assert code == 2 and err.count("\n") == 1 and "row " in err, (code, err)
    assert pg_snapshot(conn) == empty, "a failed import into an empty database changed it"
    assert import_cli(data, url)[0] == 0
    conn.execute("DELETE FROM sessions WHERE session_id = 'S000005'")
    before = pg_snapshot(conn)
    code, out, err = import_cli(bad, url, *(["--clear"] if clear else []))
    assert code == 2, (code, err)
    assert pg_snapshot(conn) == before, "a failed import changed the database"


@needs_pg
@pytest.mark.parametrize("clear", [False, True])
def test_postgresql_failure_inside_the_transaction_rolls_everything_back(data, pg, tmp_path, monkeypatch, clear):
    url, conn = pg
    assert import_cli(data, url)[0] == 0
    conn.execute("DELETE FROM sessions WHERE session_id = 'S000005'")
    before = pg_snapshot(conn)
    bad = tmp_path / "bad"
    shutil.copytree(data, bad)
    edit_csv(bad / "experiment_assignments.csv", lambda rows: rows.append(["EXP001", "T9999"] + [""] * 5))
    monkeypatch.setattr(db_import, "check_references", lambda loaded, existing: [])
    with pytest.raises(db_import.DatabaseError, match="foreign key"):
        db_import.import_folder(bad, url, clear=clear)
    assert pg_snapshot(conn) == before
