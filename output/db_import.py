"""`run.py import DATA_DIR [--db URL] [--clear]`: load a run's tables into a database.

    python run.py import data                                  # SQLite: data/tutorsim.db
    python run.py import data --db runs/all.db                 # another SQLite file
    python run.py import data --db postgresql://user:pw@host:5432/dbname
    python run.py import data --clear                          # empty the tutorsim tables first

The seven tables of the spec become seven SQL tables with primary keys, foreign keys to
tutor_profiles and experiments, real types (TIMESTAMP, BOOLEAN, REAL / DOUBLE PRECISION,
INTEGER, JSON in SQLite / JSONB in PostgreSQL) and the indexes a dashboard needs. The schema is
generated for either dialect from one description (`TABLES`) and created if missing.

Append mode (the default) inserts the rows whose key is not in the database yet and leaves the
others as they are (INSERT ... ON CONFLICT DO NOTHING), so importing the same folder twice
changes nothing; `--clear` empties the tutorsim tables first. Everything, schema included, is
one transaction: a malformed file, a value of the wrong type, a duplicate key or a foreign key
that points nowhere leaves the database exactly as it was. Files are checked row by row before
anything is written, so the error names the file and the row: one line on stderr, exit code 2 for
bad input (a file, a value, the folder, the --db argument), 1 for a database error.

Bulk loading: executemany in SQLite; COPY into a temporary table then one INSERT ... SELECT in
PostgreSQL (psycopg 3: `pip install -e ".[postgres]"`). A table whose file is missing from
DATA_DIR (a run with --no-experiments, say) is skipped with a note.
"""
from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from output.reading import BadInput, has_table, open_text

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


class DatabaseError(Exception):
    """A problem on the database's side: str(self) is the line shown, exit code 1."""


# ================================================================================ the schema

@dataclass(frozen=True)
class Column:
    name: str
    kind: str                    # text, int, real, bool, timestamp, json
    nullable: bool = True


@dataclass(frozen=True)
class ForeignKey:
    columns: tuple[str, ...]
    table: str
    refs: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[ForeignKey, ...] = ()
    indexes: tuple[tuple[str, ...], ...] = ()

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]


def _cols(spec: str) -> tuple[Column, ...]:
    """'name:kind name:kind! ...' (a trailing ! = NOT NULL)."""
    out = []
    for item in spec.split():
        name, kind = item.split(":")
        out.append(Column(name, kind.rstrip("!"), nullable=not kind.endswith("!")))
    return tuple(out)


TUTOR_FK = ForeignKey(("tutor_id",), "tutor_profiles", ("tutor_id",))

# columns the run writes beyond the spec (for the dashboard, docs/columns.md): a run of an older
# tutorsim without them is loaded with them empty
BEYOND_SPEC = {"last_login", "notes", "response_type", "response_notes", "error_message"}

# in loading order: every table after the tables it refers to
TABLES: tuple[Table, ...] = (
    Table("tutor_profiles", _cols(
        "tutor_id:text! months_experience:int total_sessions_completed:int certification_level:text "
        "avg_historical_rating:real reliability_score:real reschedule_rate:real no_show_count:int "
        "subjects_taught:text primary_subject:text active_status:bool last_login:timestamp"), ("tutor_id",)),
    Table("experiments", _cols(
        "experiment_id:text! name:text hypothesis:text description:text variants:json "
        "target_segment:json primary_metric:text secondary_metrics:json start_date:timestamp "
        "end_date:timestamp status:text sample_size:int significance:real winner:text notes:text"), ("experiment_id",)),
    Table("tutor_aggregates", _cols(
        "tutor_id:text! total_sessions_30d:int total_sessions_7d:int avg_rating_30d:real avg_rating_7d:real "
        "avg_engagement_score:real avg_empathy_score:real avg_clarity_score:real avg_student_satisfaction:real "
        "first_session_count:int first_session_avg_rating:real poor_first_session_flag:bool "
        "recommendation_rate:real technical_issue_rate:real sentiment_trend_7d:real churn_probability:real "
        "churn_risk_level:text churn_signals_detected:int"), ("tutor_id",),
        (TUTOR_FK,), (("churn_risk_level",),)),
    Table("sessions", _cols(
        "session_id:text! tutor_id:text! student_id:text session_datetime:timestamp! scheduled_duration_min:int "
        "actual_duration_min:int subject:text grade_level:text is_first_session:bool session_completed:bool "
        "student_showed:bool tutor_showed:bool connection_quality:text had_technical_issues:bool "
        "student_attention_pct:real tutor_camera_on_pct:real tutor_speak_ratio:real screen_share_pct:real "
        "overall_sentiment:real student_sentiment:real tutor_sentiment:real empathy_score:real "
        "clarity_score:real engagement_score:real student_rating:real student_satisfaction:real "
        "would_recommend:bool"), ("session_id",),
        (TUTOR_FK,), (("tutor_id",), ("session_datetime",))),
    Table("engagement_events", _cols(
        "event_id:text! tutor_id:text! event_type:text! event_data:json timestamp:timestamp!"), ("event_id",),
        (TUTOR_FK,), (("tutor_id", "timestamp"),)),
    Table("interventions", _cols(
        "intervention_id:text! tutor_id:text! intervention_type:text channel:text subject:text content:text "
        "template_id:text experiment_id:text experiment_variant:text sent_at:timestamp delivered_at:timestamp "
        "opened_at:timestamp clicked_at:timestamp responded_at:timestamp status:text engagement_before:real "
        "engagement_after:real sessions_before_count:int sessions_after_count:int response_type:text "
        "response_notes:text error_message:text"), ("intervention_id",),
        (TUTOR_FK, ForeignKey(("experiment_id",), "experiments", ("experiment_id",))),
        (("tutor_id",), ("experiment_id",))),
    Table("experiment_assignments", _cols(
        "experiment_id:text! tutor_id:text! variant:text assigned_at:timestamp exposed_at:timestamp "
        "converted_at:timestamp conversion_value:real"), ("experiment_id", "tutor_id"),
        (ForeignKey(("experiment_id",), "experiments", ("experiment_id",)), TUTOR_FK), (("tutor_id",),)),
)
BY_NAME = {t.name: t for t in TABLES}

SQL_TYPES = {
    "sqlite": {"text": "TEXT", "int": "INTEGER", "real": "REAL", "bool": "BOOLEAN",
               "timestamp": "TIMESTAMP", "json": "JSON"},
    "postgresql": {"text": "TEXT", "int": "INTEGER", "real": "DOUBLE PRECISION", "bool": "BOOLEAN",
                   "timestamp": "TIMESTAMP", "json": "JSONB"},
}


def ddl(dialect: str) -> list[str]:
    """CREATE TABLE / CREATE INDEX statements (IF NOT EXISTS) for `dialect`."""
    types = SQL_TYPES[dialect]
    out = []
    for t in TABLES:
        lines = []
        for c in t.columns:
            line = f"    {c.name} {types[c.kind]}"
            if not c.nullable:
                line += " NOT NULL"
            if c.kind == "json" and dialect == "sqlite":
                line += f" CHECK ({c.name} IS NULL OR json_valid({c.name}))"
            lines.append(line)
        lines.append(f"    PRIMARY KEY ({', '.join(t.primary_key)})")
        for fk in t.foreign_keys:
            lines.append(f"    FOREIGN KEY ({', '.join(fk.columns)}) REFERENCES {fk.table} ({', '.join(fk.refs)})")
        out.append(f"CREATE TABLE IF NOT EXISTS {t.name} (\n" + ",\n".join(lines) + "\n)")
        for cols in t.indexes:
            out.append(f"CREATE INDEX IF NOT EXISTS idx_{t.name}_{'_'.join(cols)} ON {t.name} ({', '.join(cols)})")
    return out


# ================================================================================ reading the files

TRUE, FALSE = {"true", "t", "1"}, {"false", "f", "0"}


def _convert(kind: str, text: str, dialect: str):
    """The value of one CSV field (None for an empty field); ValueError with what was expected."""
    if text == "":
        return None
    if kind == "text":
        return text
    if kind == "int":
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"expected a whole number, found {text!r}") from None
    if kind == "real":
        try:
            v = float(text)
        except ValueError:
            raise ValueError(f"expected a number, found {text!r}") from None
        if not math.isfinite(v):
            raise ValueError(f"expected a finite number, found {text!r}")
        return v
    if kind == "bool":
        low = text.strip().lower()
        if low in TRUE:
            return True
        if low in FALSE:
            return False
        raise ValueError(f"expected True or False, found {text!r}")
    if kind == "timestamp":
        try:
            stamp = dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"expected a timestamp like 2026-10-02 14:00:00, found {text!r}") from None
        if stamp.tzinfo is not None:
            raise ValueError(f"expected a timestamp without time zone, found {text!r}")
        return stamp if dialect == "postgresql" else stamp.isoformat(sep=" ")
    if kind == "json":
        try:
            json.loads(text)
        except ValueError as e:
            raise ValueError(f"expected JSON, found {text[:40]!r} ({e})") from None
        return text
    raise AssertionError(kind)


def read_table(path: Path, table: Table, dialect: str) -> list[tuple]:
    """Every row of `path` converted to the column types of `table` (in `table`'s column order).
    Raises BadInput naming the file, the row (1 = first row after the header) and the column."""
    try:
        f = open_text(path)                 # CSV, or the text of a Parquet-only run's table
    except OSError as e:
        raise BadInput(f"{path}: cannot read: {e.strerror}") from None
    rows, seen = [], set()
    with f:
        reader = csv.reader(f, strict=True)
        try:
            header = next(reader, None)
            if header is None:
                raise BadInput(f"{path}: empty file (expected a header: {','.join(table.names)})")
            missing = [c for c in table.names if c not in header and c not in BEYOND_SPEC]
            if missing:
                raise BadInput(f"{path}: header has no column {missing[0]!r}")
            extra = [c for c in header if c not in table.names]
            if extra:
                raise BadInput(f"{path}: header has an unknown column {extra[0]!r}")
            repeated = [c for i, c in enumerate(header) if c in header[:i]]
            if repeated:
                raise BadInput(f"{path}: header has the column {repeated[0]!r} twice")
            width = len(header)
            absent = [c for c in table.names if c not in header]        # an older run's: empty
            header += absent
            order = [header.index(c) for c in table.names]
            kinds = [c.kind for c in table.columns]
            required = [not c.nullable for c in table.columns]
            key_at = [table.names.index(c) for c in table.primary_key]
            for n, fields in enumerate(reader, start=1):
                if len(fields) != width:
                    raise BadInput(f"{path}: row {n} (line {reader.line_num}): expected {width} fields, found {len(fields)}")
                if absent:
                    fields += [""] * len(absent)
                values = []
                for i, kind, req, name in zip(order, kinds, required, table.names):
                    try:
                        v = _convert(kind, fields[i], dialect)
                    except ValueError as e:
                        raise BadInput(f"{path}: row {n} (line {reader.line_num}), column {name}: {e}") from None
                    if v is None and req:
                        raise BadInput(f"{path}: row {n} (line {reader.line_num}), column {name}: must not be empty")
                    values.append(v)
                key = tuple(values[i] for i in key_at)
                if key in seen:
                    raise BadInput(f"{path}: row {n} (line {reader.line_num}): duplicate key "
                                   f"{', '.join(table.primary_key)} = {', '.join(map(str, key))}")
                seen.add(key)
                rows.append(tuple(values))
        except csv.Error as e:
            raise BadInput(f"{path}: line {reader.line_num}: malformed CSV: {e}") from None
        except UnicodeDecodeError as e:
            raise BadInput(f"{path}: not UTF-8 text: {e.reason}") from None
    return rows


def check_references(loaded: dict[str, tuple[Path, list[tuple]]], existing: dict[tuple[str, str], set]) -> list[str]:
    """Every foreign key of the files must point to a row of the files or of the database, else
    BadInput naming the file and the row. One exception: a nullable reference to a table whose
    file is not in the folder (interventions -> experiments in a run made with --no-experiments)
    is imported as NULL, with a note (returned) saying so."""
    notes = []
    for name, (path, rows) in loaded.items():
        table = BY_NAME[name]
        for fk in table.foreign_keys:
            at = table.names.index(fk.columns[0])
            ref_table = BY_NAME[fk.table]
            ref_at = ref_table.names.index(fk.refs[0])
            known = set(existing.get((fk.table, fk.refs[0]), set()))
            if fk.table in loaded:
                known.update(r[ref_at] for r in loaded[fk.table][1])
            nullable = next(c for c in table.columns if c.name == fk.columns[0]).nullable
            dropped = 0
            for n, row in enumerate(rows, start=1):
                v = row[at]
                if v is None or v in known:
                    continue
                if nullable and fk.table not in loaded:
                    rows[n - 1] = row[:at] + (None,) + row[at + 1:]
                    dropped += 1
                    continue
                where = f"{fk.table}.csv" + (" or the database" if existing else "")
                raise BadInput(f"{path}: row {n}, column {fk.columns[0]}: {v} is not in {where} "
                               f"(foreign key to {fk.table})")
            if dropped:
                notes.append(f"{name}: {dropped} rows refer to {fk.table} missing from the folder and the "
                             f"database (no {fk.table}.csv): their {fk.columns[0]} is imported empty")
    return notes


# ================================================================================ the databases

def _placeholders(dialect: str, n: int) -> str:
    return ", ".join(["?" if dialect == "sqlite" else "%s"] * n)


class SQLite:
    dialect = "sqlite"

    def __init__(self, path: Path):
        import sqlite3
        self.sqlite3 = sqlite3
        self.path = path
        self.label = str(path)
        if not path.parent.is_dir():
            raise BadInput(f"--db {path}: folder {path.parent} does not exist")
        self.created = not path.exists()     # a failed import then removes the file it made
        try:
            self.conn = sqlite3.connect(path, isolation_level=None)   # transactions by hand
            self.conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as e:
            raise DatabaseError(f"{path}: cannot open the database: {e}") from None
        self.errors = (sqlite3.Error,)

    def begin(self):
        self.conn.execute("BEGIN IMMEDIATE")

    def commit(self):
        self.conn.execute("COMMIT")

    def rollback(self):
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    def execute(self, sql: str, params=()):
        return self.conn.execute(sql, params)

    def keys(self, table: str, column: str) -> set:
        return {r[0] for r in self.conn.execute(f"SELECT {column} FROM {table}")}

    def count(self, table: str) -> int:
        return self.conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]

    def insert(self, table: Table, rows: list[tuple]) -> int:
        before = self.conn.total_changes
        self.conn.executemany(
            f"INSERT INTO {table.name} ({', '.join(table.names)}) VALUES ({_placeholders('sqlite', len(table.names))}) "
            f"ON CONFLICT ({', '.join(table.primary_key)}) DO NOTHING", rows)
        return self.conn.total_changes - before

    def close(self, failed: bool = False):
        self.conn.close()
        if failed and self.created:
            self.path.unlink(missing_ok=True)


class PostgreSQL:
    dialect = "postgresql"

    def __init__(self, url: str):
        try:
            import psycopg
        except ImportError:
            raise BadInput("--db postgresql://...: psycopg 3 is not installed "
                           "(pip install -e \".[postgres]\")") from None
        self.psycopg = psycopg
        self.label = _safe_url(url)
        try:
            self.conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
        except psycopg.Error as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise DatabaseError(f"{_safe_url(url)}: cannot connect: {first}") from None
        self.errors = (psycopg.Error,)

    def begin(self):
        self.conn.execute("BEGIN")

    def commit(self):
        self.conn.execute("COMMIT")

    def rollback(self):
        try:
            if self.conn.info.transaction_status != self.psycopg.pq.TransactionStatus.IDLE:
                self.conn.execute("ROLLBACK")
        except self.psycopg.Error:
            pass                  # a broken connection: the server rolls back by itself

    def execute(self, sql: str, params=()):
        return self.conn.execute(sql, params)

    def keys(self, table: str, column: str) -> set:
        return {r[0] for r in self.conn.execute(f"SELECT {column} FROM {table}")}

    def count(self, table: str) -> int:
        return self.conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]

    def insert(self, table: Table, rows: list[tuple]) -> int:
        """COPY into a temporary table, then one INSERT ... SELECT ... ON CONFLICT DO NOTHING."""
        stage = f"tutorsim_stage_{table.name}"
        cols = ", ".join(table.names)
        with self.conn.cursor() as cur:
            cur.execute(f"CREATE TEMP TABLE {stage} (LIKE {table.name} INCLUDING DEFAULTS) ON COMMIT DROP")
            with cur.copy(f"COPY {stage} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cur.execute(f"INSERT INTO {table.name} ({cols}) SELECT {cols} FROM {stage} "
                        f"ON CONFLICT ({', '.join(table.primary_key)}) DO NOTHING")
            inserted = cur.rowcount
            cur.execute(f"DROP TABLE {stage}")
        return inserted

    def close(self, failed: bool = False):
        self.conn.close()


def _safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    from urllib.parse import urlsplit, urlunsplit
    try:
        parts = urlsplit(url)
        if parts.password:
            netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
            return urlunsplit(parts._replace(netloc=netloc))
    except ValueError:
        pass
    return url


def target(db: str | None, data_dir: Path) -> tuple[str, str | Path]:
    """(dialect, URL or SQLite path) of the --db argument."""
    if db is None:
        return "sqlite", data_dir / "tutorsim.db"
    if db.startswith(("postgresql://", "postgres://")):
        return "postgresql", db
    if db.startswith("sqlite:///"):
        return "sqlite", Path(db[len("sqlite:///"):])
    if "://" in db:
        raise BadInput(f"--db {_safe_url(db)}: expected a SQLite file path, sqlite:///PATH or postgresql://...")
    return "sqlite", Path(db)


def connect(dialect: str, where):
    return SQLite(where) if dialect == "sqlite" else PostgreSQL(where)


# ================================================================================ the import

@contextlib.contextmanager
def transaction(database, undone: str = "nothing was imported"):
    """BEGIN ... COMMIT on `database` (SQLite or PostgreSQL above). Anything raised inside rolls
    everything back and goes on; a database error goes on as DatabaseError, one line naming the
    database, with `undone` saying what that means."""
    try:
        database.begin()
        yield
        database.commit()
    except database.errors as e:
        database.rollback()
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise DatabaseError(f"{database.label}: {first} ({undone})") from None
    except BaseException:           # bad input found late, Ctrl-C: nothing of it stays
        database.rollback()
        raise


def import_folder(data_dir: Path, db: str | None = None, clear: bool = False) -> dict:
    """Load DATA_DIR's tables in one transaction. Returns {table: {"file": rows, "inserted": n,
    "total": rows in the table after}, "_skipped": [...], "_seconds": ...}. Raises BadInput or
    DatabaseError (the database is then as it was)."""
    started = time.perf_counter()
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise BadInput(f"{data_dir}: no such folder")
    dialect, where = target(db, data_dir)
    present = [t for t in TABLES if has_table(data_dir / f"{t.name}.csv")]
    if not present:
        raise BadInput(f"{data_dir}: no tutorsim tables in it (tutor_profiles.csv, sessions.csv, ...)")
    skipped = [t.name for t in TABLES if t not in present]
    # every file is read and checked before the database is touched
    loaded = {t.name: (data_dir / f"{t.name}.csv", read_table(data_dir / f"{t.name}.csv", t, dialect))
              for t in present}
    read_s = time.perf_counter() - started
    database = connect(dialect, where)
    failed = True
    try:
        report = {}
        with transaction(database):
            for statement in ddl(database.dialect):
                database.execute(statement)
            if clear:
                for t in reversed(TABLES):
                    database.execute(f"DELETE FROM {t.name}")
            existing = {}
            if not clear:
                for t in TABLES:
                    for fk in t.foreign_keys:
                        if (fk.table, fk.refs[0]) not in existing:
                            existing[(fk.table, fk.refs[0])] = database.keys(fk.table, fk.refs[0])
            notes = check_references(loaded, existing)
            for t in present:
                rows = loaded[t.name][1]
                inserted = database.insert(t, rows)
                report[t.name] = {"file": len(rows), "inserted": inserted}
            for t in present:
                report[t.name]["total"] = database.count(t.name)
        failed = False
    finally:
        database.close(failed)
    report["_skipped"] = skipped
    report["_notes"] = notes
    report["_read_seconds"] = read_s
    report["_seconds"] = time.perf_counter() - started
    report["_database"] = database.label
    return report
