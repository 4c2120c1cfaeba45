"""The spec's ids of the people on the platform, from their 0-based indexes (no imports: the
trace and the markets' merge name tutors without loading the agents' libraries)."""
from __future__ import annotations


def tutor_id(index: int) -> str:
    """The spec's T0001 form of a 0-based tutor index."""
    return f"T{int(index) + 1:04d}"
