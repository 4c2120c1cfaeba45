"""A run folder's tables as rows of the dashboard's tables (output/dashboard_schema.py), every
NOT NULL column filled from the run: what each column is filled from is in docs/dashboard.md.

Every file is read and checked here, before the database is touched; anything wrong is BadInput,
one line naming the file, the row and the column. `read_folder` returns a `Folder`: per dashboard
table its rows (tuples in the table's column order) and where each came from (file, row) for the
foreign-key messages of output/dashboard_import.py.
"""
from __future__ import annotations

import csv
import datetime as dt
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from output.dashboard_schema import BY_NAME, row_id
from output.db_import import _convert
from output.reading import BadInput, has_table, open_text

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))

CONNECTIONS = ("Excellent", "Good", "Fair", "Poor")
UPCOMING = "sessions (upcoming)"        # Folder.rows' key of upcoming_sessions.csv's rows
RERUN = "re-run the simulation with this tutorsim to write it"
# the CSV kinds of output/db_import.py's reader for the dashboard's kinds
KINDS = {"text": "text", "int": "int", "float": "real", "bool": "bool", "ts": "timestamp", "json": "json"}

# each dashboard table's column names, and those NOT NULL
SHAPES = {name: (tuple(t.names), tuple(c.name for c in t.columns if not c.nullable)) for name, t in BY_NAME.items()}


@dataclass
class Folder:
    rows: dict[str, list[tuple]] = field(default_factory=dict)        # dashboard table -> rows
    sources: dict[str, list[tuple[Path, str]]] = field(default_factory=dict)   # (file, "row n") of each
    in_file: dict[str, int] = field(default_factory=dict)             # rows in the file it comes from
    skipped: list[str] = field(default_factory=list)                  # tables without a file
    notes: list[str] = field(default_factory=list)
    upcoming: int = 0                                                 # rows of upcoming_sessions.csv
    window_end: dt.datetime | None = None

    def add(self, table: str, values: dict, path: Path, where: str, into: str | None = None) -> None:
        """One row of `table`: NOT NULL checked, in the table's column order (kept under `into`,
        default `table`: the upcoming sessions are kept apart from the others)."""
        names, required = SHAPES[table]
        for c in required:
            if values.get(c) is None:
                raise BadInput(f"{path}: {where}, column {c}: must not be empty "
                               f"(NOT NULL in the dashboard's {table}.{c})")
        self.rows.setdefault(into or table, []).append(tuple(map(values.get, names)))
        self.sources.setdefault(into or table, []).append((path, where))


# ================================================================================ reading a CSV

def read_csv(path: Path, kinds: dict[str, str], key: tuple[str, ...], why: str = "") -> list[tuple[str, dict]]:
    """The rows of `path` as ("row n (line l)", {column: value}) for the columns in `kinds` (other
    columns are not read), values converted (None for an empty field). A missing column, a
    malformed row or value or a repeated `key`: BadInput naming the file, the row and the column;
    `why` is added to a missing column's message."""
    try:
        f = open_text(path)
    except OSError as e:
        raise BadInput(f"{path}: cannot read: {e.strerror}") from None
    out, seen = [], set()
    with f:
        reader = csv.reader(f, strict=True)
        try:
            header = next(reader, None)
            if header is None:
                raise BadInput(f"{path}: empty file")
            missing = [c for c in kinds if c not in header]
            if missing:
                raise BadInput(f"{path}: header has no column {missing[0]!r}{why}")
            at = {c: header.index(c) for c in kinds}
            width = len(header)
            for n, fields in enumerate(reader, start=1):
                where = f"row {n} (line {reader.line_num})"
                if len(fields) != width:
                    raise BadInput(f"{path}: {where}: expected {width} fields, found {len(fields)}")
                values = {}
                for c, kind in kinds.items():
                    try:
                        values[c] = _convert(KINDS[kind], fields[at[c]], "postgresql")
                    except ValueError as e:
                        raise BadInput(f"{path}: {where}, column {c}: {e}") from None
                k = tuple(values[c] for c in key)
                if None in k:
                    raise BadInput(f"{path}: {where}, column {key[k.index(None)]}: must not be empty")
                if k in seen:
                    raise BadInput(f"{path}: {where}: duplicate key {', '.join(key)} = {', '.join(map(str, k))}")
                seen.add(k)
                out.append((where, values))
        except csv.Error as e:
            raise BadInput(f"{path}: line {reader.line_num}: malformed CSV: {e}") from None
        except UnicodeDecodeError as e:
            raise BadInput(f"{path}: not UTF-8 text: {e.reason}") from None
    return out


def _kinds(table: str, *columns: str, **extra: str) -> dict[str, str]:
    """The CSV columns `columns` with the kinds of the dashboard table's columns of that name."""
    t = {c.name: c.kind for c in BY_NAME[table].columns}
    return {**{c: t[c] for c in columns}, **extra}


def _months_before(when: dt.datetime, months: int) -> dt.datetime:
    y, m = divmod(when.year * 12 + when.month - 1 - months, 12)
    first_of_next = dt.date(y + (m == 11), (m + 1) % 12 + 1, 1)
    return when.replace(year=y, month=m + 1, day=min(when.day, (first_of_next - dt.timedelta(days=1)).day))


def window_end(data_dir: Path) -> tuple[dt.datetime, dict]:
    """The run's window end (run.json) and run.json itself."""
    path = data_dir / "run.json"
    try:
        run = json.loads(path.read_text())
        return dt.datetime.fromisoformat(str(run["window_end"])), run
    except OSError as e:
        raise BadInput(f"{path}: cannot read: {e.strerror} (the dashboard's timestamps are set from the run's window end)") from None
    except (ValueError, KeyError, TypeError) as e:
        raise BadInput(f"{path}: no readable window_end ({e})") from None


# ================================================================================ the tables

def _listing_prior(run: dict) -> float | None:
    """The rating the platform shows a tutor before any rating (platform.listing_prior_rating)."""
    try:
        return float(run["scenario_document"]["platform"]["listing_prior_rating"])
    except (KeyError, TypeError, ValueError):
        return None


def _tutors(out: Folder, d: Path, end: dt.datetime, run: dict) -> None:
    path = d / "tutor_profiles.csv"
    prior = _listing_prior(run)
    cols = ("tutor_id", "months_experience", "total_sessions_completed", "avg_historical_rating", "subjects_taught",
            "primary_subject", "reschedule_rate", "no_show_count", "reliability_score", "certification_level",
            "active_status", "last_login")
    rows = read_csv(path, _kinds("tutors", *cols), ("tutor_id",), why=f" (the dashboard's last_login): {RERUN}")
    for where, r in rows:
        months = r["months_experience"]
        try:
            created = _months_before(end, months) if months is not None else None
        except (ValueError, OverflowError):
            raise BadInput(f"{path}: {where}, column months_experience: {months} months before the window's "
                           f"end is no date") from None
        if r["avg_historical_rating"] is None:    # no rating yet: what the platform's listing shows
            r["avg_historical_rating"] = prior
        out.add("tutors", {**r, "id": row_id("tutors", r["tutor_id"]), "createdAt": created, "updatedAt": end},
                path, where)
    out.in_file["tutors"] = len(rows)


def _not_held(d: Path) -> dict[str, str]:
    path = d / "not_held_sessions.csv"
    if not has_table(path):
        raise BadInput(f"{path}: not found: the sessions that were not held need its connection_quality "
                       f"(the run predates it): {RERUN}")
    rows = read_csv(path, {"session_id": "text", "connected": "text", "connection_quality": "text"}, ("session_id",))
    for where, r in rows:
        if r["connection_quality"] not in CONNECTIONS:
            raise BadInput(f"{path}: {where}, column connection_quality: expected one of "
                           f"{', '.join(CONNECTIONS)}, found {r['connection_quality']!r}")
    return {r["session_id"]: r["connection_quality"] for _, r in rows}


SESSION_COLUMNS = [c for c in BY_NAME["sessions"].names if c != "id"]


def _sessions(out: Folder, d: Path) -> dict[str, Counter]:
    """sessions.csv; returns each tutor's measured connections (for the upcoming sessions)."""
    path = d / "sessions.csv"
    rows = read_csv(path, _kinds("sessions", *SESSION_COLUMNS), ("session_id",))
    not_held = None
    usual: dict[str, Counter] = {}
    for where, r in rows:
        if r["session_completed"] is False:
            if r["actual_duration_min"] is None:
                r["actual_duration_min"] = 0             # nothing was held
            if r["connection_quality"] is None:
                if not_held is None:
                    not_held = _not_held(d)
                if r["session_id"] not in not_held:
                    raise BadInput(f"{path}: {where}, column connection_quality: empty, and session "
                                   f"{r['session_id']} (not held) is not in not_held_sessions.csv")
                r["connection_quality"] = not_held[r["session_id"]]
        elif r["connection_quality"] is not None:
            usual.setdefault(r["tutor_id"], Counter())[r["connection_quality"]] += 1
        out.add("sessions", {**r, "id": row_id("sessions", r["session_id"])}, path, where)
    out.in_file["sessions"] = len(rows)
    return usual


def upcoming_rows(out: Folder, d: Path, usual: dict[str, Counter], load: bool) -> None:
    """upcoming_sessions.csv: counted always, loaded with --upcoming (docs/dashboard.md)."""
    path = d / "upcoming_sessions.csv"
    if not has_table(path):
        if load:
            raise BadInput(f"{path}: not found (--upcoming; a run made before it was written, or with "
                           f"outputs.upcoming_days = 0): {RERUN}")
        return
    cols = ("session_id", "tutor_id", "session_datetime", "scheduled_duration_min", "subject", "grade_level",
            "is_first_session")
    rows = read_csv(path, _kinds("sessions", *cols), ("session_id",))
    out.upcoming = len(rows)
    if not load:
        return
    held = {r[BY_NAME["sessions"].names.index("session_id")] for r in out.rows.get("sessions", [])}
    everyone = sum(usual.values(), Counter())
    if rows and not everyone:
        raise BadInput(f"{d / 'sessions.csv'}: no held session: nothing to take the upcoming sessions' "
                       f"connection_quality from")
    given: dict[str, Counter] = {}
    for where, r in sorted(rows, key=lambda wr: (wr[1]["session_datetime"] or dt.datetime.min, wr[1]["session_id"])):
        if r["session_id"] in held:
            raise BadInput(f"{path}: {where}, column session_id: {r['session_id']} is in sessions.csv too")
        quality = share_out(usual.get(r["tutor_id"]) or everyone, given.setdefault(r["tutor_id"], Counter()))
        out.add("sessions", {**r, "id": row_id("sessions", r["session_id"]), "actual_duration_min": 0,
                             "session_completed": False, "student_showed": True, "tutor_showed": True,
                             "connection_quality": quality}, path, where, into=UPCOMING)
    out.in_file[UPCOMING] = len(rows)


def share_out(measured: Counter, given: Counter) -> str:
    """The next upcoming session's connection_quality: the one furthest behind its share of the
    tutor's measured connections, so that the tutor's upcoming sessions have the same shares as
    the held ones (within one session; a tie goes to the better connection). `given` counts the
    values handed out so far and is updated."""
    total, n = sum(measured.values()), sum(given.values()) + 1
    quality = max(CONNECTIONS, key=lambda q: (measured[q] * n / total - given[q], -CONNECTIONS.index(q)))
    given[quality] += 1
    return quality


AGGREGATE_COLUMNS = [c for c in BY_NAME["tutor_aggregates"].names if c not in ("id", "last_calculated")]


def _aggregates(out: Folder, d: Path, end: dt.datetime) -> None:
    """tutor_aggregates.csv without the tutors that held no session in the last 30 days (their
    averages are empty, and the dashboard's are NOT NULL: docs/dashboard.md)."""
    path = d / "tutor_aggregates.csv"
    rows = read_csv(path, _kinds("tutor_aggregates", *AGGREGATE_COLUMNS), ("tutor_id",))
    left_out = 0
    for where, r in rows:
        if r["total_sessions_30d"] == 0:
            left_out += 1
            continue
        out.add("tutor_aggregates", {**r, "id": row_id("tutor_aggregates", r["tutor_id"]),
                                     "last_calculated": end}, path, where)
    out.in_file["tutor_aggregates"] = len(rows)
    if left_out:
        out.notes.append(f"tutor_aggregates: {left_out} tutor(s) without a held session in the last 30 days "
                         f"left out (no averages to show)")


def campaigns(run: dict, experiments: list[tuple[str, dict]]) -> dict[str, tuple[str, dt.datetime]]:
    """experiment_id -> (intervention type, start) of the experiments that send a campaign email
    (channels include email; run.json's scenario)."""
    starts = {r["experiment_id"]: r["start_date"] for _, r in experiments}
    out = {}
    for e in (run.get("scenario_document") or {}).get("experiments") or []:
        if isinstance(e, dict) and "email" in (e.get("channels") or []) and starts.get(e.get("id")):
            out[e["id"]] = (e.get("intervention_type"), starts[e["id"]])
    return out


def campaign_id(r: dict, sending: dict[str, tuple[str, dt.datetime]]) -> str | None:
    """The experiment's id for its campaign email: tagged with the experiment, of the campaign's
    intervention type, sent within a day of the experiment's start; else None."""
    e = sending.get(r["experiment_id"])
    if e is None or r["intervention_type"] != e[0] or r["sent_at"] is None:
        return None
    return r["experiment_id"] if e[1] <= r["sent_at"] < e[1] + dt.timedelta(days=1) else None


STEPS = ("sent_at", "delivered_at", "opened_at", "clicked_at", "responded_at")


def _interventions(out: Folder, d: Path, end: dt.datetime, sending: dict) -> None:
    path = d / "interventions.csv"
    cols = [c for c in BY_NAME["interventions"].names if c not in ("id", "created_at", "updated_at", "campaign_id")]
    rows = read_csv(path, _kinds("interventions", *cols, intervention_id="text"), ("intervention_id",),
                    why=f" (the dashboard's interventions have it): {RERUN}")
    for where, r in rows:
        stamps = [r[c] for c in STEPS if r[c] is not None]
        out.add("interventions", {**r, "id": r["intervention_id"], "campaign_id": campaign_id(r, sending),
                                  "created_at": r["sent_at"] or end, "updated_at": max(stamps, default=end)},
                path, where)
    out.in_file["interventions"] = len(rows)


def _events(out: Folder, d: Path) -> None:
    path = d / "engagement_events.csv"
    rows = read_csv(path, _kinds("engagement_events", "tutor_id", "event_type", "event_data", "timestamp",
                                 event_id="text"), ("event_id",))
    for where, r in rows:
        out.add("engagement_events", {**r, "id": row_id("engagement_events", r["event_id"])}, path, where)
    out.in_file["engagement_events"] = len(rows)


def _experiments(out: Folder, d: Path, end: dt.datetime) -> list[tuple[str, dict]]:
    path = d / "experiments.csv"
    cols = [c for c in BY_NAME["experiments"].names if c not in ("id", "created_at", "updated_at")]
    rows = read_csv(path, _kinds("experiments", *cols, experiment_id="text"), ("experiment_id",),
                    why=f" (the dashboard's experiments have it): {RERUN}")
    names = set()
    for where, r in rows:
        if r["name"] in names:
            raise BadInput(f"{path}: {where}, column name: {r['name']!r} twice (unique in the dashboard)")
        names.add(r["name"])
        finished = r["end_date"] if r["end_date"] is not None and r["end_date"] <= end else end
        out.add("experiments", {**r, "id": r["experiment_id"], "created_at": r["start_date"],
                                "updated_at": max(finished, r["start_date"] or finished)}, path, where)
    out.in_file["experiments"] = len(rows)
    return rows


def _assignments(out: Folder, d: Path) -> None:
    path = d / "experiment_assignments.csv"
    cols = [c for c in BY_NAME["experiment_assignments"].names if c != "id"]
    rows = read_csv(path, _kinds("experiment_assignments", *cols), ("experiment_id", "tutor_id"))
    for where, r in rows:
        out.add("experiment_assignments", {**r, "id": row_id("experiment_assignments", r["experiment_id"],
                                                              r["tutor_id"])}, path, where)
    out.in_file["experiment_assignments"] = len(rows)


def read_folder(data_dir: Path, upcoming: bool = False, partial: bool = False,
                usual: dict[str, Counter] | None = None) -> Folder:
    """Every table of the run folder as dashboard rows (BadInput on anything wrong). `partial`:
    a folder with only some of the tables (the live mode's batches, pipeline/live.py). `usual`:
    each tutor's measured connections for the upcoming sessions' (default: the folder's
    sessions.csv's)."""
    d = Path(data_dir)
    if not d.is_dir():
        raise BadInput(f"{d}: no such folder")
    for name in ("tutor_profiles", "sessions"):
        if not partial and not has_table(d / f"{name}.csv"):
            raise BadInput(f"{d / f'{name}.csv'}: not found (a folder written by `run.py`?)")
    end, run = window_end(d)
    out = Folder(window_end=end)
    if has_table(d / "tutor_profiles.csv"):
        _tutors(out, d, end, run)
    experiments = []
    if has_table(d / "experiments.csv"):
        experiments = _experiments(out, d, end)
    else:
        out.skipped.append("experiments")
    measured = _sessions(out, d) if has_table(d / "sessions.csv") else {}
    usual = measured if usual is None else usual
    if has_table(d / "upcoming_sessions.csv") or not partial:
        upcoming_rows(out, d, usual, upcoming)
    optional = (("tutor_aggregates", lambda: _aggregates(out, d, end)),
                ("interventions", lambda: _interventions(out, d, end, campaigns(run, experiments))),
                ("engagement_events", lambda: _events(out, d)),
                ("experiment_assignments", lambda: _assignments(out, d)))
    for name, load in optional:
        if has_table(d / f"{name}.csv"):
            load()
        else:
            out.skipped.append(name)
    return out
