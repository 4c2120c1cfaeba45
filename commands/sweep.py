"""`run.py sweep SCENARIO.toml --grid key=v1,v2`: a grid of scenario values, replicated."""
from __future__ import annotations

import itertools
import sys
import time
import tomllib
from pathlib import Path

from commands.cli import OneLineParser
from commands.cli import non_negative_int as _non_negative_int
from commands.cli import positive_int as _positive_int
from commands.whatif import (Failed, add_scheduler, check_out, check_scheduler, check_sets, command, default_workers,
                             fail, load, on_dask, progress, remote)


def sweep_parser() -> OneLineParser:
    p = OneLineParser(
        prog="run.py sweep",
        description="Run a scenario over the cartesian grid of --grid values x replications (seeds S, "
                    "S+1, ... at every grid point), in parallel processes or on a Dask cluster. Writes "
                    "sweep.csv (one tidy row per grid point and replication: parameter columns, "
                    "replication, seed, outcome columns) and sweep_<outcome>.png (mean and 95% "
                    "t-interval against the first grid parameter, one line per combination of the others).")
    p.add_argument("scenario", metavar="SCENARIO.toml", help="the scenario to vary")
    p.add_argument("--grid", action="append", default=[], required=True, metavar="KEY.PATH=V1,V2,...",
                   help="a parameter and its values (each value parsed as TOML), e.g. "
                        "--grid platform.coaching.effect=0,1,2 (repeatable: the grid is their product)")
    p.add_argument("--replications", "-n", type=_positive_int, default=3, help="runs per grid point (default 3)")
    p.add_argument("--seed", type=_non_negative_int, help="first seed (default: the scenario's seed)")
    p.add_argument("--out", default="sweep", help="output folder (default: sweep)")
    p.add_argument("--workers", type=_positive_int, default=default_workers(),
                   help="parallel simulation processes on this machine (default: the number of CPUs)")
    p.add_argument("--baseline", action="append", default=[], metavar="KEY.PATH=VALUE",
                   help="compare every grid point with the point that has this value of a --grid key "
                        "(the others as they are), on the same seeds: paired differences and their 95%% "
                        "intervals in sweep_baseline.csv (repeatable, one per key)")
    add_scheduler(p)
    p.add_argument("--set", action="append", default=[], metavar="KEY.PATH=VALUE",
                   help="override a value at every grid point, e.g. --set tutors.count=30 (repeatable)")
    p.add_argument("--no-progress", action="store_true", help="no progress lines on stderr")
    return p


def parse_grid(items: list[str]) -> list[tuple[str, list[str], list]]:
    """`key.path=v1,v2` -> (key, raw values, parsed values); ValueError with a one-line message."""
    grid = []
    for item in items:
        if "=" not in item:
            raise ValueError(f"--grid {item}: expected key.path=v1,v2,...")
        key, raw = item.split("=", 1)
        key = key.strip()
        values = [v.strip() for v in raw.split(",")]
        if not key or not all(values):
            raise ValueError(f"--grid {item}: expected key.path=v1,v2,... with no empty value")
        if key in (k for k, _, _ in grid):
            raise ValueError(f"--grid {key}: given twice")
        parsed = []
        for v in values:
            try:
                parsed.append(tomllib.loads(f"v = {v}")["v"])
            except tomllib.TOMLDecodeError:
                parsed.append(v)   # a bare word is a string, as in --set
        if len(set(map(repr, parsed))) != len(parsed):
            raise ValueError(f"--grid {item}: a value is repeated")
        grid.append((key, values, parsed))
    return grid


def parse_baseline(items: list[str], grid) -> dict:
    """`key=value` of --baseline -> {key: parsed value}; ValueError with a one-line message unless
    the key is a --grid key and the value one of its values."""
    values = {k: parsed for k, _, parsed in grid}
    out = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key or not raw.strip():
            raise ValueError(f"--baseline {item}: expected key.path=value")
        if key not in values:
            raise ValueError(f"--baseline {key}: not a --grid key ({', '.join(values)})")
        try:
            value = tomllib.loads(f"v = {raw.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw.strip()
        if repr(value) not in map(repr, values[key]):
            raise ValueError(f"--baseline {item}: {raw.strip()} is not one of --grid {key}'s values "
                             f"({', '.join(map(str, values[key]))})")
        if key in out:
            raise ValueError(f"--baseline {key}: given twice")
        out[key] = value
    return out


@command
def main(argv: list[str]) -> int:
    args = sweep_parser().parse_args(argv)
    prog = "run.py sweep"
    if (code := check_sets(prog, args.set)) is not None:
        return code
    try:
        grid = parse_grid(args.grid)
        baseline = parse_baseline(args.baseline, grid)
    except ValueError as e:
        return fail(prog, str(e))
    from world.scenario import ScenarioError
    try:
        base, scenario = load(args.scenario, args.set)
    except ScenarioError as e:
        sys.stderr.write(f"{e}\n")
        return 2
    keys = [k for k, _, _ in grid]
    points, documents, problems = _grid_points(grid, base, args.scenario)
    if problems:
        sys.stderr.write("\n".join(problems) + "\n")
        return 2
    out = Path(args.out)
    if (code := check_out(prog, out)) is not None:
        return code
    if (code := check_scheduler(prog, args.scheduler)) is not None:
        return code
    seed = scenario.seed if args.seed is None else args.seed

    from output.writers import atomic_directory
    from pipeline import replications
    by_point = {repr(p): documents[i] for i, p in enumerate(points)}
    started = time.perf_counter()
    # into a temporary folder beside --out, moved into place when complete (as `run` does)
    with atomic_directory(out) as tmp:
        tidy, code = on_dask(prog, args.scheduler, lambda: replications.sweep(
            points, lambda p: by_point[repr(p)], args.scenario, args.replications, seed, workers=args.workers,
            scheduler=args.scheduler, scratch=None if remote(args.scheduler) else tmp,
            on_done=progress(not args.no_progress and sys.stderr.isatty(), "sweep")))
        if code is not None:
            raise Failed(code)
        _report(args, scenario, tidy, keys, baseline, len(points), seed, tmp, out, time.perf_counter() - started)
    return 0


def _grid_points(grid, base: dict, source: str) -> tuple[list[dict], list[dict], list[str]]:
    """Every grid point ({key: value}), its scenario document, and the problems found when the
    documents are validated: each problem once, with the first point that has it."""
    from world.scenario import ScenarioError, apply_overrides, validate_document
    keys = [k for k, _, _ in grid]
    problems: dict[str, str] = {}
    points, documents = [], []
    for combo in itertools.product(*[list(zip(raw, parsed)) for _, raw, parsed in grid]):
        sets = [f"{k}={raw}" for k, (raw, _) in zip(keys, combo)]
        doc = apply_overrides(base, sets, source="--grid")
        try:
            validate_document(doc, source)
        except ScenarioError as e:
            for line in str(e).splitlines():
                problems.setdefault(line, f"{line} (--grid {', '.join(sets)})")
        points.append({k: parsed for k, (_, parsed) in zip(keys, combo)})
        documents.append(doc)
    return points, documents, list(problems.values())


def _report(args, scenario, tidy, keys: list[str], baseline: dict, n_points: int, seed: int, folder: Path,
            out: Path, elapsed: float) -> None:
    """sweep.csv (and sweep_baseline.csv), the figures into `folder`, and the summary on stdout."""
    from analysis import whatif
    tidy.to_csv(folder / "sweep.csv", index=False, lineterminator="\n")
    figures = whatif.sweep_figures(tidy, keys, folder, source=args.scenario,
                                   processes=1 if args.workers <= 1 and not args.scheduler else 2)
    against = whatif.baseline_table(tidy, keys, baseline) if baseline else None
    if against is not None:
        against.to_csv(folder / "sweep_baseline.csv", index=False, lineterminator="\n")
    n_runs = n_points * args.replications
    where = f"Dask scheduler {args.scheduler}" if args.scheduler else \
        f"{min(args.workers, n_runs)} local worker{'s' if min(args.workers, n_runs) != 1 else ''}"
    print(f"sweep: {args.scenario} ({scenario.name!r}), {n_points} grid point{'s' if n_points != 1 else ''} x "
          f"{args.replications} replication{'s' if args.replications != 1 else ''} ("
          + (f"seeds {seed}..{seed + args.replications - 1}" if args.replications > 1 else f"seed {seed}")
          + " at every point)" + "".join(f"; --set {s}" for s in args.set))
    print()
    print(whatif.format_sweep(whatif.sweep_summary(tidy, keys), keys))
    print()
    print("  mean ± half-width of the 95% t-interval over replications (a count's cut at 0: sweep.csv "
          "has both bounds of every outcome)")
    if against is not None:
        print()
        print(f"against the baseline {', '.join(f'{k}={v}' for k, v in baseline.items())} (same seeds; paired):")
        print(whatif.format_baseline(against, keys))
    print(f"  wall time: {elapsed:.1f} s ({n_runs} runs on {where})")
    print(f"  files in: {out}/ (sweep.csv, " + ("sweep_baseline.csv, " if against is not None else "")
          + f"{len(figures)} figures sweep_<outcome>.png)")
