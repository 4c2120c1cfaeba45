"""`run.py trace`: one agent's timeline from a run folder, and the event log's decision inputs.

The traces are read from the shared dev run (conftest.py). Most checks call the command's own
entry point in-process (`commands.trace.trace`, the function `run.py trace` runs) to trace every
tutor cheaply; the command line itself (exit codes, stderr, the PNG) is run as a user runs it.
"""
from __future__ import annotations

import io
import json
import re
import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

from analysis.trace.collect import TYPES
from analysis.trace.words import JSON_KEYS
from commands.trace import trace
from tests.conftest import ROOT, run_cli

# event types that record a decision: each carries the probability it faced
DECISIONS = {"booked", "rescheduled", "session", "no_show", "decision", "quit", "login", "action", "daily"}
DAY = 1440


def events(*args) -> list[dict]:
    out = io.StringIO()
    assert trace([*map(str, args), "--json"], out=out) == 0
    return [json.loads(line) for line in out.getvalue().splitlines()]


def text(*args) -> list[str]:
    out = io.StringIO()
    assert trace(list(map(str, args)), out=out) == 0
    return out.getvalue().splitlines()


@pytest.fixture(scope="module")
def run(dev_run):
    manifest = json.loads((dev_run / "run.json").read_text())
    warmup, window = int(manifest["warmup_days"]), int(manifest["window_days"])
    return {
        "dir": dev_run, "manifest": manifest, "window_start": warmup * DAY, "window_end": (warmup + window) * DAY,
        "aggregates": pd.read_csv(dev_run / "tutor_aggregates.csv").set_index("tutor_id"),
        "profiles": pd.read_csv(dev_run / "tutor_profiles.csv").set_index("tutor_id"),
        "sessions": pd.read_csv(dev_run / "sessions.csv"),
    }


@pytest.fixture(scope="module")
def tutor_traces(run) -> dict[str, list[dict]]:
    """Every tutor's whole trace, daily rows included."""
    return {tid: events(tid, run["dir"], "--type", ",".join(TYPES)) for tid in run["aggregates"].index}


# --- the trace agrees with the tables ------------------------------------------------------------

def _mean(values, digits):
    total = 0.0
    for v in values:            # in time order, as the table's per-tutor sums
        total += v
    return round(float(np.round(total / len(values), digits)), digits) if values else float("nan")


def rebuild_aggregates(evs: list[dict], run) -> dict:
    """A tutor's aggregates row and no-show count, from their `trace --json` events alone."""
    end = run["window_end"]
    held = [e for e in evs if e["type"] == "session" and e["phase"] == "window"]
    last30 = [e["data"] for e in held if e["minute"] >= end - 30 * DAY]
    last7 = [e["data"] for e in held if e["minute"] >= end - 7 * DAY]
    first = [d for d in last30 if d["first"]]
    min7 = run["manifest"]["scenario_document"]["platform"]["churn"].get("min_sessions_7d", 3)
    return {
        "total_sessions_30d": len(last30),
        "total_sessions_7d": len(last7),
        "avg_rating_30d": _mean([d["rating"] for d in last30], 2),
        "avg_rating_7d": _mean([d["rating"] for d in last7], 2) if len(last7) >= min7 else float("nan"),
        "first_session_count": len(first),
        "first_session_avg_rating": _mean([d["rating"] for d in first], 2),
        "recommendation_rate": _mean([float(d["recommend"]) for d in last30], 3),
        "technical_issue_rate": _mean([float(d["tech_issue"]) for d in last30], 3),
        "no_show_count": sum(1 for e in evs if e["type"] == "no_show" and e["phase"] == "window"
                             and not e["data"]["tutor_showed"]),
    }


def test_trace_rebuilds_every_tutors_aggregates_and_no_shows(run, tutor_traces):
    """tutor_aggregates.csv (sessions and ratings of the last 30 and 7 days, first sessions,
    recommendation and technical-issue rates) and tutor_profiles.csv's no_show_count, rebuilt
    for every tutor from `trace --json` alone, equal the tables."""
    agg, prof = run["aggregates"], run["profiles"]
    checked = 0
    for tid, evs in tutor_traces.items():
        got = rebuild_aggregates(evs, run)
        want = {**agg.loc[tid, [k for k in got if k != "no_show_count"]].to_dict(),
                "no_show_count": prof.loc[tid, "no_show_count"]}
        for key, value in got.items():
            w = float(want[key])
            assert (np.isnan(value) and np.isnan(w)) or value == w, f"{tid} {key}: trace {value}, table {w}"
        checked += got["total_sessions_30d"]
    assert checked == int(run["sessions"]["session_completed"].sum()), "held window sessions missing from the traces"


def test_cli_json_equals_the_rebuild_source(run, tutor_traces):
    """`python run.py trace T... DATA_DIR --json` prints exactly the events used above."""
    tid = max(tutor_traces, key=lambda t: len(tutor_traces[t]))
    code, out, err = run_cli("trace", tid, run["dir"], "--json", "--type", ",".join(TYPES))
    assert code == 0, err
    assert [json.loads(line) for line in out.splitlines()] == tutor_traces[tid]


# --- what a trace holds ---------------------------------------------------------------------------

def test_json_lines_have_stable_keys(tutor_traces):
    """Every line is one JSON object with the same top-level keys; events of one (type, kind)
    have the same data keys; session ids are those of sessions.csv (or null)."""
    shapes: dict[tuple, set] = {}
    for evs in tutor_traces.values():
        for e in evs:
            assert tuple(e) == JSON_KEYS
            assert e["type"] in TYPES and e["phase"] in ("warmup", "window")
            key = (e["type"], e["kind"])
            shapes.setdefault(key, set()).add(tuple(e["data"]))
            assert e["session"] is None or re.fullmatch(r"S\d{6}", e["session"]), e
            assert e["session"] is None or e["session_num"] is not None
    unstable = {k: v for k, v in shapes.items() if len(v) > 1}
    assert not unstable, f"data keys differ within an event kind: {unstable}"
    assert {"session", "booked", "decision", "daily", "login"} <= {k[0] for k in shapes}


def test_decisions_carry_probabilities_in_unit_interval(tutor_traces, run):
    students = run["sessions"]["student_id"].value_counts().index[:5]
    traces = list(tutor_traces.values()) + [events(s, run["dir"]) for s in students]
    seen = set()
    for evs in traces:
        for e in evs:
            p = e["p"]
            if e["type"] in DECISIONS:
                assert p is not None, f"{e['type']} without its probability: {e}"
            if p is not None:
                assert 0.0 <= p <= 1.0, f"probability {p} out of [0, 1]: {e}"
                seen.add(e["type"])
    assert {"booked", "rescheduled", "session", "no_show", "decision", "login", "email", "daily"} <= seen


def test_warm_up_events_are_shown_and_marked(run, tutor_traces):
    tid = max(tutor_traces, key=lambda t: len(tutor_traces[t]))
    evs = tutor_traces[tid]
    assert any(e["phase"] == "warmup" for e in evs) and any(e["phase"] == "window" for e in evs)
    for e in evs:
        assert (e["minute"] < run["window_start"]) == (e["phase"] == "warmup")
    lines = [ln for ln in text(tid, run["dir"]) if ln[:4].isdigit()]
    n_warm = sum(1 for e in evs if e["phase"] == "warmup" and e["type"] != "daily")
    assert sum(1 for ln in lines if ln[17:19] == "wu") == n_warm


def test_text_trace_has_a_header_and_one_line_per_event(run, tutor_traces):
    tid = max(tutor_traces, key=lambda t: len(tutor_traces[t]))
    lines = text(tid, run["dir"])
    traits = pd.read_csv(run["dir"] / "ground_truth" / "tutor_traits.csv").set_index("tutor_id").loc[tid]
    assert lines[0].startswith(f"{tid}  {traits['persona']}")
    assert any("reliability" in ln and "skill" in ln for ln in lines[:6])
    body = [ln for ln in lines if ln[:4].isdigit()]
    assert len(body) == sum(1 for e in tutor_traces[tid] if e["type"] != "daily")
    resched = [ln for ln in body if " rescheduled " in ln and "reliability" in ln]
    assert resched and all("-> p=" in ln for ln in resched)


def test_trace_of_a_student(run):
    """A student's trace: their arrival, every session of theirs (the window's with the ids of
    sessions.csv), and their decisions with the rating, patience and probabilities."""
    sessions = run["sessions"]
    sid = sessions["student_id"].value_counts().index[0]
    evs = events(sid, run["dir"])
    assert evs[0]["type"] == "arrived"
    assert all(e["student"] == sid for e in evs if e["type"] != "arrived")
    mine = sessions[sessions["student_id"] == sid]
    at = {e["session"] for e in evs if e["type"] in ("session", "no_show") and e["phase"] == "window"}
    assert at == set(mine["session_id"]), "the student's window sessions differ from sessions.csv"
    held = {e["session"]: e["data"]["rating"] for e in evs if e["type"] == "session" and e["phase"] == "window"}
    table = mine.set_index("session_id")["student_rating"].dropna().to_dict()
    assert held == table
    decisions = [e for e in evs if e["type"] == "decision"]
    assert decisions and all({"patience", "p_leave", "p_switch", "rating", "first"} <= set(e["data"]) for e in decisions)
    lines = text(sid, run["dir"])
    assert lines[0].startswith(sid) and "patience" in lines[1]


def test_filters_by_time_and_type(run, tutor_traces):
    tid = max(tutor_traces, key=lambda t: len(tutor_traces[t]))
    start = run["window_start"]
    since_day = pd.Timestamp(run["manifest"]["window_end"]) - pd.Timedelta(days=run["manifest"]["window_days"] - 2)
    until_day = since_day + pd.Timedelta(days=3)
    evs = events(tid, run["dir"], "--since", since_day.strftime("%Y-%m-%d"), "--until", until_day.strftime("%Y-%m-%d"),
                 "--type", "session,no_show", "--type", "decision")
    assert evs and {e["type"] for e in evs} <= {"session", "no_show", "decision"}
    lo, hi = start + 2 * DAY, start + 6 * DAY          # --until a date: the whole of that day
    assert all(lo <= e["minute"] < hi for e in evs)
    whole = [e for e in tutor_traces[tid] if e["type"] in ("session", "no_show", "decision") and lo <= e["minute"] < hi]
    assert evs == whole
    # a date-time bound is exact
    at = since_day + pd.Timedelta(hours=15, minutes=30)
    later = events(tid, run["dir"], "--since", at.isoformat())
    assert later and all(e["minute"] >= lo + 15.5 * 60 for e in later)
    # daily rows only when asked for
    assert not any(e["type"] == "daily" for e in events(tid, run["dir"]))
    daily = events(tid, run["dir"], "--type", "daily")
    assert daily and all(e["type"] == "daily" and 0 <= e["data"]["churn_probability"] <= 1 for e in daily)


def test_plot_writes_a_png(run, tmp_path):
    tid = run["aggregates"]["total_sessions_30d"].idxmax()
    out = tmp_path / "t.png"
    code, stdout, stderr = run_cli("trace", tid, run["dir"], "--plot", "--out", out)
    assert code == 0, stderr
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    assert str(out) in stdout
    svg = tmp_path / "t.svg"                      # the same figure, drawn as SVG
    code, stdout, stderr = run_cli("trace", tid, run["dir"], "--plot", "--out", svg)
    assert code == 0, stderr
    root = ET.fromstring(svg.read_bytes())
    texts = {"".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")}
    assert any(t.startswith(f"{tid} (") for t in texts) and "session rating" in texts


@pytest.mark.parametrize("case", ["unknown_tutor", "unknown_student", "bad_id", "no_folder", "no_log", "bad_type",
                                  "bad_date"])
def test_bad_input_is_one_line_and_exit_2(run, tmp_path, case):
    folder = run["dir"]
    if case == "no_log":
        folder = tmp_path / "run"
        folder.mkdir()
        shutil.copy(run["dir"] / "run.json", folder)
        shutil.copytree(run["dir"] / "ground_truth", folder / "ground_truth")
    args = {"unknown_tutor": ("T9999", folder), "unknown_student": ("ST999999", folder), "bad_id": ("X42", folder),
            "no_folder": ("T0001", tmp_path / "nowhere"), "no_log": ("T0001", folder),
            "bad_type": ("T0001", folder, "--type", "session,nonsense"),
            "bad_date": ("T0001", folder, "--since", "2026-13-45")}[case]
    code, out, err = run_cli("trace", *args)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    expected = {"unknown_tutor": "T9999", "unknown_student": "ST999999", "bad_id": "X42", "no_folder": "nowhere",
                "no_log": "events.npz", "bad_type": "nonsense", "bad_date": "2026-13-45"}[case]
    assert expected in lines[0]


# --- the event log holds the inputs of each decision ------------------------------------------------

def test_recorded_inputs_reproduce_the_probabilities(run):
    """The inputs the log keeps with a decision give back its probability through the
    behaviour's formula (scenario coefficients from run.json)."""
    b = run["manifest"]["scenario_document"]["behaviour"]
    with np.load(run["dir"] / "events.npz") as log:
        rel, p = log["session_outcome.reliability"].astype(float), log["session_outcome.p_tutor_no_show"]
        assert np.allclose(p, np.minimum(0.95, b["no_show_scale"] * (1 - rel) ** b["no_show_power"]), rtol=1e-5, atol=1e-7)
        by_tutor = log["session_rescheduled.by"] == 0
        rel = log["session_rescheduled.reliability"][by_tutor].astype(float)
        p = log["session_rescheduled.p"][by_tutor]
        assert by_tutor.any()
        assert np.allclose(p, np.minimum(0.95, b["reschedule_scale"] * (1 - rel) ** b["reschedule_power"]),
                           rtol=1e-5, atol=1e-7)
        assert (log["session_rescheduled.decided"] <= log["session_rescheduled.t"]).all()
        # a student's choice after a poor rating: p(leave) = base x (1 - patience)
        rating, first = log["student_decision.rating"], log["student_decision.first"]
        poor = (rating < b["poor_rating"]) & (log["student_decision.action"] != 3)    # 3: done (goal reached)
        base = np.where(first[poor], b["leave_after_poor_first"], b["leave_after_poor"])
        assert poor.any()
        assert np.allclose(log["student_decision.p_leave"][poor],
                           base * (1 - log["student_decision.patience"][poor].astype(float)), rtol=1e-5, atol=1e-7)
        # a tutor's quit: p = propensity x every cause's logged multiplier, and the multipliers
        # are the scenario's gains applied to what was logged with them
        q = {k.split(".", 1)[1]: log[k] for k in log.files if k.startswith("tutor_quit.")}
    if len(q["t"]):
        from agents.decisions import QUIT_CAUSES
        own = q["reason"] == 0
        expect = q["propensity"].astype(float)
        for cause in QUIT_CAUSES:
            expect = expect * q[f"m_{cause}"]
        assert np.allclose(q["p"][own], np.minimum(1.0, expect[own]), rtol=1e-4)
        recent = q["recent_rating"].astype(float)
        low = np.where(np.isnan(recent), 1.0,
                       1 + b["quit_low_rating_gain"] * np.maximum(0.0, b["quit_rating_floor"] - recent))
        assert np.allclose(q["m_low_rating"], low, rtol=1e-5)
        assert np.allclose(q["m_burnout"], 1 + b["quit_burnout_gain"] * q["burnout"], rtol=1e-5)


def test_a_move_the_platform_refuses_is_logged_and_traced(tmp_path):
    """A tutor who has moved `max_reschedule_share` of their bookings cannot move another: the move
    decided at booking is refused, and the log and the tutor's trace say so, with the counts the
    rule compared (the session stays at its time)."""
    from output.recorder import load_log
    from tests.conftest import simulate
    share = 0.05
    out = simulate(tmp_path / "capped", "--mode", "dev", "--seed", 11, "--no-model",
                   "--set", f"platform.max_reschedule_share={share}")
    log = load_log(out / "events.npz")
    refused = log["session_move_refused"]
    capped = refused["reason"] == 0
    assert capped.sum() > 0, "a 5% cap refuses some of the tutors' moves"
    assert (refused["by"][capped] == 0).all(), "the cap is on tutors' moves only"
    assert (refused["moves"][capped] >= share * refused["bookings"][capped]).all()
    moved_at = {(int(s), float(t)) for s, t in zip(log["session_rescheduled"]["session"], log["session_rescheduled"]["t"])}
    assert not any((int(s), float(t)) in moved_at for s, t in zip(refused["session"], refused["t"]))
    booked = log["session_booked"]
    sid = int(refused["session"][np.flatnonzero(capped)[0]])
    tutor = int(booked["tutor"][np.flatnonzero(booked["session"] == sid)[0]])
    lines = events(f"T{tutor + 1:04d}", out, "--type", "move_refused")
    assert lines and all(e["type"] == "move_refused" for e in lines)
    assert any(e["session_num"] == sid and e["kind"] == "platform_cap" and "could not reschedule" in e["text"]
               for e in lines)


def test_a_quits_hazard_breakdown_adds_up_to_the_hazard_that_drove_it(production_run):
    """Every quit by the tutor's own decision in the production run: the factors' shares
    (analysis/trace/hazard.py) plus the propensity give the logged hazard, and a factor that
    did not raise the hazard (no burnout, a rating of 4 or more) added nothing."""
    from output.recorder import load_log
    from world.scenario import load
    b = load(ROOT / "scenarios" / "production.toml").behaviour
    quits = load_log(production_run / "events.npz")["tutor_quit"]
    tutors = sorted({int(t) for t, r in zip(quits["tutor"], quits["reason"]) if r == 0})
    assert len(tutors) >= 3, "too few quits in the production run to check"
    checked = 0
    for i in tutors:
        for ev in events(f"T{i + 1:04d}", production_run, "--type", "quit"):
            d = ev["data"]
            if d["reason"] != "quit" or d["p"] >= 1:
                continue
            added = d["hazard_added"]
            assert d["propensity"] + sum(added.values()) == pytest.approx(d["p"], abs=2e-6), d
            if d["burnout"] == 0:
                assert added.get("burnout", 0.0) == pytest.approx(0.0, abs=1e-9)
            floor = b.quit_rating_floor
            assert ("low_rating" in added) == (d["recent_rating"] is not None and d["recent_rating"] < floor)
            # every cause that moved the hazard added to it, and no other did
            assert set(added) == {c for c, m in d["factors"].items() if m != 1.0}
            checked += 1
    assert checked >= 3


def test_a_tutor_who_quits_after_the_window_can_be_traced(production_run):
    """The look-ahead's quits are in events.npz: every tutor the labels say stopped after the
    window's end has that quit in their trace, marked as after the window, at the labels' time,
    with its hazard (by decision) or its no-shows (suspended)."""
    labels = pd.read_csv(production_run / "ground_truth" / "churn_labels.csv")
    profiles = pd.read_csv(production_run / "tutor_profiles.csv").set_index("tutor_id")
    after = labels[labels["churned"] & labels["tutor_id"].map(profiles["active_status"])]
    assert len(after) >= 2, "too few tutors stop after the window in the production run"
    for row in after.itertuples(index=False):
        quits = [e for e in events(row.tutor_id, production_run, "--type", "quit")]
        assert [e["phase"] for e in quits] == ["after"], (row.tutor_id, quits)
        assert quits[0]["time"][:16] == row.churned_at[:16] and quits[0]["kind"] == row.reason
        if row.reason == "quit":
            assert quits[0]["data"]["hazard_added"], row.tutor_id
    lines = [l for l in text(after.iloc[0]["tutor_id"], production_run, "--type", "quit") if "la " in l or " la" in l]
    assert lines, "a quit after the window is not marked la"


def test_the_plot_shows_the_quit_hazard_and_a_quit_after_the_window(production_run, tmp_path, monkeypatch):
    """--plot of a tutor who quit after the window: the bottom panel carries the tutor's daily
    quit hazard (not only the platform's score) on its right-hand axis and the star of the hazard
    at the quit, and the x axis (days since the run's day 0) runs on past the window's end to that
    quit. The figure is a chart spec (analysis/chart/spec.py), drawn as PNG by analysis/chart/mpl.py."""
    from analysis.chart import mpl
    from analysis.chart.spec import Line, Points
    from analysis.trace.run_folder import Run
    labels = pd.read_csv(production_run / "ground_truth" / "churn_labels.csv")
    profiles = pd.read_csv(production_run / "tutor_profiles.csv").set_index("tutor_id")
    quitter = labels[labels["churned"] & (labels["reason"] == "quit")
                     & labels["tutor_id"].map(profiles["active_status"])].iloc[0]
    seen = {}
    real = mpl.save_png

    def keep(fig, *args, **kwargs):
        seen["fig"] = fig
        return real(fig, *args, **kwargs)
    monkeypatch.setattr(mpl, "save_png", keep)
    out = tmp_path / "t.png"
    assert trace([quitter["tutor_id"], str(production_run), "--plot", "--out", str(out)], out=io.StringIO()) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    marks = [m for p in seen["fig"].panels for m in p.marks]
    hazard = [m for m in marks if isinstance(m, Line) and m.label == "quit hazard (the tutor's, daily)"]
    assert hazard and hazard[0].axis == "y2"
    stars = [m for m in marks if isinstance(m, Points) and m.label == "hazard at the quit"]
    assert stars and len(stars[0].x), "no mark of the hazard at the quit"
    start = Run(production_run, need_students=False).start_dt
    right = (start + pd.Timedelta(days=seen["fig"].panels[0].x.hi)).date()
    assert str(right) >= quitter["churned_at"][:10], "the plot stops before the quit after the window"
