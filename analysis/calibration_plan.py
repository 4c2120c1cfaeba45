"""The calibration file of `run.py calibrate` (format: docs/calibration.md): its schema, its
one-line errors (`file:key.path: expected ..., found ...`) and the plan it becomes: the base
scenario with the fixed overrides, the seeds, the parameters to search and the checks to score.
"""
from __future__ import annotations

import copy
import difflib
import json
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

SIG_DIGITS = 4


class CalibrationError(Exception):
    """A problem with the calibration file or arguments; str() is the one line shown."""


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


def first_line(e: Exception) -> str:
    """The first line of an exception's message (its type's name when it has none)."""
    return str(e).splitlines()[0] if str(e) else type(e).__name__


def prepare(path: Path) -> Plan:
    """Read and check a calibration file; every problem is a CalibrationError (one line)."""
    from world.scenario import validate_document

    path = Path(path)
    cal = _read(path)
    base_path, document = _base(path, cal)
    _check_seeds(path, cal.seeds)
    document = _with_fixed_overrides(path, cal.set, document, base_path)
    # validate never reads the event log: do not spend time writing it
    document = override(document, ["outputs.event_log=false"])
    scenario = validate_document(document, str(base_path))

    params: list[Param] = []
    notes: list[str] = []
    for i, p in enumerate(cal.parameters):
        param = _param(f"{path}:parameters[{i}]", p, [q.key for q in params], scenario, document, base_path)
        if not p.low <= param.base <= p.high:
            notes.append(f"{p.key}: the base value {param.base!r} is outside [{p.low:g}, {p.high:g}]; "
                         f"the search stays inside")
        params.append(param)
    scored = _scored_checks(path, cal.score)
    return Plan(path, base_path, document, list(cal.seeds), params, scored, cal.search, notes)


def _read(path: Path) -> Calibration:
    """The calibration file, parsed and checked against the schema."""
    if not path.is_file():
        raise CalibrationError(f"{path}: calibration file not found")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise CalibrationError(f"{path}: not valid TOML: {e}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise CalibrationError(f"{path}: cannot read: {e}") from None
    try:
        return Calibration.model_validate(raw)
    except ValidationError as e:
        raise CalibrationError(_pydantic_line(path, e.errors()[0])) from None


def _base(path: Path, cal: Calibration) -> tuple[Path, dict]:
    """The base scenario's path (relative to the calibration file) and its checked document."""
    from world.scenario import ScenarioError, read_document, validate_document

    base_path = path.parent / cal.base
    if not base_path.is_file():
        raise CalibrationError(f"{path}:base: expected an existing scenario file (relative to "
                               f"{path.parent}), found {_show(cal.base)}")
    try:
        document = read_document(base_path)
        validate_document(document, str(base_path))
    except ScenarioError as e:
        raise CalibrationError(f"{path}:base: expected a valid scenario, found "
                               f"{_show(cal.base)}: {first_line(e)}") from None
    return base_path, document


def _check_seeds(path: Path, seeds: list[int]) -> None:
    for i, seed in enumerate(seeds):
        if seed < 0:
            raise CalibrationError(f"{path}:seeds[{i}]: expected a whole number >= 0, found {seed}")
        if seed in seeds[:i]:
            raise CalibrationError(f"{path}:seeds[{i}]: expected distinct seeds, found {seed} twice")


def _with_fixed_overrides(path: Path, items: list[str], document: dict, base_path: Path) -> dict:
    """The document with the file's `set` overrides, each one checked as it is applied."""
    from world.scenario import ScenarioError, validate_document

    for i, item in enumerate(items):
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
                                   f"found {_show(item)}: {first_line(e)}") from None
    return document


def _param(at: str, p: Parameter, earlier_keys: list[str], scenario, document: dict, base_path: Path) -> Param:
    """One [[parameters]] entry checked against the scenario (`at` names it in messages), with the
    scenario's value as its base."""
    if p.key in earlier_keys:
        raise CalibrationError(f"{at}.key: expected each key once, found {_show(p.key)} twice")
    if p.key == "seed":
        raise CalibrationError(f"{at}.key: expected a scenario parameter, found \"seed\" "
                               f"(the seeds are the file's `seeds`)")
    value = _numeric_value(at, p.key, scenario)
    _check_range(at, p, value)
    _check_ends_accepted(at, p, document, base_path)
    return Param(p.key, p.low, p.high, p.integer, p.log, value)


def _numeric_value(at: str, key: str, scenario):
    """The scenario's value at `key`, which must exist and hold a number."""
    try:
        value = _scenario_value(scenario, key)
    except KeyError as e:
        part, names = e.args[0], (e.args[1] if len(e.args) > 1 else [])
        close = difflib.get_close_matches(part, names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise CalibrationError(f"{at}.key: expected a key path of the scenario, found "
                               f"{_show(key)} (no {part!r} there{hint})") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        what = ("a table" if isinstance(value, (dict, BaseModel)) else
                "a list" if isinstance(value, (list, tuple)) else type(value).__name__)
        raise CalibrationError(f"{at}.key: expected a key holding a number, found "
                               f"{_show(key)} holding {what}")
    return value


def _check_range(at: str, p: Parameter, value) -> None:
    """low, high, log and integer agree with each other and with the base value's type."""
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


def _check_ends_accepted(at: str, p: Parameter, document: dict, base_path: Path) -> None:
    """The scenario must accept both ends of the range."""
    from world.scenario import ScenarioError, validate_document

    for end, v in (("low", p.low), ("high", p.high)):
        v = int(round(v)) if p.integer else v
        try:
            validate_document(override(document, [f"{p.key}={v!r}"]), str(base_path))
        except ScenarioError as e:
            raise CalibrationError(f"{at}.{end}: expected a value the scenario accepts, found "
                                   f"{v!r}: {first_line(e)}") from None


def _scored_checks(path: Path, sc: Score) -> list[str]:
    """The ids of the checks to score, in the order of analysis/targets/."""
    from analysis import targets as T

    ids = [c.id for c in T.CHECKS]
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
                                       f"`run.py validate` (analysis/targets/){hint}, found {_show(cid)}")
    if sc.sections is None and sc.checks is None:
        chosen = set(ids)
    else:
        chosen = {c.id for c in T.CHECKS if c.section in (sc.sections or [])} | set(sc.checks or [])
    chosen -= set(sc.exclude)
    scored = [cid for cid in ids if cid in chosen]
    if not scored:
        raise CalibrationError(f"{path}:score: expected at least one check to score, found none")
    return scored


def fmt_value(v) -> str:
    """A parameter value, short: whole numbers as they are, others to 4 significant figures."""
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    return f"{v:.4g}"
