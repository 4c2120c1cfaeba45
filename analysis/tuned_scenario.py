"""The tuned scenario a calibration writes: `extends = "<base>"` plus the tuned keys whose value
the search changed (the others stay whatever the base says), with a header comment saying how it
came about: no date, so the same calibration writes the same bytes. And the small TOML writer it
needs (nested tables of scalars and lists).
"""
from __future__ import annotations

import math
import os
import re
from pathlib import Path

from analysis.calibration_plan import Plan, fmt_value
from analysis.calibration_score import Evaluation


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
        header.append(f"{p.key}: {fmt_value(b)} -> {fmt_value(a)}"
                      + ("" if a != b else " (unchanged, not set)")
                      + f"   [searched {fmt_value(p.low)}..{fmt_value(p.high)}{', log' if p.log else ''}]")
    tuned = {p.key: best.values[p.key] for p in plan.params if best.values[p.key] != p.base}
    if not tuned:
        header.append("no candidate beat the base: nothing is set")
    doc = {"extends": extends, **nest(tuned)}
    return toml_dumps(doc, header)


def write_text_atomic(path: Path, text: str) -> None:
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}"
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
