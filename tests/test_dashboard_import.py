"""`run.py import DATA --target dashboard`: a run folder in the tutor-quality dashboard's own tables
(docs/dashboard.md), checked with SQL in the spirit of the dashboard's panels against the
database's clock.

One dev run per module whose window ends now (`--window-end now`), 60 days long so that "the last 30 days against the previous
30" has both halves. The PostgreSQL tests find the server as tests/test_db_import.py does
(TUTORSIM_PG_URL; each test in a fresh schema, dropped afterwards; they skip without a server,
or fail under CI=true).
"""
from __future__ import annotations

import csv
import json
import datetime as dt
import re
import shutil
from pathlib import Path

import pytest

from output.dashboard_rows import campaign_id, campaigns
from output.dashboard_schema import TABLES, row_id
from tests.conftest import run_cli, simulate
from tests.postgres import fresh_schema, needs_pg

NAMES = [t.name for t in TABLES]
NOW = "LOCALTIMESTAMP"       # the database's current time, as the dashboard compares TIMESTAMP(3) columns


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """A dev run (60 days) whose window ends now."""
    return simulate(tmp_path_factory.mktemp("dashboard") / "out", "--mode", "dev", "--no-model",
                    "--window-end", "now", "--set", "calendar.window_days=60")


@pytest.fixture
def pg():
    with fresh_schema("dashboard_test") as (url, conn):
        yield url, conn


@pytest.fixture(scope="module")
def dashboard(run_dir):
    """The run imported once (no --upcoming) into a schema of its own, for the read-only checks:
    yields a function running one query and returning its rows."""
    with fresh_schema("dashboard_test") as (url, conn):
        code, out, err = dashboard_import(run_dir, url)
        assert code == 0, err
        yield lambda sql, *params: conn.execute(sql, params or None).fetchall()


def dashboard_import(data: Path, url: str, *flags) -> tuple[int, str, str]:
    return run_cli("import", data, "--target", "dashboard", "--db", url, *flags)


def csv_dicts(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def checksum(conn) -> dict:
    """Every dashboard table's row count and md5 of its rows in id order."""
    return {t: conn.execute(f"SELECT COUNT(*), md5(COALESCE(string_agg(x::text, '|' ORDER BY x.id), '')) "
                            f"FROM {t} x").fetchone() for t in NAMES}


def counts_in(out: str) -> dict[str, tuple[int, int, int]]:
    """(inserted, updated, unchanged) per table line of the command's summary."""
    found = {}
    for line in out.splitlines():
        m = re.match(r"\s+(\S+(?: \(upcoming\))?)\s.*?([\d,]+) inserted,\s+([\d,]+) updated,\s+([\d,]+) unchanged", line)
        if m:
            found[m.group(1)] = tuple(int(g.replace(",", "")) for g in m.group(2, 3, 4))
    return found


# ======================================================================= without a database

def test_sqlite_is_refused_in_one_line(run_dir, tmp_path):
    for db in ([], ["--db", str(tmp_path / "x.db")]):
        code, out, err = run_cli("import", run_dir, "--target", "dashboard", *db)
        assert code == 2 and err.count("\n") == 1 and "PostgreSQL" in err, (code, err)
    assert not (tmp_path / "x.db").exists() and not (run_dir / "tutorsim.db").exists()


def test_upcoming_is_for_the_dashboard_target(run_dir):
    code, out, err = run_cli("import", run_dir, "--upcoming")
    assert code == 2 and err.count("\n") == 1 and "--target dashboard" in err, err


def test_ids_are_cuid_shaped_and_deterministic():
    a = row_id("sessions", "S000001")
    assert re.fullmatch(r"c[0-9a-z]{25}", a) and a == row_id("sessions", "S000001")
    assert len({a, row_id("sessions", "S000002"), row_id("tutors", "S000001"),
                row_id("experiment_assignments", "EXP001", "T0001")}) == 4


def test_campaign_emails_are_told_by_experiment_type_and_start_day():
    start = dt.datetime(2026, 11, 20, 5)
    run = {"scenario_document": {"experiments": [
        {"id": "EXP001", "channels": ["email", "in_app"], "intervention_type": "first_session"},
        {"id": "EXP004", "channels": ["in_app"], "intervention_type": "churn"}]}}
    sending = campaigns(run, [("row 1", {"experiment_id": "EXP001", "start_date": start}),
                              ("row 2", {"experiment_id": "EXP004", "start_date": start})])
    assert set(sending) == {"EXP001"}

    def email(exp, itype, sent):
        return campaign_id({"experiment_id": exp, "intervention_type": itype, "sent_at": sent}, sending)
    assert email("EXP001", "first_session", start.replace(hour=9)) == "EXP001"
    assert email("EXP001", "first_session", start + dt.timedelta(days=3)) is None      # the daily job's, later
    assert email("EXP001", "churn", start.replace(hour=9)) is None
    assert email("EXP004", "churn", start.replace(hour=9)) is None                     # in-app only: no campaign
    assert email(None, "churn", start.replace(hour=9)) is None


# ======================================================================= the schema

@needs_pg
def test_schema_is_the_interface_facts(dashboard):
    cols = {(t, c): (ty, nullable, default) for t, c, ty, nullable, default in dashboard(
        "SELECT table_name, column_name, data_type, is_nullable = 'YES', column_default "
        "FROM information_schema.columns WHERE table_schema = current_schema()")}
    assert {t for t, _ in cols} == set(NAMES)
    for t in TABLES:
        assert [c for tt, c in cols if tt == t.name] and {c for tt, c in cols if tt == t.name} == set(t.names), t.name
        assert cols[(t.name, "id")][:2] == ("text", False)
    ts = "timestamp without time zone"
    assert cols[("tutors", "createdAt")] == (ts, False, "CURRENT_TIMESTAMP")
    assert cols[("tutors", "updatedAt")] == (ts, False, None)
    assert cols[("tutors", "last_login")][:2] == (ts, True)
    assert cols[("sessions", "actual_duration_min")][:2] == ("integer", False)
    assert cols[("sessions", "connection_quality")][:2] == ("text", False)
    assert cols[("sessions", "is_first_session")][:2] == ("boolean", True)
    assert cols[("sessions", "student_rating")][:2] == ("double precision", True)
    assert cols[("tutor_aggregates", "avg_rating_30d")][:2] == ("double precision", False)
    assert cols[("tutor_aggregates", "avg_rating_7d")][:2] == ("double precision", True)
    assert cols[("interventions", "channel")][2].startswith("'email'")
    assert cols[("interventions", "status")][2].startswith("'pending'")
    assert cols[("experiments", "status")][2].startswith("'draft'")
    assert cols[("engagement_events", "event_data")][0] == "jsonb"
    assert {cols[("experiments", c)][0] for c in ("variants", "target_segment", "secondary_metrics")} == {"jsonb"}
    assert cols[("experiments", "variants")][1] is False
    precision = dashboard("SELECT DISTINCT datetime_precision FROM information_schema.columns "
                          "WHERE table_schema = current_schema() AND data_type LIKE 'timestamp%'")
    assert precision == [(3,)]
    unique = {r[0] for r in dashboard("SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                                      "AND indexdef LIKE 'CREATE UNIQUE%'")}
    for table, key in (("tutors", "tutor_id"), ("sessions", "session_id"), ("tutor_aggregates", "tutor_id"),
                       ("experiments", "name"), ("experiment_assignments", "experiment_id, tutor_id")):
        assert any(f".{table} USING btree ({key})" in d for d in unique), (table, key)
    fks = set(dashboard(
        "SELECT tc.table_name, kcu.column_name, ccu.table_name, ccu.column_name FROM information_schema.table_constraints tc "
        "JOIN information_schema.key_column_usage kcu ON tc.constraint_name = kcu.constraint_name AND tc.table_schema = kcu.table_schema "
        "JOIN information_schema.constraint_column_usage ccu ON tc.constraint_name = ccu.constraint_name AND tc.table_schema = ccu.table_schema "
        "WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = current_schema()"))
    assert fks == {(t, "tutor_id", "tutors", "tutor_id") for t in
                   ("sessions", "tutor_aggregates", "interventions", "engagement_events", "experiment_assignments")} | {
                   ("experiment_assignments", "experiment_id", "experiments", "id")}


@needs_pg
def test_no_null_in_not_null_columns_and_foreign_keys_hold(dashboard, run_dir):
    for t in TABLES:
        for c in t.columns:
            if not c.nullable:
                assert dashboard(f'SELECT COUNT(*) FROM {t.name} WHERE "{c.name}" IS NULL')[0][0] == 0, (t.name, c.name)
        for col, ref, ref_col in t.foreign_keys:
            orphans = dashboard(f"SELECT COUNT(*) FROM {t.name} x WHERE NOT EXISTS "
                                f"(SELECT 1 FROM {ref} r WHERE r.{ref_col} = x.{col})")[0][0]
            assert orphans == 0, (t.name, col)
    for name, table in (("tutor_profiles", "tutors"), ("sessions", "sessions"), ("interventions", "interventions"),
                        ("engagement_events", "engagement_events"), ("experiments", "experiments"),
                        ("experiment_assignments", "experiment_assignments")):
        assert dashboard(f"SELECT COUNT(*) FROM {table}")[0][0] == len(csv_dicts(run_dir / f"{name}.csv")), table


@needs_pg
def test_ids_derive_from_the_natural_keys(dashboard):
    for table, key in (("tutors", "tutor_id"), ("sessions", "session_id"), ("tutor_aggregates", "tutor_id")):
        for id_, k in dashboard(f"SELECT id, {key} FROM {table}"):
            assert id_ == row_id(table, k), (table, k)
    assert dashboard("SELECT COUNT(*) FROM interventions WHERE id !~ '^INT[0-9]+$'")[0][0] == 0
    assert dashboard("SELECT COUNT(*) FROM experiments WHERE id !~ '^EXP[0-9]+$'")[0][0] == 0
    assert dashboard("SELECT COUNT(*) FROM engagement_events WHERE id !~ '^c[0-9a-z]{25}$'")[0][0] == 0


@needs_pg
def test_timestamps_come_from_the_run(dashboard, run_dir):
    import json
    end = dt.datetime.fromisoformat(str(json.loads((run_dir / "run.json").read_text())["window_end"]))
    assert dashboard('SELECT DISTINCT "updatedAt" FROM tutors') == [(end,)]
    assert dashboard("SELECT DISTINCT last_calculated FROM tutor_aggregates") == [(end,)]
    assert dashboard('SELECT COUNT(*) FROM tutors WHERE "createdAt" > "updatedAt"')[0][0] == 0
    for table in ("interventions", "experiments"):
        assert dashboard(f"SELECT COUNT(*) FROM {table} WHERE created_at > updated_at OR updated_at > %s", end)[0][0] == 0
    assert dashboard("SELECT COUNT(*) FROM interventions WHERE sent_at IS NOT NULL AND created_at <> sent_at")[0][0] == 0


# ======================================================================= the panels

@needs_pg
def test_trend_last_30_days_against_the_previous_30(dashboard):
    def window(since: int, until: int):
        return dashboard(f"SELECT COUNT(*), AVG(engagement_score) FROM sessions WHERE session_datetime >= {NOW} - "
                         f"interval '{since} days' AND session_datetime < {NOW} - interval '{until} days'")[0]
    (n_now, eng_now), (n_before, eng_before) = window(30, 0), window(60, 30)
    assert n_now > 0 and eng_now is not None, "no sessions in the last 30 days before now()"
    assert n_before > 0 and eng_before is not None, "the previous 30 days are empty: no comparison"
    assert 0.5 < eng_now / eng_before < 2 and 0.5 < n_now / n_before < 2


@needs_pg
def test_activity_and_session_heat_maps(dashboard):
    events = dashboard(f'SELECT EXTRACT(dow FROM "timestamp"), EXTRACT(hour FROM "timestamp"), COUNT(*) FROM engagement_events '
                       f'WHERE "timestamp" >= {NOW} - interval \'30 days\' AND "timestamp" < {NOW} GROUP BY 1, 2')
    assert len({r[0] for r in events}) == 7 and len(events) > 50, events
    sessions = dashboard(f"SELECT EXTRACT(dow FROM session_datetime), EXTRACT(hour FROM session_datetime), COUNT(*) "
                         f"FROM sessions WHERE session_datetime >= {NOW} - interval '30 days' GROUP BY 1, 2")
    assert len({r[0] for r in sessions}) == 7


@needs_pg
def test_first_sessions(dashboard):
    n, rating = dashboard("SELECT COUNT(*), AVG(student_rating) FROM sessions WHERE is_first_session")[0]
    assert n > 0 and 1 <= rating <= 5
    flagged = dashboard("SELECT COUNT(*) FROM tutor_aggregates WHERE poor_first_session_flag "
                        "AND first_session_avg_rating IS NULL")[0][0]
    assert flagged == 0


@needs_pg
def test_reliability_and_the_sessions_that_were_not_held(dashboard):
    rate = dashboard("SELECT AVG((NOT tutor_showed)::int) FROM sessions")[0][0]
    assert 0 <= rate <= 0.2, rate
    assert dashboard("SELECT COUNT(*) FROM sessions WHERE NOT session_completed AND actual_duration_min = 60")[0][0] == 0
    not_held = dashboard("SELECT actual_duration_min, connection_quality, COUNT(*) FROM sessions "
                         "WHERE NOT session_completed GROUP BY 1, 2")
    assert not_held and {r[0] for r in not_held} == {0}
    assert {r[1] for r in not_held} <= {"Excellent", "Good", "Fair", "Poor"}
    held = dashboard("SELECT MIN(actual_duration_min) FROM sessions WHERE session_completed")[0][0]
    assert held > 0


@needs_pg
def test_aggregates_leave_out_the_tutors_without_sessions(dashboard, run_dir):
    rows = csv_dicts(run_dir / "tutor_aggregates.csv")
    with_sessions = {r["tutor_id"] for r in rows if int(r["total_sessions_30d"]) > 0}
    assert {r[0] for r in dashboard("SELECT tutor_id FROM tutor_aggregates")} == with_sessions
    low = dashboard("SELECT MIN(avg_rating_30d), MIN(avg_engagement_score), MIN(avg_empathy_score), "
                    "MIN(avg_clarity_score), MIN(avg_student_satisfaction) FROM tutor_aggregates")[0]
    assert min(low) >= 1, low
    assert dashboard("SELECT COUNT(*) FROM tutor_aggregates WHERE total_sessions_30d = 0")[0][0] == 0


@needs_pg
def test_no_login_alert(dashboard):
    """No tutor is flagged "no login for 7+ days" whose last login event is within 7 days of now;
    most active tutors are not flagged. [needs tutor_profiles.csv's last_login]"""
    flagged = f"(t.last_login IS NULL OR t.last_login < {NOW} - interval '7 days')"
    wrong = dashboard(f"SELECT t.tutor_id FROM tutors t WHERE {flagged} AND EXISTS (SELECT 1 FROM engagement_events e "
                      f"WHERE e.tutor_id = t.tutor_id AND e.event_type = 'login' AND e.\"timestamp\" >= {NOW} - interval '7 days')")
    assert wrong == []
    active, share = dashboard(f"SELECT COUNT(*), AVG({flagged}::int) FROM tutors t WHERE active_status")[0]
    assert active > 0 and share < 0.25, share
    assert dashboard(f"SELECT COUNT(*) FROM tutors WHERE last_login > {NOW}")[0][0] == 0


@needs_pg
def test_no_upcoming_sessions_without_the_flag(dashboard):
    assert dashboard(f"SELECT COUNT(*) FROM sessions WHERE session_datetime >= {NOW}")[0][0] == 0


# ======================================================================= writing

@needs_pg
def test_reimport_changes_nothing_and_clear_gives_the_same(run_dir, pg):
    url, conn = pg
    code, out, err = dashboard_import(run_dir, url)
    assert code == 0, err
    first = checksum(conn)
    assert all(n > 0 for n, _ in first.values()), first
    code, out, err = dashboard_import(run_dir, url)
    assert code == 0, err
    assert checksum(conn) == first
    counts = counts_in(out)
    assert set(counts) == set(NAMES) and all(c[:2] == (0, 0) for c in counts.values()), out
    code, out, err = dashboard_import(run_dir, url, "--clear")
    assert code == 0, err
    assert checksum(conn) == first and "cleared" in out


@needs_pg
def test_append_updates_a_changed_row_and_adds_a_missing_one(run_dir, pg, tmp_path):
    url, conn = pg
    assert dashboard_import(run_dir, url)[0] == 0
    first = checksum(conn)
    conn.execute("DELETE FROM engagement_events WHERE id = (SELECT MIN(id) FROM engagement_events)")
    data = tmp_path / "data"
    shutil.copytree(run_dir, data)
    rows = csv_dicts(data / "sessions.csv")
    held = next(r for r in rows if r["session_completed"] == "True")
    held["student_rating"] = "1.0" if held["student_rating"] != "1.0" else "2.0"
    with (data / "sessions.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    code, out, err = dashboard_import(data, url)
    assert code == 0, err
    counts = counts_in(out)
    assert counts["sessions"][:2] == (0, 1) and counts["engagement_events"][:2] == (1, 0), out
    assert conn.execute("SELECT student_rating FROM sessions WHERE session_id = %s",
                        (held["session_id"],)).fetchone()[0] == float(held["student_rating"])
    after = checksum(conn)
    assert {t: v for t, v in after.items() if t != "sessions"} == {t: v for t, v in first.items() if t != "sessions"}


@needs_pg
def test_upcoming_sessions(run_dir, pg):
    """--upcoming: the next 7 days' bookings, with the values of docs/dashboard.md.
    [needs the run's upcoming_sessions.csv]"""
    url, conn = pg
    code, out, err = dashboard_import(run_dir, url, "--upcoming")
    assert code == 0, err
    upcoming = csv_dicts(run_dir / "upcoming_sessions.csv")
    assert upcoming and counts_in(out)["sessions (upcoming)"][0] == len(upcoming)
    # the window ends at the run's hour, rounded down: a booking between it and the test's now() is
    # already past for the dashboard, so "upcoming" is counted from the window's end
    end = json.loads((run_dir / "run.json").read_text())["window"]["end"]
    n = conn.execute("SELECT COUNT(*) FROM sessions WHERE session_datetime >= %s::timestamp "
                     "AND session_datetime < %s::timestamp + interval '7 days'", (end, end)).fetchone()[0]
    assert n == len(upcoming)
    ids = [r["session_id"] for r in upcoming]
    values = conn.execute("SELECT DISTINCT session_completed, tutor_showed, student_showed, actual_duration_min, "
                          "student_rating IS NULL FROM sessions WHERE session_id = ANY(%s)", (ids,)).fetchall()
    assert values == [(False, True, True, 0, True)]
    assert conn.execute("SELECT COUNT(*) FROM sessions WHERE session_id = ANY(%s) AND connection_quality "
                        "NOT IN ('Excellent', 'Good', 'Fair', 'Poor')", (ids,)).fetchone()[0] == 0
    # the no-show risk panel: upcoming sessions scored by their tutor's no-show history
    risk = conn.execute("SELECT COUNT(*), COUNT(h.tutor_id) FROM sessions u LEFT JOIN (SELECT tutor_id, "
                        "AVG((NOT tutor_showed)::int) AS rate FROM sessions WHERE session_datetime < %s::timestamp "
                        "GROUP BY tutor_id) h ON h.tutor_id = u.tutor_id WHERE u.session_datetime >= %s::timestamp",
                        (end, end)).fetchone()
    assert risk[0] == len(upcoming) and risk[1] > 0
    first = checksum(conn)
    code, out, err = dashboard_import(run_dir, url, "--upcoming")
    assert code == 0 and checksum(conn) == first, err


@needs_pg
def test_bad_input_is_one_line_and_changes_nothing(run_dir, pg, tmp_path):
    url, conn = pg
    assert dashboard_import(run_dir, url)[0] == 0
    before = checksum(conn)
    bad = tmp_path / "bad"
    shutil.copytree(run_dir, bad)
    rows = csv_dicts(bad / "sessions.csv")
    rows[9]["scheduled_duration_min"] = "sixty"
    with (bad / "sessions.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    code, out, err = dashboard_import(bad, url, "--clear")
    assert code == 2 and err.count("\n") == 1, (code, err)
    assert "sessions.csv: row 10" in err and "scheduled_duration_min" in err, err
    assert checksum(conn) == before


@needs_pg
def test_a_run_without_not_held_sessions_csv_is_refused(run_dir, pg, tmp_path):
    """[needs the run's not_held_sessions.csv: without it every run is refused]"""
    url, conn = pg
    old = tmp_path / "old"
    shutil.copytree(run_dir, old)
    (old / "not_held_sessions.csv").unlink()
    code, out, err = dashboard_import(old, url)
    assert code == 2 and err.count("\n") == 1 and "not_held_sessions.csv" in err and "re-run" in err, err
    assert conn.execute("SELECT to_regclass('tutors')").fetchone()[0] is None


@needs_pg
def test_database_error_is_exit_1_and_rolls_back(run_dir, pg):
    url, conn = pg
    conn.execute("CREATE TABLE tutors (id TEXT PRIMARY KEY)")     # not the dashboard's tutors
    code, out, err = dashboard_import(run_dir, url)
    assert code == 1 and err.count("\n") == 1 and "nothing was imported" in err, (code, err)
    assert conn.execute("SELECT to_regclass('sessions')").fetchone()[0] is None


@needs_pg
def test_production_import_is_quick(production_run, pg):
    """A production run (~29,000 rows) into an empty schema, then again (nothing changes)."""
    url, conn = pg
    if not (production_run / "not_held_sessions.csv").is_file():
        pytest.fail("the production run has no not_held_sessions.csv")
    code, out, err = dashboard_import(production_run, url)
    assert code == 0, err
    seconds = float(out.rsplit("one transaction, ", 1)[1].split(" s")[0])
    assert seconds < 20, f"importing production into the dashboard took {seconds:.1f} s"
    assert conn.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] > 10_000
