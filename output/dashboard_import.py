"""`run.py import DATA_DIR --target dashboard --db postgresql://...`: load a run folder into the
tutor-quality dashboard's own tables (docs/dashboard.md).

    python run.py import data --target dashboard --db postgresql://user:pw@host/db
    python run.py import data --target dashboard --db postgresql://... --clear       # empty them first
    python run.py import data --target dashboard --db postgresql://... --upcoming    # + next 7 days' bookings

PostgreSQL only (the dashboard runs on it). The seven tables (output/dashboard_schema.py) are
created if missing, in the connection's schema: `public` unless the URL chooses another
(`?options=-csearch_path%3Dname`). The rows come from output/dashboard_rows.py, which reads and
checks every file first: bad input is one line naming the file, the row and the column (exit 2);
then schema, --clear, the foreign-key checks against the files and the database, and the upserts
run in one transaction (a database error: one line, exit 1, nothing changed).

Upsert: every row has a deterministic id derived from its natural key; rows are COPYed into a
temporary table and merged by one INSERT ... ON CONFLICT (the table's unique key) DO UPDATE ...
WHERE the stored row differs: a new row is inserted, a changed one updated, an identical one not
even rewritten. No timestamp is taken from the clock (they come from the run), so importing the
same folder again changes nothing.
"""
from __future__ import annotations

import time
from pathlib import Path

from output.dashboard_rows import UPCOMING, Folder, read_folder
from output.dashboard_schema import BY_NAME, CLEAR_ORDER, Table, ddl, q
from output.db_import import PostgreSQL, target, transaction
from output.reading import BadInput

# (file, dashboard column) of each foreign key's target, for the messages
REFERRED = {("tutors", "tutor_id"): "tutor_profiles.csv", ("experiments", "id"): "experiments.csv"}
# Folder.rows' keys in loading order (the upcoming sessions after the others, into sessions)
LOAD_ORDER = ("tutors", "experiments", "sessions", UPCOMING, "tutor_aggregates", "interventions",
              "engagement_events", "experiment_assignments")


def table_of(key: str) -> Table:
    return BY_NAME["sessions" if key == UPCOMING else key]


def check_references(folder: Folder, existing: dict[tuple[str, str], set]) -> None:
    """Every foreign key of the rows must point to a row of the files or of the database."""
    for key, rows in folder.rows.items():
        t = table_of(key)
        for col, ref_table, ref_col in t.foreign_keys:
            at = t.names.index(col)
            ref_at = BY_NAME[ref_table].names.index(ref_col)
            known = existing.get((ref_table, ref_col), set()) | {r[ref_at] for r in folder.rows.get(ref_table, [])}
            for row, (path, where) in zip(rows, folder.sources[key]):
                if row[at] not in known:
                    where_else = REFERRED[(ref_table, ref_col)] + (" or the database" if existing else "")
                    raise BadInput(f"{path}: {where}, column {col}: {row[at]} is not in {where_else} "
                                   f"(foreign key to {ref_table}.{ref_col})")


def upsert(conn, t: Table, rows: list[tuple]) -> tuple[int, int]:
    """COPY `rows` into a temporary table, then one INSERT ... ON CONFLICT DO UPDATE of the rows
    that differ. Returns (inserted, updated); the other rows were already there as they are."""
    cols = ", ".join(map(q, t.names))
    stage = q(f"tutorsim_stage_{t.name}")
    changing = [c for c in t.names if c != "id" and c not in t.key]
    with conn.cursor() as cur:
        cur.execute(f"CREATE TEMP TABLE {stage} ON COMMIT DROP AS SELECT {cols} FROM {q(t.name)} WITH NO DATA")
        with cur.copy(f"COPY {stage} ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cur.execute(
            f"WITH r AS (INSERT INTO {q(t.name)} AS t ({cols}) SELECT {cols} FROM {stage} "
            f"ON CONFLICT ({', '.join(map(q, t.key))}) DO UPDATE SET "
            + ", ".join(f"{q(c)} = EXCLUDED.{q(c)}" for c in changing)
            + f" WHERE ROW({', '.join('t.' + q(c) for c in changing)}) IS DISTINCT FROM "
              f"ROW({', '.join('EXCLUDED.' + q(c) for c in changing)}) "
              f"RETURNING (xmax = 0) AS inserted) "
              f"SELECT COUNT(*) FILTER (WHERE inserted), COUNT(*) FILTER (WHERE NOT inserted) FROM r")
        inserted, updated = cur.fetchone()
        cur.execute(f"DROP TABLE {stage}")
    return inserted, updated


def require_postgresql(db: str | None, data_dir: Path) -> None:
    """BadInput unless --db is a postgresql:// URL (target() refuses other schemes itself)."""
    if db is None or target(db, Path(data_dir))[0] != "postgresql":
        raise BadInput("--target dashboard: the dashboard's database is PostgreSQL: give --db postgresql://... "
                       "(SQLite is for --target tutorsim)")


def import_dashboard(data_dir: Path, db: str | None, clear: bool = False, upcoming: bool = False) -> dict:
    """Load DATA_DIR into the dashboard's tables in one transaction. Returns {key: {"file": rows
    in the file, "sent": rows loaded, "inserted", "updated", "unchanged", "total"}, "_notes",
    "_skipped", "_upcoming", "_seconds", ...}. Raises BadInput or DatabaseError (nothing changed)."""
    started = time.perf_counter()
    require_postgresql(db, data_dir)
    folder = read_folder(Path(data_dir), upcoming)
    read_s = time.perf_counter() - started
    database = PostgreSQL(db)
    conn = database.conn
    try:
        report = {}
        with transaction(database):
            for statement in ddl():
                conn.execute(statement)
            if clear:
                for name in CLEAR_ORDER:
                    conn.execute(f"DELETE FROM {q(name)}")
            existing = {}
            if not clear:
                for ref in REFERRED:
                    existing[ref] = {r[0] for r in conn.execute(f"SELECT {q(ref[1])} FROM {q(ref[0])}")}
            check_references(folder, existing)
            for key in LOAD_ORDER:
                rows = folder.rows.get(key)
                if rows is None:
                    continue
                inserted, updated = upsert(conn, table_of(key), rows)
                report[key] = {"file": folder.in_file.get(key, len(rows)), "sent": len(rows), "inserted": inserted,
                               "updated": updated, "unchanged": len(rows) - inserted - updated}
            for key, r in report.items():
                r["total"] = conn.execute(f"SELECT COUNT(*) FROM {q(table_of(key).name)}").fetchone()[0]
    finally:
        database.close()
    report["_skipped"] = folder.skipped
    report["_notes"] = folder.notes
    report["_upcoming"] = folder.upcoming
    report["_read_seconds"] = read_s
    report["_seconds"] = time.perf_counter() - started
    report["_database"] = database.label
    return report


def summary(report: dict, data_dir, clear: bool, upcoming: bool) -> list[str]:
    """The lines `run.py import --target dashboard` prints."""
    lines = [f"dashboard import: {data_dir} -> {report['_database']}" + (" (cleared first)" if clear else "")]
    for key in LOAD_ORDER:
        r = report.get(key)
        if not r:
            continue
        left = f" ({r['file'] - r['sent']:,d} left out)" if r["file"] != r["sent"] else ""
        lines.append(f"  {key:24s} {r['file']:>8,d} rows in file{left}, {r['inserted']:>8,d} inserted, "
                     f"{r['updated']:>8,d} updated, {r['unchanged']:>8,d} unchanged; {r['total']:>8,d} in the table")
    for name in report["_skipped"]:
        lines.append(f"  {name:24s} skipped: no {name}.csv in {data_dir}")
    if report["_upcoming"] and not upcoming:
        lines.append(f"  note: {report['_upcoming']:,d} upcoming sessions (upcoming_sessions.csv) not imported: "
                     f"--upcoming imports them (docs/dashboard.md)")
    for note in report["_notes"]:
        lines.append(f"  note: {note}")
    lines.append(f"  one transaction, {report['_seconds']:.2f} s (reading and checking the files "
                 f"{report['_read_seconds']:.2f} s)")
    return lines
