"""Reading a run folder's files back: a missing or unreadable file is one line naming it."""
from __future__ import annotations

import zipfile
from pathlib import Path


class BadInput(Exception):
    """A problem with a command's files or arguments: str(self) is the one line shown on stderr,
    and the command exits with code 2."""


def read_csv(path):
    """A table a command needs, or BadInput naming the file and what is wrong with it."""
    import pandas as pd
    if not path.is_file():
        raise BadInput(f"{path}: not found")
    try:
        return pd.read_csv(path)
    except (OSError, ValueError, UnicodeDecodeError) as e:
        raise BadInput(f"{path}: cannot read: {e}") from None


def read_event_log(folder: Path) -> dict:
    """A run folder's event log (events.npz: event type -> column -> array), or BadInput naming
    the file and what is wrong with it."""
    from output.recorder import load_log
    path = Path(folder) / "events.npz"
    if not path.is_file():
        raise BadInput(f"{path}: not found (the run was made with --no-event-log?)")
    try:
        return load_log(path)
    except (OSError, ValueError, zipfile.BadZipFile, KeyError) as e:
        raise BadInput(f"{path}: cannot read the event log: {e}") from None
