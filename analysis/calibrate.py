"""`run.py calibrate CALIBRATION.toml`: tune a few scenario parameters towards the spec's checks.

A calibration file names a base scenario, the seeds to score on, optional fixed `--set`-style
overrides, the parameters to search (a scalar key of the scenario, low, high, optionally
`integer = true` and `log = true`) and which checks to score:

    base = "production.toml"                # relative to the calibration file
    seeds = [1, 2, 3]
    set = ["calendar.window_days=14"]       # optional: fixed overrides while calibrating
    [score]                                 # optional: default every check of every section
    sections = [5, 8, 10]                   #   checks of these sections ...
    checks = ["1.20"]                       #   ... plus these check ids
    exclude = ["2.5"]                       #   ... minus these
    [search]                                # optional
    budget = 20                             #   scenario evaluations (the base counts as one)
    step = 0.25                             #   first step, as a share of [low, high]
    shrink = 0.5                            #   step multiplier after each round
    min_step = 0.015625                     #   stop when the step falls below this
    [[parameters]]
    key = "behaviour.no_show_scale"
    low = 0.05
    high = 0.4
    log = true

Objective. For each seed the scenario runs in-process (into a temporary folder; several runs in
parallel with --workers) and analysis/validate.py measures the scored checks. A check scores 0 when
it passes (or is skipped); a failing row rule (range / enum / rule / fk: "100% of rows") scores 1;
a failing measured value scores its distance outside [lo, hi] divided by the band's width (a
one-sided band: by the tolerance, else by the bound's size); a failure with no distance to measure
(undefined correlation, wrong sign at 0) scores 1. The score of a candidate is the sum over the
scored checks, averaged over the seeds.

Search. Deterministic coordinate search from the base scenario's current values: each round tries,
for every parameter in the file's order, the current best value plus and minus `step` (a share of
the parameter's range, on a log scale with `log = true`; candidates rounded to 4 significant
figures, integers rounded), keeps the best strictly better one, and multiplies the step by
`shrink`; it stops when the budget of evaluations is spent or the step is below `min_step`. The
simulation's seeds are fixed, so the same file always takes the same path.

Output. `<base>.calibrated.toml` next to the base (or --out): `extends = "<base>"` plus the tuned
keys whose value the search changed (the others stay whatever the base says), with a header
comment saying how it came about: no date, so the same calibration writes the same bytes. `--dry-run` scores the base only.

Exit status: 0 done, 1 a simulation failed, 2 a bad argument or calibration file (one line on
stderr, `file:key.path: expected ..., found ...`).
"""
from __future__ import annotations

import argparse
import copy
import difflib
import json
import math
import multiprocessing
import os
import re
import sys
import tempfile
import tomllib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

PROG = "run.py calibrate"
RULE_KINDS = ("range", "enum", "rule", "fk")
SIG_DIGITS = 4
IMPROVEMENT = 1e-9          # a candidate must beat the best by more than this


class CalibrationError(Exception):
    """A problem with the calibration file or arguments; str() is the one line shown."""


class SimulationFailed(Exception):
    pass


# ----------------------------------------------------------------------------------- schema


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Parameter(_Strict):
    key: str
    low: float
    high: float
    integer: bool = False
    log: bool = False


class Score(_Strict):
    sections: list[int] | None = None
    checks: list[str] | None = None
    exclude: list[str] = []


class Search(_Strict):
    budget: int = Field(20, gt=0)
    step: float = Field(0.25, gt=0, le=1)
    shrink: float = Field(0.5, gt=0, lt=1)
    min_step: float = Field(1 / 64, gt=0, le=1)


class Calibration(_Strict):
    description: str = ""
    base: str
    seeds: list[int] = Field(min_length=1)
    set: list[str] = []
    parameters: list[Parameter] = Field(min_length=1)
    score: Score = Score()
    search: Search = Search()


_TABLES = {(): Calibration, ("parameters",): Parameter, ("score",): Score, ("search",): Search}


def _where(loc) -> str:
    s = ""
    for p in loc:
        s += f"[{p}]" if isinstance(p, int) else (f".{p}" if s else str(p))
    return s or "(top)"


def _show(v) -> str:
    """A value as the user wrote it in TOML."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, dict):
        return "a table"
    if isinstance(v, list):
        text = "[" + ", ".join(_show(x) for x in v) + "]"
        return text if len(text) <= 60 else f"a list of {len(v)} items"
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


def _pydantic_line(path: Path, err: dict) -> str:
    loc = tuple(err["loc"])
    where = f"{path}:{_where(loc)}"
    kind = err["type"]
    found = err.get("input")
    if kind == "extra_forbidden":
        model = _TABLES.get(tuple(p for p in loc[:-1] if isinstance(p, str)))
        names = list(model.model_fields) if model else []
        close = difflib.get_close_matches(str(loc[-1]), names, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"{where}: expected one of {', '.join(names)}{hint}, found unknown key {loc[-1]!r}"
    if kind == "missing":
        return f"{where}: expected a value, found nothing (required key is missing)"
    expected = {"float_type": "a number", "int_type": "a whole number",
                "bool_type": "true or false", "string_type": "a string (in quotes)",
                "list_type": "a list [...]", "model_type": "a table",
                "dict_type": "a table"}.get(kind)
    if expected is None:
        if kind == "too_short":
            expected = f"at least {err.get('ctx', {}).get('min_length', 1)} item(s)"
        else:
            msg = err["msg"].removeprefix("Value error, ")
            expected = re.sub(r"^(Input|Value|List) should (be|have) ", "", msg)
            if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
                expected = "a number " + expected
    return f"{where}: expected {expected}, found {_show(found)}"


# ----------------------------------------------------------------------------------- the plan


@dataclass
class Param:
    key: str
    low: float
    high: float
    integer: bool
    log: bool
    base: float                      # the base scenario's value

    def to_unit(self, v: float) -> float:
        if self.log:
            u = (math.log(v) - math.log(self.low)) / (math.log(self.high) - math.log(self.low)) \
                if v > 0 else 0.0
        else:
            u = (v - self.low) / (self.high - self.low)
        return min(1.0, max(0.0, u))

    def from_unit(self, u: float):
        u = min(1.0, max(0.0, u))
        if self.log:
            v = math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        else:
            v = self.low + u * (self.high - self.low)
        if self.integer:
            return min(math.floor(self.high), max(math.ceil(self.low), int(round(v))))
        return min(self.high, max(self.low, round_sig(v)))


@dataclass
class Plan:
    path: Path                       # the calibration file
    base_path: Path
    document: dict                   # base + fixed overrides (seed set per run)
    seeds: list[int]
    params: list[Param]
    scored: list[str]                # check ids
    search: Search
    notes: list[str] = field(default_factory=list)


def round_sig(x: float, digits: int = SIG_DIGITS) -> float:
    if x == 0 or not math.isfinite(x):
        return float(x)
    return float(f"{x:.{digits}g}")


def _scenario_value(scenario, key: str):
    """The value at `key` (dotted) of a validated scenario; raises KeyError(part) when absent."""
    node: Any = scenario
    for part in key.split("."):
        if isinstance(node, BaseModel):
            if part not in type(node).model_fields:
                raise KeyError(part, list(type(node).model_fields))
            node = getattr(node, part)
        elif isinstance(node, dict):
            hit = [k for k in node if str(k) == part]
            if not hit:
                raise KeyError(part, [str(k) for k in node])
            node = node[hit[0]]
        else:
            raise KeyError(part)
    return node


def override(document: dict, items: list[str]) -> dict:
    """world.scenario.apply_overrides on a deep copy of `document`, which is shared by every
    candidate (apply_overrides at commit c00df82 copied only the top level and wrote into the
    nested tables of the document it was given)."""
    from world.scenario import apply_overrides
    return apply_overrides(copy.deepcopy(document), items)


def _first_line(e: Exception) -> str:
    return str(e).splitlines()[0] if str(e) else type(e).__name__


def prepare(path: Path) -> Plan:
    """Read and check a calibration file; every problem is a CalibrationError (one line)."""
    from analysis import targets as T
    from world.scenario import ScenarioError, read_document, validate_document

    path = Path(path)
    if not path.is_file():
        raise CalibrationError(f"{path}: calibration file not found")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise CalibrationError(f"{path}: not valid TOML: {e}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise CalibrationError(f"{path}: cannot read: {e}") from None
    try:
        cal = Calibration.model_validate(raw)
    except ValidationError as e:
        raise CalibrationError(_pydantic_line(path, e.errors()[0])) from None

    base_path = path.parent / cal.base
    if not base_path.is_file():
        raise CalibrationError(f"{path}:base: expected an existing scenario file (relative to "
                               f"{path.parent}), found {_show(cal.base)}")
    try:
        document = read_document(base_path)
        validate_document(document, str(base_path))
    except ScenarioError as e:
        raise CalibrationError(f"{path}:base: expected a valid scenario, found "
                               f"{_show(cal.base)}: {_first_line(e)}") from None

    for i, seed in enumerate(cal.seeds):
        if seed < 0:
            raise CalibrationError(f"{path}:seeds[{i}]: expected a whole number >= 0, found {seed}")
        if seed in cal.seeds[:i]:
            raise CalibrationError(f"{path}:seeds[{i}]: expected distinct seeds, found {seed} twice")

    for i, item in enumerate(cal.set):
        key = item.split("=", 1)[0].strip()
        if "=" not in item or not key:
            raise CalibrationError(f"{path}:set[{i}]: expected key.path=value, found {_show(item)}")
        if key == "seed":
            raise CalibrationError(f"{path}:set[{i}]: expected an override other than the seed "
                                   f"(the seeds are the file's `seeds`), found {_show(item)}")
        try:
            document = override(document, [item])
            validate_document(document, str(base_path))
        except ScenarioError as e:
            raise CalibrationError(f"{path}:set[{i}]: expected an override the scenario accepts, "
                                   f"found {_show(item)}: {_first_line(e)}") from None
    # validate never reads the event log: do not spend time writing it
    document = override(document, ["outputs.event_log=false"])
    scenario = validate_document(document, str(base_path))

    params: list[Param] = []
    notes: list[str] = []
    for i, p in enumerate(cal.parameters):
        at = f"{path}:parameters[{i}]"
        if p.key in [q.key for q in params]:
            raise CalibrationError(f"{at}.key: expected each key once, found {_show(p.key)} twice")
        if p.key == "seed":
            raise CalibrationError(f"{at}.key: expected a scenario parameter, found \"seed\" "
                                   f"(the seeds are the file's `seeds`)")
        try:
            value = _scenario_value(scenario, p.key)
        except KeyError as e:
            part, names = e.args[0], (e.args[1] if len(e.args) > 1 else [])
            close = difflib.get_close_matches(part, names, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise CalibrationError(f"{at}.key: expected a key path of the scenario, found "
                                   f"{_show(p.key)} (no {part!r} there{hint})") from None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            what = ("a table" if isinstance(value, (dict, BaseModel)) else
                    "a list" if isinstance(value, (list, tuple)) else type(value).__name__)
            raise CalibrationError(f"{at}.key: expected a key holding a number, found "
                                   f"{_show(p.key)} holding {what}")
        if not (math.isfinite(p.low) and math.isfinite(p.high)):
            raise CalibrationError(f"{at}: expected finite low and high, found low {p.low:g}, "
                                   f"high {p.high:g}")
        if not p.high > p.low:
            raise CalibrationError(f"{at}.high: expected a number > low ({p.low:g}), found {p.high:g}")
        if p.log and p.low <= 0:
            raise CalibrationError(f"{at}.low: expected a number > 0 with log = true, found {p.low:g}")
        if p.integer and (math.ceil(p.low) > math.floor(p.high)):
            raise CalibrationError(f"{at}: expected a whole number between low and high with "
                                   f"integer = true, found low {p.low:g}, high {p.high:g}")
        if isinstance(value, int) and not p.integer:
            raise CalibrationError(f"{at}.integer: expected true ({p.key} is a whole number in "
                                   f"the scenario), found false")
        for end, v in (("low", p.low), ("high", p.high)):
            v = int(round(v)) if p.integer else v
            try:
                validate_document(override(document, [f"{p.key}={v!r}"]), str(base_path))
            except ScenarioError as e:
                raise CalibrationError(f"{at}.{end}: expected a value the scenario accepts, found "
                                       f"{v!r}: {_first_line(e)}") from None
        if not p.low <= value <= p.high:
            notes.append(f"{p.key}: the base value {value!r} is outside [{p.low:g}, {p.high:g}]; "
                         f"the search stays inside")
        params.append(Param(p.key, p.low, p.high, p.integer, p.log, value))

    ids = [c.id for c in T.CHECKS]
    sc = cal.score
    for i, s in enumerate(sc.sections or []):
        if s not in T.SECTIONS:
            raise CalibrationError(f"{path}:score.sections[{i}]: expected a section of the spec "
                                   f"({', '.join(map(str, T.SECTIONS))}), found {s}")
    for name in ("checks", "exclude"):
        for i, cid in enumerate(getattr(sc, name) or []):
            if cid not in ids:
                close = difflib.get_close_matches(cid, ids, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise CalibrationError(f"{path}:score.{name}[{i}]: expected a check id of "
                                       f"analysis/targets.py{hint}, found {_show(cid)}")
    if sc.sections is None and sc.checks is None:
        chosen = set(ids)
    else:
        chosen = {c.id for c in T.CHECKS if c.section in (sc.sections or [])} | set(sc.checks or [])
    chosen -= set(sc.exclude)
    scored = [cid for cid in ids if cid in chosen]
    if not scored:
        raise CalibrationError(f"{path}:score: expected at least one check to score, found none")
    return Plan(path, base_path, document, list(cal.seeds), params, scored, cal.search, notes)


# ----------------------------------------------------------------------------------- scoring


def band_scale(check, lo, hi) -> float:
    """What one unit of distance outside the band is: its width, else the tolerance, else the
    size of its one bound (1 for a bound at 0)."""
    if lo is not None and hi is not None and hi - lo > 1e-12:
        return float(hi - lo)
    if check.tol:
        return 2.0 * float(check.tol)
    bound = lo if lo is not None else hi
    return abs(float(bound)) if bound is not None and abs(bound) > 1e-9 else 1.0


def distance(check, status: str, measured, lo=None, hi=None) -> float:
    """A check's contribution to the score: 0 inside the band, the normalised distance outside."""
    if status != "FAIL":
        return 0.0
    if check.kind in RULE_KINDS:
        return 1.0
    if check.kind == "shares":
        if not isinstance(measured, dict) or not check.tol:
            return 1.0
        dev = max(abs(float(measured.get(k, 0.0)) - t) for k, t in check.target.items())
        d = (dev - check.tol) / (2.0 * check.tol)
        return d if d > 0 else 1.0
    try:
        x = float(measured)
    except (TypeError, ValueError):
        return 1.0
    if math.isnan(x):
        return 1.0
    out = max(0.0, (lo - x) if lo is not None else 0.0, (x - hi) if hi is not None else 0.0)
    if out <= 0:
        return 1.0                   # failed without a distance (e.g. a correlation's sign at 0)
    return out / band_scale(check, lo, hi)


def result_distance(r) -> float:
    """distance() of an analysis.validate.Result."""
    return distance(r.check, r.status, r.measured, r.lo, r.hi)


def _plain(v):
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if v is None or isinstance(v, (str, bool)):
        return v
    try:
        return float(v)
    except (TypeError, ValueError):
        return str(v)


def simulate_and_measure(document: dict, seed: int, check_ids: list[str], source: str) -> dict:
    """One run (in this process) of `document` with `seed`, measured on `check_ids`. Returns
    {"checks": {id: [status, measured, lo, hi, text]}} or {"error": "..."}; never raises."""
    try:
        from analysis import targets as T
        from pipeline.one_run import run
        from analysis.validate import evaluate, load
        from world.scenario import validate_document

        # the checks read the window only: no look-ahead, no churn model (faster)
        doc = override(document, [f"seed={seed}", "outputs.model=false", "calendar.lookahead_days=0"])
        scenario = validate_document(doc, source)
        wanted = set(check_ids)
        checks = [c for c in T.CHECKS if c.id in wanted]
        with tempfile.TemporaryDirectory(prefix="tutorsim-calibrate-") as tmp:
            out = Path(tmp) / "run"
            run(scenario, doc, out, progress=False)
            results = evaluate(load(out), checks)
        return {"checks": {r.check.id: [r.status, _plain(r.measured), _plain(r.lo), _plain(r.hi),
                                        r.text] for r in results}}
    except BaseException as e:  # noqa: BLE001 - reported as the candidate's failure
        if isinstance(e, KeyboardInterrupt):
            raise
        return {"error": f"{type(e).__name__}: {_first_line(e)}"[:300]}


def _run_task(task):
    return simulate_and_measure(*task)


@dataclass
class Evaluation:
    values: dict                     # key -> value
    runs: list[dict]                 # per seed: {"checks": ...} or {"error": ...}
    distances: list[dict]            # per seed: {id: distance}
    error: str | None = None

    @property
    def score(self) -> float:
        if self.error:
            return math.inf
        return sum(sum(d.values()) for d in self.distances) / len(self.distances)

    def seed_scores(self) -> list[float]:
        return [sum(d.values()) for d in self.distances]

    def failing(self) -> list[list[str]]:
        return [[cid for cid, r in run["checks"].items() if r[0] == "FAIL"] for run in self.runs]

    def status(self, cid: str) -> str:
        return "".join(run["checks"][cid][0][0] if cid in run["checks"] else "?"
                       for run in self.runs)


class Evaluator:
    """Runs candidates (each on every seed), in parallel over a process pool when workers > 1.

    The pool forks this process after the simulator's modules are imported, so the runs of one
    calibration use the code as it was when the calibration started, even while the working tree
    changes (modules the pipeline imports lazily are imported first, below)."""

    def __init__(self, plan: Plan, workers: int):
        import pipeline.one_run  # noqa: F401 - imported before forking the workers
        import analysis.validate  # noqa: F401
        from analysis import targets as T
        self.plan = plan
        self.checks = {c.id: c for c in T.CHECKS}
        # fork, not the start method mesa forces on import (spawn, which re-imports from disk)
        self.pool = (ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"))
                     if workers > 1 else None)

    def close(self, cancel: bool = False):
        if self.pool:
            self.pool.shutdown(wait=not cancel, cancel_futures=cancel)

    def document(self, values: dict) -> dict:
        return override(self.plan.document, [f"{k}={v!r}" for k, v in values.items()])

    def evaluate(self, candidates: list[dict]) -> list[Evaluation]:
        plan = self.plan
        tasks = [(self.document(values), seed, plan.scored, str(plan.base_path))
                 for values in candidates for seed in plan.seeds]
        if self.pool:
            outs = list(self.pool.map(_run_task, tasks))
        else:
            outs = [_run_task(t) for t in tasks]
        evals = []
        k = len(plan.seeds)
        for i, values in enumerate(candidates):
            runs = outs[i * k:(i + 1) * k]
            errors = [f"seed {s}: {r['error']}" for s, r in zip(plan.seeds, runs) if "error" in r]
            dists = [] if errors else [
                {cid: distance(self.checks[cid], *r["checks"][cid][:4]) for cid in r["checks"]}
                for r in runs]
            evals.append(Evaluation(dict(values), runs, dists, "; ".join(errors) or None))
        return evals


# ----------------------------------------------------------------------------------- search


def _fmt(v) -> str:
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    return f"{v:.4g}"


def _progress(k: int, budget: int, ev: Evaluation, best: float, changed: list[str], new_best: bool):
    if ev.error:
        what = f"FAILED ({ev.error})"
    else:
        fails = "/".join(str(len(f)) for f in ev.failing())
        what = f"score {ev.score:.4f}, failing {fails}"
    vals = ", ".join(f"{key}={_fmt(ev.values[key])}" for key in changed) or "base values"
    mark = "  * new best" if new_best else f"  (best {best:.4f})"
    print(f"calibrate: evaluation {k}/{budget}: {what}; {vals}{mark}", file=sys.stderr, flush=True)


def coordinate_search(plan: Plan, evaluator: Evaluator, budget: int) -> tuple[Evaluation, Evaluation, int]:
    """Returns (base evaluation, best evaluation, evaluations used)."""
    base_values = {p.key: p.base for p in plan.params}
    base = evaluator.evaluate([base_values])[0]
    _progress(1, budget, base, base.score, [], False)
    if base.error:
        raise SimulationFailed(f"the base scenario failed: {base.error}")
    best, used = base, 1
    seen = {tuple(base_values.values())}
    step = plan.search.step
    rnd = 0
    while used < budget and step >= plan.search.min_step - 1e-12:
        rnd += 1
        print(f"calibrate: round {rnd}, step {step:.4g} of each range", file=sys.stderr, flush=True)
        for p in plan.params:
            if used >= budget:
                break
            u = p.to_unit(best.values[p.key])
            cands = []
            for direction in (+1, -1):
                values = dict(best.values)
                values[p.key] = p.from_unit(u + direction * step)
                sig = tuple(values.values())
                if sig in seen:
                    continue
                seen.add(sig)
                cands.append(values)
            cands = cands[:budget - used]
            if not cands:
                continue
            evals = evaluator.evaluate(cands)
            for ev in evals:
                used += 1
                better = ev.score < best.score - IMPROVEMENT
                if better:
                    best = ev
                _progress(used, budget, ev, best.score, [p.key], better)
        step *= plan.search.shrink
    return base, best, used


# ----------------------------------------------------------------------------------- TOML out


_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _toml_string(s: str) -> str:
    out = []
    for ch in s:
        o = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch in "\b\t\n\f\r":
            out.append({"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}[ch])
        elif o < 0x20 or o == 0x7F:
            out.append(f"\\u{o:04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _toml_key(k) -> str:
    k = str(k)
    return k if _BARE_KEY.match(k) else _toml_string(k)


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        text = repr(v)
        return text if any(c in text for c in ".en") else text + ".0"
    if isinstance(v, str):
        return _toml_string(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(f"cannot write {type(v).__name__} as TOML")


def toml_dumps(doc: dict, header: list[str] = ()) -> str:
    """A nested dict of scalars (and lists of them) as TOML: top-level keys, then [a.b] tables."""
    lines = [("# " + h).rstrip() for text in header for h in str(text).splitlines() or [""]]
    if lines:
        lines.append("")

    def emit(table: dict, path: list):
        scalars = [(k, v) for k, v in table.items() if not isinstance(v, dict)]
        tables = [(k, v) for k, v in table.items() if isinstance(v, dict)]
        if path and (scalars or not tables):
            if lines and lines[-1] != "":
                lines.append("")
            lines.append("[" + ".".join(_toml_key(p) for p in path) + "]")
        for k, v in scalars:
            lines.append(f"{_toml_key(k)} = {_toml_value(v)}")
        for k, v in tables:
            emit(v, path + [k])

    emit(doc, [])
    return "\n".join(lines) + "\n"


def nest(values: dict) -> dict:
    """{"a.b.c": 1} -> {"a": {"b": {"c": 1}}}."""
    out: dict = {}
    for key, v in values.items():
        node = out
        parts = key.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = v
    return out


def _rel(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def tuned_document(plan: Plan, out: Path, base: Evaluation, best: Evaluation, used: int,
                   budget: int) -> str:
    extends = os.path.relpath(plan.base_path.resolve(), out.resolve().parent).replace(os.sep, "/")
    seeds = ", ".join(map(str, plan.seeds))
    header = [
        f"Calibrated by `python run.py calibrate {_rel(plan.path)}` from {plan.base_path.name}:",
        f"seeds {seeds}; {len(plan.scored)} checks scored; {used} of {budget} evaluations "
        f"(each {len(plan.seeds)} runs).",
        "score = sum over the scored checks of the distance outside the band / band width "
        "(failing row rules: 1), mean over seeds",
        f"score: before {base.score:.4f}, after {best.score:.4f}",
        "score per seed: before " + ", ".join(f"{s:.4f}" for s in base.seed_scores())
        + "; after " + ", ".join(f"{s:.4f}" for s in best.seed_scores()),
        "failing scored checks per seed: before " + ", ".join(str(len(f)) for f in base.failing())
        + "; after " + ", ".join(str(len(f)) for f in best.failing()),
    ]
    for seed, f in zip(plan.seeds, best.failing()):
        header.append(f"  seed {seed} still failing: {', '.join(f) or 'none'}")
    for p in plan.params:
        b, a = p.base, best.values[p.key]
        header.append(f"{p.key}: {_fmt(b)} -> {_fmt(a)}" + ("" if a != b else " (unchanged, not set)")
                      + f"   [searched {_fmt(p.low)}..{_fmt(p.high)}{', log' if p.log else ''}]")
    tuned = {p.key: best.values[p.key] for p in plan.params if best.values[p.key] != p.base}
    if not tuned:
        header.append("no candidate beat the base: nothing is set")
    doc = {"extends": extends, **nest(tuned)}
    return toml_dumps(doc, header)


def write_text_atomic(path: Path, text: str) -> None:
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}"
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


# ----------------------------------------------------------------------------------- reports


def _measured_text(ev: Evaluation, cid: str, width: int = 14) -> str:
    """The measured value per seed, short."""
    parts = []
    for run in ev.runs:
        r = run["checks"].get(cid)
        if r is None:
            parts.append("?")
        elif isinstance(r[1], float):
            x = r[1]
            parts.append(f"{x:.3g}" if abs(x) < 1000 else f"{x:,.0f}")
        else:
            parts.append(r[4][:width] if r[4] else r[0])
    return " ".join(parts)


def _cut(s: str, n: int) -> str:
    return s if len(s) <= n else s[:n - 1] + "…"


def failing_report(plan: Plan, ev: Evaluation, checks: dict) -> str:
    lines = []
    for seed, s, f in zip(plan.seeds, ev.seed_scores(), ev.failing()):
        lines.append(f"seed {seed}: score {s:.4f}, {len(f)} failing: {', '.join(f) or 'none'}")
    ids = [cid for cid in plan.scored if "F" in ev.status(cid)]
    if ids:
        lines.append("")
        lines.append(f"  {'check':<6} {'claim':<52} {'target':<16} {'status':<6} "
                     f"{'measured (per seed)':<28} distance")
        for cid in ids:
            c = checks[cid]
            dist = sum(d.get(cid, 0.0) for d in ev.distances) / len(ev.distances)
            lines.append(f"  {cid:<6} {_cut(c.claim, 52):<52} {_cut(c.target_text, 16):<16} "
                         f"{ev.status(cid):<6} {_cut(_measured_text(ev, cid), 28):<28} "
                         f"{dist:.4f}")
    return "\n".join(lines)


def changes_report(plan: Plan, base: Evaluation, best: Evaluation, checks: dict) -> str:
    ids = [cid for cid in plan.scored if base.status(cid) != best.status(cid)]
    if not ids:
        return "no scored check changed status"
    lines = ["scored checks that changed status (one letter per seed: P pass, F fail, S skip):",
             f"  {'check':<6} {'claim':<52} {'target':<16} {'before':<30} {'after':<30}"]
    for cid in ids:
        c = checks[cid]
        before = f"{base.status(cid)} {_measured_text(base, cid)}"
        after = f"{best.status(cid)} {_measured_text(best, cid)}"
        lines.append(f"  {cid:<6} {_cut(c.claim, 52):<52} {_cut(c.target_text, 16):<16} "
                     f"{_cut(before, 30):<30} {_cut(after, 30):<30}")
    return "\n".join(lines)


# ----------------------------------------------------------------------------------- command


from commands.cli import OneLineParser as _Parser  # noqa: E402
from commands.cli import positive_int as _positive_int  # noqa: E402


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="Tune scenario parameters so the runs land closer on the "
                "spec's checks (a deterministic coordinate search). See analysis/calibrate.py.")
    p.add_argument("calibration", help="calibration TOML file (e.g. scenarios/calibration.toml)")
    p.add_argument("--budget", type=_positive_int,
                   help="scenario evaluations, the base included (default: the file's "
                        "search.budget, else 20); each is one run per seed")
    p.add_argument("--workers", type=_positive_int, default=1,
                   help="simulations run in parallel (default 1)")
    p.add_argument("--out", help="tuned scenario to write (default: <base>.calibrated.toml "
                                 "next to the base)")
    p.add_argument("--dry-run", action="store_true",
                   help="score the base scenario only; print its failing checks per seed")
    return p


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    try:
        plan = prepare(Path(args.calibration))
    except CalibrationError as e:
        sys.stderr.write(f"{e}\n")
        return 2
    budget = args.budget or plan.search.budget
    out = Path(args.out) if args.out else plan.base_path.with_name(
        plan.base_path.stem + ".calibrated.toml")
    if not args.dry_run:
        if out.exists() and not out.is_file():
            sys.stderr.write(f"{PROG}: error: --out {out}: exists and is not a file\n")
            return 2
        if not out.parent.is_dir():
            sys.stderr.write(f"{PROG}: error: --out {out}: no such folder {out.parent}\n")
            return 2
        if out.resolve() in (plan.base_path.resolve(), plan.path.resolve()):
            sys.stderr.write(f"{PROG}: error: --out {out}: would overwrite the "
                             f"{'base scenario' if out.resolve() == plan.base_path.resolve() else 'calibration file'}\n")
            return 2
    for note in plan.notes:
        print(f"calibrate: note: {note}", file=sys.stderr)

    print(f"calibrate {plan.path}: base {plan.base_path}, seeds {', '.join(map(str, plan.seeds))}, "
          f"{len(plan.scored)} checks scored, {len(plan.params)} parameters"
          + ("" if args.dry_run else f", budget {budget} evaluations"), flush=True)
    evaluator = Evaluator(plan, args.workers)
    try:
        if args.dry_run:
            base = evaluator.evaluate([{p.key: p.base for p in plan.params}])[0]
            if base.error:
                sys.stderr.write(f"calibrate: the base scenario failed: {base.error}\n")
                return 1
            print(f"base score {base.score:.4f} (mean over seeds), failing checks "
                  + "/".join(str(len(f)) for f in base.failing()) + " per seed")
            print(failing_report(plan, base, evaluator.checks))
            return 0
        base, best, used = coordinate_search(plan, evaluator, budget)
    except SimulationFailed as e:
        sys.stderr.write(f"calibrate: {e}\n")
        return 1
    except KeyboardInterrupt:
        evaluator.close(cancel=True)
        sys.stderr.write("calibrate: interrupted\n")
        return 130
    finally:
        evaluator.close()

    write_text_atomic(out, tuned_document(plan, out, base, best, used, budget))
    fails = lambda ev: "/".join(str(len(f)) for f in ev.failing())  # noqa: E731
    print(f"score {base.score:.4f} -> {best.score:.4f} (mean over seeds); failing checks per seed "
          f"{fails(base)} -> {fails(best)}; {used} evaluations")
    print("tuned values:")
    width = max(len(p.key) for p in plan.params)
    for p in plan.params:
        a = best.values[p.key]
        print(f"  {p.key:<{width}}  {_fmt(p.base):>10} -> {_fmt(a):<10}"
              + ("" if a != p.base else "  (unchanged)"))
    print(changes_report(plan, base, best, evaluator.checks))
    print("after, per seed:")
    print(failing_report(plan, best, evaluator.checks))
    print(f"wrote {out}")
    return _check_loads(out, plan)


def _check_loads(out: Path, plan: Plan) -> int:
    """The tuned file must load as a scenario. When it does not because the base itself no longer
    does (edited while the calibration ran), that is said, not blamed on the tuned file."""
    from world.scenario import ScenarioError, load
    try:
        load(out)
        return 0
    except ScenarioError as e:
        problem = _first_line(e)
    try:
        load(plan.base_path)
    except ScenarioError as e:
        sys.stderr.write(f"calibrate: note: {out} does not load because its base does not (changed "
                         f"while calibrating?): {_first_line(e)}\n")
        return 0
    sys.stderr.write(f"calibrate: the tuned file does not load: {problem}\n")
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
