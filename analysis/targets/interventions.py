"""Section 13: interventions (interventions.csv): what was sent, how far each got, what changed."""
from __future__ import annotations

import re
from functools import partial

import pandas as pd

from analysis.targets.tolerance import SHARE_POINTS, se_diff
from analysis.targets.checks import Measured, Skip, enum, fk, metric, rng, rule, share, shares
from analysis.targets.columns import I, INTERVENTION_STATUS, INTERVENTION_STEPS, INTERVENTION_TYPES
from analysis.targets.predicates import (either, equals, id_pattern, missing, ordered, present,
                                         same, variant_listed)

# ------------------------------------------------------------------ custom measurements


def template_matches(df: pd.DataFrame) -> pd.Series:
    """template_id is template_{intervention_type}_NNN."""
    return pd.Series([isinstance(t, str) and isinstance(k, str)
                      and re.fullmatch(rf"template_{re.escape(k)}_\d{{3}}", t) is not None
                      for t, k in zip(df["template_id"], df["intervention_type"])],
                     index=df.index, dtype=bool)


def steps_have_predecessors(df: pd.DataFrame) -> pd.Series:
    """delivered => sent, opened => delivered, clicked or responded => opened."""
    return ~((df["delivered_at"].notna() & df["sent_at"].isna())
             | (df["opened_at"].notna() & df["delivered_at"].isna())
             | ((df["clicked_at"].notna() | df["responded_at"].notna())
                & df["opened_at"].isna()))


def furthest(df) -> pd.Series:
    """The furthest step each intervention reached (pending: not sent)."""
    step = pd.Series("pending", index=df.index, dtype=object)
    for col, name in (("sent_at", "sent"), ("delivered_at", "delivered"), ("opened_at", "opened"),
                      ("clicked_at", "clicked"), ("responded_at", "responded")):
        step = step.mask(df[col].notna(), name)
    return step


def status_ok(df):
    """status is the furthest step, or failed (sent, not delivered), or pending (not sent)."""
    far = furthest(df)
    st = df["status"]
    return ((st == far) | ((st == "failed") & df["delivered_at"].isna() & df["sent_at"].notna())
            | ((st == "pending") & df["sent_at"].isna()))


def outcome(df) -> pd.Series:
    """success = clicked or responded; partial = opened only; ignored = not opened."""
    out = pd.Series("ignored", index=df.index, dtype=object)
    out = out.mask(df["opened_at"].notna(), "partial")
    return out.mask(df["clicked_at"].notna() | df["responded_at"].notna(), "success")


def step_rate(d, step, base):
    """Share of the interventions that reached `base` which also reached `step`."""
    df = d.table("interventions")
    den = df[base].notna()
    if not den.any():
        raise Skip(f"no {base}")
    r = float(df.loc[den, step].notna().mean())
    return Measured(r, n=int(den.sum()))


def outcome_gap(d, after, before):
    """Mean change (after - before) of successful minus ignored delivered interventions."""
    df = d.table("interventions")
    df = df[df["delivered_at"].notna()]
    o = outcome(df)
    delta = df[after] - df[before]
    if not (o == "success").any() or not (o == "ignored").any():
        raise Skip("no successful or no ignored interventions")
    da, db = delta[o == "success"].dropna(), delta[o == "ignored"].dropna()
    a, b = da.mean(), db.mean()
    se = se_diff(da.std(), len(da), db.std(), len(db)) if min(len(da), len(db)) > 1 else None
    return Measured(a - b, n=len(da) + len(db), se=se,
                    text=f"{a - b:+.2f} ({a:+.2f} vs {b:+.2f}, n={len(da)} and {len(db)})")


def intervened_churn(d):
    """Mean churn_probability of tutors with an intervention minus the other tutors'."""
    a = d.table("aggregates")
    hit = a["tutor_id"].isin(d.table("interventions")["tutor_id"])
    if not hit.any() or hit.all():
        raise Skip("every tutor or no tutor has an intervention")
    px, py = a.loc[hit, "churn_probability"].dropna(), a.loc[~hit, "churn_probability"].dropna()
    x, y = px.mean(), py.mean()
    se = se_diff(px.std(), len(px), py.std(), len(py)) if min(len(px), len(py)) > 1 else None
    return Measured(x - y, n=len(a), se=se, text=f"{x - y:+.3f} ({x:.2f} vs {y:.2f})")


# ----------------------------------------------------------------------------- the claims

rule(13, "intervention_id matches INT\\d{4} and is unique", level="intervention", needs=I,
     view="interventions", ok=id_pattern(r"INT\d{4}", "intervention_id"), ident="intervention_id")
fk(13, "interventions", "tutor_id", "profiles", level="intervention", ident="intervention_id")
fk(13, "interventions", "experiment_id", "experiments", level="intervention",
   ident="intervention_id", nullable=True)

# what was sent
enum(13, "interventions", "intervention_type", INTERVENTION_TYPES, level="intervention",
     needs=I)
share(13, "channel is email (the default)", level="intervention", needs=I,
      view="interventions", pred=equals("channel", "email"), lo=0.50, hi=None,
      note="'email (default)' read as the most common channel")
rule(13, "template_id is template_{intervention_type}_NNN", level="intervention", needs=I,
     view="interventions", ident="intervention_id", ok=template_matches)
rule(13, "experiment_variant (when experiment_id is set) is one of the experiment's variants",
     level="intervention", needs=("interventions", "experiments"), view="interventions+",
     ident="intervention_id", ok=variant_listed("experiment_variant"))
rule(13, "experiment_variant equals the tutor's assignment in that experiment",
     level="intervention", needs=("interventions", "assignments"), view="interventions+",
     ident="intervention_id",
     ok=either(missing("experiment_id"), same("experiment_variant", "_assigned")))

# how far each got
rule(13, "timestamps ordered sent <= delivered <= opened <= clicked <= responded",
     level="intervention", needs=I, view="interventions", ident="intervention_id",
     key="intervention_order", ok=ordered(INTERVENTION_STEPS))
rule(13, "steps imply their predecessors (delivered => sent, opened => delivered, "
         "clicked/responded => opened)", level="intervention", needs=I, view="interventions",
     ident="intervention_id", ok=steps_have_predecessors)
enum(13, "interventions", "status", INTERVENTION_STATUS, level="intervention", needs=I)
rule(13, "status is the furthest step reached (failed: not delivered; pending: not sent)",
     level="intervention", needs=I, view="interventions", ident="intervention_id",
     ok=status_ok)
metric(13, "open rate: opened_at set among emails sent", level="intervention", needs=I,
       target=0.70, tol=SHARE_POINTS, fn=partial(step_rate, step="opened_at", base="sent_at"),
       binomial=True)
metric(13, "click rate: clicked_at set among emails opened", level="intervention", needs=I,
       lo=0.30, hi=0.40, fn=partial(step_rate, step="clicked_at", base="opened_at"),
       binomial=True)
shares(13, "outcomes success/ignored/partial (furthest step, among delivered)",
       level="intervention", needs=I, view="interventions", col=outcome,
       targets={"success": 0.60, "ignored": 0.25, "partial": 0.15}, key="outcomes",
       label="intervention outcome", where=present("delivered_at"),
       note="success = clicked or responded; partial = opened only; ignored = not opened")

# what changed
rng(13, "interventions", "engagement_before", 1, 10, level="intervention", needs=I)
rng(13, "interventions", "engagement_after", 1, 10, level="intervention", needs=I)
rng(13, "interventions", "sessions_before_count", 0, 70, level="intervention", needs=I,
    integer=True, note="7-day counts: bounded by total_sessions_7d's 0-70")
rng(13, "interventions", "sessions_after_count", 0, 70, level="intervention", needs=I,
    integer=True)
metric(13, "success improves engagement: mean engagement change success minus ignored",
       level="intervention", needs=I, lo=0.0, hi=None, target_text="> 0",
       fn=partial(outcome_gap, after="engagement_after", before="engagement_before"))
metric(13, "success increases sessions: mean session-count change success minus ignored",
       level="intervention", needs=I, lo=0.0, hi=None, target_text="> 0",
       fn=partial(outcome_gap, after="sessions_after_count", before="sessions_before_count"))
metric(13, "'determined by tutor metrics': mean churn_probability of tutors with an "
           "intervention minus the rest", level="tutor", needs=("interventions", "aggregates"),
       lo=0.0, hi=None, target_text="> 0", fn=intervened_churn)
