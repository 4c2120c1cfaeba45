"""`run.py schema`: the JSON Schema of a scenario file."""
from __future__ import annotations

from commands.cli import OneLineParser


def main(argv: list[str]) -> int:
    OneLineParser(prog="run.py schema",
                  description="Print the JSON Schema of a scenario file (after its `extends` chain is "
                              "merged): every key, its type, range and meaning.").parse_args(argv)
    import json

    from world.scenario import json_schema
    print(json.dumps(json_schema(), indent=2, allow_nan=False))
    return 0
