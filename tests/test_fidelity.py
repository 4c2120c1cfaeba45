"""Production, as calibrated, lands on the spec: validate's statistical checks on real runs.

The claim of docs/calibration.md: on the seeds production was calibrated on (1-3), every check of
`run.py validate` passes, except those a documented spec reading says cannot meet the spec's own
number (reported READING); on a seed out of sample, at most 5% of the checks fail. The bands are
the spec's, widened by two standard errors (analysis/targets/tolerance.py).
"""
from __future__ import annotations

from analysis import validate as V


def _results(folder):
    return V.evaluate(V.load(folder))


def _show(results, status):
    return [f"{r.check.id} {r.check.claim}: {r.text} against {r.target_text}"
            for r in results if r.status == status]


def test_a_calibration_seed_passes_every_check_but_the_documented_readings(calibration_run):
    results = _results(calibration_run)
    assert len(results) >= 240
    assert not _show(results, "FAIL")
    assert not _show(results, "SKIP")
    assert all(r.check.reading for r in results if r.status == "READING")


def test_the_default_seed_out_of_sample_fails_at_most_five_percent(production_run):
    results = _results(production_run)
    failed = _show(results, "FAIL")
    assert len(failed) <= 0.05 * len(results), failed
