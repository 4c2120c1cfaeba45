"""The frames checks are measured on: a table, or a frame derived from tables.

`VIEWS[name](data)` builds the view; the evaluator caches it per run (data.view(name)).
Derived views: completed sessions, tutors (profiles joined to aggregates), activity (what
sessions.csv says about each tutor), personas (ground-truth traits joined to tutors), and the
interventions / assignments / experiments joined to what the other tables hold about them.
"""
from __future__ import annotations

from typing import Callable

import pandas as pd

from analysis.targets.checks import Skip
from analysis.targets.predicates import is_false, is_true, parse_list

VIEWS: dict[str, Callable] = {}


def _view(name):
    def deco(fn):
        VIEWS[name] = fn
        return fn
    return deco


def window_end(d) -> pd.Timestamp:
    """End of the observed window: as run.json says, else the midnight after the last session
    (or event) start."""
    manifest = getattr(d, "manifest", None)
    if isinstance(manifest, dict) and manifest.get("window_end"):
        try:
            return pd.Timestamp(str(manifest["window_end"]))
        except ValueError:
            pass
    for name, col in (("sessions", "session_datetime"), ("events", "timestamp")):
        if d.has(name) and col in d.table(name) and d.table(name)[col].notna().any():
            return d.table(name)[col].max().normalize() + pd.Timedelta(days=1)
    raise Skip("no timestamps to place the window")


# ---------------------------------------------------------------------------------- tables


@_view("profiles")
def _v_profiles(d):
    return d.table("profiles")


@_view("aggregates")
def _v_aggregates(d):
    return d.table("aggregates")


@_view("sessions")
def _v_sessions(d):
    return d.table("sessions")


@_view("traits")
def _v_traits(d):
    return d.table("traits")


for _name in ("events", "interventions", "experiments", "assignments", "reschedules"):
    VIEWS[_name] = (lambda name: (lambda d: d.table(name)))(_name)


# -------------------------------------------------------------------------- tutor views


@_view("completed")
def _v_completed(d):
    s = d.table("sessions")
    return s[is_true(s["session_completed"])]


@_view("tutors")
def _v_tutors(d):
    """Profiles joined to aggregates (whichever of the two is present)."""
    p = d.table("profiles") if d.has("profiles") else None
    a = d.table("aggregates") if d.has("aggregates") else None
    if p is not None and a is not None:
        return p.merge(a, on="tutor_id", how="outer", suffixes=("", "_agg"))
    return p if p is not None else a


@_view("activity")
def _v_activity(d):
    """One row per tutor seen in sessions.csv: what the sessions say about the tutor."""
    s = d.table("sessions")
    done = is_true(s["session_completed"])
    end = window_end(d)
    t = s["session_datetime"]
    g = pd.DataFrame({
        "tutor_id": s["tutor_id"],
        "done": done,
        "weekend": t.dt.day_of_week >= 5,
        "done_7d": done & (t >= end - pd.Timedelta(days=7)),
        "done_30d": done & (t >= end - pd.Timedelta(days=30)),
        "tutor_no_show": is_false(s["tutor_showed"]) if "tutor_showed" in s else False,
        "odd_hour": t.dt.hour.isin([6, 22]),
    })
    for src, name in (("student_rating", "rating"), ("student_attention_pct", "attention"),
                      ("overall_sentiment", "sentiment")):
        if src in s:
            g[name] = s[src].where(done)
    if "had_technical_issues" in s:
        g["tech_30d"] = is_true(s["had_technical_issues"]).astype(float).where(g["done_30d"])
    aggs = {"sessions": ("done", "size"), "completed": ("done", "sum"),
            "completed_7d": ("done_7d", "sum"), "completed_30d": ("done_30d", "sum"),
            "weekend_share": ("weekend", "mean"), "tutor_no_show_rate": ("tutor_no_show", "mean"),
            "odd_hour_share": ("odd_hour", "mean")}
    for name in ("rating", "attention", "sentiment", "tech_30d"):
        if name in g:
            aggs[f"mean_{name}"] = (name, "mean")
    return g.groupby("tutor_id", sort=True).agg(**aggs).reset_index()


@_view("tutor_activity")
def _v_tutor_activity(d):
    """What sessions.csv says about each tutor joined to the tutor's profile and aggregates."""
    return d.view("activity").merge(d.view("tutors"), on="tutor_id", how="left")


@_view("personas")
def _v_personas(d):
    """Ground-truth persona of each tutor joined to what the tables say about the tutor."""
    out = d.table("traits")[["tutor_id", "persona"]]
    if d.has("profiles") or d.has("aggregates"):
        out = out.merge(d.view("tutors"), on="tutor_id", how="left")
    return out


@_view("personas+activity")
def _v_personas_activity(d):
    """Personas joined to what sessions.csv says about each tutor."""
    return d.view("personas").merge(d.view("activity"), on="tutor_id", how="left")


@_view("sessions+")
def _v_sessions_plus(d):
    """Each session's id, tutor and subject with its tutor's subjects_taught and primary_subject:
    what the checks on this view read (the subject against the tutor's), not the session's other
    columns, which would copy the whole table (at platform size a million rows, beside it)."""
    p = d.table("profiles")
    cols = [c for c in ("tutor_id", "subjects_taught", "primary_subject") if c in p]
    s = d.table("sessions")
    own = [c for c in ("session_id", "tutor_id", "subject") if c in s]
    return s[own].merge(p[cols].drop_duplicates("tutor_id"), on="tutor_id", how="left")


# -------------------------------------------------------------------- experiment views


def _experiment_variants(d) -> pd.Series:
    e = d.table("experiments").drop_duplicates("experiment_id").set_index("experiment_id")
    return e["variants"].map(lambda v: parse_list(v) or None)


@_view("interventions+")
def _v_interventions_plus(d):
    """Interventions with their experiment's variants and the tutor's assigned variant."""
    df = d.table("interventions")
    if d.has("experiments"):
        df = df.assign(_variants=df["experiment_id"].map(_experiment_variants(d)))
    if d.has("assignments"):
        a = d.table("assignments").drop_duplicates(["experiment_id", "tutor_id"])
        df = df.merge(a[["experiment_id", "tutor_id", "variant"]].rename(
            columns={"variant": "_assigned"}), on=["experiment_id", "tutor_id"], how="left")
    return df


@_view("assignments+")
def _v_assignments_plus(d):
    """Assignments with their experiment's variants and status."""
    df = d.table("assignments")
    e = d.table("experiments").drop_duplicates("experiment_id").set_index("experiment_id")
    return df.assign(_variants=df["experiment_id"].map(_experiment_variants(d)),
                     _status=df["experiment_id"].map(e["status"]))


@_view("experiments+")
def _v_experiments_plus(d):
    """Experiments with the number of assignments each holds."""
    df = d.table("experiments")
    n = d.table("assignments").groupby("experiment_id").size()
    return df.assign(_assigned=df["experiment_id"].map(n).fillna(0))
