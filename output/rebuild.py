"""Rebuild tables from a saved run, without simulating.

Every table is a pure function of the event log (`events.npz`), the agents' static traits
(`ground_truth/tutor_traits.csv`, `ground_truth/students.csv`) and the scenario the run used
(`run.json`'s `scenario_document`), so any of them can be rebuilt from a run folder; the result
is byte-identical to what the run wrote. Each file is written to a temporary file beside it and
moved into place, so an interrupted rebuild never leaves half a table.

Bad input is one line on stderr naming the file and what is wrong, exit code 2.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from output.reading import BadInput, read_event_log

CORE = ("tutor_profiles", "sessions", "tutor_aggregates", "ground_truth/reschedules", "not_held_sessions",
        "upcoming_sessions")
PLATFORM = ("engagement_events", "interventions", "experiments", "experiment_assignments")
NAMES = CORE + PLATFORM
ALIASES = {"reschedules": "ground_truth/reschedules"}
# the event types each group of tables reads
CORE_EVENTS = ("session_booked", "session_rescheduled", "session_outcome", "session_observed", "tutor_quit",
               "session_not_held", "session_cancelled", "tutor_login")
PLATFORM_EVENTS = ("session_booked", "session_outcome", "session_observed", "tutor_login", "tutor_action",
                   "intervention", "intervention_step", "coaching", "trait_change", "email_unsubscribed",
                   "experiment_started", "experiment_assigned", "experiment_exposed", "experiment_evaluated")
TRAIT_COLUMNS = ("tutor_id", "months_experience", "historical_sessions_per_month", "certification",
                 "reliability", "subjects", "primary_subject")
STUDENT_COLUMNS = ("student_id", "grade")


def _scenario(folder: Path):
    from world.scenario import ScenarioError, validate_document
    path = folder / "run.json"
    if not path.is_file():
        raise BadInput(f"{path}: not found (not a run folder?)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BadInput(f"{path}: not valid JSON: {e}") from None
    doc = manifest.get("scenario_document") if isinstance(manifest, dict) else None
    if not isinstance(doc, dict):
        raise BadInput(f"{path}: has no scenario_document (the merged scenario of the run)")
    try:
        return validate_document(doc, f"{path}:scenario_document")
    except ScenarioError as e:
        raise BadInput(str(e).splitlines()[0]) from None


def _log(folder: Path, needed: tuple[str, ...]):
    from world.events import SCHEMA
    path = folder / "events.npz"
    log = read_event_log(folder)
    for etype in needed:
        for col, _ in SCHEMA[etype]:
            if col not in log.get(etype, {}):
                raise BadInput(f"{path}: has no column {etype}.{col} (made by another version of tutorsim?)")
    return log


def _csv(path: Path, columns: tuple[str, ...]):
    from output.reading import has_table, read_table
    if not has_table(path):
        raise BadInput(f"{path}: not found")
    try:
        df = read_table(path, float_precision="round_trip")
    except (OSError, ValueError, UnicodeDecodeError) as e:
        raise BadInput(f"{path}: cannot read: {e}") from None
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise BadInput(f"{path}: has no column {missing[0]}")
    return df


def _context(folder: Path, scenario):
    from output.tables import Context
    from world.clock import Calendar
    cal = scenario.calendar
    tutors = _csv(folder / "ground_truth" / "tutor_traits.csv", TRAIT_COLUMNS)
    students = _csv(folder / "ground_truth" / "students.csv", STUDENT_COLUMNS)
    return Context(Calendar(cal.window_end, cal.window_days, cal.warmup_days), tutors, students,
                   scenario.platform.churn, scenario.seed)


def _names(only, scenario) -> list[str]:
    if not only:
        out = scenario.outputs
        wanted = {"engagement_events": out.engagement_events, "interventions": out.interventions,
                  "experiments": out.experiments, "experiment_assignments": out.experiments}
        return ([n for n in CORE if n != "upcoming_sessions" or out.upcoming_days]
                + [n for n in PLATFORM if wanted[n]])
    names = []
    for name in only:
        name = ALIASES.get(name.removesuffix(".csv"), name.removesuffix(".csv"))
        if name not in NAMES:
            raise BadInput(f"--only {name}: unknown table; expected one of {', '.join(NAMES)}")
        if name not in names:
            names.append(name)
    if "upcoming_sessions" in names and not scenario.outputs.upcoming_days:
        raise BadInput("upcoming_sessions: the run wrote no upcoming sessions (outputs.upcoming_days = 0)")
    if "engagement_events" in names and not scenario.outputs.engagement_events:
        raise BadInput("engagement_events: the run did not simulate tutors' platform actions "
                       "(outputs.engagement_events = false); run it again with them")
    return names


def rebuild(folder: Path, only=None) -> dict[str, int]:
    """Rebuild the tables into `folder`, in the formats the run wrote them; returns rows per file
    rebuilt (sessions.csv, sessions.parquet ...)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BadInput(f"{folder}: no such folder")
    scenario = _scenario(folder)
    names = _names(only, scenario)
    core = [n for n in names if n in CORE]
    platform = [n for n in names if n in PLATFORM]
    needed = tuple(dict.fromkeys((CORE_EVENTS if core else ()) + (PLATFORM_EVENTS if platform else ())))
    log = _log(folder, needed)
    ctx = _context(folder, scenario)

    from output.writers import formats, write_table
    built = {}
    if core:
        from output.tables import build_core_tables
        built.update(build_core_tables(log, ctx))
        if "upcoming_sessions" in core:
            from output.upcoming import upcoming_frame, upcoming_table
            frame = upcoming_frame(log, ctx, scenario.outputs.upcoming_days)
            built["upcoming_sessions"] = upcoming_table(frame, ctx)
    if platform:
        from output.platform_tables import build_platform_tables
        from world.scenario_schema import Outputs
        outputs = Outputs(engagement_events="engagement_events" in platform,
                          interventions="interventions" in platform,
                          experiments=bool({"experiments", "experiment_assignments"} & set(platform)))
        built.update(build_platform_tables(log, ctx, scenario.model_copy(update={"outputs": outputs})))
    rows = {}
    for name in names:
        for fmt in formats(scenario.outputs):        # as the run wrote them
            path = folder / f"{name}.{fmt}"
            tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
            try:
                write_table(built[name], tmp, fmt, name)
                os.replace(tmp, path)
            finally:
                if tmp.exists():
                    tmp.unlink()
            rows[f"{name}.{fmt}"] = len(built[name])
    return rows
