"""After the look-ahead: a run folder's churn labels, run.json and, if the scenario trains one,
the churn model. Called by the worker (pipeline/worker.py) or, with one job, by the run itself
(pipeline/one_run.py): the same steps, the same bytes."""
from __future__ import annotations


def finish(files, after: dict, jobs: int) -> tuple:
    """`files`: the run's output.run_folder.RunFolder, its tables written; `after`: the
    look-ahead's events (pipeline/one_run.py `lookahead_events`). Returns (rows written, the
    model's metrics, one line on it); the metrics and the line are None without a model."""
    rows = files.write_labels(after)
    scenario = files.window.scenario
    if not scenario.outputs.model:
        return rows, None, None
    from analysis.churn import describe, train_safely
    metrics = train_safely(files.folder, scenario.seed, jobs)
    return rows, metrics, describe(metrics)
