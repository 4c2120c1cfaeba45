"""The run's data dictionary: every file a run writes, every column, its type, unit, nullability,
allowed values and what produces it.

The dictionary is data (`output/dictionary.toml`); this module reads it and writes it into a run
folder twice: `schema.json` for programs and `README.md` for people, both listing only the files
the run wrote, with their row counts. The Parquet writer (output/parquet.py) takes its column
types from here, so the dictionary and the typed files cannot disagree.

Types: string, timestamp ('YYYY-mm-dd HH:MM:SS' text in CSV, timestamp[ms] in Parquet), integer,
float, boolean, enum (a code table's names: dictionary strings in Parquet), list<string>
(comma-joined in CSV), json (JSON text in both).
"""
from __future__ import annotations

import functools
import json
import tomllib
from pathlib import Path

from world import events

DICTIONARY = Path(__file__).with_name("dictionary.toml")
TYPES = ("string", "timestamp", "integer", "float", "boolean", "enum", "list<string>", "json")
PARQUET_TYPES = {"string": "string", "timestamp": "timestamp[ms] (whole seconds)", "integer": "int64", "float": "double",
                 "boolean": "bool", "enum": "dictionary<int8, string>", "list<string>": "list<string>",
                 "json": "string (JSON text)"}
CSV_TYPES = {"timestamp": "text YYYY-mm-dd HH:MM:SS", "list<string>": "comma-joined text",
             "json": "JSON text", "boolean": "True/False", "enum": "text"}


@functools.cache
def tables() -> dict[str, dict]:
    """file (path in the run folder, without its extension) -> {description, key, columns}; each
    column a dict with name, type, nullable, produced_by and, where they apply, unit and values
    (an enum's names, resolved from world/events.py when given as a code table's name)."""
    with DICTIONARY.open("rb") as f:
        doc = tomllib.load(f)
    out = {}
    for name, table in doc.items():
        columns = []
        for col in table["columns"]:
            col = dict(col)
            if col["type"] not in TYPES:
                raise ValueError(f"{DICTIONARY}: {name}.{col['name']}: type {col['type']!r}, expected one of {TYPES}")
            if col["type"] == "enum":
                values = col["values"]
                col["values"] = list(getattr(events, values) if isinstance(values, str) else values)
            columns.append(col)
        out[name] = {"description": table["description"], "key": list(table.get("key", [])), "columns": columns}
    return out


def columns(table: str) -> dict[str, dict]:
    """The table's columns by name, in the file's order."""
    return {c["name"]: c for c in tables()[table]["columns"]}


def schema_document(rows: dict[str, int], formats: list[str]) -> dict:
    """schema.json: the files written (`rows`: file -> row count, as run.json has them) in each
    of `formats` ("csv", "parquet")."""
    out = {}
    for name, n in rows.items():
        table = tables()[name]
        out[name] = {
            "files": [f"{name}.{fmt}" for fmt in formats],
            "rows": n,
            "description": table["description"],
            "key": table["key"],
            "columns": [{**col, "csv": CSV_TYPES.get(col["type"], col["type"]), "parquet": PARQUET_TYPES[col["type"]]}
                        for col in table["columns"]],
        }
    return {"tables": out}


def readme_text(document: dict, scenario: str, seed: int) -> str:
    """README.md of a run folder: the dictionary for people."""
    lines = [f"# Data dictionary: scenario {scenario!r}, seed {seed}", "",
             "Written by tutorsim with the tables (`schema.json` holds the same, for programs). Every",
             "column is produced by the simulation's behaviour, never drawn from its target distribution;",
             "how close the tables land on the specification: `python run.py validate` on this folder.", ""]
    for name, table in document["tables"].items():
        lines += [f"## {name}", "", f"{table['description']} Files: {', '.join(f'`{f}`' for f in table['files'])}; "
                  f"{table['rows']:,} rows" + (f"; key: {', '.join(table['key'])}." if table["key"] else "."), "",
                  "| column | type | unit | empty | values | produced by |", "|---|---|---|---|---|---|"]
        for col in table["columns"]:
            values = ", ".join(col.get("values", []))
            lines.append(f"| `{col['name']}` | {col['type']} | {col.get('unit', '')} | "
                         f"{'yes' if col['nullable'] else 'no'} | {values} | {col['produced_by']} |")
        lines.append("")
    return "\n".join(lines)


def write(folder: Path, rows: dict[str, int], formats: list[str], scenario: str, seed: int) -> None:
    """schema.json and README.md into the run folder."""
    document = schema_document(rows, formats)
    (folder / "schema.json").write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    (folder / "README.md").write_text(readme_text(document, scenario, seed), encoding="utf-8")
