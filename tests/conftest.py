"""Shared fixtures: one dev run for the whole session, and a helper to call run.py.

Every simulation is started the way a user starts it, `python run.py ...` in a subprocess from the
repository root, so the tests see exactly the files and the exit codes a user sees.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEV_SEED = 11


def run_cli(*args, cwd: Path = ROOT, timeout: float = 300, env: dict | None = None,
            python_flags: tuple = ()) -> tuple[int, str, str]:
    """Run `python [FLAGS] run.py ARGS...` from the repository root (extra environment variables in
    `env`); returns (returncode, stdout, stderr)."""
    proc = subprocess.run([sys.executable, *python_flags, "run.py", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **env} if env else None)
    return proc.returncode, proc.stdout, proc.stderr


def simulate(out: Path, *args) -> Path:
    """Run a simulation into `out` (no progress bar) and fail the test if it does not succeed."""
    code, stdout, stderr = run_cli(*args, "--out", out, "--no-progress")
    assert code == 0, f"run.py {' '.join(map(str, args))} failed ({code}):\n{stderr[-3000:]}"
    assert (Path(out) / "sessions.csv").is_file(), f"no sessions.csv in {out}:\n{stdout}"
    return Path(out)


@pytest.fixture(scope="session")
def dev_run(tmp_path_factory) -> Path:
    """The output folder of ONE dev run (seed 11), shared by every test that only reads it."""
    out = tmp_path_factory.mktemp("dev") / "out"
    return simulate(out, "--mode", "dev", "--seed", DEV_SEED)


@pytest.fixture(scope="session")
def production_run(tmp_path_factory) -> Path:
    """The output folder of ONE production run (the default scenario, ~8 s)."""
    out = tmp_path_factory.mktemp("production") / "out"
    return simulate(out)
