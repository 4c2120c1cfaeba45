"""`run.py compare A.toml B.toml`: two scenarios over the same seeds, paired differences."""
from __future__ import annotations

import sys
import time
from pathlib import Path

from commands.cli import OneLineParser
from commands.cli import non_negative_int as _non_negative_int
from commands.cli import positive_int as _positive_int
from commands.whatif import (Failed, add_scheduler, check_out, check_scheduler, check_sets, command, default_workers,
                             fail, load, on_dask, progress, remote)


def compare_parser() -> OneLineParser:
    p = OneLineParser(
        prog="run.py compare",
        description="Run two scenarios over the same seeds S, S+1, ... (common random numbers: every "
                    "agent's random streams are keyed by seed, agent and purpose, so a difference is "
                    "the what-if's effect, not noise) and print, for the key outcomes, A, B, the mean "
                    "difference B - A and its 95% t-interval across replications. Writes compare.csv "
                    "(that table), compare_runs.csv (every run's outcomes) and compare.png to --out.")
    p.add_argument("a", metavar="A.toml", help="the baseline scenario")
    p.add_argument("b", metavar="B.toml", help="the what-if scenario")
    p.add_argument("--replications", "-n", type=_positive_int, default=3, help="runs of each scenario (default 3)")
    p.add_argument("--seed", type=_non_negative_int, help="first seed (default: A's seed)")
    p.add_argument("--out", default="compare", help="output folder (default: compare)")
    p.add_argument("--workers", type=_positive_int, default=default_workers(),
                   help="parallel simulation processes (default: the number of CPUs)")
    add_scheduler(p)
    p.add_argument("--independent", action="store_true",
                   help="give B other seeds than A (S+N, S+N+1, ...): no common random numbers, for "
                        "comparing the variance of the two designs")
    p.add_argument("--set", action="append", default=[], metavar="KEY.PATH=VALUE",
                   help="override a value in both scenarios, e.g. --set tutors.count=30 (repeatable)")
    p.add_argument("--keep-runs", action="store_true", help="keep every run's tables in OUT/runs/{A,B}_R/")
    p.add_argument("--no-progress", action="store_true", help="no progress lines on stderr")
    return p


@command
def main(argv: list[str]) -> int:
    args = compare_parser().parse_args(argv)
    prog = "run.py compare"
    if (code := check_sets(prog, args.set)) is not None:
        return code
    from world.scenario import ScenarioError
    loaded, problems = [], []
    for path in (args.a, args.b):          # the problems of both files at once
        try:
            loaded.append(load(path, args.set))
        except ScenarioError as e:
            problems.append(str(e))
    if problems:
        sys.stderr.write("\n".join(dict.fromkeys(problems)) + "\n")
        return 2
    (doc_a, sc_a), (doc_b, sc_b) = loaded
    out = Path(args.out)
    if (code := check_out(prog, out)) is not None:
        return code
    if (code := check_scheduler(prog, args.scheduler)) is not None:
        return code
    if sc_a.calendar.lookahead_days != sc_b.calendar.lookahead_days:
        return fail(prog, f"A looks {sc_a.calendar.lookahead_days} days past the window and B "
                          f"{sc_b.calendar.lookahead_days}: their churn is not the same outcome; "
                          f"align them with --set calendar.lookahead_days=N")
    seed = sc_a.seed if args.seed is None else args.seed

    from analysis import whatif
    from output.writers import atomic_directory
    from pipeline import replications
    a = whatif.Arm("A", args.a, doc_a)
    b = whatif.Arm("B", args.b, doc_b)
    started = time.perf_counter()
    # everything goes into a temporary folder beside --out, moved into place when complete: an
    # existing folder stays as it was until then, and nothing of an earlier compare survives
    with atomic_directory(out) as tmp:
        done, code = on_dask(prog, args.scheduler, lambda: replications.compare(
            a, b, args.replications, seed, independent=args.independent, workers=args.workers,
            scheduler=args.scheduler, keep_runs=tmp / "runs" if args.keep_runs else None,
            scratch=None if remote(args.scheduler) else tmp,
            on_done=progress(not args.no_progress and sys.stderr.isatty(), "compare")))
        if code is not None:
            raise Failed(code)
        runs, table = done
        elapsed = time.perf_counter() - started
        table.to_csv(tmp / "compare.csv", index=False, lineterminator="\n")
        runs.to_csv(tmp / "compare_runs.csv", index=False, lineterminator="\n")
        whatif.compare_figure(runs, table, a, b, tmp / "compare.png")
    n = args.replications
    seeds_b = f"{seed + n}..{seed + 2 * n - 1} (independent seeds)" if args.independent else "the same seeds (common random numbers)"
    print(f"compare: A = {args.a} ({sc_a.name!r}), B = {args.b} ({sc_b.name!r})")
    print(f"  {n} replication{'s' if n != 1 else ''}: A seeds {seed}..{seed + n - 1}, B {seeds_b}; "
          f"{sc_a.tutors.count} tutors, {sc_a.calendar.window_days}-day window"
          + ("".join(f"; --set {s}" for s in args.set)))
    print()
    print(whatif.format_table(table))
    print()
    print("  * the 95% interval of B - A excludes 0" + ("" if n > 1 else "; one replication gives no interval"))
    where = f"Dask scheduler {args.scheduler}" if args.scheduler else \
        f"{min(args.workers, 2 * n)} worker{'s' if min(args.workers, 2 * n) != 1 else ''}"
    print(f"  wall time: {elapsed:.1f} s ({2 * n} runs, {where})")
    print(f"  files in: {out}/ (compare.csv, compare_runs.csv, compare.png"
          + (", runs/" if args.keep_runs else "") + ")")
    return 0
