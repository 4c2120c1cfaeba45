"""`run.py calibrate CALIBRATION.toml`: tune a few scenario parameters towards the spec's checks.

The calibration file, the score, the search and the tuned file are described in
docs/calibration.md. The code: the file and its plan in analysis/calibration_plan.py, the score
and the reports in analysis/calibration_score.py, the runs and the coordinate search in
pipeline/calibrate.py, the tuned scenario in analysis/tuned_scenario.py.

Exit status: 0 done, 1 a simulation failed, 2 a bad argument or calibration file (one line on
stderr, `file:key.path: expected ..., found ...`).
"""
from __future__ import annotations

import sys
from pathlib import Path

from analysis.calibration_plan import CalibrationError, Plan, fmt_value, first_line, prepare
from analysis.calibration_score import changes_report, failing_report
from analysis.tuned_scenario import tuned_document, write_text_atomic
from commands.cli import OneLineParser, stop_code
from commands.cli import positive_int as _positive_int
from pipeline.calibrate import Evaluator, SimulationFailed, coordinate_search

PROG = "run.py calibrate"


def parser() -> OneLineParser:
    p = OneLineParser(prog=PROG, description="Tune scenario parameters so the runs land closer on "
                      "the spec's checks (a deterministic coordinate search). See docs/calibration.md.")
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
    if not args.dry_run and (problem := _out_problem(out, plan)):
        sys.stderr.write(f"{PROG}: error: --out {out}: {problem}\n")
        return 2
    for note in plan.notes:
        print(f"calibrate: note: {note}", file=sys.stderr)

    print(f"calibrate {plan.path}: base {plan.base_path}, seeds {', '.join(map(str, plan.seeds))}, "
          f"{len(plan.scored)} checks scored, {len(plan.params)} parameters"
          + ("" if args.dry_run else f", budget {budget} evaluations"), flush=True)
    evaluator = Evaluator(plan, args.workers)
    try:
        if args.dry_run:
            return _dry_run(plan, evaluator)
        base, best, used = coordinate_search(plan, evaluator, budget)
    except SimulationFailed as e:
        sys.stderr.write(f"calibrate: {e}\n")
        return 1
    except KeyboardInterrupt as stop:
        evaluator.close(cancel=True)
        said, code = stop_code(stop)
        sys.stderr.write(f"calibrate: {said}\n")
        return code
    finally:
        evaluator.close()

    write_text_atomic(out, tuned_document(plan, out, base, best, used, budget))
    _print_outcome(plan, evaluator, base, best, used)
    print(f"wrote {out}")
    return _check_loads(out, plan)


def _out_problem(out: Path, plan: Plan) -> str | None:
    """Why the tuned file cannot be written to `out`, or None."""
    if out.exists() and not out.is_file():
        return "exists and is not a file"
    if not out.parent.is_dir():
        return f"no such folder {out.parent}"
    if out.resolve() in (plan.base_path.resolve(), plan.path.resolve()):
        return (f"would overwrite the "
                f"{'base scenario' if out.resolve() == plan.base_path.resolve() else 'calibration file'}")
    return None


def _dry_run(plan: Plan, evaluator: Evaluator) -> int:
    """--dry-run: score the base scenario and print its failing checks per seed."""
    base = evaluator.evaluate([{p.key: p.base for p in plan.params}])[0]
    if base.error:
        sys.stderr.write(f"calibrate: the base scenario failed: {base.error}\n")
        return 1
    print(f"base score {base.score:.4f} (mean over seeds), failing checks "
          + "/".join(str(len(f)) for f in base.failing()) + " per seed")
    print(failing_report(plan, base, evaluator.checks))
    return 0


def _print_outcome(plan: Plan, evaluator: Evaluator, base, best, used: int) -> None:
    """The score before and after, the tuned values, and which checks changed."""
    fails = lambda ev: "/".join(str(len(f)) for f in ev.failing())  # noqa: E731
    print(f"score {base.score:.4f} -> {best.score:.4f} (mean over seeds); failing checks per seed "
          f"{fails(base)} -> {fails(best)}; {used} evaluations")
    print("tuned values:")
    width = max(len(p.key) for p in plan.params)
    for p in plan.params:
        a = best.values[p.key]
        print(f"  {p.key:<{width}}  {fmt_value(p.base):>10} -> {fmt_value(a):<10}"
              + ("" if a != p.base else "  (unchanged)"))
    print(changes_report(plan, base, best, evaluator.checks))
    print("after, per seed:")
    print(failing_report(plan, best, evaluator.checks))


def _check_loads(out: Path, plan: Plan) -> int:
    """The tuned file must load as a scenario. When it does not because the base itself no longer
    does (edited while the calibration ran), that is said, not blamed on the tuned file."""
    from world.scenario import ScenarioError, load
    try:
        load(out)
        return 0
    except ScenarioError as e:
        problem = first_line(e)
    try:
        load(plan.base_path)
    except ScenarioError as e:
        sys.stderr.write(f"calibrate: note: {out} does not load because its base does not (changed "
                         f"while calibrating?): {first_line(e)}\n")
        return 0
    sys.stderr.write(f"calibrate: the tuned file does not load: {problem}\n")
    return 1
