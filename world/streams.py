"""Random streams: one per agent and purpose, derived from the run's root seed.

Every stream is keyed by (root seed, kind, agent index, purpose), so that an agent's draws do not
depend on how many draws other agents made. Two scenarios that differ in one behaviour therefore
share every other draw (common random numbers), and the same seed gives the same bytes.

The key is hashed with BLAKE2b into a 128-bit seed for Python's `random.Random` (Mersenne
Twister): per-event draws are plain Python calls (~0.1 us), never one numpy scalar at a time.
Normal noise, 14 draws per session, comes from `normals`: numpy draws it in batches of 64 from its
own keyed generator (PCG64), and a session takes its next 14 at once from the batch, a list
slice, where `random.Random.gauss` would cost ~1.5 us a draw.
"""
from __future__ import annotations

import hashlib
import random
import numpy as np


def _digest(root: int, key: tuple) -> bytes:
    return hashlib.blake2b(repr((root,) + key).encode(), digest_size=16).digest()


class Streams:
    def __init__(self, root_seed: int):
        self.root = int(root_seed)

    def stream(self, *key) -> random.Random:
        """An independent generator for `key`, e.g. stream("tutor", 7, "decisions")."""
        return random.Random(int.from_bytes(_digest(self.root, key), "little"))

    def normals(self, *key, batch: int = 64) -> NormalDraws:
        """Standard normal draws for `key`: `.take(k)` gives the next k."""
        return NormalDraws(np.random.Generator(np.random.PCG64(int.from_bytes(_digest(self.root, key), "little"))),
                           batch)

    def unit(self, *key) -> float:
        """One uniform [0, 1) number for `key`, without creating a generator."""
        return int.from_bytes(_digest(self.root, key)[:7], "little") / float(1 << 56)

    def units(self, prefix: tuple, keys) -> list[float]:
        """`unit(*prefix, *k)` for each (non-empty) tuple k of `keys`: the same numbers, the
        hash of the keys' common start taken once (BLAKE2b hashes a text's pieces as the whole).
        A daily job draws one for every tutor."""
        head = hashlib.blake2b(("(" + ", ".join(map(repr, (self.root, *prefix))) + ", ").encode(), digest_size=16)
        out = []
        for k in keys:
            h = head.copy()
            h.update((", ".join(map(repr, k)) + ")").encode())       # the rest of repr((root, *prefix, *k))
            out.append(int.from_bytes(h.digest()[:7], "little") / float(1 << 56))
        return out


class NormalDraws:
    """A generator's standard normal draws, made `batch` at a time and handed out in order: the
    sequence does not depend on how many are taken at once."""
    __slots__ = ("gen", "batch", "buffer", "pos")

    def __init__(self, gen: np.random.Generator, batch: int):
        self.gen = gen
        self.batch = batch
        self.buffer: list[float] = []
        self.pos = 0

    def take(self, k: int) -> list[float]:
        """The next k draws."""
        pos, end = self.pos, self.pos + k
        if end <= len(self.buffer):
            self.pos = end
            return self.buffer[pos:end]
        out = self.buffer[pos:]
        while len(out) < k:
            self.buffer = self.gen.standard_normal(self.batch).tolist()
            self.pos = min(k - len(out), self.batch)
            out += self.buffer[:self.pos]
        return out
