"""`run.py churn` (analysis/churn/causes.py): realised churn with and without each signal, by
persona, and the AUC of the spec's churn_probability, pooled over run folders.

- The intervals against published values (Newcombe 1998, Statistics in Medicine 17: the single
  proportion paper, Table I, and the difference paper, Table II, method 10) and the Hanley-McNeil
  standard error against the exact variance of the Mann-Whitney statistic at AUC 0.5.
- On a real dev run with a look-ahead long enough for tutors to stop, every count adds up against
  the run's own tables, shares lie in their intervals, and pooling a copy doubles the counts and
  keeps the shares.
- Folders of different horizons, a folder without labels, one without look-ahead: refused, one
  line, exit 2.
"""
from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.churn.causes import (churn_by_cause, describe_causes, hanley_mcneil_se, newcombe, rank_order,
                                   wilson)
from analysis.targets.personas import PERSONAS
from output.reading import BadInput
from tests.conftest import DEV_SEED, run_cli, simulate

LOOKAHEAD = 60                   # days: enough for some of the dev scenario's tutors to stop
# the dev scenario with more tutors, production's sessions per tutor and a 30-day window (~4 s),
# so that every signal fires among the tutors still active at the window's end
RUN_ARGS = ("--mode", "dev", "--seed", DEV_SEED, "--no-model", "--tutors", 100, "--sessions-per-day", 500,
            "--days", 30, "--set", f"calendar.lookahead_days={LOOKAHEAD}")
NO_COPY = shutil.ignore_patterns("events.npz", "model")


# --- the intervals ---------------------------------------------------------------------------

@pytest.mark.parametrize("k, n, lo, hi", [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605),
                                          (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718)])
def test_wilson_matches_newcombe_1998_table_1(k, n, lo, hi):
    got = wilson(k, n)
    assert got == pytest.approx((lo, hi), abs=5e-5)
    assert got[0] <= k / n <= got[1]


@pytest.mark.parametrize("a, b, lo, hi", [((56, 70), (48, 80), 0.0524, 0.3339),
                                          ((9, 10), (3, 10), 0.1705, 0.8090),
                                          ((6, 7), (2, 7), 0.0582, 0.8062),
                                          ((5, 56), (0, 29), -0.0381, 0.1926),
                                          ((0, 10), (0, 20), -0.1611, 0.2775)])
def test_newcombe_hybrid_score_matches_newcombe_1998_table_2(a, b, lo, hi):
    d, got_lo, got_hi = newcombe(*a, *b)
    assert d == pytest.approx(a[0] / a[1] - b[0] / b[1])
    assert (got_lo, got_hi) == pytest.approx((lo, hi), abs=5e-5)


def test_empty_groups_give_no_interval():
    assert all(math.isnan(v) for v in wilson(0, 0))
    assert all(math.isnan(v) for v in newcombe(3, 10, 0, 0))


@pytest.mark.parametrize("n_pos, n_neg", [(6, 130), (50, 50), (3, 1000)])
def test_hanley_mcneil_at_chance_is_the_exact_mann_whitney_variance(n_pos, n_neg):
    exact = math.sqrt((n_pos + n_neg + 1) / (12 * n_pos * n_neg))
    assert hanley_mcneil_se(0.5, n_pos, n_neg) == pytest.approx(exact)
    assert hanley_mcneil_se(0.9, n_pos, n_neg) < exact          # narrower away from chance


# --- a real run ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    """A dev run whose labels look LOOKAHEAD days ahead (no model: not needed here)."""
    return simulate(tmp_path_factory.mktemp("churn_causes") / "out", *RUN_ARGS)


@pytest.fixture(scope="module")
def result(run) -> dict:
    return churn_by_cause([run])


def _tables(run: Path):
    profiles = pd.read_csv(run / "tutor_profiles.csv")
    profiles = profiles[["tutor_id", "active_status", "reschedule_rate", "no_show_count"]]
    aggregates = pd.read_csv(run / "tutor_aggregates.csv")
    labels = pd.read_csv(run / "ground_truth" / "churn_labels.csv")
    traits = pd.read_csv(run / "ground_truth" / "tutor_traits.csv")
    pop = profiles[profiles["active_status"].astype(str) == "True"]
    pop = (pop.merge(aggregates, on="tutor_id").merge(labels, on="tutor_id")
           .merge(traits[["tutor_id", "persona"]], on="tutor_id"))
    pop["churned"] = pop["churned"].astype(str) == "True"
    return profiles, pop


def _in_interval(d: dict) -> bool:
    return d["lo"] - 1e-12 <= d["share"] <= d["hi"] + 1e-12


def test_counts_add_up_against_the_run_tables(run, result):
    profiles, pop = _tables(run)
    assert result["tutors"] == len(profiles) and result["population"] == len(pop)
    assert result["active"] == len(pop)
    assert result["horizon_days"] == LOOKAHEAD and result["seeds"] == [DEV_SEED]
    churned = int(pop["churned"].sum())
    assert churned > 0, "no tutor stopped in the look-ahead: the test would check nothing"
    assert result["churn"]["churned"] == churned
    assert sum(result["reasons"].values()) == churned
    assert result["reasons"] == pop.loc[pop["churned"], "reason"].value_counts().to_dict()
    names = [s["signal"] for s in result["signals"]]
    assert len(names) == 8 and names[-2:] == ["any_signal", "risk_high"]
    for s in result["signals"]:
        w, wo = s["with"], s["without"]
        assert w["n"] + wo["n"] == len(pop), s["signal"]
        assert w["churned"] + wo["churned"] == churned, s["signal"]
        for part in (w, wo):
            assert part["n"] == 0 or _in_interval(part), (s["signal"], part)
        d = s["difference"]
        if w["n"] and wo["n"]:
            assert d["lo"] <= d["value"] <= d["hi"]
            assert d["value"] == pytest.approx(w["share"] - wo["share"])
    # the recomputed signals are the platform's: "any" is exactly a detected count above 0
    by_name = {s["signal"]: s for s in result["signals"]}
    assert by_name["any_signal"]["with"]["n"] == int((pop["churn_signals_detected"] > 0).sum())
    assert by_name["risk_high"]["with"]["n"] == int((pop["churn_risk_level"] == "High").sum())
    # each signal as spec section 7 words it, with the run's thresholds (an independent oracle)
    cfg = json.loads((run / "run.json").read_text())["scenario_document"]["platform"]["churn"]
    expected = {
        "declining_ratings": pop["avg_rating_7d"] < pop["avg_rating_30d"] - cfg["declining_rating_drop"],
        "low_engagement": pop["avg_engagement_score"] < cfg["low_engagement"],
        "high_reschedule_rate": pop["reschedule_rate"] > cfg["high_reschedule_rate"],
        "poor_first_sessions": pop["first_session_avg_rating"] < cfg["poor_first_session"],
        "no_shows": pop["no_show_count"] > cfg["no_show_count"],
        "declining_activity": pop["total_sessions_7d"] < pop["total_sessions_30d"] * cfg["declining_activity_ratio"]}
    for name, fires in expected.items():
        assert fires.any(), f"{name} fires for no tutor of the run: the test would check little"
        assert by_name[name]["with"]["n"] == int(fires.sum()), name
        assert by_name[name]["with"]["churned"] == int((fires & pop["churned"]).sum()), name
    weighted = sum(by_name[n]["with"]["n"] * (cfg["poor_first_session_weight"] if n == "poor_first_sessions" else 1)
                   for n in expected)
    assert weighted == int(pop["churn_signals_detected"].sum())
    personas = {p["persona"]: p for p in result["personas"]}
    assert set(personas) == set(pop["persona"])
    assert sum(p["n"] for p in personas.values()) == len(pop)
    assert sum(p["churned"] for p in personas.values()) == churned
    for name, p in personas.items():
        mine = pop[pop["persona"] == name]
        assert (p["n"], p["churned"]) == (len(mine), int(mine["churned"].sum()))
        assert p["mean_churn_probability"] == pytest.approx(mine["churn_probability"].mean())
        assert _in_interval(p)
    a = result["auc"]
    assert (a["positives"], a["negatives"]) == (churned, len(pop) - churned)
    assert a["lo"] <= a["auc"] <= a["hi"]


SPEC_ORDER = {"rock_star": 0.01, "solid_performer": 0.05, "burned_out_veteran": 0.10,
              "struggling_newbie": 0.20, "no_show_problem": 0.30}


@pytest.mark.parametrize("change, verdict", [
    ({}, True),
    ({"no_show_problem": 0.15}, True),                  # the at-risk three in any order: their
    ({"burned_out_veteran": 0.35}, True),               # spec ranges overlap
    ({"extra_persona": 0.0}, True),                     # personas outside the spec's five: ignored
    ({"rock_star": 0.06}, False),                       # solid performers lowest
    ({"rock_star": 0.05}, False),                       # a tie is not "lower"
    ({"burned_out_veteran": 0.04}, False),              # an at-risk persona below solid performers
    ({"solid_performer": 0.25}, False)])
def test_rank_verdict(change, verdict):
    share = {**SPEC_ORDER, **change}
    got = rank_order(share)
    assert got["verdict"] is verdict
    assert got["order"] == sorted(SPEC_ORDER, key=lambda p: share[p])
    mid = {p: sum(PERSONAS[p]["churn_probability"]) / 2 for p in SPEC_ORDER}
    assert got["kendall_tau"] == pytest.approx(
        pd.Series([share[p] for p in mid]).corr(pd.Series(list(mid.values())), method="kendall"))


def test_rank_verdict_needs_the_five_personas():
    got = rank_order({p: v for p, v in SPEC_ORDER.items() if p != "burned_out_veteran"})
    assert got["verdict"] is None and got["missing"] == ["burned_out_veteran"]
    assert got["kendall_tau"] == pytest.approx(1.0)


def test_rank_of_the_run_follows_its_realised_shares(result):
    share = {p["persona"]: p["share"] for p in result["personas"]}
    expected = rank_order(share)
    assert {k: result["rank"][k] for k in ("order", "verdict", "missing")} == \
        {k: expected[k] for k in ("order", "verdict", "missing")}
    assert set(result["rank"]["order"]) == set(SPEC_ORDER) & set(share)


def test_report_is_markdown_and_json_able(result):
    text = describe_causes(result)
    assert text.startswith("# ") and text.count("\n| ") >= 2 + 8 + len(result["personas"])
    assert json.loads(json.dumps(result, allow_nan=False)) == result


def test_pooling_a_copy_doubles_the_counts_and_keeps_the_shares(run, result, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(run, copy, ignore=NO_COPY)
    both = churn_by_cause([run, copy])
    assert both["population"] == 2 * result["population"] and both["tutors"] == 2 * result["tutors"]
    assert both["churn"]["churned"] == 2 * result["churn"]["churned"]
    for one, two in zip(result["signals"] + result["personas"], both["signals"] + both["personas"]):
        for key in ("with", "without") if "signal" in one else (None,):
            a, b = (one[key], two[key]) if key else (one, two)
            assert b["n"] == 2 * a["n"] and b["churned"] == 2 * a["churned"]
            assert b["share"] == pytest.approx(a["share"], nan_ok=True)
            if a["n"]:
                assert b["hi"] - b["lo"] < a["hi"] - a["lo"]      # more tutors, a narrower interval
    assert both["auc"]["auc"] == pytest.approx(result["auc"]["auc"])
    with pytest.raises(BadInput, match="given twice"):
        churn_by_cause([run, run])


def test_different_horizons_are_refused(run, dev_run):
    with pytest.raises(BadInput, match="horizon") as e:
        churn_by_cause([run, dev_run])
    assert "\n" not in str(e.value) and str(dev_run) in str(e.value)


def test_command_prints_the_report_and_writes_json(run, tmp_path):
    out = tmp_path / "churn.json"
    code, stdout, stderr = run_cli("churn", run, "--json", out)
    assert code == 0, stderr
    assert stdout.startswith("# Realised churn") and "ROC AUC" in stdout
    assert json.loads(out.read_text()) == churn_by_cause([run])
    assert not out.with_name(out.name + ".tmp").exists()


def test_command_refuses_a_folder_without_labels_in_one_line(run, tmp_path):
    bare = tmp_path / "bare"
    shutil.copytree(run, bare, ignore=NO_COPY)
    (bare / "ground_truth" / "churn_labels.csv").unlink()
    code, stdout, stderr = run_cli("churn", bare)
    assert code == 2 and stdout == ""
    assert stderr.count("\n") == 1 and "churn_labels.csv" in stderr and "Traceback" not in stderr


def test_command_refuses_a_run_without_look_ahead(run, tmp_path):
    none = tmp_path / "none"
    shutil.copytree(run, none, ignore=NO_COPY)
    labels = pd.read_csv(none / "ground_truth" / "churn_labels.csv")
    labels.assign(churned=False, churned_at=np.nan, reason=np.nan, horizon_days=0).to_csv(
        none / "ground_truth" / "churn_labels.csv", index=False)
    code, _, stderr = run_cli("churn", none)
    assert code == 2 and stderr.count("\n") == 1 and "look-ahead" in stderr


def test_stopped_by_the_horizon_counts_every_tutor_of_the_persona(run, result):
    """The persona table's last column reads every tutor, not only those active at the window's
    end: its counts are the labels' and the traits', persona by persona, and a persona stopped by
    the horizon at least as many tutors as churned after the window."""
    labels = pd.read_csv(run / "ground_truth" / "churn_labels.csv")
    traits = pd.read_csv(run / "ground_truth" / "tutor_traits.csv")[["tutor_id", "persona"]]
    every = labels.merge(traits, on="tutor_id")
    for p in result["personas"]:
        mine = every[every["persona"] == p["persona"]]
        got = p["stopped_by_horizon"]
        assert (got["n"], got["churned"]) == (len(mine), int(mine["churned"].sum())), p["persona"]
        assert got["churned"] >= p["churned"]
    assert sum(p["stopped_by_horizon"]["n"] for p in result["personas"]) == len(labels)


def test_the_rank_auc_and_kendall_tau_are_the_libraries_numbers():
    """By hand to spare a second of imports; the same numbers as scikit-learn's and scipy's, ties
    included (scores rounded to make them)."""
    from scipy.stats import kendalltau
    from sklearn.metrics import roc_auc_score

    from analysis.churn.causes import _kendall, rank_auc
    rng = np.random.default_rng(5)
    for n in (7, 60, 400):
        y = rng.random(n) < 0.3
        y[:2] = [True, False]
        score = np.round(rng.random(n) + 0.3 * y, 1)
        assert rank_auc(y, score) == pytest.approx(roc_auc_score(y, score), abs=1e-12)
        x, z = np.round(rng.random(n), 1), np.round(rng.random(n), 1)
        assert _kendall(list(x), list(z)) == pytest.approx(kendalltau(x, z).statistic, abs=1e-12)
