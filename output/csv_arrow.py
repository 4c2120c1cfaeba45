"""A table's CSV text as pandas writes it (`to_csv(index=False, lineterminator="\\n")`), made with
pyarrow's compute functions: each column's values turned into text in Arrow's C loops, the rows
joined there too.

pandas formats every value through Python objects: at a million sessions sessions.csv took 7.4 s
of CPU; this takes 3.7 s for the same bytes. Only what is known to give
pandas' bytes is written here:

    float64        Python's shortest repr (Arrow's cast gives the same digits, without the ".0"
                   of a whole number, added), empty where NaN; not when a value would be
                   written with an exponent (|v| >= 1e16, or below 1e-4) or is infinite
    integers       as they are; nullable Int64 empty where missing
    bool/boolean   True / False; nullable booleans empty where missing
    text           as it is, empty where missing, in double quotes (doubled inside) when it holds a
                   comma, a double quote or a newline; not when a text holds a carriage return

Anything else (another type, such a value, a frame of one column, where an empty text is quoted)
gives None, and the caller writes the frame with pandas.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

TEXT = pa.large_string()           # the rows of a million sessions pass 2 GiB of text at 10 million
NEEDS_QUOTES = '[,"\n]'            # what makes Python's csv module quote a field (the delimiter, the
                                   # quote, the line terminator)


def _text(value: str) -> pa.Scalar:
    return pa.scalar(value, TEXT)


def csv_bytes(df: pd.DataFrame, header: bool = True) -> bytes | None:
    """The frame's CSV as pandas writes it (with its header line if `header`), or None where this
    cannot promise the same bytes."""
    if df.shape[1] < 2 or len(df) == 0 or not df.columns.is_unique:
        return None
    columns = []
    for name in df.columns:
        texts = column_texts(df[name])
        if texts is None:
            return None
        columns.append(pc.fill_null(texts, _text("")))
    rows = pc.binary_join_element_wise(*columns, _text(","))
    rows = pc.binary_join_element_wise(rows, _text(""), _text("\n"))       # each row ends its line
    rows = rows.combine_chunks() if isinstance(rows, pa.ChunkedArray) else rows
    # the rows' text lies end to end in the array's data buffer, from the first row's offset on
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int64)[rows.offset:rows.offset + len(rows) + 1]
    body = bytes(memoryview(rows.buffers()[2])[offsets[0]:offsets[-1]])
    if not header:
        return body
    names = _quoted(pa.array([str(c) for c in df.columns], type=TEXT))
    if names is None:
        return None
    return (",".join(names.to_pylist()) + "\n").encode("utf-8") + body


def column_texts(s: pd.Series):
    """The column's values as CSV fields (nulls where pandas writes nothing), or None."""
    dt = s.dtype
    if isinstance(dt, np.dtype):
        v = s.to_numpy()
        if dt.kind == "f":
            return _floats(v) if dt == np.float64 else None
        if dt.kind in "iu":
            return pc.cast(pa.array(v), TEXT)
        if dt.kind == "b":
            return pc.if_else(pa.array(v), _text("True"), _text("False"))
        if dt.kind == "O":
            values = v.tolist()
            if all(type(x) is str or x is None or (type(x) is float and x != x) for x in values):
                return _quoted(pa.array([None if type(x) is float else x for x in values], type=TEXT))
        return None
    name = str(dt)
    if name == "boolean":
        flags = pa.array(s.to_numpy(dtype=object, na_value=None), type=pa.bool_(), from_pandas=True)
        return pc.if_else(flags, _text("True"), _text("False"))
    if name in ("Int8", "Int16", "Int32", "Int64"):
        return pc.cast(pa.array(s.to_numpy(dtype=object, na_value=None), type=pa.int64(), from_pandas=True), TEXT)
    if name == "Float64":
        return _floats(s.to_numpy(dtype="float64", na_value=np.nan))
    if name == "str":
        return _quoted(pc.cast(pa.array(s.array), TEXT))
    return None


def _floats(v: np.ndarray):
    present = np.abs(v[~np.isnan(v)])
    if len(present) and (not np.isfinite(present).all() or (present >= 1e16).any()
                         or ((present > 0) & (present < 1e-4)).any()):
        return None                     # repr writes these with an exponent (or as inf)
    texts = pc.cast(pa.array(v, from_pandas=True), TEXT)       # NaN: null
    # Arrow writes 100.0 as "100" and -0.0 as "-0"; repr as "100.0" and "-0.0"
    return pc.if_else(pc.match_substring(texts, "."), texts,
                      pc.binary_join_element_wise(texts, _text(".0"), _text("")))


def _quoted(texts):
    """Texts as CSV fields: quoted where they must be (QUOTE_MINIMAL); None if one holds a carriage
    return (which pandas, writing lines that end in a newline alone, does not quote)."""
    if pc.any(pc.match_substring(texts, "\r")).as_py():
        return None
    needs = pc.match_substring_regex(texts, NEEDS_QUOTES)
    if not pc.any(needs).as_py():
        return texts
    quoted = pc.binary_join_element_wise(_text('"'), pc.replace_substring(texts, '"', '""'), _text('"'), _text(""))
    return pc.if_else(needs, quoted, texts)
