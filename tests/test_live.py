"""`run.py live`: the platform running on into PostgreSQL (pipeline/live.py, docs/live.md).

On the real PostgreSQL (TUTORSIM_PG_URL, as tests/test_db_import.py finds it; each test in a
schema of its own; skipped without a server, failed under CI=true). The dev scenario with a
history pinned to a fixed hour, at high speed, so that two live runs can be compared: stopped
and started again, a live run of a simulated day ends with the same tables as one that ran
through; batches come in
time order; the hourly job's tables stand at an hour; a real Ctrl-C leaves a consistent database
(the bound here is generous: the stop time is a bench figure, bench/live_bench.py).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT, own_group_with_ctrl_c, run_cli
from tests.postgres import fresh_schema, needs_pg

pytestmark = needs_pg
HISTORY_END = "2026-12-01T06:00"
DASHBOARD = ("tutors", "sessions", "tutor_aggregates", "interventions", "engagement_events", "experiments",
             "experiment_assignments", "tutorsim_live")


@pytest.fixture
def schema():
    """A fresh schema: (URL using it, connection to it)."""
    with fresh_schema("live_test") as (url, conn):
        yield url, conn


def live(url, *args, timeout=240):
    code, out, err = run_cli("live", "--mode", "dev", "--db", url, "--window-end", HISTORY_END, "--no-progress",
                             *args, timeout=timeout)
    assert code == 0, err[-2000:]
    return out, err


def checksums(conn) -> dict[str, str]:
    out = {}
    for table in DASHBOARD:
        cols = [r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = %s ORDER BY ordinal_position", (table,))]
        order = "run_key" if table == "tutorsim_live" else "id"
        out[table] = conn.execute(
            f"SELECT md5(string_agg(row({', '.join(c if c.islower() else chr(34) + c + chr(34) for c in cols)})::text, "
            f"'|' ORDER BY {order})) FROM {table}").fetchone()[0]
    return out


def test_stopped_and_started_again_it_ends_as_one_that_ran_through(schema):
    url_a, conn_a = schema
    with fresh_schema("live_test") as (url_b, conn_b):
        live(url_a, "--speed", "86400", "--for", "1d")
        live(url_b, "--speed", "86400", "--for", "9h")
        out, err = live(url_b, "--speed", "86400", "--for", "15h")
        assert "continuing from where the database ends" in err
        state = conn_b.execute("SELECT window_end, simulated_until FROM tutorsim_live").fetchall()
        assert [(str(a), str(b)) for a, b in state] == [("2026-12-01 06:00:00", "2026-12-02 06:00:00")]
        a, b = checksums(conn_a), checksums(conn_b)
        assert a == b, [t for t in a if a[t] != b[t]]
    # the hours after the history hold sessions and events, each written once (keys are unique)
    n = conn_a.execute("SELECT count(*) FROM sessions WHERE session_id LIKE 'S%' "
                       "AND session_datetime >= '2026-12-01 06:00'").fetchone()[0]
    e = conn_a.execute("SELECT count(*) FROM engagement_events WHERE timestamp >= '2026-12-01 06:00'").fetchone()[0]
    assert n > 10 and e > 10


def test_batches_come_in_time_order_and_the_job_stands_at_the_hour(schema):
    """In process, a sink that notes what each batch holds."""
    import pandas as pd

    from output.live_sink import LiveSink
    from pipeline.live import Live
    from world.scenario import apply_overrides, read_document, validate_document
    url, conn = schema
    seen = []

    class Noting(LiveSink):
        def write(self, folder, run_key, state, upcoming_usual=None):
            times = []
            if (folder / "sessions.csv").is_file():
                times += pd.read_csv(folder / "sessions.csv")["session_datetime"].tolist()
            if (folder / "engagement_events.csv").is_file():
                times += pd.read_csv(folder / "engagement_events.csv")["timestamp"].tolist()
            seen.append((state["simulated_until"], sorted(times), (folder / "tutor_aggregates.csv").is_file()))
            return super().write(folder, run_key, state, upcoming_usual)

    doc = apply_overrides(read_document(ROOT / "scenarios" / "dev.toml"), [f"calendar.window_end={HISTORY_END}"])
    run = Live(validate_document(doc, "dev"), doc, Noting(url, "dashboard"), speed=43200.0)
    try:
        run.start(doc)
        run.run(run.released + 10 * 60)
    finally:
        run.close()
        run.sink.close()
    moments = [m for m, _, _ in seen]
    assert moments == sorted(moments) and len(seen) > 10
    previous = None
    for moment, times, hourly in seen:
        if times:
            assert pd.Timestamp(times[-1]) < pd.Timestamp(moment)
            if previous is not None:          # a session's row is due at its end, an event at its time
                assert pd.Timestamp(times[0]) >= previous - pd.Timedelta(hours=2)
        if hourly:
            assert pd.Timestamp(moment).minute == 0 and pd.Timestamp(moment).second == 0
        previous = pd.Timestamp(moment)
    calculated = conn.execute("SELECT DISTINCT last_calculated FROM tutor_aggregates").fetchall()
    assert [str(c[0]) for c in calculated] == ["2026-12-01 16:00:00"]
    # no booking left behind: every B row lies ahead of the clock
    stale = conn.execute("SELECT count(*) FROM sessions WHERE session_id LIKE 'B%' "
                         "AND session_datetime < '2026-12-01 16:00'").fetchone()[0]
    assert stale == 0


def test_ctrl_c_leaves_a_consistent_database_and_it_continues(schema):
    url, conn = schema
    proc = subprocess.Popen([sys.executable, "run.py", "live", "--mode", "dev", "--db", url, "--window-end",
                             HISTORY_END, "--speed", "3600", "--no-progress"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=own_group_with_ctrl_c)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:        # until an hour after the history has been written
            row = conn.execute("SELECT to_regclass('tutorsim_live') IS NOT NULL").fetchone()[0] and \
                conn.execute("SELECT simulated_until FROM tutorsim_live").fetchone()
            if row and str(row[0]) >= "2026-12-01 07:30":
                break
            time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGINT)
        sent = time.monotonic()
        _, err = proc.communicate(timeout=30)
        stopped_in = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err[-2000:]
    last = err.strip().splitlines()[-1]
    assert last.startswith("run.py live: stopped at simulated 2026-12-01 "), last
    assert stopped_in < 10
    held = conn.execute("SELECT simulated_until FROM tutorsim_live").fetchone()[0]
    assert f"{held:%Y-%m-%d %H:%M:%S}" in last
    # consistent: one hourly job for every aggregate, nothing due after the moment held
    assert len(conn.execute("SELECT DISTINCT last_calculated FROM tutor_aggregates").fetchall()) == 1
    late = conn.execute("SELECT count(*) FROM engagement_events WHERE timestamp >= %s", (held,)).fetchone()[0]
    assert late == 0
    before = conn.execute("SELECT count(*) FROM sessions WHERE session_id LIKE 'S%'").fetchone()[0]
    live(url, "--speed", "43200", "--for", "3h")
    after = conn.execute("SELECT simulated_until FROM tutorsim_live").fetchone()[0]
    assert (after - held).total_seconds() == 3 * 3600
    assert conn.execute("SELECT count(*) FROM sessions WHERE session_id LIKE 'S%'").fetchone()[0] >= before


def test_tutorsim_target_and_bad_input(schema):
    url, conn = schema
    live(url, "--target", "tutorsim", "--speed", "43200", "--for", "6h")
    assert conn.execute("SELECT count(*) FROM tutor_profiles").fetchone()[0] == 25
    assert str(conn.execute("SELECT simulated_until FROM tutorsim_live").fetchone()[0]) == "2026-12-01 12:00:00"
    # the database holds a live run of another scenario: refused unless --clear
    code, _, err = run_cli("live", "--mode", "dev", "--seed", "7", "--db", url, "--target", "tutorsim",
                           "--for", "1h", "--no-progress")
    assert code == 2 and err.strip().splitlines()[-1].startswith("run.py live: the database already holds")
    code, _, err = run_cli("live", "--mode", "dev", "--db", "data/x.db", "--for", "1h")
    assert code == 2 and "expected a postgresql:// URL" in err
    code, _, err = run_cli("live", "--mode", "dev", "--db", url, "--for", "soon")
    assert code == 2 and "expected a duration like 90s, 45m, 2h or 1d" in err


def test_a_live_day_holds_the_rows_of_a_run_whose_window_ends_a_day_later(schema, tmp_path):
    """The batches format only the sessions and events that may be due, numbered as in the whole
    table: a day run live after a 14-day history holds the same sessions and events, ids and
    values, as a 15-day run ending at the live day's end (the same world: seed, start, clock)."""
    import csv

    from tests.conftest import simulate
    url, conn = schema
    live(url, "--target", "tutorsim", "--speed", "86400", "--for", "1d")
    run = simulate(tmp_path / "run", "--mode", "dev", "--days", 15, "--window-end", "2026-12-02T06:00", "--no-model")

    def text(v) -> str:
        return "" if v is None else str(v)

    for table, cols in (("sessions", ("session_id", "tutor_id", "student_id", "session_datetime",
                                       "actual_duration_min", "student_rating", "connection_quality")),
                        ("engagement_events", ("event_id", "tutor_id", "event_type", "timestamp"))):
        with (run / f"{table}.csv").open(newline="", encoding="utf-8") as f:
            expected = [tuple(r[c] for c in cols) for r in csv.DictReader(f)]
        held = conn.execute(f"SELECT {', '.join(cols)} FROM {table} ORDER BY {cols[0]}").fetchall()
        assert len(expected) > 100
        assert [tuple(map(text, r)) for r in held] == sorted(expected), table


def test_the_sink_sends_only_what_changed_and_forgets_a_rolled_back_batch(schema, tmp_path):
    """A batch written twice sends its state rows once (the streamed tables' rows every time);
    a batch rolled back leaves the sink's memory as it was, so the next one sends them again."""
    from output.live_sink import LiveSink
    from tests.conftest import simulate
    url, _ = schema
    run = simulate(tmp_path / "run", "--mode", "dev", "--days", 3, "--no-model", "--window-end", HISTORY_END)
    streamed = sum(sum(1 for _ in open(run / f"{t}.csv")) - 1 for t in ("sessions", "engagement_events"))
    state = {"scenario": "dev", "seed": 42, "window_end": HISTORY_END, "simulated_until": HISTORY_END, "speed": 1.0}
    usual = {"T0001": {"Good": 3, "Fair": 1}}
    sink = LiveSink(url, "dashboard")
    try:
        sink.prepare()
        sink.write(run, "k", state, usual)
        first = sink.rows_sent
        assert first > streamed
        sink.write(run, "k", state, usual)
        assert sink.rows_sent - first == streamed
        remembered = {t: dict(rows) for t, rows in sink.committed.items()}
        with pytest.raises(Exception):
            sink.write(run, "k", {**state, "scenario": None}, usual)       # NOT NULL: rolled back
        assert sink.committed == remembered
        sink.clear()
        sink.committed.clear()             # as a new process: remembers nothing, sends everything
        before = sink.rows_sent
        sink.write(run, "k", state, usual)
        assert sink.rows_sent - before == first
    finally:
        sink.close()
