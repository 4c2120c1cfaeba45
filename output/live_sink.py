"""The database side of `run.py live` (pipeline/live.py): a batch of a live run's rows, written as
a run writes its tables into a small folder, goes into PostgreSQL in one transaction, with the
live run's state.

A batch folder holds the files of a run folder, each with only the batch's rows (the sessions and
engagement events whose moment has come, the hourly job's tables), and a run.json whose
`window_end` is the moment the batch stands at. `write` reads it as `run.py import` reads a run
folder (output/dashboard_rows.py for the dashboard's tables, output/db_import.py's reader for
tutorsim's), upserts every row by its natural key, replaces the bookings still ahead
(`B...` sessions, dashboard only) and moves the state row to the batch's moment: all or nothing.

The state row (table `tutorsim_live`, one row per live run: its key, the history's window end,
the moment the database holds everything before) is how a live run started again continues where
the database ends.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from output import dashboard_rows, db_import
from output.dashboard_import import LOAD_ORDER, table_of, upsert
from output.dashboard_schema import CLEAR_ORDER, q
from output.dashboard_schema import ddl as dashboard_ddl
from output.db_import import PostgreSQL, transaction
from output.reading import has_table

STATE_DDL = ("CREATE TABLE IF NOT EXISTS tutorsim_live (run_key TEXT PRIMARY KEY, scenario TEXT NOT NULL, "
             "seed INTEGER NOT NULL, target TEXT NOT NULL, window_end TIMESTAMP(3) NOT NULL, "
             "simulated_until TIMESTAMP(3) NOT NULL, speed DOUBLE PRECISION NOT NULL)")


@dataclass(frozen=True)
class _Keyed:
    """A tutorsim table as dashboard_import.upsert reads one: name, column names, the key."""
    name: str
    names: list[str]
    key: tuple[str, ...]


class LiveSink:
    def __init__(self, url: str, target: str):
        self.target = target
        self.url = url
        self.db = PostgreSQL(url)
        self.label = self.db.label
        self.rows_written = 0

    # --- schema and state --------------------------------------------------------------------------
    def prepare(self) -> None:
        """The target's tables and the state table, created where missing."""
        statements = dashboard_ddl() if self.target == "dashboard" else db_import.ddl("postgresql")
        self._in_transaction(lambda: [self.db.execute(s) for s in (*statements, STATE_DDL)])

    def clear(self) -> None:
        """Empty the target's tables and forget every live run (--clear), in one transaction."""
        names = (CLEAR_ORDER if self.target == "dashboard"
                 else tuple(t.name for t in reversed(db_import.TABLES))) + ("tutorsim_live",)
        self._in_transaction(lambda: [self.db.execute(f"DELETE FROM {q(n)}") for n in names])

    def load_history(self, folder: Path) -> None:
        """The history's run folder, as `run.py import` loads it (its own transaction)."""
        if self.target == "dashboard":
            from output.dashboard_import import import_dashboard
            import_dashboard(folder, self.url, upcoming=True)
        else:
            db_import.import_folder(folder, self.url)

    def state(self, run_key: str):
        """(window_end, simulated_until) of the live run `run_key`, or None."""
        row = self.db.execute("SELECT window_end, simulated_until FROM tutorsim_live WHERE run_key = %s",
                              (run_key,)).fetchone()
        return None if row is None else (row[0], row[1])

    def has_rows(self) -> bool:
        table = "tutors" if self.target == "dashboard" else "tutor_profiles"
        return self.db.execute(f"SELECT EXISTS (SELECT 1 FROM {table})").fetchone()[0]

    # --- batches -------------------------------------------------------------------------------------
    def write(self, folder: Path, run_key: str, state: dict, upcoming_usual: dict | None = None) -> int:
        """Load the batch `folder` and move the state row, in one transaction. `upcoming_usual`
        (dashboard): each tutor's measured connections, for the bookings ahead; None leaves the
        bookings as they are. Returns the rows inserted or changed."""
        sent = 0

        def work():
            nonlocal sent
            sent = (self._dashboard(folder, upcoming_usual) if self.target == "dashboard"
                    else self._tutorsim(folder))
            self.db.execute(
                "INSERT INTO tutorsim_live AS s (run_key, scenario, seed, target, window_end, simulated_until, speed) "
                "VALUES (%(run_key)s, %(scenario)s, %(seed)s, %(target)s, %(window_end)s, %(simulated_until)s, "
                "%(speed)s) ON CONFLICT (run_key) DO UPDATE SET simulated_until = EXCLUDED.simulated_until, "
                "speed = EXCLUDED.speed", {**state, "run_key": run_key, "target": self.target})

        self._in_transaction(work)
        self.rows_written += sent
        return sent

    def _dashboard(self, folder: Path, usual: dict | None) -> int:
        rows = dashboard_rows.read_folder(folder, partial=True)
        if usual is not None:
            dashboard_rows.upcoming_rows(rows, folder, {t: Counter(c) for t, c in usual.items()}, True)
        sent = 0
        for key in LOAD_ORDER:
            batch = rows.rows.get(key)
            if batch:
                sent += sum(upsert(self.db.conn, table_of(key), batch))
        if usual is not None:       # the bookings no longer ahead (held, cancelled, moved away) go
            ahead = [r[table_of(dashboard_rows.UPCOMING).names.index("session_id")]
                     for r in rows.rows.get(dashboard_rows.UPCOMING, [])]
            self.db.execute("DELETE FROM sessions WHERE session_id LIKE 'B%%' AND NOT (session_id = ANY(%s))",
                            (ahead,))
        return sent

    def _tutorsim(self, folder: Path) -> int:
        sent = 0
        for table in db_import.TABLES:
            path = folder / f"{table.name}.csv"
            if not has_table(path):
                continue
            batch = db_import.read_table(path, table, "postgresql")
            if batch:
                sent += sum(upsert(self.db.conn, _Keyed(table.name, table.names, table.primary_key), batch))
        return sent

    def _in_transaction(self, work) -> None:
        """`work()` in one transaction: Ctrl-C or an error mid-batch leaves nothing of it."""
        with transaction(self.db, "the batch was rolled back"):
            work()

    def close(self) -> None:
        self.db.rollback()
        self.db.close()
