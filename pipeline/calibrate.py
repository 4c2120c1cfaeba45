"""The simulations of `run.py calibrate`: each candidate runs in-process on every seed (into a
temporary folder; several runs in parallel with --workers) and analysis/validate.py measures the
scored checks.

Search. Deterministic coordinate search from the base scenario's current values: each round tries,
for every parameter in the file's order, the current best value plus and minus `step` (a share of
the parameter's range, on a log scale with `log = true`; candidates rounded to 4 significant
figures, integers rounded), keeps the best strictly better one, and multiplies the step by
`shrink`; it stops when the budget of evaluations is spent or the step is below `min_step`. The
simulation's seeds are fixed, so the same file always takes the same path.
"""
from __future__ import annotations

import importlib
import multiprocessing
import sys
import tempfile
from pathlib import Path

from analysis.calibration_plan import Plan, fmt_value, first_line, override
from analysis.calibration_score import Evaluation, distance

IMPROVEMENT = 1e-9          # a candidate must beat the best by more than this


class SimulationFailed(Exception):
    pass


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
        return {"error": f"{type(e).__name__}: {first_line(e)}"[:300]}


def _run_task(task):
    return simulate_and_measure(*task)


class Evaluator:
    """Runs candidates (each on every seed), in parallel over a process pool when workers > 1.

    The pool forks this process after the simulator's modules are imported, so the runs of one
    calibration use the code as it was when the calibration started, even while the working tree
    changes (modules the pipeline imports lazily are imported first, below)."""

    def __init__(self, plan: Plan, workers: int):
        importlib.import_module("pipeline.one_run")      # imported before forking the workers
        importlib.import_module("analysis.validate")
        from analysis import targets as T
        self.plan = plan
        self.checks = {c.id: c for c in T.CHECKS}
        # fork, not the start method mesa forces on import (spawn, which re-imports from disk); a
        # Pool, not an executor: a stopped calibration terminates the runs in progress at once
        from analysis.cpus import ignore_ctrl_c
        self.pool = (multiprocessing.get_context("fork").Pool(workers, initializer=ignore_ctrl_c)
                     if workers > 1 else None)

    def close(self, cancel: bool = False):
        """The pool's end: at once when `cancel` (Ctrl-C, SIGTERM), else once its work is done."""
        if self.pool:
            if cancel:
                self.pool.terminate()
            else:
                self.pool.close()
            self.pool.join()
            self.pool = None

    def document(self, values: dict) -> dict:
        return override(self.plan.document, [f"{k}={v!r}" for k, v in values.items()])

    def evaluate(self, candidates: list[dict]) -> list[Evaluation]:
        plan = self.plan
        tasks = [(self.document(values), seed, plan.scored, str(plan.base_path))
                 for values in candidates for seed in plan.seeds]
        if self.pool:
            outs = self.pool.map(_run_task, tasks, chunksize=1)
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


def _progress(k: int, budget: int, ev: Evaluation, best: float, changed: list[str], new_best: bool):
    if ev.error:
        what = f"FAILED ({ev.error})"
    else:
        fails = "/".join(str(len(f)) for f in ev.failing())
        what = f"score {ev.score:.4f}, failing {fails}"
    vals = ", ".join(f"{key}={fmt_value(ev.values[key])}" for key in changed) or "base values"
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
