"""A run's report.html, built in the process that wrote the tables, from the tables it kept
(output/run_folder.py keeps them, in memory or on disk; analysis/validate.py `from_frames` reads
them as the files would be read): the page `run.py report DATA` makes again from the folder, the
same bytes.

    early(stop)    validate's checks that need no churn labels, then validate's figures, one at a
                   time, until `stop()` says to (the run's second process makes them once the
                   simulating process has let go of its platform: pipeline/worker.py);
    finish(jobs)   after the churn labels and the model: the checks left and realised churn by
                   cause (shared by `jobs` processes) while the traced tutors are read and drawn,
                   the figures left, and the page.

The report never costs the run its tables: a failure is reported (`finish` returns it), not raised.
"""
from __future__ import annotations

import json
import time
from pathlib import Path


def preload() -> None:
    """What building the report imports, loaded ahead by the run's second process while it waits
    for the window (pipeline/worker.py). Its figures are drawn without matplotlib
    (analysis/chart/svg.py)."""
    import analysis.chart.svg  # noqa: F401
    import analysis.report_html  # noqa: F401
    import analysis.report_html.traces  # noqa: F401
    import analysis.trace.plot  # noqa: F401
    import analysis.validation_figures  # noqa: F401 - preloaded


class RunReport:
    def __init__(self, files):
        self.files = files                  # the run's output.run_folder.RunFolder, tables written
        self.inp = None
        self.data = None
        self.done: dict[int, object] = {}   # validate's results by the check's index
        self.error: str | None = None
        self.seconds = 0.0

    def early(self, stop, figures: bool = True) -> None:
        """What needs the tables only, until stop() is true (checked between steps); the figures
        too unless told not to (they are then drawn by `finish`, with its processes)."""
        started = time.perf_counter()
        try:
            self._early(stop, figures)
        except Exception as e:  # noqa: BLE001 - finish() says so; the run goes on
            self.error = f"{type(e).__name__}: {e}".splitlines()[0]
        self.seconds += time.perf_counter() - started

    def _tables(self) -> None:
        """The run's tables as validate reads them, once."""
        from analysis import validate
        from analysis.report_html import Inputs
        from output.run_folder import manifest
        files, w = self.files, self.files.window
        if self.data is None:
            self.inp = Inputs()
            # run.json as it will be read back (its rows are not all known yet; no check reads them)
            now = json.loads(json.dumps(manifest(w.scenario, w.document, dict(files.rows), w.calendar), default=str))
            self.data = validate.from_frames(files.folder, files.frames, now, consume=True)
            files.frames.clear()            # the tables the report does not read: their memory goes

    def _early(self, stop, figures: bool) -> None:
        from analysis import targets as T
        from analysis import validate
        self._tables()
        todo = [i for i, check in enumerate(T.CHECKS) if i not in self.done and "labels" not in check.needs]
        last_on = {T.CHECKS[i].view: i for i in todo}       # the last check measured on each view
        for i in todo:
            if stop():
                return
            self.done[i] = validate.evaluate_one(T.CHECKS[i], self.data)
            view = T.CHECKS[i].view
            if last_on.get(view) == i and view not in KEPT_VIEWS:
                self.data.forget_view(view)     # at platform size the joined sessions are 75 MB
        if figures:
            self._early_figures(stop)
            if all(name in self.inp.figures for name in FIGURES_EARLY):
                self._release()

    def early_shared(self, jobs: int) -> None:
        """`early` to its end, its checks shared with a forked helper (analysis/report_html/jobs.py),
        then its figures here; the tables the rest does not read then go, before `finish` reads
        the traced tutors' event log."""
        started = time.perf_counter()
        try:
            self._early_shared(jobs)
        except Exception as e:  # noqa: BLE001 - finish() says so; the run goes on
            self.error = f"{type(e).__name__}: {e}".splitlines()[0]
        self.seconds += time.perf_counter() - started

    def _early_shared(self, jobs: int) -> None:
        from analysis import targets as T
        from analysis.report_html.inputs import check_jobs, check_results
        from analysis.report_html.jobs import run_jobs
        self._tables()
        self.inp.data = self.data               # what the checks' jobs read
        skip = set(self.done) | {i for i, check in enumerate(T.CHECKS) if "labels" in check.needs}
        checks = check_jobs(self.inp, skip)
        out = run_jobs({name: job for name, (_, job) in checks.items()}, jobs)
        self.done.update(check_results(self.inp, checks, out))
        for view in {T.CHECKS[i].view for i in self.done} - KEPT_VIEWS:
            self.data.forget_view(view)
        self._early(stop=lambda: False, figures=True)

    def _release(self) -> None:
        """Every figure and every check that needs no label is made: of the tables, keep those the
        checks left read and those the page's sections read (the traced tutors' and the personas'),
        and let the rest go (at platform size the sessions and events are most of the second
        process's memory while the rest of the page is made)."""
        from analysis import targets as T
        left = {name for i, check in enumerate(T.CHECKS) if i not in self.done for name in check.needs}
        self.data.keep(left | SECTION_TABLES)

    def _early_figures(self, stop) -> None:
        """validate's figures that read the tables and the results of checks that need no labels
        (FIGURES_EARLY), one at a time until stop()."""
        from analysis.figure_bytes import svg
        from analysis.validation_figures import FIGURES, draw
        results = [self.done[i] for i in sorted(self.done)]
        for name in FIGURES_EARLY:
            if name in FIGURES and name not in self.inp.figures:
                if stop():
                    return
                fig = draw(name, self.data, results)
                self.inp.figures[name] = None if fig is None else svg(fig)

    def finish(self, jobs: int) -> dict:
        """The page into the run's folder: {"seconds", "bytes", "early_seconds"} or {"error"}."""
        started = time.perf_counter()
        early = self.seconds
        try:
            if self.error:
                raise RuntimeError(self.error)
            self._tables()
            path = self._finish(jobs)
        except Exception as e:  # noqa: BLE001 - the report must never cost the run its tables
            return {"error": f"{type(e).__name__}: {e}".splitlines()[0]}
        self.seconds += time.perf_counter() - started
        return {"seconds": round(self.seconds, 3), "early_seconds": round(early, 3), "bytes": path.stat().st_size}

    def _finish(self, jobs: int) -> Path:
        from analysis import report_html
        from analysis import validate
        from analysis.report_html import inputs
        folder, d, inp = self.files.folder, self.data, self.inp
        # the churn labels are written now: read as the files will be
        labels = validate.from_frames(folder, {k: v for k, v in self.files.frames.items() if "churn_labels" in k}, None)
        d.tables.update(labels.tables)
        inp.data = d
        d.manifest = inp.manifest = json.loads((folder / "run.json").read_text(encoding="utf-8"))
        inp.rows = dict(inp.manifest.get("rows", {}))
        inputs.read_model(folder, inp)
        inputs.draw_the_rest(folder, inp, jobs, self.done)     # the checks left too
        return report_html.write(inp, folder)


# views the figures read after the checks, or measures read without saying (analysis/targets/views.py)
KEPT_VIEWS = frozenset({"completed", "sessions", "tutors", "activity", "personas", "personas+activity"})

# the tables the page's sections read themselves (analysis/report_html/traces.py, figures_section.py)
SECTION_TABLES = frozenset({"traits", "profiles", "aggregates", "labels"})

# validate's figures that read no churn label and no result of a check that needs one (the one
# check that needs the labels, 1.33, is a row rule: no figure reads it), the cheapest first: drawn early
FIGURES_EARLY = ("time_patterns", "distributions_tutors", "correlations", "categorical", "personas",
                 "distributions_sessions")
