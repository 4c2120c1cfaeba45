"""Shared fixtures: one dev run (and one production run) for the whole session, a helper to call
run.py, and the spec's three core tables read from a run's folder (`load`, the `data` fixture).

Every simulation is started the way a user starts it, `python run.py ...` in a subprocess from the
repository root, so the tests see exactly the files and the exit codes a user sees.
"""
from __future__ import annotations

import datetime as dt
import functools
import json
import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parents[1]
DEV_SEED = 11

# hypothesis profiles of the property tests (tests/test_properties.py): `ci` by default (the same
# examples on every run), `long` for a local soak (TUTORSIM_PROPERTIES=long: new examples each time)
settings.register_profile("ci", max_examples=10, database=None, derandomize=True)
settings.register_profile("long", max_examples=200, database=None)
settings.load_profile(os.environ.get("TUTORSIM_PROPERTIES", "ci"))


def run_cli(*args, cwd: Path = ROOT, timeout: float = 300, env: dict | None = None,
            python_flags: tuple = ()) -> tuple[int, str, str]:
    """Run `python [FLAGS] run.py ARGS...` from the repository root (extra environment variables in
    `env`); returns (returncode, stdout, stderr)."""
    proc = subprocess.run([sys.executable, *python_flags, "run.py", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **env} if env else None)
    return proc.returncode, proc.stdout, proc.stderr


def own_group_with_ctrl_c() -> None:
    """Popen's preexec_fn for a Ctrl-C test: the child leads its own process group (a SIGINT to
    the group reaches it and its children only) and takes SIGINT as a terminal's process does,
    even when the tests run as a background job, which ignores it (and the child would inherit
    that)."""
    os.setsid()
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def stop_as_a_user(proc: subprocess.Popen, how: str, prog: str) -> tuple[str, int, str]:
    """Stop a command started with `own_group_with_ctrl_c` as a user would: Ctrl-C to its process
    group (how="ctrl-c") or a `kill` (SIGTERM, how="kill"). Returns its stderr, and the exit code
    and the one line it must then give: (130, "PROG: interrupted") or (143, "PROG: terminated")."""
    if how == "kill":
        os.kill(proc.pid, signal.SIGTERM)
    else:
        os.killpg(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    code, said = (143, "terminated") if how == "kill" else (130, "interrupted")
    return stderr, code, f"{prog}: {said}"


def simulate(out: Path, *args, report: bool = False) -> Path:
    """Run a simulation into `out` (no progress bar; no report.html unless `report`: the tests of
    the report read the shared dev and production runs') and fail the test if it does not succeed."""
    code, stdout, stderr = run_cli(*args, "--out", out, "--no-progress", *(() if report else ("--no-report",)))
    assert code == 0, f"run.py {' '.join(map(str, args))} failed ({code}):\n{stderr[-3000:]}"
    assert (Path(out) / "sessions.csv").is_file(), f"no sessions.csv in {out}:\n{stdout}"
    return Path(out)


@pytest.fixture(scope="session")
def dev_run(tmp_path_factory) -> Path:
    """The output folder of ONE dev run (seed 11), shared by every test that only reads it."""
    out = tmp_path_factory.mktemp("dev") / "out"
    return simulate(out, "--mode", "dev", "--seed", DEV_SEED, report=True)


@pytest.fixture(scope="session")
def calibration_run(tmp_path_factory) -> Path:
    """ONE production run on seed 1, a seed production was calibrated on (docs/calibration.md),
    without the churn model (~6 s): for the tests of the spec's statistical claims."""
    out = tmp_path_factory.mktemp("calibration") / "out"
    return simulate(out, "--seed", 1, "--no-model")


@pytest.fixture(scope="session")
def production_run(tmp_path_factory) -> Path:
    """The output folder of ONE production run (the default scenario, ~8 s)."""
    out = tmp_path_factory.mktemp("production") / "out"
    return simulate(out, report=True)


def simulate_all(jobs: list[tuple[Path, tuple]]) -> list[Path]:
    """Several runs side by side (each is its own process)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(lambda job: simulate(job[0], *job[1]), jobs))


# --- the spec's three core tables (options, fields) and reading them from a run's folder ----------

SUBJECTS = {"Math", "Science", "English", "History", "Test Prep", "Programming"}
GRADES = {"Elementary", "Middle School", "High School", "College", "Adult"}
CONNECTIONS = {"Excellent", "Good", "Fair", "Poor"}
CERTIFICATIONS = {"Basic", "Advanced", "Expert"}
RISK_LEVELS = {"Low", "Medium", "High"}

# --- the spec's fields (sections 1-7): name -> (kind, range or options) --------------------------
# kinds: id, str, int, float, bool, enum, datetime, subjects. Ranges are inclusive.
PROFILE_SPEC = {
    "tutor_id": ("id", r"T\d{4}"),
    "months_experience": ("int", (1, 120)),
    "total_sessions_completed": ("int", (8, 3000)),
    "certification_level": ("enum", CERTIFICATIONS),
    "avg_historical_rating": ("float", (2.0, 5.0)),
    "reliability_score": ("float", (0.0, 1.0)),
    "reschedule_rate": ("float", (0.0, 0.35)),
    "no_show_count": ("int", (0, 10)),
    "subjects_taught": ("subjects", (1, 3)),
    "primary_subject": ("enum", SUBJECTS),
    "active_status": ("bool", None),
}
SESSION_SPEC = {
    "session_id": ("id", r"S\d{6}"),
    "tutor_id": ("id", r"T\d{4}"),
    "session_datetime": ("datetime", None),
    "scheduled_duration_min": ("int", {30, 60, 90}),
    "actual_duration_min": ("int", (25, 105)),
    "subject": ("enum", SUBJECTS),
    "grade_level": ("enum", GRADES),
    "is_first_session": ("bool", None),
    "session_completed": ("bool", None),
    "student_showed": ("bool", None),
    "tutor_showed": ("bool", None),
    "connection_quality": ("enum", CONNECTIONS),
    "had_technical_issues": ("bool", None),
    "student_attention_pct": ("float", (10.0, 100.0)),
    "tutor_camera_on_pct": ("float", (70.0, 100.0)),
    "tutor_speak_ratio": ("float", (0.20, 0.80)),
    "screen_share_pct": ("float", (10.0, 95.0)),
    "overall_sentiment": ("float", (-0.5, 0.95)),
    "student_sentiment": ("float", (-0.5, 0.95)),
    "tutor_sentiment": ("float", (-0.2, 0.95)),
    "empathy_score": ("float", (1.0, 10.0)),
    "clarity_score": ("float", (1.0, 10.0)),
    "engagement_score": ("float", (1.0, 10.0)),
    "student_rating": ("float", (1.0, 5.0)),
    "student_satisfaction": ("float", (1.0, 10.0)),
    "would_recommend": ("bool", None),
}
AGGREGATE_SPEC = {
    "tutor_id": ("id", r"T\d{4}"),
    "total_sessions_30d": ("int", (0, 300)),
    "total_sessions_7d": ("int", (0, 70)),
    "avg_rating_30d": ("float", (2.0, 5.0)),
    "avg_rating_7d": ("float", (2.0, 5.0)),
    "avg_engagement_score": ("float", (1.0, 10.0)),
    "avg_empathy_score": ("float", (1.0, 10.0)),
    "avg_clarity_score": ("float", (1.0, 10.0)),
    "avg_student_satisfaction": ("float", (1.0, 10.0)),
    "first_session_count": ("int", (0, 50)),
    "first_session_avg_rating": ("float", (2.0, 5.0)),
    "poor_first_session_flag": ("bool", None),
    "recommendation_rate": ("float", (0.0, 1.0)),
    "technical_issue_rate": ("float", (0.0, 1.0)),
    "sentiment_trend_7d": ("float", (-0.5, 0.95)),
    "churn_probability": ("float", (0.0, 1.0)),
    "churn_risk_level": ("enum", RISK_LEVELS),
    "churn_signals_detected": ("int", (0, 8)),
}
SPECS = {"tutor_profiles": PROFILE_SPEC, "sessions": SESSION_SPEC, "tutor_aggregates": AGGREGATE_SPEC}

# Spec section 7, the platform's churn rule
CHURN = SimpleNamespace(declining_drop=0.3, low_engagement=5.5, high_reschedule=0.15,
                        poor_first=3.5, poor_first_weight=2, no_shows=2, activity_ratio=0.25,
                        per_signal=0.12, cap=0.85, noise_max=0.10, high=0.5, medium=0.3)


# --- reading a run's folder ----------------------------------------------------------------------

def _bool(raw: pd.Series) -> pd.Series:
    return raw.map({"True": True, "False": False, "": None}).astype("boolean")


def _typed(raw: pd.DataFrame, spec: dict) -> pd.DataFrame:
    """The table with the spec's types, read from the raw text (empty cell = missing)."""
    out = raw.copy()
    for col, (kind, _) in spec.items():
        if col not in raw:
            continue
        if kind == "bool":
            out[col] = _bool(raw[col])
        elif kind in ("int", "float"):
            out[col] = pd.to_numeric(raw[col].replace("", np.nan), errors="coerce").astype("float64")
        elif kind == "datetime":
            out[col] = pd.to_datetime(raw[col], format="%Y-%m-%d %H:%M:%S", errors="coerce")
        else:
            out[col] = raw[col].replace("", None)
    return out


@functools.lru_cache(maxsize=None)
def load(folder: str) -> SimpleNamespace:
    """Everything a run wrote that the tests read, once per folder."""
    d = Path(folder)
    raw = {name: pd.read_csv(d / f"{name}.csv", dtype=str, keep_default_na=False) for name in SPECS}
    typed = {name: _typed(raw[name], spec) for name, spec in SPECS.items()}
    run = json.loads((d / "run.json").read_text())
    end = pd.Timestamp(dt.datetime.fromisoformat(str(run["window_end"])))
    return SimpleNamespace(
        dir=d, raw=raw, run=run, **typed,
        reschedules=pd.read_csv(d / "ground_truth" / "reschedules.csv", dtype=str, keep_default_na=False),
        students=pd.read_csv(d / "ground_truth" / "students.csv", dtype=str, keep_default_na=False),
        window_end=end, window_start=end - pd.Timedelta(days=int(run["window_days"])),
    )


@pytest.fixture(params=["dev_run", "production_run"], ids=["dev", "production"])
def data(request) -> SimpleNamespace:
    """The spec's rules hold in the dev run and in the production run."""
    return load(str(request.getfixturevalue(request.param)))


@pytest.fixture
def pg_server():
    """tests/postgres.py's rule: skip without a PostgreSQL server (fail under CI=true)."""
    from tests.postgres import require
    require()
