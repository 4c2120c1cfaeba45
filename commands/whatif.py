"""What `run.py compare` and `run.py sweep` share: scenario loading, the output folder, progress.

Light on purpose: `--help` and every argument or scenario error answer without importing the
simulation stack (mesa, simpy, pandas); pipeline/replications.py (which runs the replications)
and analysis/whatif.py (which reads them) are imported only to run.

    python run.py compare A.toml B.toml --replications 5 [--seed S] [--out DIR] [--workers K]
                          [--independent] [--set KEY=VALUE ...] [--keep-runs]
    python run.py sweep SCENARIO.toml --grid key.path=v1,v2,v3 [--grid ...] --replications 3
                        [--workers K] [--scheduler tcp://HOST:PORT] [--seed S] [--out DIR]
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


def fail(prog: str, message: str) -> int:
    sys.stderr.write(f"{prog}: error: {message}\n")
    return 2


def load(path: str, sets: list[str]):
    """The merged document (extends, --set) and its validated scenario; ScenarioError on problems."""
    from world.scenario import apply_overrides, read_document, validate_document

    document = apply_overrides(read_document(Path(path)), sets)
    return document, validate_document(document, path)


def check_out(prog: str, out: Path) -> int | None:
    if out.exists() and not out.is_dir():
        return fail(prog, f"--out {out}: exists and is not a folder")
    return None


def progress(enabled: bool, what: str):
    if not enabled:
        return None
    started = time.perf_counter()

    def on_done(done: int, total: int) -> None:
        sys.stderr.write(f"\r{what}: {done}/{total} runs done ({time.perf_counter() - started:.0f} s)")
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()
    return on_done
