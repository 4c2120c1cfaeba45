"""A student's decision draws: their own Mersenne Twister's numbers, kept as the next few doubles.

Every student has their own stream (world/streams.py), keyed by their index. It first draws their
traits, then every decision they make: slot and tutor choices, whether to leave or switch, when
to book again, each one `random()` (or `uniform`, which is made of it). A Twister's state is 2.5
KB, and a platform-sized world holds about 190,000 students at once: nearly half a gigabyte of
state for a median of 11 numbers each (99th percentile 64, at production).

So a student keeps only numbers: the next 48 that their Twister would give after the traits,
drawn at arrival (384 bytes). A student who uses them all (one in fourteen at production) makes
their Twister again, draws the traits again to stand where they stood, skips the numbers already
used (one C call: `getrandbits` takes 32-bit words as `random()` does, two each) and draws twice
as many more. The numbers are the same, in the same order, as the Twister kept whole would give.
"""
from __future__ import annotations

import random
import struct
from array import array
from itertools import chain, repeat, starmap
from typing import Callable

FIRST = 48      # numbers drawn at arrival


def _doubles(rng: random.Random, n: int) -> array:
    """The next n `random()` numbers as an array of doubles: drawn and packed in C (`starmap` calls
    `random()` n times without a Python loop; an array's own append would parse each number as
    an argument)."""
    return array("d", struct.pack(f"{n}d", *starmap(rng.random, repeat((), n))))


class DecisionStream(chain):
    """`random()` and `uniform(a, b)` as the Twister `remake()` returns would give them (`remake`
    makes it afresh and draws the traits: it then stands where `rng` stands now).

    The stream is a chain: the numbers drawn at arrival, then `_Later`, which the chain turns into
    the next numbers only when it reaches it. `random` is the chain's own `__next__`, a call in C
    (the simulation draws one for each decision), and a student holds nothing more."""
    __slots__ = ()
    random = chain.__next__

    def __new__(cls, rng: random.Random, remake: Callable[[], random.Random]):
        return super().__new__(cls, _doubles(rng, FIRST), _Later(remake, FIRST, 2 * FIRST))

    def uniform(self, a: float, b: float) -> float:
        """As `random.Random.uniform`: a + (b - a) * random()."""
        return a + (b - a) * self.random()


class _Later:
    """The numbers after the first `used`: `size` of them, then the rest, made when iterated."""
    __slots__ = ("remake", "used", "size")

    def __init__(self, remake: Callable[[], random.Random], used: int, size: int):
        self.remake, self.used, self.size = remake, used, size

    def __iter__(self):
        rng = self.remake()
        rng.getrandbits(64 * self.used)         # the numbers already used: two 32-bit words each
        return chain(_doubles(rng, self.size), _Later(self.remake, self.used + self.size, 2 * self.size))
