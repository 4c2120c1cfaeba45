"""Churn and costs as what-if outcomes, paired intervals, and compare and sweep as safe as run:
the churn outcome is the kept runs' labels counted again, the intervals are the hand-computed
paired t-intervals, an interrupted compare leaves the old folder as it was.
"""
from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from tests.conftest import ROOT, own_group_with_ctrl_c, run_cli

DEV = "scenarios/dev.toml"
SMALL = ("--set", "tutors.count=30", "--set", "demand.sessions_per_day=90")


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    out = tmp_path_factory.mktemp("compare") / "out"
    code, stdout, stderr = run_cli("compare", DEV, DEV, *SMALL, "--set", "behaviour.no_show_scale=1.5",
                                   "--replications", 3, "--seed", 5, "--keep-runs", "--out", out, "--no-progress",
                                   timeout=300)
    assert code == 0, stderr[-3000:]
    return out, stdout


def _hand_interval(d, floor=math.nan):
    from scipy import stats
    d = np.asarray(d, float)
    m = d.mean()
    half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / math.sqrt(len(d))
    return m, (max(m - half, floor) if not math.isnan(floor) else m - half), m + half


def test_churn_after_the_window_is_the_kept_runs_labels_counted_again(compared):
    out, stdout = compared
    runs = pd.read_csv(out / "compare_runs.csv")
    horizon = json.loads((out / "runs" / "A_0" / "run.json").read_text())["lookahead_days"]
    key = f"churned_{horizon}d"
    assert horizon > 0 and {key, f"{key}_quit", f"{key}_suspended", "stopped_in_window"} <= set(runs.columns)
    assert f"churned within {horizon} d" in stdout
    for row in runs.itertuples(index=False):
        folder = out / "runs" / f"{row.arm}_{row.replication}"
        labels = pd.read_csv(folder / "ground_truth" / "churn_labels.csv")
        profiles = pd.read_csv(folder / "tutor_profiles.csv")
        active = labels["tutor_id"].isin(profiles.loc[profiles["active_status"], "tutor_id"])
        after = active & labels["churned"]
        assert getattr(row, key) == after.sum()
        assert getattr(row, f"{key}_quit") == (after & (labels["reason"] == "quit")).sum()
        assert getattr(row, f"{key}_suspended") == (after & (labels["reason"] == "suspended")).sum()
        assert row.stopped_in_window <= (~profiles["active_status"]).sum()
        # a kept run can be traced: its event log is there
        code, text, err = run_cli("trace", "T0001", folder)
        assert code == 0 and "T0001" in text, err


def test_compare_intervals_are_the_paired_t_intervals_cut_where_nothing_is_possible(compared):
    out, _ = compared
    from analysis.whatif import is_count
    runs = pd.read_csv(out / "compare_runs.csv")
    table = pd.read_csv(out / "compare.csv").set_index("outcome")
    a, b = runs[runs["arm"] == "A"].reset_index(drop=True), runs[runs["arm"] == "B"].reset_index(drop=True)
    assert list(a["seed"]) == list(b["seed"]) == [5, 6, 7]
    for key in table.index:
        d = (b[key] - a[key]).dropna()
        if len(d) < 2 or d.std() == 0:
            continue
        floor = -a[key].mean() if is_count(key) else math.nan
        m, lo, hi = _hand_interval(d, floor)
        row = table.loc[key]
        assert row["diff"] == pytest.approx(m) and row["ci_high"] == pytest.approx(hi), key
        assert row["ci_low"] == pytest.approx(lo), key
        if is_count(key):
            assert row["ci_low"] >= -row["mean_a"] - 1e-9


def test_sweep_baseline_is_every_point_paired_with_its_baseline(tmp_path):
    out = tmp_path / "sweep"
    code, stdout, stderr = run_cli("sweep", DEV, *SMALL, "--grid", "behaviour.no_show_scale=0.5,1,2",
                                   "--replications", 3, "--seed", 9, "--baseline", "behaviour.no_show_scale=1",
                                   "--out", out, "--no-progress", timeout=300)
    assert code == 0, stderr[-3000:]
    tidy = pd.read_csv(out / "sweep.csv")
    against = pd.read_csv(out / "sweep_baseline.csv")
    assert sorted(against["behaviour.no_show_scale"].unique()) == [0.5, 2.0]
    base = tidy[tidy["behaviour.no_show_scale"] == 1].sort_values("replication").reset_index(drop=True)
    for value in (0.5, 2.0):
        point = tidy[tidy["behaviour.no_show_scale"] == value].sort_values("replication").reset_index(drop=True)
        assert list(point["seed"]) == list(base["seed"])
        for key in ("no_show_share", "mean_rating", "sessions_per_day"):
            row = against[(against["behaviour.no_show_scale"] == value) & (against["outcome"] == key)].iloc[0]
            m, lo, hi = _hand_interval(point[key] - base[key])
            assert (row["diff"], row["ci_low"], row["ci_high"]) == pytest.approx((m, lo, hi)), (value, key)
    row = against[(against["behaviour.no_show_scale"] == 2.0) & (against["outcome"] == "no_show_share")].iloc[0]
    assert row["diff"] > 0, "doubling the no-show scale did not raise no-shows against the baseline"
    assert "against the baseline behaviour.no_show_scale=1" in stdout


def test_the_look_ahead_is_as_the_user_sets_it(tmp_path):
    out = tmp_path / "cmp"
    code, stdout, stderr = run_cli("compare", DEV, DEV, *SMALL, "--set", "calendar.lookahead_days=7", "-n", 1,
                                   "--out", out, "--no-progress")
    assert code == 0, stderr
    assert {"churned_7d", "churned_7d_quit"} <= set(pd.read_csv(out / "compare_runs.csv").columns)
    code, stdout, stderr = run_cli("compare", DEV, DEV, *SMALL, "--set", "calendar.lookahead_days=0", "-n", 1,
                                   "--out", out, "--no-progress")
    assert code == 0, stderr
    assert not [c for c in pd.read_csv(out / "compare_runs.csv").columns if c.startswith("churned_")]
    code, stdout, stderr = run_cli("compare", DEV, DEV, "--set", "outputs.model=true", "--out", out)
    assert code == 2 and "what-if runs set outputs.model themselves" in stderr


@pytest.mark.parametrize("how", [[], ["--scheduler", "local:2"]], ids=["processes", "dask"])
def test_an_interrupted_compare_stops_and_leaves_the_old_folder_as_it_was(tmp_path, how):
    """A real Ctrl-C (SIGINT to the command's process group, as a terminal sends it) in the middle
    of the runs: exit 130 with one line, promptly (the goal is under 2 s; bound generously here),
    no temporary folder left, the old folder untouched, no process left behind."""
    if how:
        pytest.importorskip("distributed")
    out = tmp_path / "cmp"
    out.mkdir()
    (out / "old.txt").write_text("an earlier result\n")
    proc = subprocess.Popen([sys.executable, "run.py", "compare", "scenarios/production.toml",
                             "scenarios/no_show_wave.toml", "-n", "3", "--out", str(out), "--no-progress", *how],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=own_group_with_ctrl_c)
    time.sleep(6)
    assert proc.poll() is None, "the compare ended before it could be interrupted"
    sent = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    took = time.monotonic() - sent
    assert proc.returncode == 130 and stderr.strip() == "run.py: interrupted", stderr[-2000:]
    assert took < 15, f"it took {took:.1f} s to stop"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cmp"]
    assert sorted(p.name for p in out.iterdir()) == ["old.txt"]
    time.sleep(0.5)
    with pytest.raises(ProcessLookupError):
        os.killpg(proc.pid, 0)          # nothing of the group is left
