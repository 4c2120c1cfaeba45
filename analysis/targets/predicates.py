"""Row predicates a claim names instead of spelling out: `above("no_show_count", 3)`.

Each builder returns a function frame -> boolean Series (a `pred`, `where` or `ok` of a check).
Comparisons follow pandas: a null compares False, so `above(col, x)` is False where col is null.
"""
from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd

# ------------------------------------------------------------------------- boolean columns


def is_true(s: pd.Series) -> pd.Series:
    """True where the value is True; NA counts as not True."""
    return s.astype("boolean").fillna(False).astype(bool)


def is_false(s: pd.Series) -> pd.Series:
    """True where the value is False; NA counts as not False."""
    return (~s.astype("boolean")).fillna(False).astype(bool)


def true(col):
    """col is True (NA is not)."""
    return lambda df: is_true(df[col])


def false(col):
    """col is False (NA is not)."""
    return lambda df: is_false(df[col])


# ----------------------------------------------------------------------------- comparisons


def present(col):
    """col is not null."""
    return lambda df: df[col].notna()


def missing(col):
    """col is null."""
    return lambda df: df[col].isna()


def equals(col, value):
    return lambda df: df[col] == value


def differs(col, value):
    return lambda df: df[col] != value


def above(col, x):
    return lambda df: df[col] > x


def at_least(col, x):
    return lambda df: df[col] >= x


def below(col, x):
    return lambda df: df[col] < x


def at_most(col, x):
    return lambda df: df[col] <= x


def between(col, lo, hi):
    """lo <= col <= hi."""
    return lambda df: df[col].between(lo, hi)


def hour_between(col, lo, hi):
    """The hour of the time col is in lo..hi (both included)."""
    return lambda df: df[col].dt.hour.between(lo, hi)


def same(col, other):
    """col equals the other column on the same row."""
    return lambda df: df[col] == df[other]


def not_above(col, other):
    """col is not greater than the other column (True where either is null)."""
    return lambda df: ~(df[col] > df[other])


def set_iff(col, other):
    """col is set exactly where the other column is set."""
    return lambda df: df[col].notna() == df[other].notna()


def unique(*cols):
    """No other row holds the same value of col (of the combination of cols)."""
    if len(cols) == 1:
        return lambda df: ~df[cols[0]].duplicated(keep=False)
    return lambda df: ~df.duplicated(subset=list(cols), keep=False)


# ------------------------------------------------------------------------------- logic


def both(*preds):
    """Every predicate holds."""
    def ok(df: pd.DataFrame) -> pd.Series:
        out = preds[0](df)
        for p in preds[1:]:
            out = out & p(df)
        return out
    return ok


def either(*preds):
    """At least one predicate holds."""
    def ok(df: pd.DataFrame) -> pd.Series:
        out = preds[0](df)
        for p in preds[1:]:
            out = out | p(df)
        return out
    return ok


def implies(a, b):
    """Where a holds, b holds too."""
    return lambda df: ~a(df) | b(df)


def negate(pred):
    """The predicate does not hold."""
    return lambda df: ~pred(df)


# --------------------------------------------------------------------------- text columns


def id_pattern(pattern: str, col: str):
    """col matches the pattern and no other row holds the same value."""
    rx = re.compile(pattern)

    def ok(df: pd.DataFrame) -> pd.Series:
        v = df[col]
        good = v.astype("string").str.fullmatch(rx).fillna(False).astype(bool)
        return good & ~v.duplicated(keep=False)
    return ok


def valid_json(col: str, kind: type | None = None, nullable: bool = True):
    """col parses as JSON (of type `kind`, if given); a null passes if `nullable`."""
    def ok(df: pd.DataFrame) -> pd.Series:
        def one(v):
            if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
                return nullable
            try:
                obj = json.loads(v)
            except (TypeError, ValueError):
                return False
            return kind is None or isinstance(obj, kind)
        return df[col].map(one).astype(bool)
    return ok


def parse_list(v) -> list:
    """A JSON array as a list of strings; anything else as []."""
    try:
        obj = json.loads(v)
    except (TypeError, ValueError):
        return []
    return [str(x) for x in obj] if isinstance(obj, list) else []


# ---------------------------------------------------------------------------- timestamps


def ordered(cols):
    """The time columns never run backwards (a null step is skipped)."""
    def ok(df: pd.DataFrame) -> pd.Series:
        out = pd.Series(True, index=df.index)
        for i, a in enumerate(cols):
            for b in cols[i + 1:]:
                out &= ~(df[a] > df[b]).fillna(False)
        return out
    return ok


# --------------------------------------------------------------------------- experiments


def variant_listed(variant_col: str):
    """Rows without an experiment pass; the others need a variant listed by the experiment
    (an unknown experiment is the foreign-key check's business). Runs on a view that carries
    the experiment's variants as `_variants`."""
    def ok(df: pd.DataFrame) -> pd.Series:
        out = [not isinstance(e, str) or not isinstance(vs, list) or v in vs
               for e, v, vs in zip(df["experiment_id"], df[variant_col], df["_variants"])]
        return pd.Series(out, index=df.index, dtype=bool)
    return ok
