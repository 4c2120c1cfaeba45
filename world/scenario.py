"""Scenario files: reading them (`extends`), `--set` overrides, validation against the schema
(world/scenario_schema.py), and one-line errors.

A scenario is a TOML file. It may say `extends = "production.toml"` (a path relative to the file)
and then override only what differs: tables are merged key by key, everything else replaces.
The merged document is validated against the schema's pydantic models; unknown keys are errors.
"""
from __future__ import annotations

import difflib
import tomllib
from pathlib import Path

from pydantic import BaseModel, ValidationError

from world.scenario_schema import Persona, Scenario, window_end_text


class ScenarioError(Exception):
    """A problem with a scenario file; str() is the one-line message shown to the user."""


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def resolve_now(doc: dict, now=None) -> dict:
    """`calendar.window_end = "now"` becomes the time the scenario is read (local time, rounded
    down to the hour), in place: the document a run records (run.json) holds the time itself, so
    that its tables can be rebuilt and its scenario run again. A TOML date or date-time becomes
    its text."""
    import datetime as dt
    cal = doc.get("calendar")
    if not isinstance(cal, dict):
        return doc
    end = cal.get("window_end")
    if isinstance(end, str) and end.strip().lower() == "now":
        end = (now or dt.datetime.now()).replace(minute=0, second=0, microsecond=0)
    if isinstance(end, (dt.date, str)):     # a TOML date or date-time, or text: kept as its ISO text
        try:
            cal["window_end"] = window_end_text(end)
        except ValueError:
            pass                        # validation says what is wrong with it
    return doc


def read_document(path: Path, _seen: tuple = ()) -> dict:
    """The TOML document at `path` with its `extends` chain merged in ("now" resolved)."""
    path = Path(path)
    if not path.exists():
        raise ScenarioError(f"{path}: scenario file not found")
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(f"{path}: not valid TOML: {e}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ScenarioError(f"{path}: cannot read: {e}") from None
    parent = doc.pop("extends", None)
    if parent is None:
        return resolve_now(doc)
    if not isinstance(parent, str):
        raise ScenarioError(f"{path}:extends: expected a file name, found {parent!r}")
    parent_path = path.parent / parent
    if not parent_path.exists():
        raise ScenarioError(f"{path}:extends: expected an existing scenario file, found {parent!r} (no such file)")
    chain = _seen + (path.resolve(),)
    if parent_path.resolve() in chain:
        loop = " -> ".join(p.name for p in chain[chain.index(parent_path.resolve()):] + (parent_path.resolve(),))
        raise ScenarioError(f"{path}:extends: circular chain of scenario files ({loop})")
    return resolve_now(_merge(read_document(parent_path, chain), doc))


def apply_overrides(doc: dict, overrides: list[str], source: str = "--set") -> dict:
    """`key.path=value` strings; value parsed as TOML (so 0.5, true, [1,2], "text"). Returns a
    new document: `doc` is left as it was (a sweep derives many documents from one)."""
    import copy

    doc = copy.deepcopy(doc)
    for item in overrides:
        if "=" not in item:
            raise ScenarioError(f"{source} {item}: expected key.path=value")
        key, raw = item.split("=", 1)
        try:
            value = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw  # a bare word is a string
        node = doc
        parts = key.strip().split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                raise ScenarioError(f"{source} {item}: {p} is not a table")
        node[parts[-1]] = value
    return resolve_now(doc)


def _suggest(loc: tuple, doc: dict) -> str:
    """For an unknown key, the closest known key at that level."""
    model = Scenario
    for part in loc[:-1]:
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return ""
        ann = field.annotation
        model = next((a for a in getattr(ann, "__args__", (ann,)) if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if model is None:
            if part == "personas":
                model = Persona
                continue
            return ""
    names = list(getattr(model, "model_fields", {}))
    close = difflib.get_close_matches(str(loc[-1]), names, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _problem(where: str, msg: str, source: str, overrides: list[str], flag: str) -> str:
    """One problem's line, naming where it comes from: the override that set the key
    (`--set key=value: key: message`), the file with the override that set a key inside a table
    whose rule failed (`file (with --set ...):table: message`), else the file."""
    inside = None
    for item in reversed(overrides):
        key = item.split("=", 1)[0].strip()
        leaf = key[len(where) + 1:] if key.startswith(where + ".") else None
        if key == where or where.startswith(key + ".") or (leaf and msg.startswith(leaf + ":")):
            return f"{flag} {item}: {where}: {msg}"
        if leaf and inside is None:
            inside = item
    return f"{source}{f' (with {flag} {inside})' if inside else ''}:{where}: {msg}"


def validate_document(doc: dict, source: str, overrides: list[str] = (), flag: str = "--set") -> Scenario:
    """The scenario of a merged document; ScenarioError with one line per problem, each naming
    where it comes from: `source` (the file), or the `flag` override of `overrides` that set the
    key."""
    try:
        return Scenario.model_validate(doc)
    except ValidationError as e:
        problems = []
        for err in e.errors():
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p in ("uniform", "normal", "gamma", "beta")))
            where = ".".join(str(p) for p in loc) or "(top)"
            if err["type"] == "extra_forbidden":
                msg = f"unknown key{_suggest(loc, doc)}"
            elif err["type"] == "missing":
                msg = "required key is missing"
            else:
                msg = err["msg"].removeprefix("Value error, ")
                found = err.get("input")
                if not isinstance(found, (dict, list)):
                    text = found.isoformat() if hasattr(found, "isoformat") else repr(found)
                    msg += f", found {text if len(text) <= 60 else text[:57] + '...'}"
            problems.append(_problem(where, msg, source, list(overrides), flag))
        problems += [_problem(where, msg, source, list(overrides), flag)
                     for where, msg in _unreached_checks(doc, e.errors())]
        raise ScenarioError("\n".join(problems)) from None


def _unreached_checks(doc: dict, errors: list) -> list[tuple[str, str]]:
    """Cross-field rules that pydantic skipped because another key of the same table failed:
    checked on the raw document, so that every problem of a file is reported at once."""
    out = []
    locs = [tuple(err["loc"]) for err in errors]
    tutors = doc.get("tutors")
    if (isinstance(tutors, dict) and ("tutors",) not in locs
            and any(loc[:1] == ("tutors",) for loc in locs)
            and not any(loc[:2] == ("tutors", "personas") for loc in locs)):
        personas = tutors.get("personas")
        shares = [p.get("share") for p in personas.values() if isinstance(p, dict)] if isinstance(personas, dict) else []
        if shares and all(isinstance(s, (int, float)) and not isinstance(s, bool) and 0 <= s <= 1 for s in shares):
            total = sum(shares)
            if abs(total - 1.0) > 1e-6:
                out.append(("tutors", f"persona shares must sum to 1, they sum to {total:.4f}"))
    return out


def load(path: str | Path, overrides: list[str] = ()) -> Scenario:
    doc = read_document(Path(path))
    doc = apply_overrides(doc, list(overrides))
    return validate_document(doc, str(path), list(overrides))


def json_schema() -> dict:
    """The JSON Schema of a scenario (what `run.py schema` prints): pydantic's, made valid JSON
    (unbounded defaults such as max = inf are left out) and completed with what the loader adds
    before validation: `extends`, and the `[lo, hi]` shorthand for a uniform distribution."""
    import math

    schema = Scenario.model_json_schema()
    dist_refs = {f"#/$defs/{name}" for name in ("Uniform", "Normal", "Gamma", "Beta")}
    shorthand = {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2,
                 "description": "[low, high]: shorthand for a uniform distribution"}

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("default"), float) and not math.isfinite(node["default"]):
                del node["default"]
            for key in ("oneOf", "anyOf"):
                options = node.get(key)
                if isinstance(options, list) and {o.get("$ref") for o in options if isinstance(o, dict)} >= dist_refs:
                    options.append(dict(shorthand))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["description"] = ("A tutorsim scenario, after its `extends` chain is merged (a file that extends "
                             "another gives only what differs). " + (Scenario.__doc__ or "")).strip()
    schema["properties"] = {"extends": {"type": "string", "description": "path of the scenario this one "
                                        "extends, relative to this file; tables are merged key by key"},
                            **schema["properties"]}
    return schema
