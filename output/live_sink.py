"""The database side of `run.py live` (pipeline/live.py): a batch of a live run's rows, written as
a run writes its tables into a small folder, goes into PostgreSQL in one transaction, with the
live run's state.

A batch folder holds the files of a run folder, each with only the batch's rows (the sessions and
engagement events whose moment has come, the hourly job's tables), and a run.json whose
`window_end` is the moment the batch stands at. `write` reads it as `run.py import` reads a run
folder (output/dashboard_rows.py for the dashboard's tables, output/db_import.py's reader for
tutorsim's), upserts every row by its natural key, replaces the bookings still ahead
(`B...` sessions, dashboard only) and moves the state row to the batch's moment: all or nothing.

The sink remembers every row it has committed (by table and key) and sends only the rows that are
new or differ: the state tables and the bookings ahead are written whole into every batch, and most
of their rows stand as they were. A rolled-back batch leaves the memory as it was; a sink started
again remembers nothing and sends everything once (the upserts make that a no-op where the
database already holds the rows).

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

# the tables whose rows are written once each, when their moment comes (pipeline/live.py's
# batches): not remembered
STREAMED = ("sessions", "not_held_sessions", "engagement_events")


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
        self.rows_sent = 0          # rows sent to the database (after leaving out the unchanged)
        self.committed: dict[str, dict[tuple, tuple]] = {}    # table key -> natural key -> row
        self._pending: dict[str, dict[tuple, tuple]] = {}
        self._gone: dict[str, list[tuple]] = {}
        self.ahead_known = False      # the bookings ahead in the database are committed's (after an hourly batch)

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

        self._pending, self._gone = {}, {}
        self._sending = 0
        self._in_transaction(work)
        self.rows_sent += self._sending
        self.ahead_known |= upcoming_usual is not None
        for name, rows in self._pending.items():     # committed: remember what the database now holds
            self.committed.setdefault(name, {}).update(rows)
        for name, keys in self._gone.items():
            for k in keys:
                self.committed.get(name, {}).pop(k, None)
        self.rows_written += sent
        return sent

    def _changed(self, name: str, names: list[str], key: tuple[str, ...], rows: list[tuple]) -> list[tuple]:
        """The rows of table `name` that are new or differ from what was committed (remembered
        once this batch commits). The streamed tables' rows come once each: all sent, none kept."""
        if name in STREAMED:
            self._sending += len(rows)
            return rows
        at = [names.index(c) for c in key]
        held = self.committed.get(name, {})
        pending = self._pending.setdefault(name, {})
        out = []
        for row in rows:
            k = tuple(row[i] for i in at)
            if held.get(k) != row:
                out.append(row)
                pending[k] = row
        self._sending += len(out)
        return out

    def _dashboard(self, folder: Path, usual: dict | None) -> int:
        rows = dashboard_rows.read_folder(folder, upcoming=usual is not None, partial=True,
                                          usual=None if usual is None else {t: Counter(c) for t, c in usual.items()})
        sent = 0
        for key in LOAD_ORDER:
            t = table_of(key)
            batch = self._changed(key, t.names, t.key, rows.rows.get(key) or [])
            if batch:
                sent += sum(upsert(self.db.conn, t, batch))
        if usual is not None:       # the bookings no longer ahead (held, cancelled, moved away) go
            up = dashboard_rows.UPCOMING
            at = table_of(up).names.index("session_id")
            ahead = {(r[at],) for r in rows.rows.get(up, [])}
            if self.ahead_known:      # the database's bookings ahead are the ones remembered
                gone = [k for k in self.committed.get(up, {}) if k not in ahead]
                self.db.execute("DELETE FROM sessions WHERE session_id = ANY(%s)", ([k[0] for k in gone],))
            else:                     # the history's or a previous live process's bookings
                gone = []
                self.db.execute("DELETE FROM sessions WHERE session_id LIKE 'B%%' AND NOT (session_id = ANY(%s))",
                                ([k[0] for k in ahead],))
            self._gone[up] = gone
        return sent

    def _tutorsim(self, folder: Path) -> int:
        sent = 0
        for table in db_import.TABLES:
            path = folder / f"{table.name}.csv"
            if not has_table(path):
                continue
            batch = self._changed(table.name, table.names, table.primary_key,
                                  db_import.read_table(path, table, "postgresql"))
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
