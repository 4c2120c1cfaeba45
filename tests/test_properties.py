"""Property tests: any valid small scenario gives section-9-valid tables, coherent row counts and
byte-identical reruns; any invalid scenario document gives one line, exit 2 and nothing written.

Scenarios are drawn by hypothesis around the dev scenario: sizes, persona shares, behaviour
coefficients, network loads and the intervention policy. Two profiles (tests/conftest.py):
`ci` (the default, ~60 s on two cores: 10 valid scenarios, each run twice, and 30 invalid
documents) and `long` (TUTORSIM_PROPERTIES=long: 200 and 600, about 25 minutes), for a local
soak. `ci` is derandomized (the same examples on every run); `long` draws new ones each time.
"""
from __future__ import annotations

import filecmp
import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis import targets as T
from analysis import validate as V
from tests.conftest import ROOT, run_cli

PERSONAS = ("rock_star", "solid_performer", "no_show_problem", "struggling_newbie",
            "burned_out_veteran", "natural", "ordinary")
STRUCTURAL = ("rule", "fk", "enum")     # checks that hold on 100% of rows whatever the behaviour


@st.composite
def persona_shares(draw):
    weights = draw(st.lists(st.integers(0, 10), min_size=len(PERSONAS), max_size=len(PERSONAS))
                   .filter(lambda w: sum(w) > 0))
    total = sum(weights)
    shares = [round(w / total, 4) for w in weights]
    shares[max(range(len(shares)), key=lambda i: shares[i])] += round(1 - sum(shares), 4)
    return [f"tutors.personas.{p}.share={s:.4f}" for p, s in zip(PERSONAS, shares)]


def _set(key, values):
    return values.map(lambda v: f"{key}={v}")


scenario_sets = st.tuples(
    _set("tutors.count", st.integers(3, 12)),
    _set("calendar.window_days", st.integers(2, 5)),
    _set("calendar.lookahead_days", st.integers(0, 3)),
    _set("demand.sessions_per_day", st.integers(5, 60)),
    _set("seed", st.integers(0, 2 ** 31 - 1)),
    persona_shares(),
    _set("behaviour.no_show_scale", st.floats(0, 1).map(lambda x: round(x, 3))),
    _set("behaviour.reschedule_scale", st.floats(0, 1.5).map(lambda x: round(x, 3))),
    _set("behaviour.rating_noise_sd", st.floats(0, 1.5).map(lambda x: round(x, 3))),
    _set("behaviour.quality_skill_weight", st.floats(0, 2).map(lambda x: round(x, 3))),
    _set("behaviour.satisfaction_noise_sd", st.floats(0, 2).map(lambda x: round(x, 3))),
    _set("behaviour.quit_burnout_gain", st.floats(0, 20).map(lambda x: round(x, 2))),
    _set("network.weekend_load", st.floats(-0.5, 0.5).map(lambda x: round(x, 3))),
    _set("network.load_by_hour", st.dictionaries(st.integers(0, 23).map(str),
                                                 st.floats(-0.5, 1.0).map(lambda x: round(x, 3)),
                                                 max_size=4).map(
        lambda d: "{" + ", ".join(f"{h} = {v}" for h, v in d.items()) + "}")),
    _set("platform.interventions.enabled", st.booleans().map(lambda b: str(b).lower())),
    _set("platform.interventions.min_days_between", st.integers(1, 30)),
    _set("platform.interventions.churn_probability", st.floats(0.05, 0.85).map(lambda x: round(x, 3))),
)


def _flatten(sets) -> list[str]:
    out = []
    for s in sets:
        for item in (s if isinstance(s, list) else [s]):
            out += ["--set", item]
    return out


def _run(out: Path, sets: list[str]):
    return run_cli("--mode", "dev", "--no-progress", "--no-model", "--no-report", "--out", out, *sets)


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(scenario_sets)
def test_any_valid_small_scenario_gives_valid_coherent_reproducible_tables(sets):
    args = _flatten(sets)
    with tempfile.TemporaryDirectory() as tmp:
        a, b = Path(tmp) / "a", Path(tmp) / "b"
        code, _, err = _run(a, args)
        assert code == 0, f"{' '.join(args)}\n{err[-2000:]}"
        # section 9's row rules and every other check that holds row by row (section 9's
        # "realism" asserts are correlations: they need a platform's worth of tutors)
        d = V.load(a)
        bad = [f"{r.check.id} {r.check.claim}: {r.text}" for r in V.evaluate(d)
               if r.check.kind in STRUCTURAL and r.status == "FAIL"]
        assert not bad, f"{' '.join(args)}\n" + "\n".join(bad)
        # the row counts cohere: run.json's counts are the files', one profile and one aggregates
        # row (and one ground-truth row) per tutor
        manifest = json.loads((a / "run.json").read_text())
        for name, fname in T.TABLE_FILES.items():
            if d.has(name):
                assert manifest["rows"][Path(fname).stem] == len(d.table(name)), name
        tutors = manifest["tutors"]
        assert len(d.table("profiles")) == len(d.table("aggregates")) == len(d.table("traits")) == tutors
        # and the same scenario gives the same bytes
        code, _, err = _run(b, args)
        assert code == 0, err[-2000:]
        files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
        assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
        _, mismatch, errors = filecmp.cmpfiles(a, b, [str(f) for f in files], shallow=False)
        assert not mismatch and not errors, mismatch + errors


# (a scenario key, values that break it): wrong types, values out of the schema's range, keys
# that do not exist
BAD_VALUES = {
    "tutors.count": ["0", "-3", '"many"', "2.5", "[1, 2]"],
    "calendar.window_days": ["0", '"fourteen"', "-1"],
    "demand.sessions_per_day": ["-1", '"lots"', "true"],
    "tutors.defaults.weekend_only_share": ["1.5", "-0.1", '"half"'],
    "tutors.personas.rock_star.share": ["0.9", "-0.2"],
    "behaviour.no_show_scale": ["-1", '"x"'],
    "behaviour.sentiment_overall_mix": ["2", "-1"],
    "platform.interventions.min_days_between": ['"weekly"', "{a = 1}"],
    "network.tech_issue_prob": ['{Perfect = 0.1}', '"high"'],
    "students.cadence_weights": ['{1 = -1, 2 = 0.5}', "[]"],
    "behaviour.no_such_coefficient": ["1"],
    "platform.no_such_policy": ["true"],
}


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None,
          max_examples=3 * settings().max_examples)     # a bad document costs a tenth of a run
@given(st.sampled_from(sorted(BAD_VALUES)).flatmap(
    lambda k: st.tuples(st.just(k), st.sampled_from(BAD_VALUES[k]))))
def test_any_invalid_scenario_document_gives_one_line_exit_2_and_nothing_written(bad):
    key, value = bad
    with tempfile.TemporaryDirectory() as tmp:
        *tables, leaf = key.split(".")
        doc = Path(tmp) / "bad.toml"
        doc.write_text(f'extends = "{ROOT / "scenarios" / "dev.toml"}"\n'
                       + (f"[{'.'.join(tables)}]\n" if tables else "") + f"{leaf} = {value}\n")
        out = Path(tmp) / "out"
        code, stdout, stderr = run_cli(doc, "--no-progress", "--no-report", "--out", out)
        lines = stderr.strip().splitlines()
        assert code == 2, (key, value, code, stderr[-1500:])
        assert len(lines) == 1 and str(doc) in lines[0], (key, value, stderr)
        assert not out.exists()
