"""Reading a run folder's files back: a missing or unreadable file is one line naming it."""
from __future__ import annotations


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
