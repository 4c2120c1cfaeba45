"""Causes have effects: raise a trait or a scale in the scenario, same seeds, and see the effect
in the tables.
"""
from __future__ import annotations

import json

import pandas as pd

from tests.conftest import DEV_SEED, simulate, simulate_all

def test_more_no_show_tutors_raise_no_shows_and_churn(tmp_path):
    """The no-show persona's share 0.08 -> 0.30 (taken from the solid performers): same seeds,
    40 tutors. Mean no_show_count and mean churn_probability both rise."""
    shift = ("--set", "tutors.personas.no_show_problem.share=0.30",
             "--set", "tutors.personas.solid_performer.share=0.28")
    seeds = (DEV_SEED, DEV_SEED + 1)
    jobs = []
    for seed in seeds:
        base = ("--mode", "dev", "--tutors", 40, "--seed", seed, "--no-event-log")
        jobs += [(tmp_path / f"base{seed}", base), (tmp_path / f"more{seed}", base + shift)]
    outs = simulate_all(jobs)

    def means(folders):
        p = pd.concat([pd.read_csv(f / "tutor_profiles.csv") for f in folders])
        a = pd.concat([pd.read_csv(f / "tutor_aggregates.csv") for f in folders])
        return p["no_show_count"].mean(), a["churn_probability"].mean()

    base_ns, base_churn = means(outs[0::2])
    more_ns, more_churn = means(outs[1::2])
    assert more_ns > base_ns, f"mean no_show_count did not rise: {base_ns:.3f} -> {more_ns:.3f}"
    assert more_churn > base_churn, f"mean churn_probability did not rise: {base_churn:.3f} -> {more_churn:.3f}"


def test_no_show_scale_raises_the_tutor_no_show_share(dev_run, tmp_path):
    document = json.loads((dev_run / "run.json").read_text())["scenario_document"]
    scale = float(document["behaviour"]["no_show_scale"])
    raised_scale = scale * 10 if scale > 0 else 1.0
    out = simulate(tmp_path / "scaled", "--mode", "dev", "--seed", DEV_SEED, "--no-event-log",
                   "--set", f"behaviour.no_show_scale={raised_scale}")
    share = lambda f: (~pd.read_csv(f / "sessions.csv")["tutor_showed"].astype(bool)).mean()  # noqa: E731
    base, raised = share(dev_run), share(out)
    assert raised > base, f"no_show_scale {scale} -> {raised_scale}: tutor no-show share {base:.4f} -> {raised:.4f}"
