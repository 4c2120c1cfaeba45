#!/usr/bin/env python3
"""tutorsim command line: dispatches to one module of commands/ per subcommand.

    python run.py [SCENARIO.toml] [flags]     simulate a scenario (default: scenarios/production.toml)
    python run.py --mode dev                  the dev scenario (25 tutors, 14 days)
    python run.py validate [DATA_DIR]         measure the tables against the spec's targets
    python run.py calibrate PLAN.toml         tune scenario values until the spec's checks pass
    python run.py schema                      the JSON Schema of a scenario file
    python run.py compare A.toml B.toml       what-if: two scenarios over the same seeds
    python run.py sweep S.toml --grid k=v1,v2 what-if: a grid of parameter values
    python run.py tables DATA_DIR [--only NAME]  rebuild tables from a run's saved event log
    python run.py trace ID [DATA_DIR]         one tutor's or student's timeline, and why (--json, --plot)
    python run.py model DATA_DIR              retrain the churn model on a run's saved tables
    python run.py churn DATA [DATA...]        realised churn by signal and persona, and the formula's AUC
    python run.py import DATA_DIR [--db URL]  load the tables into SQLite (default) or PostgreSQL
    python run.py report [DATA_DIR]           the run as one self-contained HTML page, DATA_DIR/report.html
    python run.py live --db postgresql://...  the platform running on in real time into PostgreSQL

Each command imports its heavy libraries (mesa, pandas) only once it really starts, so `--help`
and argument errors answer at once.
"""
from __future__ import annotations

import importlib
import os
import sys

from commands.cli import Terminated, stop_code

# tutorsim's scenario schema uses no pydantic plugin; looking for plugins reads the metadata of
# every installed package when the schema is built, ~45 ms of each run (pydantic's documented
# switch; a value set outside wins)
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

# subcommand -> its module in commands/ (each has main(argv) -> exit code)
COMMANDS = {"run": "run", "validate": "validate", "calibrate": "calibrate", "schema": "schema",
            "compare": "compare", "sweep": "sweep", "tables": "tables", "trace": "trace",
            "model": "model", "import": "db_import", "events": "events",
            "churn": "churn", "report": "report", "live": "live"}


def argv_command(argv: list[str]) -> str:
    return argv[0] if argv and argv[0] in COMMANDS else "run"


def main(argv: list[str]) -> int:
    command = argv_command(argv)
    rest = argv[1:] if argv and argv[0] == command else argv
    return importlib.import_module(f"commands.{COMMANDS[command]}").main(rest)


def _terminate(signum, frame):
    raise Terminated()              # stopped like Ctrl-C, said as a termination (commands/cli.py)


def exit_now(code: int) -> None:
    """Leave at once. After a simulation millions of small objects are still alive; freeing them
    one by one as the interpreter shuts down takes most of a second, for nothing: every file is
    written and closed, and every process the run started has been joined."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    import signal
    signal.signal(signal.SIGTERM, _terminate)
    try:
        code = main(sys.argv[1:])
    except KeyboardInterrupt as stop:
        # one line, not a traceback: a run writes into a temporary folder that is moved into
        # place only when complete, and the processes it started are stopped on the way out
        said, code = stop_code(stop)
        sys.stderr.write(f"run.py: {said}\n")
        sys.exit(code)
    except BrokenPipeError:
        # whoever read the output stopped reading (`run.py schema | head`): nothing to report;
        # the rest of the output goes nowhere, as Python's documentation advises
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    if argv_command(sys.argv[1:]) == "run":
        exit_now(code)
    sys.exit(code)
