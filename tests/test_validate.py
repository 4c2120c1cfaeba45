"""`run.py validate` on small synthetic tables that the tests build themselves."""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis import targets as T  # noqa: E402
from analysis import validate as V  # noqa: E402
from analysis.targets import composite  # noqa: E402
from commands import validate as validate_command  # noqa: E402

SUMMARY = re.compile(r"^\d+ passed, \d+ failed(, \d+ off the spec's number by a documented "
                     r"reading)?(, \d+ skipped)?$")
HELD = ["actual_duration_min", "connection_quality", "had_technical_issues",
        "student_attention_pct", "tutor_camera_on_pct", "tutor_speak_ratio", "screen_share_pct",
        "overall_sentiment", "student_sentiment", "tutor_sentiment", "empathy_score",
        "clarity_score", "engagement_score", "student_rating", "student_satisfaction",
        "would_recommend"]


def tables() -> dict[str, pd.DataFrame]:
    """Seven small tables that obey every rule of the spec (not its distributions)."""
    tutors = ["T0001", "T0002", "T0003", "T0004"]
    profiles = pd.DataFrame({
        "tutor_id": tutors, "months_experience": [3, 14, 30, 72],
        "total_sessions_completed": [30, 200, 500, 1000],
        "certification_level": ["Basic", "Basic", "Advanced", "Expert"],
        "avg_historical_rating": [3.8, 4.2, 4.4, 4.7],
        "reliability_score": [0.6, 0.75, 0.85, 0.9],
        "reschedule_rate": [0.18, 0.1, 0.05, 0.02], "no_show_count": [4, 1, 0, 0],
        "subjects_taught": ["Math", "Math,Science", "English,History", "Programming"],
        "primary_subject": ["Math", "Math", "English", "Programming"],
        "active_status": [True, True, True, False],
    })
    primary = dict(zip(profiles.tutor_id, profiles.primary_subject))
    n = 24
    rows = []
    for i in range(n):
        tutor = tutors[i % 4]
        sat = 8.0 if i % 5 else 6.0
        rows.append({
            "session_id": f"S{i + 1:06d}", "tutor_id": tutor, "student_id": f"ST{i % 7 + 1:06d}",
            "session_datetime": f"2024-03-{1 + i % 10:02d} {15 + i % 5:02d}:00:00",
            "scheduled_duration_min": 60, "actual_duration_min": 58 + i % 5,
            "subject": primary[tutor], "grade_level": "High School",
            "is_first_session": i % 6 == 0, "session_completed": True, "student_showed": True,
            "tutor_showed": True, "connection_quality": "Excellent" if i % 4 else "Good",
            "had_technical_issues": i % 9 == 0, "student_attention_pct": 70.0 + i % 10,
            "tutor_camera_on_pct": 90.0, "tutor_speak_ratio": 0.45 + 0.01 * (i % 5),
            "screen_share_pct": 60.0, "overall_sentiment": 0.4, "student_sentiment": 0.45,
            "tutor_sentiment": 0.55, "empathy_score": 6.5, "clarity_score": 6.8,
            "engagement_score": None, "student_rating": 4.0 + 0.1 * (i % 6),
            "student_satisfaction": sat, "would_recommend": sat >= 7.0,
        })
    sessions = pd.DataFrame(rows)
    # the spec's composite at the width validate reads when there is no run.json
    sessions["engagement_score"] = composite.engagement(
        sessions["student_attention_pct"], sessions["tutor_speak_ratio"],
        sessions["overall_sentiment"], composite.reading_width()).round(2)
    sessions = sessions.astype({c: object for c in HELD})
    # one student no-show and one tutor no-show: nothing observed
    sessions.loc[3, ["session_completed", "student_showed"]] = False
    sessions.loc[7, ["session_completed", "tutor_showed"]] = False
    sessions.loc[[3, 7], HELD] = None
    # the profile's count is the tutor's no-shows in the sessions
    missed = (sessions["tutor_showed"] == False).groupby(sessions["tutor_id"]).sum()  # noqa: E712
    profiles["no_show_count"] = profiles["tutor_id"].map(missed).fillna(0).astype(int)
    aggregates = pd.DataFrame({
        "tutor_id": tutors, "total_sessions_30d": [5, 5, 6, 6], "total_sessions_7d": [2, 3, 3, 0],
        "avg_rating_30d": [4.2, 4.3, 4.2, 4.3], "avg_rating_7d": [None, 4.2, 4.1, None],
        "avg_engagement_score": [6.3] * 4, "avg_empathy_score": [6.5] * 4,
        "avg_clarity_score": [6.8] * 4, "avg_student_satisfaction": [7.6] * 4,
        "first_session_count": [2, 1, 0, 1], "first_session_avg_rating": [3.4, 4.0, None, 4.5],
        "poor_first_session_flag": [True, False, False, False],
        "recommendation_rate": [0.8] * 4, "technical_issue_rate": [0.1, 0.0, 0.2, 0.0],
        "sentiment_trend_7d": [0.4] * 4, "churn_probability": [0.55, 0.2, 0.1, 0.35],
        "churn_risk_level": ["High", "Low", "Low", "Medium"],
        "churn_signals_detected": [4, 1, 0, 2],
    })
    events = pd.DataFrame({
        "event_id": ["EV000001", "EV000002", "EV000003"], "tutor_id": ["T0001", "T0002", "T0001"],
        "event_type": ["login", "session_scheduled", "email_opened"],
        "event_data": ['{"device": "web"}', '{"session_id": "S000002"}', "{}"],
        "timestamp": ["2024-03-01 09:00:00", "2024-03-01 09:40:00", "2024-03-02 10:00:00"],
    })
    interventions = pd.DataFrame({
        "intervention_id": ["INT0001", "INT0002"], "tutor_id": ["T0001", "T0002"],
        "intervention_type": ["first_session", "churn"], "channel": ["email", "email"],
        "subject": ["s", "s"], "content": ["c", "c"],
        "template_id": ["template_first_session_001", "template_churn_001"],
        "experiment_id": ["EXP001", None], "experiment_variant": ["treatment_a", None],
        "sent_at": ["2024-03-02 08:00:00", "2024-03-03 08:00:00"],
        "delivered_at": ["2024-03-02 08:01:00", "2024-03-03 08:01:00"],
        "opened_at": ["2024-03-02 09:00:00", None], "clicked_at": ["2024-03-02 09:05:00", None],
        "responded_at": [None, None], "status": ["clicked", "delivered"],
        "engagement_before": [5.0, 6.0], "engagement_after": [6.0, 6.0],
        "sessions_before_count": [3, 4], "sessions_after_count": [5, 4],
    })
    experiments = pd.DataFrame({
        "experiment_id": ["EXP001", "EXP002"],
        "name": ["First Session Coaching Email", "Quality Feedback Format"],
        "hypothesis": ["h1", "h2"], "description": [None, None],
        "variants": ['["control", "treatment_a"]', '["control", "treatment_a"]'],
        "target_segment": ['{"churn_risk_level": ["High", "Medium"]}', "{}"],
        "primary_metric": ["engagement_lift", "engagement_lift"],
        "secondary_metrics": ['{"first_session_rating": true}', None],
        "start_date": ["2024-01-01 00:00:00", "2024-02-25 00:00:00"],
        "end_date": ["2024-02-01 00:00:00", None], "status": ["completed", "active"],
        "sample_size": [2, 10], "significance": [0.04, None], "winner": ["treatment_a", None],
    })
    assignments = pd.DataFrame({
        "experiment_id": ["EXP001", "EXP001", "EXP002"], "tutor_id": ["T0001", "T0002", "T0003"],
        "variant": ["treatment_a", "control", "control"],
        "assigned_at": ["2024-01-01 00:00:00", "2024-01-01 00:00:00", "2024-02-25 00:00:00"],
        "exposed_at": ["2024-01-01 05:00:00", "2024-01-02 00:00:00", None],
        "converted_at": ["2024-01-05 00:00:00", None, None],
        "conversion_value": [0.12, None, None],
    })
    return {"profiles": profiles, "sessions": sessions, "aggregates": aggregates,
            "events": events, "interventions": interventions, "experiments": experiments,
            "assignments": assignments}


def write(folder: Path, tabs: dict[str, pd.DataFrame]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in tabs.items():
        df.to_csv(folder / T.TABLE_FILES[name], index=False)
    return folder


def run(folder: Path, capsys, *extra: str):
    code = validate_command.main([str(folder), "--no-report", *extra])
    out, err = capsys.readouterr()
    return code, out, err


def results(folder: Path, capsys) -> tuple[int, dict[str, dict]]:
    code, out, _ = run(folder, capsys, "--json")
    doc = json.loads(out)
    return code, {r["id"]: r for r in doc["results"]}


def status(res: dict[str, dict], key: str) -> str:
    return res[T.by_key(key).id]["status"]


# ------------------------------------------------------------------------------------ tests


def test_check_definitions_are_well_formed():
    ids = [c.id for c in T.CHECKS]
    assert len(ids) == len(set(ids))
    known = set(T.TABLE_FILES) | set(T.EXTRA_FILES)
    for c in T.CHECKS:
        assert set(c.needs) <= known, c.id
        assert c.view is None or c.view in T.VIEWS, c.id
        assert c.section in T.SECTIONS, c.id
        if c.kind == "corr":
            assert c.level in ("session", "tutor") and f"({c.level} level)" in c.claim
    assert T.CONTRADICTIONS and all(len(t) == 2 for t in T.CONTRADICTIONS)


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """The consistent tables, written once and evaluated once."""
    folder = write(tmp_path_factory.mktemp("good"), tables())
    res = {r.check.id: r for r in V.evaluate(V.load(folder))}
    return folder, res


def test_consistent_tables_pass_every_rule(good):
    hard = [r for r in good[1].values() if r.check.kind in ("rule", "fk", "range", "enum")]
    assert hard and all(r.status in ("PASS", "SKIP") for r in hard), \
        [(r.check.id, r.check.claim, r.text) for r in hard if r.status == "FAIL"]
    assert sum(r.status == "PASS" for r in hard) >= 60   # distributions may fail; rules may not


def _set(table, col, values):
    def breaks(t):
        t[table][col] = values(t[table]) if callable(values) else values
    return breaks


BREAKS = {
    # key of the check -> how to break it; the first three also run main() for the exit code
    "rule_rating_completed": _set("sessions", "student_rating",
                                  lambda df: df["student_rating"].where(df.index != 3, 4.0)),
    "engagement_formula": _set("sessions", "engagement_score",
                               lambda df: df["engagement_score"].where(df.index != 1, 9.0)),
    "rule_speak": _set("sessions", "tutor_speak_ratio",
                       lambda df: df["tutor_speak_ratio"].where(df.index != 0, 0.9)),
    "rule_churn_cap": _set("aggregates", "churn_probability", [0.9, 0.2, 0.1, 0.35]),
    "rule_tutor_showed": _set("sessions", "tutor_showed",
                              lambda df: [i != 5 for i in range(len(df))]),
    "rule_rating_7d": _set("aggregates", "avg_rating_7d", [4.0, 4.2, 4.1, None]),
    "rule_poor_first": _set("aggregates", "poor_first_session_flag", [True, False, True, False]),
    "risk_level_rule": _set("aggregates", "churn_risk_level", ["Low", "Low", "Low", "Medium"]),
    "recommend_rule": _set("sessions", "would_recommend",
                           lambda df: df["would_recommend"].where(df.index != 1, False)),
    "intervention_order": _set("interventions", "opened_at", ["2024-03-02 07:00:00", None]),
    "assignment_order": _set("assignments", "converted_at", ["2023-12-31 00:00:00", None, None]),
}


@pytest.mark.parametrize("key", list(BREAKS))
def test_breaking_a_rule_fails_it(tmp_path, good, key):
    check = T.by_key(key)
    assert good[1][check.id].status == "PASS"
    tabs = tables()
    BREAKS[key](tabs)
    needed = {n: tabs[n] for n in check.needs}
    assert V.evaluate_one(check, V.load(write(tmp_path / "bad", needed))).status == "FAIL"


def test_broken_rules_exit_1_and_name_the_rows(tmp_path, capsys):
    """A rating on a no-show, a speak ratio of 0.9 and a churn probability of 0.9."""
    tabs = tables()
    offenders = {"rule_rating_completed": "S000004", "rule_speak": "S000001",
                 "rule_churn_cap": "T0001"}
    for key in offenders:
        BREAKS[key](tabs)
    code, out, _ = run(write(tmp_path / "bad", tabs), capsys)
    assert code == 1
    lines = out.splitlines()
    for key, row in offenders.items():
        line = next(s for s in lines if s.strip().startswith(T.by_key(key).id + " "))
        assert line.rstrip().endswith("FAIL") and row in line, line
    assert SUMMARY.match(lines[-1])


def test_missing_folder_exits_2(tmp_path, capsys):
    code, out, err = run(tmp_path / "nope", capsys)
    assert code == 2 and out == ""
    assert err.startswith("validate: ") and "nope" in err


def test_folder_without_tables_exits_2(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    code, _, err = run(tmp_path / "empty", capsys)
    assert code == 2 and "none of the tables" in err


@pytest.mark.parametrize("text, what", [
    ('session_id,tutor_id\n"S000001,T0001\n', "cannot parse"),
    ("session_id,session_datetime\nS000001,not-a-date\n", "session_datetime"),
    ("session_id,student_rating\nS000001,four\n", "student_rating"),
    ("session_id,session_completed\nS000001,maybe\n", "session_completed"),
    ("", "empty"),
])
def test_unparsable_table_exits_2(tmp_path, capsys, text, what):
    folder = write(tmp_path / "d", {"profiles": tables()["profiles"]})
    (folder / "sessions.csv").write_text(text)
    code, out, err = run(folder, capsys)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith(f"validate: {folder / 'sessions.csv'}: ") and what in err


def test_absent_tables_are_skipped_not_failed(tmp_path, capsys):
    folder = write(tmp_path / "d", {"profiles": tables()["profiles"]})
    code, res = results(folder, capsys)
    session_checks = [r for r in res.values() if "sessions" in T.CHECKS[
        [c.id for c in T.CHECKS].index(r["id"])].needs]
    assert session_checks and all(r["status"] == "SKIP" for r in session_checks)
    assert all(r["status"] == "SKIP" for r in res.values() if r["section"] in (12, 13, 14, 15))
    assert any(r["status"] == "PASS" for r in res.values() if r["section"] == 1)


def test_last_line_is_the_summary(tmp_path, capsys):
    folder = write(tmp_path / "d", {"profiles": tables()["profiles"],
                                    "aggregates": tables()["aggregates"]})
    code, out, _ = run(folder, capsys)
    last = out.rstrip("\n").splitlines()[-1]
    assert SUMMARY.match(last), last
    passed, failed = map(int, re.findall(r"(\d+) (?:passed|failed)", last))
    skipped = int(re.search(r"(\d+) skipped", last).group(1))
    assert skipped > 0 and passed > 0
    assert code == (1 if failed else 0)
    assert passed + failed + skipped == len(T.CHECKS)


def test_ground_truth_and_manifest(tmp_path, capsys):
    tabs = tables()
    folder = write(tmp_path / "d", tabs)
    (folder / "ground_truth").mkdir()
    pd.DataFrame({"tutor_id": ["T0001", "T0002", "T0003", "T0004"],
                  "persona": ["struggling_newbie", "solid_performer", "solid_performer",
                              "rock_star"]}).to_csv(folder / "ground_truth/tutor_traits.csv",
                                                    index=False)
    pd.DataFrame({"session_id": ["S000001", "S000002"], "initiated_by": ["tutor", "tutor"]}) \
        .to_csv(folder / "ground_truth/reschedules.csv", index=False)
    (folder / "run.json").write_text(json.dumps({"scenario": "tiny", "tutors": 4,
                                                 "window_days": 10, "sessions_per_day": 2.4,
                                                 "seed": 1}))
    _, res = results(folder, capsys)
    assert res[T.by_key("volume_sessions").id]["status"] == "PASS"   # 2.4 * 10 = 24 sessions
    persona = [r for r in res.values() if r["section"] == 10]
    newbie = [r for r in persona if r["claim"].startswith("struggling_newbie: mean months")]
    assert newbie[0]["status"] == "PASS" and newbie[0]["measured"] == 3
    assert any(r["status"] == "SKIP" for r in persona)                # no burned-out veteran
    tutor_initiated = next(r for r in res.values() if "98.2%" in r["claim"])
    assert tutor_initiated["status"] == "PASS"


def test_report_is_written(tmp_path, capsys):
    folder = write(tmp_path / "d", {"profiles": tables()["profiles"]})
    code = validate_command.main([str(folder)])
    out = capsys.readouterr().out
    report = (folder / "report.md").read_text()
    assert "## Contradictions in the spec and the reading we chose" in report
    assert (folder / "figures" / "distributions_tutors.png").stat().st_size > 0
    assert SUMMARY.match(out.rstrip("\n").splitlines()[-1])
    assert code in (0, 1)


# --- validate on a real dev-size run ----------------------------------------------------------

STABLE_AT_DEV_SIZE = ("rule", "range", "enum", "fk")


def test_validate_on_a_dev_run_passes_the_checks_stable_at_that_size(dev_run):
    """A dev run (25 tutors, 14 days) is too small for shares and correlations to mean much,
    but every row-level rule, range, enum and key of the spec must hold on it."""
    results = V.evaluate(V.load(Path(dev_run)))
    stable = [r for r in results if r.check.kind in STABLE_AT_DEV_SIZE and r.status != "SKIP"]
    assert len(stable) >= 60, f"only {len(stable)} row-level checks ran on the dev run"
    failed = [(r.check.id, r.check.claim, r.text) for r in stable if r.status == "FAIL"]
    assert not failed, f"row-level checks failing on a dev run: {failed}"


def test_validate_on_a_dev_run_sees_all_seven_tables(dev_run):
    results = V.evaluate(V.load(Path(dev_run)))
    skipped_for_tables = [r.check.id for r in results if r.status == "SKIP" and r.text.startswith("needs ")]
    assert not skipped_for_tables, f"checks skipped for a missing table: {skipped_for_tables[:10]}"
