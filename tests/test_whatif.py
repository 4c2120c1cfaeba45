"""What-if analysis: scenario errors, `schema`, `compare`, `sweep` (local processes and Dask).

Simulations are dev-sized (30 tutors, a 14-day window) unless an effect needs more sessions to be
seen; seeds are fixed, so every number here is reproducible. Common random numbers are what make
small replication counts enough: A and B share seeds, so a difference is the what-if's effect.
"""
from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import ROOT, run_cli

BAD = ROOT / "tests" / "data" / "bad_scenarios"
SCENARIOS = ROOT / "scenarios"
PRODUCTION = SCENARIOS / "production.toml"
DEV_SIZE = ["tutors.count=30", "calendar.window_days=14", "calendar.warmup_days=14",
            "demand.sessions_per_day=86"]
HEAVY = {"mesa", "simpy", "pandas"}


def document(path: Path, *sets: str) -> dict:
    from world.scenario import apply_overrides, read_document
    return apply_overrides(read_document(path), [*DEV_SIZE, *sets])


def heavy_imports(stderr: str) -> set[str]:
    imported = {line.rsplit("|", 1)[-1].strip().split(".")[0]
                for line in stderr.splitlines() if line.startswith("import time:")}
    return imported & HEAVY


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if not line.startswith("import time:")]


# --- scenario files: every problem at once, one line each, exit 2 ------------------------------

def rel(name: str) -> str:
    return str((BAD / name).relative_to(ROOT))


BAD_FILES = {
    "wrong_type.toml": [f"{rel('wrong_type.toml')}:calendar.window_days: Input should be a valid integer"],
    "share_out_of_range.toml": [f"{rel('share_out_of_range.toml')}:tutors.defaults.weekend_only_share: "
                                f"Input should be less than or equal to 1, found 1.3"],
    "persona_shares.toml": [f"{rel('persona_shares.toml')}:tutors: persona shares must sum to 1, they sum to 1.0800"],
    "unknown_key.toml": [f"{rel('unknown_key.toml')}:behaviour.no_show_scael: unknown key (did you mean 'no_show_scale'?)"],
    "missing_extends.toml": [f"{rel('missing_extends.toml')}:extends: expected an existing scenario file, "
                             f"found '../../../scenarios/no_such_scenario.toml' (no such file)"],
    "bad_toml.toml": [f"{rel('bad_toml.toml')}: not valid TOML: Expected ']' at the end of a table declaration (at line 4"],
    "circular_a.toml": [f"{rel('circular_b.toml')}:extends: circular chain of scenario files "
                        f"(circular_a.toml -> circular_b.toml -> circular_a.toml)"],
    "many_problems.toml": [
        f"{rel('many_problems.toml')}:calendar.window_days: Input should be a valid integer",
        f"{rel('many_problems.toml')}:tutors.defaults.weekend_only_share: Input should be less than or equal to 1",
        f"{rel('many_problems.toml')}:behaviour.no_show_scael: unknown key (did you mean 'no_show_scale'?)",
        f"{rel('many_problems.toml')}:tutors: persona shares must sum to 1, they sum to 1.0800",
    ],
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_a_malformed_scenario_gives_its_errors_one_line_each_and_exit_2(name, tmp_path):
    out = tmp_path / "out"
    code, stdout, stderr = run_cli(rel(name), "--out", out, timeout=60, python_flags=("-X", "importtime"))
    lines = error_lines(stderr)
    assert code == 2, f"exit code {code}:\n{stderr[-2000:]}"
    assert stdout == "" and "Traceback" not in stderr
    expected = BAD_FILES[name]
    assert len(lines) == len(expected), f"expected {len(expected)} line(s), got:\n" + "\n".join(lines)
    for want in expected:
        assert any(line.startswith(want) for line in lines), f"no line starts with {want!r}:\n" + "\n".join(lines)
    assert not out.exists()
    assert not heavy_imports(stderr), f"a scenario error imported {sorted(heavy_imports(stderr))}"


def test_compare_reports_a_malformed_scenario_the_same_way(tmp_path):
    code, stdout, stderr = run_cli("compare", "scenarios/dev.toml", rel("many_problems.toml"),
                                   "--out", tmp_path / "cmp", timeout=60)
    lines = error_lines(stderr)
    assert code == 2 and stdout == "" and "Traceback" not in stderr
    assert len(lines) == 4 and all(line.startswith(want) for line, want in zip(
        sorted(lines), sorted(BAD_FILES["many_problems.toml"]))), "\n".join(lines)
    assert not (tmp_path / "cmp").exists()


@pytest.mark.parametrize("args, wants", [
    (["compare", rel("wrong_type.toml"), rel("unknown_key.toml")],
     [BAD_FILES["wrong_type.toml"][0], BAD_FILES["unknown_key.toml"][0]]),
    (["sweep", "scenarios/dev.toml", "--grid", "platform.coaching.effect=1,-1", "--grid", "tutors.count=10,0"],
     ["scenarios/dev.toml:platform.coaching.effect: Input should be greater than or equal to 0, found -1 (--grid",
      "scenarios/dev.toml:tutors.count: Input should be greater than 0, found 0 (--grid"]),
], ids=["compare-two-bad-files", "sweep-two-bad-values"])
def test_compare_and_sweep_report_every_problem_at_once(args, wants, tmp_path):
    code, stdout, stderr = run_cli(*args, "--out", tmp_path / "out", timeout=60)
    lines = error_lines(stderr)
    assert code == 2 and stdout == "" and "Traceback" not in stderr
    assert len(lines) == len(wants), "\n".join(lines)
    for want in wants:
        assert any(line.startswith(want) for line in lines), f"no line starts with {want!r}:\n" + "\n".join(lines)
    assert not (tmp_path / "out").exists()


WHATIFS = ("no_show_wave", "half_no_shows", "evening_congestion", "weekend_tutors", "coaching_twice",
           "tighter_interventions")


def test_every_library_scenario_is_valid_and_overrides_only_what_differs():
    """Each what-if extends production.toml, says which question it answers, and differs from
    production in a few keys."""
    from world.scenario import load, read_document
    import tomllib

    base = read_document(PRODUCTION)
    for name in WHATIFS:
        path = SCENARIOS / f"{name}.toml"
        load(path)
        text = path.read_text()
        assert tomllib.loads(text)["extends"] == "production.toml"
        assert text.lstrip().startswith("#") and "?" in text.split("extends")[0], f"{path.name}: no question in its header comment"
        own = tomllib.loads(text)
        leaves = _leaves({k: v for k, v in own.items() if k not in ("extends", "name", "description")})
        assert 1 <= len(leaves) <= 8, f"{path.name} overrides {len(leaves)} values"
        for key, value in leaves.items():
            assert _get(base, key) != value, f"{path.name}: {key} = {value!r} is production's value already"


def _leaves(doc: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in doc.items():
        if isinstance(v, dict) and not all(isinstance(x, (int, float)) for x in v.values()):
            out.update(_leaves(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _get(doc: dict, key: str):
    for part in key.split("."):
        doc = doc.get(part, {}) if isinstance(doc, dict) else {}
    return doc


def test_no_show_wave_moves_share_from_solid_performers():
    from world.scenario import load
    base, wave = load(PRODUCTION), load(SCENARIOS / "no_show_wave.toml")
    b, w = base.tutors.personas, wave.tutors.personas
    hint = "production's persona shares changed: update scenarios/no_show_wave.toml (it sets absolute shares)"
    assert w["no_show_problem"].share == pytest.approx(2 * b["no_show_problem"].share), hint
    assert w["solid_performer"].share == pytest.approx(b["solid_performer"].share - b["no_show_problem"].share), hint


# --- schema and the commands' arguments ---------------------------------------------------------------

def test_schema_is_json_schema_of_every_scenario_key_and_imports_no_simulation_stack():
    code, stdout, stderr = run_cli("schema", timeout=60, python_flags=("-X", "importtime"))
    assert code == 0, stderr[-2000:]
    schema = json.loads(stdout)      # strict JSON: no Infinity
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert schema["additionalProperties"] is False
    import tomllib
    production = tomllib.loads(PRODUCTION.read_text())
    assert set(production) <= set(schema["properties"])
    assert "extends" in schema["properties"]
    platform = schema["$defs"]["Platform"]["properties"]
    assert {"interventions", "coaching"} <= set(platform)
    share = schema["$defs"]["Persona"]["properties"]["share"]
    assert share["minimum"] == 0 and share["maximum"] == 1
    assert not heavy_imports(stderr), f"schema imported {sorted(heavy_imports(stderr))}"


QUICK = {
    "compare-help": (["compare", "--help"], 0, "--replications"),
    "sweep-help": (["sweep", "--help"], 0, "--scheduler"),
    "schema-help": (["schema", "--help"], 0, "JSON Schema"),
    "compare-one-scenario": (["compare", "scenarios/dev.toml"], 2, "B.toml"),
    "compare-zero-replications": (["compare", "scenarios/dev.toml", "scenarios/dev.toml", "--replications", "0"], 2, "--replications"),
    "compare-missing-file": (["compare", "scenarios/dev.toml", "scenarios/nope.toml"], 2, "nope.toml: scenario file not found"),
    "sweep-no-grid": (["sweep", "scenarios/dev.toml"], 2, "--grid"),
    "sweep-grid-without-values": (["sweep", "scenarios/dev.toml", "--grid", "platform.coaching.effect"], 2, "expected key.path=v1,v2"),
    "sweep-grid-unknown-key": (["sweep", "scenarios/dev.toml", "--grid", "platform.coaching.efect=0,1"], 2,
                               "platform.coaching.efect: unknown key (did you mean 'effect'?)"),
    "sweep-grid-bad-value": (["sweep", "scenarios/dev.toml", "--grid", "platform.coaching.effect=1,-1"], 2,
                             "platform.coaching.effect: Input should be greater than or equal to 0"),
    "schema-extra-argument": (["schema", "extra"], 2, "unrecognized arguments"),
    "sweep-scheduler-no-workers": (["sweep", "scenarios/dev.toml", "--grid", "platform.coaching.effect=0,1",
                                    "--scheduler", "local:0"], 2, "expected local:N with N a positive number"),
    "compare-scheduler-not-an-address": (["compare", "scenarios/dev.toml", "scenarios/dev.toml", "--scheduler",
                                          "somewhere"], 2, "expected local:N or a scheduler address"),
}


@pytest.mark.parametrize("case", list(QUICK))
def test_help_and_bad_arguments_answer_at_once_in_one_line(case, tmp_path):
    args, want_code, text = QUICK[case]
    started = time.perf_counter()
    code, stdout, stderr = run_cli(*args, timeout=60, python_flags=("-X", "importtime"), cwd=ROOT)
    elapsed = time.perf_counter() - started
    assert code == want_code, f"exit {code}:\n{stderr[-2000:]}"
    lines = error_lines(stderr)
    if want_code == 0:
        assert text in stdout and not lines
    else:
        assert len(lines) == 1 and text in lines[0], "\n".join(lines)
        assert "Traceback" not in stderr and stdout == ""
    assert not heavy_imports(stderr), f"{' '.join(args)} imported {sorted(heavy_imports(stderr))}"
    assert elapsed < 10, f"{elapsed:.1f} s"


# --- common random numbers -----------------------------------------------------------------------------

def test_a_parameter_no_agent_reads_gives_identical_sessions(tmp_path):
    from pipeline.replications import run_task
    a = document(PRODUCTION)
    b = document(PRODUCTION, 'description="a what-if nobody reads"', 'tutors.personas.natural.description="renamed"')
    ra = run_task({"document": a, "seed": 5, "out": str(tmp_path / "a")})
    rb = run_task({"document": b, "seed": 5, "out": str(tmp_path / "b")})
    for name in ("sessions.csv", "tutor_profiles.csv", "tutor_aggregates.csv", "interventions.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), f"{name} differs"
    assert ra == rb
    c = run_task({"document": a, "seed": 6, "out": str(tmp_path / "c")})
    assert (tmp_path / "c" / "sessions.csv").read_bytes() != (tmp_path / "a" / "sessions.csv").read_bytes()
    assert c != ra


def test_shared_seeds_make_the_difference_far_less_variable_than_independent_seeds():
    """rating_noise_sd +10%: the per-replication difference in mean rating varies far less when
    B reuses A's seeds (common random numbers) than when it draws its own."""
    from analysis import whatif
    from pipeline import replications
    from world.scenario import read_document
    n, seed = 6, 300
    sd = read_document(PRODUCTION)["behaviour"]["rating_noise_sd"]
    small = ("tutors.count=20", "calendar.window_days=10", "demand.sessions_per_day=57")
    a = whatif.Arm("A", "production", document(PRODUCTION, *small))
    b = whatif.Arm("B", "noisier ratings", document(PRODUCTION, *small, f"behaviour.rating_noise_sd={sd * 1.1}"))
    shared = replications.compare_tasks(a, b, n, seed)
    independent_b = [t for t in replications.compare_tasks(a, b, n, seed, independent=True) if t["arm"] == "B"]
    results = replications.execute(shared + independent_b, workers=2)
    frame = pd.DataFrame(results)
    runs_a, runs_b, runs_bi = frame.iloc[:n].reset_index(drop=True), frame.iloc[n:2 * n].reset_index(drop=True), \
        frame.iloc[2 * n:].reset_index(drop=True)
    assert list(runs_b["seed"]) == list(runs_a["seed"]) and not set(runs_bi["seed"]) & set(runs_a["seed"])
    crn = whatif.difference_table(runs_a, runs_b, paired=True).set_index("outcome")
    ind = whatif.difference_table(runs_a, runs_bi, paired=False).set_index("outcome")
    ratio = crn.loc["mean_rating", "sd_diff"] ** 2 / ind.loc["mean_rating", "sd_diff"] ** 2
    assert ratio < 0.5, f"variance ratio shared/independent = {ratio:.3f}"
    width = lambda t: t.loc["mean_rating", "ci_high"] - t.loc["mean_rating", "ci_low"]
    assert width(crn) < width(ind)


# --- direction of the what-ifs -------------------------------------------------------------------------

def test_compare_a_wave_of_no_show_tutors_raises_no_shows_and_churn_probability(tmp_path):
    """Through the command line, at production size (150 tutors, so that more of a persona is
    many more tutors, not one), two replications: the no_show_problem persona's share four
    times production's (0.08 -> 0.32, taken from the solid performers). (The library's
    no_show_wave doubles it: +0.0013 [-0.0012, +0.0039] on three replications, too small an
    effect for two replications to show its sign every time.)"""
    wave = tmp_path / "big_wave.toml"
    wave.write_text(f'extends = "{PRODUCTION.as_posix()}"\nname = "big_no_show_wave"\n'
                    "[tutors.personas.no_show_problem]\nshare = 0.32\n"
                    "[tutors.personas.solid_performer]\nshare = 0.26\n")
    out = tmp_path / "cmp"
    code, stdout, stderr = run_cli("compare", "scenarios/production.toml", wave,
                                   "--replications", 2, "--seed", 7, "--workers", 2, "--out", out, timeout=300)
    assert code == 0, stderr[-3000:]
    table = pd.read_csv(out / "compare.csv").set_index("outcome")
    runs = pd.read_csv(out / "compare_runs.csv")
    assert list(runs["seed"]) == [7, 8, 7, 8]
    for key in ("no_show_share", "mean_churn_probability"):
        assert table.loc[key, "diff"] > 0, f"{key}: {table.loc[key, 'mean_a']:.4f} -> {table.loc[key, 'mean_b']:.4f}"
        assert table.loc[key, "mean_b"] - table.loc[key, "mean_a"] == pytest.approx(table.loc[key, "diff"])
    from analysis.whatif import OUTCOMES, churn_outcomes
    assert set(table.index) == {o.key for o in OUTCOMES + churn_outcomes(30)}
    assert (out / "compare.png").stat().st_size > 10_000
    for label in ("tutor no-show share", "mean churn probability", "95% CI"):
        assert label in stdout
    assert "A seeds 7..8, B the same seeds" in stdout


def test_evening_congestion_lowers_evening_ratings_and_connections():
    from analysis import whatif
    from pipeline import replications
    forty = ("tutors.count=40", "demand.sessions_per_day=115")
    a = whatif.Arm("A", "production", document(PRODUCTION, *forty))
    b = whatif.Arm("B", "evening_congestion", document(SCENARIOS / "evening_congestion.toml", *forty))
    # five replications: the evening drop (~0.08 stars at 40 tutors) varies by ~0.05 between seeds,
    # more than three replications' t-interval (t = 4.3) can separate from zero
    runs, table = replications.compare(a, b, replications=5, seed=42, workers=2)
    t = table.set_index("outcome")
    assert t.loc["evening_mean_rating", "ci_high"] < 0, t.loc["evening_mean_rating"].to_dict()
    assert t.loc["evening_poor_fair_share", "ci_low"] > 0, t.loc["evening_poor_fair_share"].to_dict()
    # the morning is not congested: the evening's drop is larger than the whole day's
    assert t.loc["evening_mean_rating", "diff"] < t.loc["mean_rating", "diff"]


def test_zero_coaching_effect_removes_the_engagement_lift_of_coached_tutors():
    """Coached = a delivered non-technical intervention whose link the tutor followed (coaching
    booked); lift = engagement_after - engagement_before in interventions.csv. So that a dev-size
    run has a few hundred coached tutors, the platform intervenes widely here (quality rule at
    4.9 stars, a 3-day cap, emails opened and clicked three times as readily): effect 1 lifts
    coached tutors' engagement, effect 0 leaves only noise."""
    from analysis import whatif
    from pipeline import replications
    from world.scenario_schema import Coaching
    if "effect" not in Coaching.model_fields:
        pytest.skip("platform.coaching.effect is not in the scenario schema")
    wide = ["platform.interventions.quality_rating_30d=4.9", "platform.interventions.min_days_between=3",
            "engagement.email.click_scale=3", "engagement.email.open_scale=3", "calendar.window_days=21",
            "tutors.count=40", "demand.sessions_per_day=115",
            # each call's own effect, not shrunk by the calls before it (repeat_decay: test_quit_causes.py)
            "platform.coaching.repeat_decay=1"]
    a = whatif.Arm("A", "coaching effect 1", document(PRODUCTION, *wide, "platform.coaching.effect=1"))
    b = whatif.Arm("B", "coaching effect 0", document(PRODUCTION, *wide, "platform.coaching.effect=0"))
    # five paired replications: with three (two degrees of freedom, t = 4.3) the interval's
    # width depended on the realisation more than on the effect
    runs, table = replications.compare(a, b, replications=5, seed=100, workers=2)
    lift = table.set_index("outcome").loc["coached_engagement_lift"]
    assert lift["mean_a"] > 0.08, lift.to_dict()
    assert abs(lift["mean_b"]) < lift["mean_a"] / 2, lift.to_dict()
    assert lift["ci_high"] < 0, lift.to_dict()


# --- sweep: local processes and a Dask cluster give the same table ------------------------------------------

SWEEP_ARGS = ["sweep", "scenarios/production.toml", "--grid", "platform.coaching.effect=0,1",
              "--grid", "network.weekend_load=-0.13,0.2", "--replications", 2, "--seed", 3,
              "--set", "tutors.count=20", "--set", "calendar.window_days=7", "--set", "demand.sessions_per_day=57"]


def test_sweep_on_a_dask_cluster_gives_the_same_tidy_table_as_local_processes(tmp_path, monkeypatch):
    from distributed import LocalCluster

    local = tmp_path / "local"
    code, stdout, stderr = run_cli(*SWEEP_ARGS, "--workers", 2, "--out", local, timeout=300)
    assert code == 0, stderr[-3000:]
    tidy = pd.read_csv(local / "sweep.csv")
    assert list(tidy.columns[:4]) == ["platform.coaching.effect", "network.weekend_load", "replication", "seed"]
    assert len(tidy) == 2 * 2 * 2 and list(tidy["seed"].unique()) == [3, 4]
    assert tidy.groupby(["platform.coaching.effect", "network.weekend_load"]).size().eq(2).all()
    pngs = sorted(p.name for p in local.glob("sweep_*.png"))
    assert "sweep_mean_rating.png" in pngs and len(pngs) == len(tidy.columns) - 4
    # the grid points really differ (each point its own document)
    means = tidy.groupby("network.weekend_load")["weekend_session_share"].mean()
    assert means.iloc[0] != means.iloc[1]

    # workers are new processes: they import tutorsim from the repository
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        dask = tmp_path / "dask"
        code, stdout, stderr = run_cli(*SWEEP_ARGS, "--scheduler", cluster.scheduler_address, "--out", dask, timeout=300)
        assert code == 0, stderr[-3000:]
        assert f"Dask scheduler {cluster.scheduler_address}" in stdout
    assert (dask / "sweep.csv").read_bytes() == (local / "sweep.csv").read_bytes()
    # a cluster the command starts and closes itself
    own = tmp_path / "own"
    code, stdout, stderr = run_cli(*SWEEP_ARGS, "--scheduler", "local:2", "--out", own, timeout=300)
    assert code == 0, stderr[-3000:]
    assert "Dask scheduler local:2" in stdout
    assert (own / "sweep.csv").read_bytes() == (local / "sweep.csv").read_bytes()
