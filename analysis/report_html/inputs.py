"""What the page is made of (`Inputs`): the run's tables and validate's results, the churn model's
metrics and figures, realised churn by cause, what-ifs, the traced tutors and the drawn figures;
gathered from a folder (`from_folder`, `run.py report`) or, in a run, from the tables it has in
memory (pipeline/run_report.py). The same inputs give the same page."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from analysis.report_html.whatif_section import find as find_whatifs
from analysis.report_html.whatif_section import read as read_whatif
from analysis.report_html.jobs import run_jobs
from analysis.validate import summary_line


@dataclass
class Inputs:
    data: object = None                         # analysis.validate.Data, or None (no run tables here)
    results: list = field(default_factory=list)
    manifest: dict | None = None
    rows: dict = field(default_factory=dict)    # rows of each table (run.json's)
    model: dict | None = None                   # model/metrics.json
    model_figures: dict = field(default_factory=dict)
    causes: dict | None = None                  # analysis.churn.causes.churn_by_cause
    causes_note: str | None = None
    whatifs: list = field(default_factory=list)
    run: object = None                          # analysis.trace.run_folder.Run, when the event log is here
    stories: list = field(default_factory=list)     # (traces.Story, why)
    traces_note: str | None = None
    figures: dict = field(default_factory=dict)     # figure name -> SVG bytes, None or why not drawn

    def title(self) -> str:
        m = self.manifest or {}
        if m:
            return f"tutorsim report: {m.get('scenario', '?')}, seed {m.get('seed', '?')}"
        return "tutorsim report" + (f": {self.whatifs[0]['kind']}" if self.whatifs else "")

    def headlines(self) -> list[str]:
        from analysis.report_html.html import esc
        out = []
        if self.results:
            out.append(f'<a href="#validate">Validate</a>: {esc(summary_line(self.results))}.')
        if self.model and self.model.get("status") == "trained":
            from analysis.churn.training import describe
            out.append(f'<a href="#churn">Churn model</a>: {esc(describe(self.model)[len("churn model: "):])}.')
        if self.causes:
            c = self.causes["churn"]
            out.append(f'<a href="#churn">Realised churn</a>: {c["churned"]} of {c["n"]} active tutors stopped within '
                       f'{self.causes["horizon_days"]} days.')
        if self.whatifs:
            out.append(f'<a href="#whatif">What-if</a>: {len(self.whatifs)} folder(s): '
                       + ", ".join(esc(w["name"]) for w in self.whatifs) + ".")
        if self.stories:
            out.append('<a href="#traces">Traces</a>: ' + ", ".join(f"{esc(s.agent)} ({esc(s.role)})" for s, _ in self.stories) + ".")
        return out or ["Nothing here to report: not a run folder, and no what-if."]


# --------------------------------------------------------------------------- the pieces


def read_model(folder: Path, inp: Inputs) -> None:
    """model/metrics.json and the PNGs the model drew."""
    path = folder / "model" / "metrics.json"
    if path.is_file():
        inp.model = json.loads(path.read_text(encoding="utf-8"))
        for name in ("calibration.png", "feature_importance.png"):
            png = folder / "model" / name
            if png.is_file():
                inp.model_figures[name] = png.read_bytes()


def causes(folder: Path) -> dict:
    """Realised churn by cause (analysis/churn/causes.py) of a run folder: {"causes": ...} or
    {"note": why not}. A job of `draw_the_rest`: what it returns is plain data."""
    if not (folder / "ground_truth" / "churn_labels.csv").is_file():
        return {"note": "no ground_truth/churn_labels.csv"}
    from analysis.churn.causes import churn_by_cause
    from output.reading import BadInput
    try:
        return {"causes": churn_by_cause([folder])}
    except BadInput as e:
        return {"note": str(e).replace(str(folder), "DATA")}


def read_causes(folder: Path, inp: Inputs, found: dict | None = None) -> None:
    found = causes(folder) if found is None else found
    if isinstance(found, dict):
        inp.causes, inp.causes_note = found.get("causes"), found.get("note")
    else:                                   # the job failed: its error
        inp.causes_note = str(found)


def read_traces(folder: Path, inp: Inputs) -> None:
    """The traced tutors (traces.pick), from the event log."""
    from analysis.report_html.traces import pick, story
    picks = pick(inp.data)
    if not picks:
        inp.traces_note = "the folder has no tutor tables (tutor_traits, profiles, aggregates) to pick from"
        return
    if not (folder / "events.npz").is_file():
        inp.traces_note = "no events.npz (the run was made with --no-event-log)"
        return
    from analysis.trace.run_folder import Run
    inp.run = Run(folder, need_students=False)
    inp.stories = [(story(inp.run, role, agent), why) for role, agent, why in picks]


def figure_jobs(inp: Inputs) -> dict:
    """validate's figures still to draw, as jobs."""
    from analysis.figure_bytes import svg
    from analysis.validation_figures import FIGURES, draw
    if inp.data is None:
        return {}
    def job(name: str):
        fig = draw(name, inp.data, inp.results)
        return None if fig is None else svg(fig)
    return {name: (lambda name=name: job(name)) for name in FIGURES if name not in inp.figures}


def trace_jobs(inp: Inputs) -> dict:
    """The traced tutors' timelines, as jobs."""
    from analysis.report_html.traces import timeline_svg
    return {f"trace_{s.agent}": (lambda s=s: timeline_svg(inp.run, s)) for s, _ in inp.stories}


CHECK_CHUNKS = 6        # validate's checks are shared out in this many runs of consecutive checks


def check_jobs(inp: Inputs, done) -> dict[str, tuple[list[int], object]]:
    """validate's checks not in `done` (indexes of checks made, or not to make now: a set, or
    {index: Result}), in runs of consecutive checks (which
    read the same views): {name: (indexes, job)}; a job returns analysis.validate.evaluate_indexed's
    rows, plain data a helper process sends back."""
    from analysis import targets as T
    from analysis.validate import evaluate_indexed
    left = [i for i in range(len(T.CHECKS)) if i not in done]
    size = -(-len(left) // CHECK_CHUNKS) if left else 1
    chunks = [left[k:k + size] for k in range(0, len(left), size)]
    return {f"checks_{k}": (chunk, lambda chunk=chunk: evaluate_indexed(inp.data, chunk)) for k, chunk in enumerate(chunks)}


def check_results(inp: Inputs, checks: dict, out: dict) -> dict:
    """{index: Result} of `check_jobs`' checks, from what `run_jobs` returned for them (taken out
    of `out`); a run of checks whose job failed as a whole is made here, each check's error its own."""
    from analysis.validate import evaluate_indexed, from_indexed
    results = {}
    for name, (chunk, _) in checks.items():
        rows = out.pop(name)
        if not isinstance(rows, list):
            rows = evaluate_indexed(inp.data, chunk)
        results.update(from_indexed(rows))
    return results


def draw_the_rest(folder: Path, inp: Inputs, processes: int, done: dict | None = None) -> None:
    """validate's checks not made yet (`done`: {index: Result} already made), realised churn by
    cause, the traced tutors and every figure not drawn yet. The checks and realised churn are
    jobs a forked helper and this process share, while this process first reads the event log for
    the traced tutors and draws their timelines; validate's figures, which read the checks'
    results, come last (a few hundredths of a second)."""
    from analysis import targets as T
    done = dict(done or {})

    def then() -> dict:
        if inp.data is not None:
            read_traces(folder, inp)
        return trace_jobs(inp)
    checks = check_jobs(inp, done) if inp.data is not None else {}
    jobs = {"causes": lambda: causes(folder)} if inp.data is not None else {}
    jobs.update({name: job for name, (_, job) in checks.items()})
    out = run_jobs(jobs, processes, then)
    if "causes" in out:
        read_causes(folder, inp, out.pop("causes"))
    done.update(check_results(inp, checks, out))
    if inp.data is not None:
        inp.results = [done[i] for i in range(len(T.CHECKS))]
    inp.figures.update(out)
    inp.figures.update(run_jobs(figure_jobs(inp), 1))


def from_folder(folder: Path, processes: int = 2) -> Inputs:
    """Everything the page shows of `folder`: a run folder, a compare or sweep folder, or one that
    holds them. Raises analysis.validate.LoadError on a table that cannot be parsed."""
    from analysis import validate
    folder = Path(folder)
    inp = Inputs()
    d = validate.load(folder)
    if d.spec_tables():
        inp.data = d
    inp.manifest = d.manifest
    inp.rows = dict((d.manifest or {}).get("rows", {}))
    read_model(folder, inp)
    inp.whatifs = [read_whatif(f, folder) for f in find_whatifs(folder)]
    draw_the_rest(folder, inp, processes)
    return inp
