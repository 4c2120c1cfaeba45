"""Sections 14-15: experiments (experiments.csv) and their assignments
(experiment_assignments.csv)."""
from __future__ import annotations

import pandas as pd

from analysis.targets.checks import Measured, Skip, enum, fk, metric, rng, rule, share
from analysis.targets.columns import G, X
from analysis.targets.predicates import (both, differs, equals, id_pattern, parse_list, present,
                                         set_iff, unique, valid_json, variant_listed)

# ------------------------------------------------------------------ custom measurements


def variants_listed(df: pd.DataFrame) -> pd.Series:
    """variants is a JSON array of at least two distinct names."""
    return df["variants"].map(lambda v: len(parse_list(v)) >= 2
                              and len(set(parse_list(v))) == len(parse_list(v))).astype(bool)


def experiment_ok(df):
    """completed: end_date after start_date, p-value in [0, 1], a winner (one of the variants)
    iff p < 0.05; active: end_date, significance and winner null."""
    out = []
    for _, r in df.iterrows():
        variants = parse_list(r.get("variants"))
        if r["status"] == "completed":
            ok = (pd.notna(r["end_date"]) and pd.notna(r["start_date"])
                  and r["end_date"] > r["start_date"]
                  and pd.notna(r["significance"]) and 0 <= r["significance"] <= 1
                  # a winner exactly when the test is significant (p < 0.05)
                  and ((isinstance(r.get("winner"), str) and r["winner"] in variants)
                       == bool(r["significance"] < 0.05)))
        elif r["status"] == "active":
            ok = (pd.isna(r["end_date"]) and pd.isna(r["significance"])
                  and not isinstance(r.get("winner"), str))
        else:
            ok = True  # reported by the enum check
        out.append(bool(ok))
    return pd.Series(out, index=df.index, dtype=bool)


def both_statuses(d):
    """The smaller of the numbers of completed and of active experiments."""
    e = d.table("experiments")
    return Measured(min(int((e["status"] == s).sum()) for s in ("completed", "active")),
                    n=len(e))


def sample_size_ok(df):
    """sample_size: completed = the assignments counted, active >= them (runs on experiments+)."""
    n = df["_assigned"]
    return ((df["status"] == "completed") & (df["sample_size"] == n)) | (
        (df["status"] == "active") & (df["sample_size"] >= n)) | ~df["status"].isin(
        ["completed", "active"])


def exposed_soon_after(df: pd.DataFrame) -> pd.Series:
    """exposed_at (when set) is 1-48 h after assigned_at."""
    return df["exposed_at"].isna() | (df["exposed_at"] - df["assigned_at"]).between(
        pd.Timedelta(hours=1), pd.Timedelta(hours=48))


def assignment_order(df: pd.DataFrame) -> pd.Series:
    """assigned_at < exposed_at <= converted_at; converted implies exposed."""
    return ~((df["assigned_at"] >= df["exposed_at"]).fillna(False)
             | (df["exposed_at"] > df["converted_at"]).fillna(False)
             | (df["converted_at"].notna() & df["exposed_at"].isna()))


def variant_balance(d):
    """Largest |share of a variant - 1/k| over the experiments (k variants assigned)."""
    a = d.table("assignments")
    if a.empty:
        raise Skip("no assignments")
    worst, where = 0.0, ""
    for e, g in a.groupby("experiment_id"):
        sh = g["variant"].value_counts(normalize=True)
        dev = float((sh - 1 / len(sh)).abs().max())
        if dev >= worst:
            worst, where = dev, str(e)
    return Measured(worst, n=len(a), text=f"{worst:.3f} ({where})")


# ===================================================================== section 14: experiments

rule(14, "experiment_id matches EXP\\d{3} and is unique", level="experiment", needs=X,
     view="experiments", ok=id_pattern(r"EXP\d{3}", "experiment_id"), ident="experiment_id")
rule(14, "name and hypothesis are present", level="experiment", needs=X, view="experiments",
     ident="experiment_id", ok=both(present("name"), present("hypothesis")))
rule(14, "variants is a JSON array of >= 2 distinct names", level="experiment", needs=X,
     view="experiments", ident="experiment_id", ok=variants_listed)
rule(14, "target_segment and secondary_metrics are JSON objects", level="experiment", needs=X,
     view="experiments", ident="experiment_id",
     ok=both(valid_json("target_segment", dict, False),
             valid_json("secondary_metrics", dict, True)))
enum(14, "experiments", "status", ("completed", "active"), level="experiment", needs=X)
rule(14, "completed: end_date after start_date, p-value in [0, 1], a winner (one of the "
         "variants) iff p < 0.05; active: end_date, significance, winner null", level="experiment",
     needs=X, view="experiments", ident="experiment_id", ok=experiment_ok)
metric(14, "at least one completed and one active experiment", level="experiment", needs=X,
       lo=1, hi=None, target_text=">= 1 of each", fn=both_statuses)
rule(14, "sample_size: completed = assignments count, active >= assignments count",
     level="experiment", needs=("experiments", "assignments"), view="experiments+",
     ident="experiment_id", ok=sample_size_ok)

# ========================================================= section 15: experiment assignments

fk(15, "assignments", "experiment_id", "experiments", level="assignment")
fk(15, "assignments", "tutor_id", "profiles", level="assignment")
rule(15, "one assignment per tutor and experiment", level="assignment", needs=G,
     view="assignments", ok=unique("experiment_id", "tutor_id"))
rule(15, "variant is one of the experiment's variants", level="assignment",
     needs=("assignments", "experiments"), view="assignments+", ok=variant_listed("variant"))
rule(15, "assigned_at < exposed_at <= converted_at; converted implies exposed",
     level="assignment", needs=G, view="assignments", key="assignment_order",
     ok=assignment_order)
rule(15, "exposed_at is 1-48 h after assigned_at", level="assignment", needs=G,
     view="assignments", ok=exposed_soon_after)
rng(15, "assignments", "conversion_value", 0.05, 0.3, level="assignment", needs=G)
rule(15, "conversion_value is set iff converted_at is set", level="assignment", needs=G,
     view="assignments", ok=set_iff("conversion_value", "converted_at"))
share(15, "conversion rate of control", level="assignment", needs=G, view="assignments",
      where=equals("variant", "control"), pred=present("converted_at"), lo=0.05, hi=0.15)
share(15, "conversion rate of treatment variants (not control)", level="assignment", needs=G,
      view="assignments", where=differs("variant", "control"), pred=present("converted_at"),
      lo=0.08, hi=0.20)
share(15, "exposure in completed experiments", level="assignment",
      needs=("assignments", "experiments"), view="assignments+",
      where=equals("_status", "completed"), pred=present("exposed_at"), lo=0.85, hi=0.98)
share(15, "exposure in active experiments", level="assignment",
      needs=("assignments", "experiments"), view="assignments+",
      where=equals("_status", "active"), pred=present("exposed_at"), lo=0.30, hi=0.70)
metric(15, "variants equally distributed: largest |share - 1/k| over experiments",
       level="assignment", needs=G, lo=0.0, hi=0.05, fn=variant_balance)
