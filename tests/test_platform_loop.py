"""The platform loop (spec sections 12-15): engagement events, interventions, experiments and
their assignments, as `run.py` writes them; the `tables` rebuild; cause and effect of coaching.

Most tests read the shared dev run (`dev_run`, conftest.py). The causal test runs a 60-tutor,
28-day world twice with a fixed seed, once with coaching that changes nothing.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import DEV_SEED, run_cli, simulate

PLATFORM_FILES = ("engagement_events.csv", "interventions.csv", "experiments.csv",
                  "experiment_assignments.csv")
EVENT_COLUMNS = ["event_id", "tutor_id", "event_type", "event_data", "timestamp"]
INTERVENTION_COLUMNS = [
    "intervention_id", "tutor_id", "intervention_type", "channel", "subject", "content",
    "template_id", "experiment_id", "experiment_variant", "sent_at", "delivered_at", "opened_at",
    "clicked_at", "responded_at", "status", "engagement_before", "engagement_after",
    "sessions_before_count", "sessions_after_count",
]
EXPERIMENT_COLUMNS = [
    "experiment_id", "name", "hypothesis", "description", "variants", "target_segment",
    "primary_metric", "secondary_metrics", "start_date", "end_date", "status", "sample_size",
    "significance", "winner",
]
ASSIGNMENT_COLUMNS = ["experiment_id", "tutor_id", "variant", "assigned_at", "exposed_at",
                      "converted_at", "conversion_value"]
EVENT_TYPES = {"login", "session_scheduled", "session_completed", "profile_updated", "message_sent",
               "coaching_attended", "coaching_scheduled", "email_opened", "email_clicked"}
STEPS = ["sent_at", "delivered_at", "opened_at", "clicked_at", "responded_at"]
TIMES = {"engagement_events": ["timestamp"], "interventions": STEPS,
         "experiments": ["start_date", "end_date"],
         "experiment_assignments": ["assigned_at", "exposed_at", "converted_at"]}


def read(folder: Path, name: str) -> pd.DataFrame:
    df = pd.read_csv(Path(folder) / f"{name}.csv")
    for col in TIMES.get(name, ()):
        df[col] = pd.to_datetime(df[col])
    return df


@pytest.fixture(scope="module")
def t(dev_run):
    """The dev run's tables."""
    names = ("tutor_profiles", "sessions", "engagement_events", "interventions", "experiments",
             "experiment_assignments")
    out = {name: read(dev_run, name) for name in names}
    out["sessions"]["session_datetime"] = pd.to_datetime(out["sessions"]["session_datetime"])
    out["run"] = json.loads((dev_run / "run.json").read_text())
    return out


def window(t):
    end = pd.Timestamp(t["run"]["window_end"])
    return end - pd.Timedelta(days=t["run"]["window_days"]), end


def data(events: pd.DataFrame) -> pd.Series:
    return events["event_data"].map(json.loads)


# --- shape, ids, keys ----------------------------------------------------------------------------

def test_columns_and_volumes(t):
    assert list(t["engagement_events"].columns) == EVENT_COLUMNS
    # the spec's columns, then the dashboard's (docs/columns.md)
    assert list(t["interventions"].columns) == INTERVENTION_COLUMNS + ["response_type", "response_notes", "error_message"]
    assert list(t["experiments"].columns) == EXPERIMENT_COLUMNS + ["notes"]
    assert list(t["experiment_assignments"].columns) == ASSIGNMENT_COLUMNS
    # the dev scenario aims at the spec's dev volumes (section 17)
    assert 700 <= len(t["engagement_events"]) <= 1400
    assert 8 <= len(t["interventions"]) <= 24
    assert 3 <= len(t["experiments"]) <= 4
    assert 25 <= len(t["experiment_assignments"]) <= 80
    assert set(t["engagement_events"]["event_type"]) <= EVENT_TYPES
    assert {"login", "session_scheduled", "session_completed"} <= set(t["engagement_events"]["event_type"])


def test_id_formats(t):
    ev, iv, ex = t["engagement_events"], t["interventions"], t["experiments"]
    assert list(ev["event_id"]) == [f"EV{i:06d}" for i in range(1, len(ev) + 1)]
    assert list(iv["intervention_id"]) == [f"INT{i:04d}" for i in range(1, len(iv) + 1)]
    assert ex["experiment_id"].str.fullmatch(r"EXP\d{3}").all() and ex["experiment_id"].is_unique
    ok = [re.fullmatch(rf"template_{k}_\d{{3}}", tid) is not None
          for tid, k in zip(iv["template_id"], iv["intervention_type"])]
    assert all(ok)
    assert (iv["channel"] == "email").all()
    a = t["experiment_assignments"]
    assert not a.duplicated(["experiment_id", "tutor_id"]).any()


def test_foreign_keys(t):
    tutors = set(t["tutor_profiles"]["tutor_id"])
    for name in ("engagement_events", "interventions", "experiment_assignments"):
        assert set(t[name]["tutor_id"]) <= tutors, name
    exps = set(t["experiments"]["experiment_id"])
    assert set(t["interventions"]["experiment_id"].dropna()) <= exps
    assert set(t["experiment_assignments"]["experiment_id"]) <= exps
    # variants: an intervention's is the tutor's assignment; an assignment's is one of the experiment's
    variants = dict(zip(t["experiments"]["experiment_id"], t["experiments"]["variants"].map(json.loads)))
    a = t["experiment_assignments"]
    assert all(v in variants[e] for e, v in zip(a["experiment_id"], a["variant"]))
    iv = t["interventions"].dropna(subset=["experiment_id"])
    assigned = dict(zip(zip(a["experiment_id"], a["tutor_id"]), a["variant"]))
    assert all(assigned[(e, tu)] == v for e, tu, v in zip(iv["experiment_id"], iv["tutor_id"], iv["experiment_variant"]))
    # references inside event_data
    ev = t["engagement_events"]
    d = data(ev)
    sessions = set(t["sessions"]["session_id"])
    sids = {x.get("session_id") for x in d} - {None}
    assert sids and sids <= sessions
    ivs = {x.get("intervention_id") for x in d} - {None}
    assert ivs <= set(t["interventions"]["intervention_id"])


# --- time --------------------------------------------------------------------------------------

def test_event_like_rows_are_in_the_window(t):
    lo, hi = window(t)
    ts = t["engagement_events"]["timestamp"]
    assert ts.is_monotonic_increasing and ts.min() >= lo and ts.max() < hi
    sent = t["interventions"]["sent_at"].dropna()
    assert sent.min() >= lo and sent.max() < hi


def test_intervention_steps_are_ordered_and_status_is_the_furthest(t):
    iv = t["interventions"]
    for a, b in zip(STEPS, STEPS[1:]):
        assert not (iv[a] > iv[b]).any(), (a, b)
    assert not (iv["opened_at"].isna() & (iv["clicked_at"].notna() | iv["responded_at"].notna())).any()
    for row in iv.itertuples():
        reached = [s[:-3] for s in STEPS if pd.notna(getattr(row, s))]
        expected = "failed" if row.status == "failed" else (reached[-1] if reached else "pending")
        assert row.status == expected
        if row.status == "failed":
            assert pd.isna(row.delivered_at) and pd.notna(row.sent_at)
    assert iv["engagement_before"].dropna().between(1, 10).all()
    assert iv["engagement_after"].dropna().between(1, 10).all()
    # the 7 days after are only measured when they lie in the window
    lo, hi = window(t)
    late = iv["sent_at"] + pd.Timedelta(days=7) > hi
    assert iv.loc[late, "engagement_after"].isna().all() and iv.loc[late, "sessions_after_count"].isna().all()


def test_assignment_and_experiment_times(t):
    a, ex = t["experiment_assignments"], t["experiments"]
    gap = a["exposed_at"] - a["assigned_at"]
    assert gap.dropna().between(pd.Timedelta(hours=1), pd.Timedelta(hours=48)).all()
    assert not (a["converted_at"] < a["exposed_at"]).any()
    assert not (a["converted_at"].notna() & a["exposed_at"].isna()).any()
    assert (a["conversion_value"].notna() == a["converted_at"].notna()).all()
    assert (a["conversion_value"].dropna() >= 0.05).all()
    done, active = ex[ex["status"] == "completed"], ex[ex["status"] == "active"]
    assert len(done) >= 1 and len(active) >= 1
    assert (done["end_date"] > done["start_date"]).all() and done["significance"].between(0, 1).all()
    assert active["end_date"].isna().all() and active["significance"].isna().all() and active["winner"].isna().all()
    n = a.groupby("experiment_id").size()
    assert (done["sample_size"].to_numpy() == n.reindex(done["experiment_id"]).to_numpy()).all()
    assert (active["sample_size"].to_numpy() >= n.reindex(active["experiment_id"]).fillna(0).to_numpy()).all()
    # variants in equal numbers
    for _, g in a.groupby("experiment_id"):
        counts = g["variant"].value_counts()
        assert counts.max() - counts.min() <= 1


def test_significance_is_a_chi_square_test_of_the_assignments(t):
    from scipy.stats import chi2_contingency
    a = t["experiment_assignments"]
    for row in t["experiments"][t["experiments"]["status"] == "completed"].itertuples():
        g = a[a["experiment_id"] == row.experiment_id]
        conv = g.groupby("variant")["converted_at"].apply(lambda s: s.notna().sum())
        n = g.groupby("variant").size()
        table = np.array([conv.to_numpy(), (n - conv).to_numpy()])
        p = 1.0 if conv.sum() in (0, n.sum()) else chi2_contingency(table, correction=False)[1]
        assert row.significance == pytest.approx(round(p, 4), abs=1e-4)
        if p < 0.05:
            assert row.winner == (conv / n).idxmax()
        else:
            assert pd.isna(row.winner)


def test_session_events_follow_logins_and_sessions(t):
    ev, s = t["engagement_events"], t["sessions"]
    logins = ev[ev["event_type"] == "login"]
    sched = ev[ev["event_type"] == "session_scheduled"]
    for tutor, ts in zip(sched["tutor_id"], sched["timestamp"]):
        before = logins[(logins["tutor_id"] == tutor) & (logins["timestamp"] <= ts)]["timestamp"]
        assert pd.Timedelta(minutes=30) <= ts - before.max() <= pd.Timedelta(minutes=60)
    done = ev[ev["event_type"] == "session_completed"]
    end = s.set_index("session_id")
    end = end["session_datetime"] + pd.to_timedelta(end["actual_duration_min"], unit="min")
    sid = data(done).map(lambda x: x["session_id"])
    gap = done["timestamp"].to_numpy() - end.reindex(sid).to_numpy()
    known = ~pd.isna(gap)
    assert known.mean() > 0.95
    assert ((gap[known] >= pd.Timedelta(0)) & (gap[known] <= pd.Timedelta(minutes=15))).all()
    # one email_opened / email_clicked event per intervention that reached the step
    d = data(ev)
    for etype, col in (("email_opened", "opened_at"), ("email_clicked", "clicked_at")):
        ids = d[ev["event_type"] == etype].map(lambda x: x["intervention_id"]).dropna()
        assert sorted(ids) == sorted(t["interventions"].loc[t["interventions"][col].notna(), "intervention_id"])


# --- determinism, flags, rebuild -----------------------------------------------------------------

@pytest.fixture(scope="module")
def dev_again(tmp_path_factory):
    return simulate(tmp_path_factory.mktemp("again") / "out", "--mode", "dev", "--seed", DEV_SEED)


def test_same_seed_same_bytes(dev_run, dev_again):
    for name in PLATFORM_FILES:
        assert (dev_run / name).read_bytes() == (dev_again / name).read_bytes(), name


def test_no_flags_suppress_the_files_and_leave_the_world_alone(dev_run, tmp_path):
    out = simulate(tmp_path / "out", "--mode", "dev", "--seed", DEV_SEED, "--no-engagement-events",
                   "--no-interventions", "--no-experiments")
    for name in PLATFORM_FILES:
        assert not (out / name).exists(), name
    # output flags change what is written, not what happens
    for name in ("sessions.csv", "tutor_aggregates.csv"):
        assert (out / name).read_bytes() == (dev_run / name).read_bytes(), name


def test_tables_rebuilds_byte_identical(dev_run, tmp_path):
    folder = tmp_path / "run"
    shutil.copytree(dev_run, folder)
    for name in PLATFORM_FILES + ("sessions.csv",):
        (folder / name).unlink()
    code, stdout, stderr = run_cli("tables", folder, "--only", "engagement_events", "interventions",
                                   "experiments", "experiment_assignments", "sessions")
    assert code == 0, stderr
    for name in PLATFORM_FILES + ("sessions.csv",):
        assert (folder / name).read_bytes() == (dev_run / name).read_bytes(), name
    code, _, stderr = run_cli("tables", folder)       # everything the run wrote
    assert code == 0, stderr
    for path in dev_run.rglob("*.csv"):
        assert (folder / path.relative_to(dev_run)).read_bytes() == path.read_bytes(), path.name
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("case", ["no_folder", "no_log", "bad_manifest", "unknown_table"])
def test_tables_bad_input_is_one_line_and_exit_2(dev_run, tmp_path, case):
    folder = tmp_path / "run"
    if case != "no_folder":
        shutil.copytree(dev_run, folder)
    args = ["tables", folder]
    if case == "no_log":
        (folder / "events.npz").unlink()
    elif case == "bad_manifest":
        (folder / "run.json").write_text("{not json")
    elif case == "unknown_table":
        args += ["--only", "sesions"]
    code, stdout, stderr = run_cli(*args)
    assert code == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    expected = {"no_folder": str(folder), "no_log": "events.npz", "bad_manifest": "run.json",
                "unknown_table": "sesions"}[case]
    assert expected in lines[0]


# --- cause and effect --------------------------------------------------------------------------

CAUSAL_RUN = ("--tutors", "60", "--days", "28", "--sessions-per-day", "300", "--no-event-log",
              # the platform writes more often and tutors click more, so that enough of them are
              # coached with a week observed on both sides
              "--set", "platform.interventions.min_days_between=4",
              "--set", "platform.interventions.churn_probability=0.3",
              "--set", "platform.interventions.quality_rating_30d=4.3",
              "--set", "platform.interventions.low_engagement=6.5",
              "--set", "platform.interventions.first_session_rating=4.0",
              "--set", "platform.interventions.technical_issue_rate=0.08",
              "--set", "engagement.email.click_scale=0.9",
              # a coaching call's own effect: later calls teach less by design (repeat_decay,
              # tests/test_quit_causes.py), which would hide it behind the warm-up's calls
              "--set", "platform.coaching.repeat_decay=1")


def coached_change(folder: Path) -> np.ndarray:
    """For every tutor's first coaching session attended in the window (with 7 observed days on
    both sides): their mean engagement in the 7 days after it minus the 7 days before it."""
    ev, s = read(folder, "engagement_events"), read(folder, "sessions")
    s["session_datetime"] = pd.to_datetime(s["session_datetime"])
    s = s[s["session_completed"]]
    run = json.loads((folder / "run.json").read_text())
    hi = pd.Timestamp(run["window_end"])
    lo = hi - pd.Timedelta(days=run["window_days"])
    week = pd.Timedelta(days=7)
    att = ev[ev["event_type"] == "coaching_attended"]
    att = att[(att["timestamp"] - week >= lo) & (att["timestamp"] + week <= hi)].drop_duplicates("tutor_id")
    out = []
    for tutor, at in zip(att["tutor_id"], att["timestamp"]):
        x = s[s["tutor_id"] == tutor]
        before = x.loc[(x["session_datetime"] >= at - week) & (x["session_datetime"] < at), "engagement_score"]
        after = x.loc[(x["session_datetime"] > at) & (x["session_datetime"] <= at + week), "engagement_score"]
        if len(before) >= 3 and len(after) >= 3:
            out.append(after.mean() - before.mean())
    return np.array(out)


@pytest.fixture(scope="module")
def coaching_worlds(tmp_path_factory):
    """The coached tutors' engagement changes with coaching off and as it is, pooled over two
    seeds (common random numbers within each seed): one 60-tutor world has a few dozen coached
    tutors, too few for a two-standard-error claim to hold on any seed but a lucky one."""
    base = tmp_path_factory.mktemp("causal")
    none, default = [], []
    for seed in ("3", "4"):
        none.append(coached_change(simulate(base / f"none{seed}", *CAUSAL_RUN, "--seed", seed,
                                            "--set", "platform.coaching.effect=0")))
        default.append(coached_change(simulate(base / f"default{seed}", *CAUSAL_RUN, "--seed", seed)))
    return np.concatenate(none), np.concatenate(default)


def test_coaching_effect_zero_changes_nothing_beyond_noise(coaching_worlds):
    none, _ = coaching_worlds
    assert len(none) >= 8
    se = none.std(ddof=1) / np.sqrt(len(none))
    assert none.mean() < 2 * se, (none.mean(), se)


def test_default_coaching_raises_coached_tutors_engagement(coaching_worlds):
    none, default = coaching_worlds
    assert len(default) >= 8
    se = default.std(ddof=1) / np.sqrt(len(default))
    assert default.mean() > 2 * se, (default.mean(), se)
    assert default.mean() - none.mean() > 0.1
