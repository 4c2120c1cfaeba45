"""What `run.py compare` and `run.py sweep` share: scenario loading, the output folder, progress.

Light on purpose: `--help` and every argument or scenario error answer without importing the
simulation stack (mesa, simpy, pandas); pipeline/replications.py (which runs the replications)
and analysis/whatif.py (which reads them) are imported only to run.

    python run.py compare A.toml B.toml --replications 5 [--seed S] [--out DIR] [--workers K]
                          [--scheduler local:N | tcp://HOST:PORT] [--independent] [--set KEY=VALUE ...]
                          [--keep-runs]
    python run.py sweep SCENARIO.toml --grid key.path=v1,v2,v3 [--grid ...] --replications 3
                        [--workers K] [--scheduler local:N | tcp://HOST:PORT] [--seed S] [--out DIR]
"""
from __future__ import annotations

import functools
import os
import sys
import time
from pathlib import Path

from commands.cli import out_cannot_be_written


class Failed(Exception):
    """Raised inside the command's temporary output folder to give up (the folder goes): the
    error has been written; `code` is the exit code."""

    def __init__(self, code: int):
        super().__init__(code)
        self.code = code


def command(main):
    """A compare or sweep main(argv): a `Failed` raised inside it is its exit code."""
    @functools.wraps(main)
    def run(argv: list[str]) -> int:
        try:
            return main(argv)
        except Failed as e:
            return e.code
    return run


def remote(scheduler: str | None) -> bool:
    """Whether the runs happen on other machines' workers (a scheduler's address), which cannot
    use this machine's temporary folder."""
    return scheduler is not None and not scheduler.startswith("local:")


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


def fail(prog: str, message: str) -> int:
    sys.stderr.write(f"{prog}: error: {message}\n")
    return 2


def add_scheduler(p) -> None:
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run on Dask: local:N starts a local cluster of N worker processes for this command "
                        "(and closes it after); tcp://HOST:PORT submits to a running scheduler, whose workers "
                        "need tutorsim installed. Default: local processes (--workers)")


def check_scheduler(prog: str, scheduler: str | None) -> int | None:
    """A one-line error (exit 2) for a --scheduler that is neither local:N nor an address, or
    when dask.distributed is missing; None when it is usable (or not given)."""
    if scheduler is None:
        return None
    if scheduler.startswith("local:"):
        n = scheduler[len("local:"):]
        if not (n.isdigit() and int(n) >= 1):
            return fail(prog, f"--scheduler {scheduler}: expected local:N with N a positive number of workers")
    elif "://" not in scheduler:
        return fail(prog, f"--scheduler {scheduler}: expected local:N or a scheduler address such as tcp://HOST:8786")
    try:
        import importlib
        importlib.import_module("distributed")
    except ImportError:
        return fail(prog, "--scheduler needs dask.distributed: pip install -e '.[sweep]'")
    return None


def on_dask(prog: str, scheduler: str | None, work):
    """`work()`, with a Dask scheduler's failures as one line: (result, None) or (None, exit code)."""
    if scheduler is None:
        return work(), None
    try:
        return work(), None
    except (OSError, TimeoutError) as e:
        return None, fail(prog, f"--scheduler {scheduler}: cannot reach the scheduler ({type(e).__name__}: {e})")
    except Exception as e:  # noqa: BLE001 - a task's error comes back as whatever it raised
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        sys.stderr.write(f"{prog}: error: a run failed on the Dask workers ({type(e).__name__}: {first}); "
                         f"the workers need tutorsim importable: pip install -e <tutorsim> on each, or start "
                         f"them with PYTHONPATH=<tutorsim>\n")
        return None, 1


def check_sets(prog: str, sets: list[str]) -> int | None:
    """A --set of what every what-if run sets itself (pipeline/replications.py WHATIF_KEYS) is an
    error, not an override dropped in silence."""
    from pipeline.whatif_keys import WHATIF_KEYS
    for item in sets:
        key = item.split("=", 1)[0].strip()
        if key == "seed":
            return fail(prog, f"--set {item}: the replications' seeds come from --seed (S, S+1, ...)")
        if key in WHATIF_KEYS:
            return fail(prog, f"--set {item}: what-if runs set {key} themselves (no churn model; the event "
                              f"log only with --keep-runs)")
    return None


def load(path: str, sets: list[str]):
    """The merged document (extends, --set) and its validated scenario; ScenarioError on problems."""
    from world.scenario import apply_overrides, read_document, validate_document

    document = apply_overrides(read_document(Path(path)), sets)
    return document, validate_document(document, path, sets)


def check_out(prog: str, out: Path) -> int | None:
    return 2 if out_cannot_be_written(prog, out) else None


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
