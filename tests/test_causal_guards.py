"""The columns come from behaviour, and the suite would notice if one did not.

For each key column, the link to its causes is broken in a real calibrated production run (seed
1) and validate's statistical claims are measured again: session-level columns are permuted
within tutors or drawn from their own marginal (a shuffle across sessions), tutor-level columns
are permuted across tutors of the same persona (the churn labels with their dates and reasons).
Each break must turn at least one named claim from PASS to FAIL: a column whose value were a
draw from its target distribution, ignoring what happened, would be caught. docs/realism.md keeps the table (GUARDS below is its source).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import targets as T
from analysis import validate as V

SEED = 20261205


def _within(table, col, by="tutor_id", where=None):
    """Permute `col` among the rows of each `by` group (of the rows `where` selects)."""
    def mutate(tables, rng):
        df = tables[table]
        rows = df.index if where is None else df.index[where(df)]
        sub = df.loc[rows]
        shuffled = sub.groupby(by, sort=False)[col].transform(
            lambda s: pd.Series(rng.permutation(s.to_numpy()), index=s.index))
        df.loc[rows, col] = shuffled
    return mutate


def _marginal(table, col, where=None):
    """Replace `col` by draws from its own marginal: a shuffle across the rows `where` selects."""
    def mutate(tables, rng):
        df = tables[table]
        rows = df.index if where is None else df.index[where(df)]
        df.loc[rows, col] = rng.permutation(df.loc[rows, col].to_numpy())
    return mutate


def _across_persona(table, col):
    """Permute a tutor-level column across tutors of the same persona."""
    def mutate(tables, rng):
        df = tables[table]
        persona = df["tutor_id"].map(tables["traits"].set_index("tutor_id")["persona"])
        df[col] = df.assign(_p=persona).groupby("_p", sort=False)[col].transform(
            lambda s: pd.Series(rng.permutation(s.to_numpy()), index=s.index))
    return mutate


def _labels_across_persona(tables, rng):
    """Each tutor's churn label (churned, when, why) moved to another tutor of the same persona."""
    df = tables["labels"]
    persona = df["tutor_id"].map(tables["traits"].set_index("tutor_id")["persona"])
    cols = ["churned", "churned_at", "reason"]
    for _, idx in df.groupby(persona, sort=False).groups.items():
        df.loc[idx, cols] = df.loc[rng.permutation(idx), cols].to_numpy()


def _completed(df):
    return T.is_true(df["session_completed"]).to_numpy()


# column -> (how it is broken, the claims that catch it: prefixes of check claims)
GUARDS = {
    "student_rating": (_marginal("sessions", "student_rating", _completed), [
        "'satisfaction correlates with rating", "is_first_session -> rating",
        "connection_quality -> rating", "avg_rating_30d agrees"]),
    "student_satisfaction": (_within("sessions", "student_satisfaction", where=_completed), [
        "empathy_score -> student_satisfaction", "'satisfaction correlates with rating"]),
    "empathy_score": (_within("sessions", "empathy_score", where=_completed), [
        "empathy_score -> student_satisfaction"]),
    "student_attention_pct": (_marginal("sessions", "student_attention_pct", _completed), [
        "'attention correlates with tutor quality'", "engagement_score is the spec's composite"]),
    "connection_quality": (_marginal("sessions", "connection_quality", _completed), [
        "connection_quality in peak hours", "connection_quality -> rating"]),
    "had_technical_issues": (_marginal("sessions", "had_technical_issues", _completed), [
        "technical_issue_rate agrees"]),
    "engagement_score": (_marginal("sessions", "engagement_score", _completed), [
        "engagement_score is the spec's composite", "speak balance"]),
    "is_first_session": (_within("sessions", "is_first_session"), [
        "is_first_session -> rating"]),
    "no_show_count": (_across_persona("profiles", "no_show_count"), [
        "no_show_count is the tutor's sessions", "'based on tutor's no_show_count'"]),
    "reschedule_rate": (_across_persona("profiles", "reschedule_rate"), [
        "reschedule_rate agrees with the tutor's own moves", "reschedule_rate is 'inverse reliability'"]),
    "active_status": (_across_persona("profiles", "active_status"), [
        "active_status is False iff", "'inactive tutors don't get scheduled'"]),
    "churn_probability": (_across_persona("aggregates", "churn_probability"), [
        "churn_probability follows"]),
    "churn labels": (_labels_across_persona, ["active_status is False iff"]),
}


def _checks(prefixes):
    found = [c for c in T.CHECKS if any(c.claim.startswith(p) for p in prefixes)]
    missing = [p for p in prefixes if not any(c.claim.startswith(p) for c in found)]
    assert not missing, f"no check's claim starts with {missing}"
    return found


@pytest.fixture(scope="module")
def tables(calibration_run):
    d = V.load(calibration_run)
    return d.tables, d.manifest, calibration_run


@pytest.mark.parametrize("column", list(GUARDS))
def test_breaking_a_column_from_its_causes_is_caught(tables, column):
    raw, manifest, root = tables
    mutate, claims = GUARDS[column]
    checks = _checks(claims)
    before = {r.check.id: r.status for r in V.evaluate(V.Data(root, raw, manifest), checks)}
    assert all(s == "PASS" for s in before.values()), before
    broken = {name: df.copy() for name, df in raw.items()}
    mutate(broken, np.random.default_rng(SEED))
    after = V.evaluate(V.Data(root, broken, manifest), checks)
    caught = [f"{r.check.id} {r.check.claim}: {r.text}" for r in after if r.status == "FAIL"]
    assert caught, f"{column} broken from its causes, and every claim still passes: " + \
        "; ".join(f"{r.check.id} {r.text}" for r in after)
