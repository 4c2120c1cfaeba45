"""`run.py calibrate`: the calibration file's checks, the score, the TOML writer and one tiny
calibration of the dev scenario (10 tutors, 1 seed, 3 evaluations)."""
from __future__ import annotations

import math
import os
import re
import sys
import tomllib
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis import calibration_plan as CP  # noqa: E402
from analysis import calibration_score as CS  # noqa: E402
from analysis import targets as T  # noqa: E402
from analysis.validate import Result  # noqa: E402
from analysis import tuned_scenario as TS  # noqa: E402
from commands import calibrate as C  # noqa: E402
from tests.conftest import ROOT, run_cli  # noqa: E402
from world import scenario as S  # noqa: E402

DEV = ROOT / "scenarios" / "dev.toml"


def write_calibration(tmp_path: Path, body: str, name: str = "cal.toml") -> Path:
    """A calibration file in tmp_path whose base is the dev scenario (by relative path)."""
    base = os.path.relpath(DEV, tmp_path).replace(os.sep, "/")
    path = tmp_path / name
    path.write_text(body.replace("@BASE@", base))
    return path


TINY = """
base = "@BASE@"
seeds = [1]
set = ["tutors.count=10"]
[search]
budget = 3
[[parameters]]
key = "behaviour.no_show_scale"
low = 0.05
high = 0.4
log = true
[[parameters]]
key = "students.days_flex"
low = 0
high = 6
integer = true
"""


# ------------------------------------------------------------------------------------- score


def check(kind: str):
    return next(c for c in T.CHECKS if c.kind == kind)


def test_score_is_zero_inside_the_band_and_grows_outside():
    c = check("mean")
    lo, hi = c.lo, c.hi
    width = hi - lo
    assert CS.result_distance(Result(c, "PASS", (lo + hi) / 2, lo=lo, hi=hi)) == 0
    assert CS.result_distance(Result(c, "PASS", hi, lo=lo, hi=hi)) == 0
    near = CS.result_distance(Result(c, "FAIL", hi + 0.1 * width, lo=lo, hi=hi))
    far = CS.result_distance(Result(c, "FAIL", hi + 0.5 * width, lo=lo, hi=hi))
    below = CS.result_distance(Result(c, "FAIL", lo - 0.5 * width, lo=lo, hi=hi))
    assert near == pytest.approx(0.1) and far == pytest.approx(0.5) and below == pytest.approx(0.5)
    assert 0 < near < far
    # skipped checks cost nothing; a failing row rule costs 1 whatever the number of rows
    assert CS.result_distance(Result(c, "SKIP")) == 0
    rule = check("rule")
    assert CS.result_distance(Result(rule, "FAIL", 3, lo=0, hi=0)) == 1
    assert CS.result_distance(Result(rule, "FAIL", 3000, lo=0, hi=0)) == 1
    assert CS.result_distance(Result(rule, "PASS", 0, lo=0, hi=0)) == 0
    # one-sided band: normalised by the bound; an undefined value is a fixed 1
    m = check("metric")
    assert CS.distance(m, "FAIL", 0.4, 0.5, None) == pytest.approx(0.2)
    assert CS.distance(m, "FAIL", None, 0.5, None) == 1
    assert CS.distance(m, "FAIL", float("nan"), 0.5, 1.0) == 1


def test_shares_distance_is_the_excess_deviation_over_the_band():
    c = check("shares")
    inside = {k: t for k, t in c.target.items()}
    assert CS.distance(c, "PASS", inside) == 0
    k0 = next(iter(c.target))
    off = dict(inside, **{k0: c.target[k0] + 2 * c.tol})     # deviation 2 tol: 1 tol outside
    assert CS.distance(c, "FAIL", off) == pytest.approx(0.5)


# ---------------------------------------------------------------------------------- the space


def test_parameter_space_log_and_integer():
    p = CP.Param("x", 0.01, 1.0, integer=False, log=True, base=0.1)
    assert p.from_unit(0.5) == pytest.approx(0.1)
    assert p.to_unit(0.1) == pytest.approx(0.5)
    assert p.from_unit(2.0) == 1.0 and p.from_unit(-1.0) == 0.01
    q = CP.Param("n", 0.4, 6.0, integer=True, log=False, base=3)
    assert all(isinstance(q.from_unit(u / 10), int) for u in range(11))
    assert q.from_unit(0.0) == 1 and q.from_unit(1.0) == 6
    assert CP.round_sig(0.123456789) == 0.1235


def test_override_does_not_touch_the_document_it_is_given():
    doc = S.read_document(DEV)
    before = doc["behaviour"]["no_show_scale"]
    out = CP.override(doc, ["behaviour.no_show_scale=0.99"])
    assert out["behaviour"]["no_show_scale"] == 0.99
    assert doc["behaviour"]["no_show_scale"] == before


# ---------------------------------------------------------------------------------- TOML writer


def test_toml_writer_round_trips_through_tomllib():
    doc = {
        "extends": "production.toml",
        "name": 'say "hi"\\ \n\ttab \u00e9 \x01',
        "seed": 7, "flag": False, "big": 1e300, "small": 1.5e-7, "neg": -0.25, "whole": 3.0,
        "list": [1, 2.5, "x", True],
        "behaviour": {
            "no_show_scale": 0.2125,
            "connection_rating_penalty": {"Poor": -0.6, "Good": -0.1},
            "screen_share_subject": {"Test Prep": 65.0, "Math": 72},
        },
        "students": {"hours": {"Middle School": {"other": 0.02, "weekday": {15: 0.3}}}},
        "empty": {},
        "inline": [{"a": 1}],
    }
    text = TS.toml_dumps(doc, ["a header", "second line\nthird"])
    assert text.startswith("# a header\n# second line\n# third\n")
    back = tomllib.loads(text)
    expected = dict(doc)
    expected["students"] = {"hours": {"Middle School": {"other": 0.02, "weekday": {"15": 0.3}}}}
    assert back == expected
    assert isinstance(back["whole"], float) and isinstance(back["seed"], int)
    nan = tomllib.loads(TS.toml_dumps({"a": float("nan"), "b": float("-inf")}))
    assert math.isnan(nan["a"]) and nan["b"] == float("-inf")


def test_toml_writer_output_loads_as_a_scenario(tmp_path):
    tuned = TS.nest({"behaviour.no_show_scale": 0.2125,
                    "behaviour.connection_rating_penalty.Poor": -0.75,
                    "students.days_flex": 4,
                    "tutors.experience_reliability_rho": 0.7})
    path = tmp_path / "sub" / "tuned.toml"
    path.parent.mkdir()
    extends = os.path.relpath(DEV, path.parent).replace(os.sep, "/")
    path.write_text(TS.toml_dumps({"extends": extends, **tuned}, ["tuned"]))
    sc = S.load(path)
    base = S.load(DEV)
    assert sc.behaviour.no_show_scale == 0.2125
    assert sc.behaviour.connection_rating_penalty["Poor"] == -0.75
    assert sc.behaviour.connection_rating_penalty["Good"] == base.behaviour.connection_rating_penalty["Good"]
    assert sc.students.days_flex == 4 and sc.tutors.experience_reliability_rho == 0.7
    assert sc.tutors.count == base.tutors.count and sc.name == base.name


# ------------------------------------------------------------------------- bad calibration files

BAD = [
    # (what is wrong, replace TINY's text a -> b, key path named in the message)
    ("unknown top-level key", ("seeds = [1]", "seeds = [1]\nseedz = 2"), "seedz"),
    ("unknown parameter key", ("log = true", "log = true\nlo = 1"), "parameters[0].lo"),
    ("low not a number", ("low = 0.05", 'low = "a"'), "parameters[0].low"),
    ("missing high", ("high = 0.4\n", ""), "parameters[0].high"),
    ("high below low", ("high = 0.4", "high = 0.01"), "parameters[0].high"),
    ("log with low 0", ("low = 0.05", "low = 0.0"), "parameters[0].low"),
    ("not a scenario key", ('key = "behaviour.no_show_scale"', 'key = "behaviour.no_show_scael"'),
     "parameters[0].key"),
    ("a table, not a number", ('key = "behaviour.no_show_scale"',
                               'key = "behaviour.connection_rating_penalty"'), "parameters[0].key"),
    ("integer key without integer = true", ("integer = true", ""), "parameters[1].integer"),
    ("value the scenario refuses", ("low = 0\n", "low = -3\n"), "parameters[1].low"),
    ("base missing", ('base = "@BASE@"', 'base = "nope.toml"'), "base"),
    ("seeds empty", ("seeds = [1]", "seeds = []"), "seeds"),
    ("seed negative", ("seeds = [1]", "seeds = [1, -2]"), "seeds[1]"),
    ("bad set item", ('set = ["tutors.count=10"]', 'set = ["tutors.count"]'), "set[0]"),
    ("set refused by the scenario", ('set = ["tutors.count=10"]', 'set = ["tutors.count=-1"]'), "set[0]"),
    ("unknown check id", ("[search]", '[score]\nchecks = ["99.9"]\n[search]'), "score.checks[0]"),
    ("unknown section", ("[search]", "[score]\nsections = [11]\n[search]"), "score.sections[0]"),
    ("budget zero", ("budget = 3", "budget = 0"), "search.budget"),
]


@pytest.mark.parametrize("what,edit,key", BAD, ids=[b[0] for b in BAD])
def test_bad_calibration_file_is_one_line_naming_file_and_key(tmp_path, capsys, what, edit, key):
    assert edit[0] in TINY, what
    path = write_calibration(tmp_path, TINY.replace(edit[0], edit[1], 1))
    assert C.main([str(path), "--dry-run"]) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"{path}:{key}: expected "), lines[0]
    assert "found" in lines[0]


def test_not_toml_and_missing_file_exit_2(tmp_path, capsys):
    path = write_calibration(tmp_path, "base = \n")
    assert C.main([str(path)]) == 2
    assert capsys.readouterr().err.startswith(f"{path}: not valid TOML")
    assert C.main([str(tmp_path / "none.toml")]) == 2
    assert "calibration file not found" in capsys.readouterr().err


def test_bad_arguments_through_run_py_exit_2(tmp_path):
    code, out, err = run_cli("calibrate", tmp_path / "none.toml", timeout=60)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "not found" in err
    code, out, err = run_cli("calibrate", "x.toml", "--budget", "0", timeout=60)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "--budget" in err


def test_shipped_calibration_file_is_valid():
    plan = CP.prepare(ROOT / "scenarios" / "calibration.toml")
    assert plan.seeds == [1, 2, 3]
    assert 6 <= len(plan.params) <= 10
    assert plan.base_path.name == "production.toml"
    for p in plan.params:
        assert p.low < p.high


# --------------------------------------------------------------------------- a tiny calibration


def test_tiny_calibration_writes_a_loadable_tuned_scenario(tmp_path):
    cal = write_calibration(tmp_path, TINY)
    out = tmp_path / "tuned.toml"
    code, stdout, stderr = run_cli("calibrate", cal, "--workers", "2", "--out", out, timeout=120)
    assert code == 0, stderr[-2000:]
    assert len(re.findall(r"^calibrate: evaluation \d/3: ", stderr, re.M)) == 3, stderr
    assert f"wrote {out}" in stdout
    text = out.read_text()
    doc = tomllib.loads(text)
    assert doc["extends"] == os.path.relpath(DEV, tmp_path).replace(os.sep, "/")
    # only the keys the search changed are set, each as the header says
    header = [line for line in text.splitlines() if line.startswith("#")]
    assert set(doc) <= {"extends", "behaviour", "students"}
    assert set(doc.get("behaviour", {})) <= {"no_show_scale"}
    assert set(doc.get("students", {})) <= {"days_flex"}
    assert isinstance(doc.get("students", {}).get("days_flex", 0), int)
    for key, table in (("no_show_scale", "behaviour"), ("days_flex", "students")):
        line = next(h for h in header if h.startswith(f"# {table}.{key}: "))
        assert (key in doc.get(table, {})) == ("unchanged" not in line), line
    assert any("seeds 1;" in h for h in header) and any("failing scored checks per seed" in h for h in header)
    before, after = map(float, re.search(r"score: before ([\d.]+), after ([\d.]+)", text).groups())
    assert after <= before
    sc = S.load(out)                          # extends the dev scenario; tuned keys set
    assert sc.behaviour.no_show_scale == doc.get("behaviour", {}).get(
        "no_show_scale", S.load(DEV).behaviour.no_show_scale)
    assert sc.tutors.count == 25              # the calibration's --set is not written

    # the dry run scores the same base the same way (deterministic)
    code, stdout, stderr = run_cli("calibrate", cal, "--dry-run", timeout=60)
    assert code == 0, stderr[-2000:]
    dry = float(re.search(r"base score ([\d.]+)", stdout).group(1))
    assert dry == pytest.approx(before, abs=1e-4)
    assert re.search(r"^seed 1: score [\d.]+, \d+ failing", stdout, re.M), stdout


@pytest.mark.parametrize("how", ["ctrl-c", "kill"])
def test_a_stopped_calibration_says_how_and_writes_nothing(tmp_path, how):
    """Ctrl-C is "calibrate: interrupted", exit 130; SIGTERM "calibrate: terminated", exit 143, as
    run.py says them; neither writes --out, and the workers go."""
    import subprocess
    import time
    from tests.conftest import own_group_with_ctrl_c, stop_as_a_user
    cal = write_calibration(tmp_path, TINY)
    out = tmp_path / "tuned.toml"
    proc = subprocess.Popen([sys.executable, "run.py", "calibrate", str(cal), "--workers", "2", "--out", str(out)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=own_group_with_ctrl_c)
    first = proc.stdout.readline()                  # the plan's line: the search is starting
    assert first.startswith("calibrate "), first
    time.sleep(1.0)
    if proc.poll() is not None:
        pytest.skip("the calibration ended before it could be stopped")
    stderr, code, line = stop_as_a_user(proc, how, "calibrate")
    assert proc.returncode == code, stderr[-2000:]
    assert stderr.strip().splitlines()[-1] == line, stderr[-2000:]
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr[-2000:]
    assert not out.exists()
    deadline = time.time() + 10                     # the workers (the group the command leads) are gone
    while time.time() < deadline:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail("the calibration's workers are still alive")
