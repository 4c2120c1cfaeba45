"""`run.py validate`: measure how close the produced tables land on the field specification.

Loads whichever of the seven spec tables are present in DATA_DIR (plus the optional ground truth
and run.json), evaluates every check of analysis/targets/ whose tables are present, prints a
table grouped by spec section and ends with the line `N passed, M failed[, K skipped]`.

Exit status: 0 when no check fails, 1 when one does, 2 when DATA_DIR is missing, holds none of
the tables, or a present file cannot be parsed.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis import targets as T
from analysis.targets import tolerance
from output.reading import has_table
from output.reading import read_table as read_run_table

EPS = 1e-9
STATUSES = ("PASS", "FAIL", "READING", "SKIP")
NA_VALUES = ["", "NA", "NaN", "nan", "null", "None"]
TRUE_WORDS = {"true": True, "false": False, "1": True, "0": False, "1.0": True, "0.0": False}


class LoadError(Exception):
    """A present file that cannot be parsed: str(self) is the one line printed on stderr."""


class MissingTable(Exception):
    pass


# ---------------------------------------------------------------------------------- loading


def _convert(df: pd.DataFrame, types: dict[str, str], path: Path) -> pd.DataFrame:
    out = {}
    for col, kind in types.items():
        if col not in df:
            continue
        raw = df[col]
        present = raw.notna()
        if kind == T.NUM:
            val = pd.to_numeric(raw, errors="coerce")
        elif kind == T.BOOL:
            val = raw.str.strip().str.lower().map(TRUE_WORDS).astype("boolean")
        else:
            try:
                val = pd.to_datetime(raw, errors="coerce", format="ISO8601")
            except (ValueError, TypeError) as exc:   # mixed time zones and the like
                raise LoadError(f"{path}: column {col}: {exc}") from None
            if getattr(val.dt, "tz", None) is not None:
                val = val.dt.tz_convert("UTC").dt.tz_localize(None)
        bad = present & val.isna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            what = {T.NUM: "a number", T.BOOL: "True/False", T.TIME: "a date-time"}[kind]
            k = int(bad.sum())
            raise LoadError(f"{path}: column {col}: {raw.iloc[i]!r} on line {i + 2} is not {what}"
                            + (f" ({k} such values)" if k > 1 else ""))
        out[col] = val
    return df.assign(**out) if out else df


def read_table(path: Path, types: dict[str, str]) -> pd.DataFrame:
    try:
        df = read_run_table(path, dtype=str, keep_default_na=False, na_values=NA_VALUES)
    except pd.errors.EmptyDataError:
        raise LoadError(f"{path}: empty file (no header)") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        msg = " ".join(str(exc).split())
        raise LoadError(f"{path}: cannot parse CSV: {msg}") from None
    if df.columns.duplicated().any():
        raise LoadError(f"{path}: duplicated column names: "
                        f"{sorted(set(df.columns[df.columns.duplicated()]))}")
    return _convert(df, types, path)


class Data:
    """The tables of one DATA_DIR, with lazily built (and cached) views."""

    def __init__(self, root: Path, tables: dict[str, pd.DataFrame], manifest: dict | None):
        self.root = root
        self.tables = tables
        self.manifest = manifest
        self._views: dict[str, pd.DataFrame] = {}

    def has(self, name: str) -> bool:
        return name in self.tables

    def table(self, name: str) -> pd.DataFrame:
        if name not in self.tables:
            raise MissingTable(name)
        return self.tables[name]

    def view(self, name: str) -> pd.DataFrame:
        if name not in self._views:
            self._views[name] = T.VIEWS[name](self)
        return self._views[name]

    def forget_view(self, name: str) -> None:
        """Let a cached view go (it is made again if asked for)."""
        self._views.pop(name, None)

    def keep(self, names) -> None:
        """Drop every table not in `names`, and the views (made again from what is kept, on
        demand)."""
        self.tables = {k: v for k, v in self.tables.items() if k in names}
        self._views.clear()

    def spec_tables(self) -> list[str]:
        return [n for n in T.TABLE_FILES if n in self.tables]


def load(root: Path) -> Data:
    tables: dict[str, pd.DataFrame] = {}
    for name, fname in {**T.TABLE_FILES, **T.EXTRA_FILES}.items():
        path = root / fname
        if has_table(path):
            tables[name] = read_table(path, T.COLUMN_TYPES.get(name, {}))
    manifest = None
    mpath = root / T.MANIFEST_FILE
    if mpath.is_file():
        try:
            manifest = json.loads(mpath.read_text())
        except (ValueError, UnicodeDecodeError) as exc:
            raise LoadError(f"{mpath}: not valid JSON: {exc}") from None
        if not isinstance(manifest, dict):
            raise LoadError(f"{mpath}: not a JSON object")
    return Data(root, tables, manifest)


def _as_read(df: pd.DataFrame, types: dict[str, str]) -> pd.DataFrame:
    """A table a run holds in memory, as `read_table` reads its CSV: numbers and booleans of typed
    columns as `_convert` makes them, text as the CSV holds it (missing values NaN), typed text
    (date-times) converted from it; anything else through the CSV text itself."""
    out, later, text = {}, {}, []
    for col in df.columns:
        v, kind = df[col].reset_index(drop=True), types.get(col)
        if kind == T.NUM and pd.api.types.is_numeric_dtype(v) and not pd.api.types.is_bool_dtype(v):
            out[col] = v.astype("float64") if v.isna().any() or pd.api.types.is_float_dtype(v) else v.astype("int64")
        elif kind == T.BOOL and pd.api.types.is_bool_dtype(v) and not v.isna().any():
            out[col] = v.astype("boolean")
        elif pd.api.types.is_string_dtype(v):
            out[col] = v.where(v.notna() & ~v.isin(NA_VALUES)).astype("str")
            if kind:
                later[col] = kind
        else:
            text.append(col)
            if kind:
                later[col] = kind
    if text:
        import io
        back = pd.read_csv(io.StringIO(df[text].to_csv(index=False, lineterminator="\n")), dtype=str,
                           keep_default_na=False, na_values=NA_VALUES)
        out.update({col: back[col] for col in text})
    return _convert(pd.DataFrame({col: out[col] for col in df.columns}), later, Path("<memory>"))


def from_frames(root: Path, frames: dict[str, pd.DataFrame], manifest: dict | None, consume: bool = False) -> Data:
    """The `Data` of a run's tables held in memory (`frames`: file name without .csv -> frame, as
    output/run_folder.py writes them): the same values `load` reads back from the files. With
    `consume`, each frame read is taken out of `frames` (its memory goes once it is read); frames
    kept in parts (`pop_parts`) are converted a part at a time."""
    tables = {}
    for name, fname in {**T.TABLE_FILES, **T.EXTRA_FILES}.items():
        key, types = fname[:-len(".csv")], T.COLUMN_TYPES.get(name, {})
        if consume and hasattr(frames, "pop_parts"):    # kept in parts (output/run_folder.py): one at a time
            parts = frames.pop_parts(key)
            if parts is not None:
                tables[name] = pd.concat([_as_read(part, types) for part in parts], ignore_index=True)
            continue
        df = (frames.pop if consume else frames.get)(key, None)
        if df is not None:
            tables[name] = _as_read(df, types)
    return Data(Path(root), tables, manifest)


# ------------------------------------------------------------------------------- evaluation


@dataclass
class Result:
    check: T.Check
    status: str                 # PASS / FAIL / SKIP / READING (fails by a documented reading)
    measured: Any = None        # number, or {category: share} for shares
    text: str = ""              # measured, as printed
    n: int | None = None
    target_text: str = ""
    lo: float | None = None
    hi: float | None = None
    se: float | None = None     # standard error of the measured statistic, where it has one

    def as_dict(self) -> dict:
        c = self.check
        return {"id": c.id, "section": c.section, "claim": c.claim, "level": c.level,
                "kind": c.kind, "key": c.key or None, "target": _jsonable(c.target),
                "tolerance": _jsonable(c.tol), "lo": _jsonable(self.lo),
                "hi": _jsonable(self.hi), "target_text": self.target_text,
                "measured": _jsonable(self.measured), "measured_text": self.text,
                "n": _jsonable(self.n), "standard_error": _jsonable(self.se),
                "status": self.status, "note": c.note or None}


def _jsonable(v):
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if math.isnan(v) else float(v)
    return v


def _series(df: pd.DataFrame, col) -> pd.Series:
    return col(df) if callable(col) else df[col]


def _mask(obj, df: pd.DataFrame, na: bool) -> pd.Series:
    """A predicate's result as a plain boolean Series on df's index (NA -> `na`).

    Aligned by position, never by label: a result of the wrong length is an error, not a
    silent reindex to NA."""
    if isinstance(obj, pd.Series) and obj.index.equals(df.index):
        s = obj
    else:
        arr = obj.to_numpy() if isinstance(obj, (pd.Series, pd.Index)) else np.asarray(obj)
        if arr.ndim == 0:
            arr = np.repeat(arr, len(df))
        if len(arr) != len(df):
            raise ValueError(f"predicate gave {len(arr)} values for {len(df)} rows")
        s = pd.Series(arr, index=df.index)
    return s.astype("boolean").fillna(na).astype(bool)


def _where(df: pd.DataFrame, where) -> pd.DataFrame:
    return df if where is None else df[_mask(where(df), df, False)]


def _inside(x: float, lo, hi) -> bool:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return False
    return (lo is None or x >= lo - EPS) and (hi is None or x <= hi + EPS)


def _num(x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if float(x).is_integer():
        return f"{x:,.0f}"
    return f"{x:.3f}" if abs(x) < 10 else f"{x:.1f}"


def _violations(c: T.Check, df: pd.DataFrame, bad: pd.Series, n: int) -> Result:
    k = int(bad.sum())
    text = f"{k:,} of {n:,} rows violate"
    ident = c.params.get("ident")
    if k and ident and ident in df:
        examples = ", ".join(map(str, df.loc[bad, ident].head(3)))
        text += f" (e.g. {examples})"
    return Result(c, "PASS" if k == 0 else "FAIL", k, text, n, lo=0, hi=0)


def _measure(c: T.Check, d: Data) -> Result:
    if c.kind == "metric":
        return _measure_metric(c, d)
    df = d.view(c.view)
    measure = _MEASURES.get(c.kind)
    if measure is None:
        raise ValueError(f"unknown check kind {c.kind!r}")
    return measure(c, d, df)


def _measure_metric(c: T.Check, d: Data) -> Result:
    """A check that computes its own value (and may bring its own band and target text)."""
    m = c.params["fn"](d)
    if not isinstance(m, T.Measured):
        m = T.Measured(float(m))
    lo = m.lo if m.lo is not None or m.hi is not None else c.lo
    hi = m.hi if m.lo is not None or m.hi is not None else c.hi
    value = float(m.value)
    r = Result(c, "PASS" if _inside(value, lo, hi) else "FAIL", value,
               m.text or _num(value), m.n, lo=lo, hi=hi, se=m.se)
    if m.target_text:
        r.target_text = m.target_text
    return r


def _measure_values(c: T.Check, d: Data, df: pd.DataFrame) -> Result:
    """range / enum: every present value of a column inside the range or among the values."""
    p = c.params
    v = df[p["col"]]
    nn = v.notna()
    n = int(nn.sum())
    if n == 0:
        raise T.Skip(f"no {p['col']} values")
    if c.kind == "range":
        bad = nn & ~v.between(c.lo - EPS, c.hi + EPS)
        if p.get("integer"):
            bad |= nn & ((v - v.round()).abs() > EPS)
        r = _violations(c, df, bad, n)
        r.text += f"; min {_num(v.min())}, max {_num(v.max())}"
    else:
        bad = nn & ~v.isin(p["values"])
        r = _violations(c, df, bad, n)
        if bad.any():
            r.text += f"; e.g. {v[bad].iloc[0]!r}"
    return r


def _measure_rule(c: T.Check, d: Data, df: pd.DataFrame) -> Result:
    """A row-wise rule that every row must keep."""
    if df.empty:
        raise T.Skip("no rows")
    ok = c.params["ok"](df, d) if c.params.get("with_data") else c.params["ok"](df)
    return _violations(c, df, ~_mask(ok, df, True), len(df))


def _measure_fk(c: T.Check, d: Data, df: pd.DataFrame) -> Result:
    """A foreign key: every value of a column is present in the referenced table's column."""
    p = c.params
    if df.empty:
        raise T.Skip("no rows")
    v = df[p["col"]]
    ref = d.table(p["ref"])[p["ref_col"]]
    bad = ~v.isin(ref.dropna())
    if p.get("nullable"):
        bad &= v.notna()
    r = _violations(c, df, bad, len(df))
    if bad.any() and not p.get("ident"):
        r.text += f" (e.g. {v[bad].iloc[0]})"
    return r


def _measure_share(c: T.Check, d: Data, df: pd.DataFrame) -> Result:
    """The share of rows (optionally of a subset) where a predicate holds."""
    p = c.params
    sub = _where(df, p.get("where"))
    if sub.empty:
        raise T.Skip("no rows to take a share of")
    share = float(_mask(p["pred"](sub), sub, False).mean())
    return Result(c, "PASS" if _inside(share, c.lo, c.hi) else "FAIL", share,
                  f"{share:.3f} (n={len(sub):,})", len(sub), lo=c.lo, hi=c.hi)


def _measure_shares(c: T.Check, d: Data, df: pd.DataFrame) -> Result:
    """A categorical distribution: every category's share within the tolerance of its target."""
    p = c.params
    sub = _where(df, p.get("where"))
    vals = _series(sub, p["col"]).dropna()
    if vals.empty:
        raise T.Skip("no values")
    got = vals.value_counts(normalize=True)
    shares = {k: float(got.get(k, 0.0)) for k in c.target}
    dev = max(abs(shares[k] - t) for k, t in c.target.items())
    text = "/".join(f"{v * 100:.0f}" for v in shares.values()) + \
        f"% (max dev {dev * 100:.1f} pts, n={len(vals):,})"
    return Result(c, "PASS" if dev <= c.tol + EPS else "FAIL", shares, text, len(vals))


def _measure_moment(c: T.Check, d: Data, df: pd.DataFrame) -> Result:
    """mean / sd of a column; a persona's mean carries its standard error."""
    p, kind = c.params, c.kind
    sub = _where(df, p.get("where"))
    v = pd.to_numeric(_series(sub, p["col"]), errors="coerce").dropna()
    if len(v) < (1 if kind == "mean" else 2):
        raise T.Skip("no values")
    x = float(v.mean() if kind == "mean" else v.std(ddof=1))
    r = Result(c, "PASS" if _inside(x, c.lo, c.hi) else "FAIL", x,
               f"{_num(x)} (n={len(v):,})", len(v), lo=c.lo, hi=c.hi)
    if kind == "mean" and len(v) > 1:
        r.se = tolerance.se_mean(float(v.std(ddof=1)), len(v))
    return r


def _measure_corr(c: T.Check, d: Data, df: pd.DataFrame) -> Result:
    """A Pearson correlation over complete pairs, inside its band and of the target's sign."""
    p = c.params
    sub = _where(df, p.get("where"))
    xy = pd.DataFrame({"x": pd.to_numeric(_series(sub, p["x"]), errors="coerce"),
                       "y": pd.to_numeric(_series(sub, p["y"]), errors="coerce")}).dropna()
    if len(xy) < 3:
        raise T.Skip(f"{len(xy)} complete pairs")
    if xy["x"].std() == 0 or xy["y"].std() == 0:
        return Result(c, "FAIL", None, f"undefined: a constant column (n={len(xy):,})",
                      len(xy), lo=c.lo, hi=c.hi)
    r = float(np.corrcoef(xy["x"], xy["y"])[0, 1])
    ok = _inside(r, c.lo, c.hi)
    if c.target is not None and np.sign(r) != np.sign(c.target):
        ok = False
    return Result(c, "PASS" if ok else "FAIL", r, f"r {r:+.3f} (n={len(xy):,})", len(xy),
                  lo=c.lo, hi=c.hi)


# check kind -> its measurement on the check's view (metric checks compute their own)
_MEASURES = {"range": _measure_values, "enum": _measure_values, "rule": _measure_rule,
             "fk": _measure_fk, "share": _measure_share, "shares": _measure_shares,
             "mean": _measure_moment, "sd": _measure_moment, "corr": _measure_corr}


def evaluate_one(c: T.Check, d: Data) -> Result:
    missing = [n for n in c.needs if not d.has(n)]
    if missing:
        files = ", ".join({**T.TABLE_FILES, **T.EXTRA_FILES}[n] for n in missing)
        return Result(c, "SKIP", text=f"needs {files}", target_text=c.target_text)
    try:
        r = _measure(c, d)
    except T.Skip as exc:
        return Result(c, "SKIP", text=str(exc), target_text=c.target_text)
    except MissingTable as exc:
        return Result(c, "SKIP", text=f"needs {exc}", target_text=c.target_text)
    except KeyError as exc:
        return Result(c, "FAIL", text=f"missing column {exc.args[0]!r}",
                      target_text=c.target_text)
    except Exception as exc:  # a defect in the data a measurement cannot survive
        return Result(c, "FAIL", text=f"error: {type(exc).__name__}: {exc}"[:200],
                      target_text=c.target_text)
    if not r.target_text:
        r.target_text = c.target_text
    if r.status == "FAIL" and r.n:
        _within_sampling_error(c, r)
    if r.status == "FAIL" and c.reading:
        r.status = "READING"
    return r


def _standard_error(c: T.Check, r: Result) -> float | None:
    """The standard error of the measured statistic at its n (analysis/targets/tolerance.py)."""
    n, x = r.n, r.measured
    if r.se is not None or not n or not isinstance(x, (int, float)):
        return r.se
    if c.kind in ("share",) or c.binomial:
        lo, hi = r.lo, r.hi
        p0 = c.target if isinstance(c.target, (int, float)) and c.kind == "share" else \
            (lo + hi) / 2 if lo is not None and hi is not None else float(x)
        return tolerance.se_share(p0, n)
    if c.kind == "sd":
        return tolerance.se_sd(float(x), n)
    if c.kind == "corr":
        return tolerance.se_corr(float(c.target if c.target is not None else x), n)
    return None


def _within_sampling_error(c: T.Check, r: Result) -> None:
    """A failing measurement passes if it lies in its band widened by 2 standard errors."""
    k = tolerance.STANDARD_ERRORS
    if c.kind == "shares":
        n = r.n
        ok = all(abs(r.measured[key] - t) <= c.tol + k * tolerance.se_share(t, n) + EPS
                 for key, t in c.target.items())
        width = None
    else:
        se = _standard_error(c, r)
        if not se or not math.isfinite(se) or (r.lo is None and r.hi is None):
            return
        r.se = se
        width = k * se
        ok = _inside(float(r.measured), None if r.lo is None else r.lo - width,
                     None if r.hi is None else r.hi + width)
        if ok and c.kind == "corr" and c.target is not None:
            ok = np.sign(r.measured) == np.sign(c.target)
    if ok:
        r.status = "PASS"
        r.text += " (within 2 SE)" if width is None else f" (within 2 SE = {width:.3g})"


def evaluate(d: Data, checks: list[T.Check] | None = None) -> list[Result]:
    return [evaluate_one(c, d) for c in (T.CHECKS if checks is None else checks)]


def evaluate_indexed(d: Data, indexes) -> list[tuple]:
    """The checks T.CHECKS[i] for i in `indexes`, each as (i, and its Result's fields but the
    check): plain data another process can send back (`from_indexed` makes the Results again)."""
    out = []
    for i in indexes:
        r = evaluate_one(T.CHECKS[i], d)
        out.append((i, r.status, r.measured, r.text, r.n, r.target_text, r.lo, r.hi, r.se))
    return out


def from_indexed(rows: list[tuple]) -> dict[int, Result]:
    """{i: Result} from `evaluate_indexed`'s rows."""
    return {row[0]: Result(T.CHECKS[row[0]], *row[1:]) for row in rows}


def summary_line(results: list[Result]) -> str:
    n = {s: sum(r.status == s for r in results) for s in STATUSES}
    line = f"{n['PASS']} passed, {n['FAIL']} failed"
    if n["READING"]:
        line += f", {n['READING']} off the spec's number by a documented reading"
    return line + (f", {n['SKIP']} skipped" if n["SKIP"] else "")


# ---------------------------------------------------------------------------------- output


def _cut(s: str, width: int) -> str:
    return s if len(s) <= width else s[:width - 1] + "…"


def format_table(results: list[Result], width_claim: int = 70) -> str:
    lines = []
    by_section: dict[int, list[Result]] = {}
    for r in results:
        by_section.setdefault(r.check.section, []).append(r)
    for sec in sorted(by_section):
        rs = by_section[sec]
        counts = {s: sum(r.status == s for r in rs) for s in STATUSES}
        lines.append(f"§{sec} {T.SECTIONS.get(sec, '')}  "
                     f"[{counts['PASS']} pass, {counts['FAIL']} fail, {counts['SKIP']} skip"
                     + (f", {counts['READING']} reading" if counts["READING"] else "") + "]")
        for r in rs:
            lines.append(f"  {r.check.id:<6}{_cut(r.check.claim, width_claim):<{width_claim}}  "
                         f"{_cut(r.target_text, 24):<24}  {_cut(r.text, 44):<44}  {r.status}")
        lines.append("")
    return "\n".join(lines)


def describe_run(d: Data) -> str:
    parts = [f"{n}={len(d.tables[n]):,}" for n in d.spec_tables()]
    extra = [T.EXTRA_FILES[n] for n in T.EXTRA_FILES if d.has(n)]
    info = T.run_info(d)
    m = d.manifest
    run = (f"run.json: scenario {m.get('scenario', '?')}, seed {m.get('seed', '?')}" if m
           else f"no run.json, mode inferred: {info['mode']}")
    s = f"validate {d.root}: " + ", ".join(parts) + f" ({run})"
    if extra:
        s += "; ground truth: " + ", ".join(extra)
    return s
