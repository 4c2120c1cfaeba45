"""What starting run.py costs: --help and argument errors answer at once without the simulation
stack (mesa, simpy, pandas).
"""
from __future__ import annotations

import time

import pytest

from tests.conftest import run_cli


def test_help_is_quick_and_names_the_main_flags():
    started = time.perf_counter()
    code, stdout, stderr = run_cli("--help", timeout=60)
    elapsed = time.perf_counter() - started
    assert code == 0, stderr
    for flag in ("--tutors", "--days", "--sessions-per-day", "--seed", "--out"):
        assert flag in stdout, f"--help does not mention {flag}"
    assert elapsed < 5.0, f"--help took {elapsed:.1f} s"


@pytest.mark.parametrize("args", [["--help"], ["--tutors", "0"], ["--set", "calendar.window_days=-1"]],
                         ids=["help", "bad-flag", "bad-scenario"])
def test_help_and_errors_do_not_import_the_simulation_stack(args, tmp_path):
    """--help and argument errors answer at once: mesa, simpy and pandas are not imported."""
    _, _, stderr = run_cli(*args, "--out", tmp_path / "out", python_flags=("-X", "importtime"), timeout=60)
    imported = {line.rsplit("|", 1)[-1].strip().split(".")[0]
                for line in stderr.splitlines() if line.startswith("import time:")}
    heavy = imported & {"mesa", "simpy", "pandas"}
    assert not heavy, f"run.py {' '.join(args)} imports {sorted(heavy)}"
