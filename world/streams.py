"""Random streams: one per agent and purpose, derived from the run's root seed.

Every stream is keyed by (root seed, kind, agent index, purpose), so that an agent's draws do not
depend on how many draws other agents made. Two scenarios that differ in one behaviour therefore
share every other draw (common random numbers), and the same seed gives the same bytes.

The key is hashed with BLAKE2b into a 128-bit seed for Python's `random.Random` (Mersenne
Twister): per-event draws are plain Python calls (~0.1 us), never one numpy scalar at a time.
"""
from __future__ import annotations

import hashlib
import random


def _digest(root: int, key: tuple) -> bytes:
    return hashlib.blake2b(repr((root,) + key).encode(), digest_size=16).digest()


class Streams:
    def __init__(self, root_seed: int):
        self.root = int(root_seed)

    def stream(self, *key) -> random.Random:
        """An independent generator for `key`, e.g. stream("tutor", 7, "decisions")."""
        return random.Random(int.from_bytes(_digest(self.root, key), "little"))

    def unit(self, *key) -> float:
        """One uniform [0, 1) number for `key`, without creating a generator."""
        return int.from_bytes(_digest(self.root, key)[:7], "little") / float(1 << 56)
