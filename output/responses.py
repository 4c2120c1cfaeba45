"""Beyond the spec, for the dashboard (docs/columns.md): what a tutor did about an email
(interventions' response_type, response_notes), why an email failed (error_message), and an
experiment's state in words (experiments' notes). Each is read off the window's event log: the
tutor's steps on the email, the coaching it booked, the trait changes it caused, the
unsubscribes; nothing after the window's end is known.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from world.events import (ATTENDED, BOOKED, CLICKED, FAILED, MISSED, RE_ENGAGED, RESPONDED, TECH_FIX)

RESPONSE_TYPES = ("replied", "clicked", "unsubscribed")
BOUNCED = "bounced: the recipient's mail server did not accept the message"


def _when(cal, t: float) -> str:
    return f"{cal.to_datetime(t):%Y-%m-%d %H:%M}"


def _seen(log, etype: str, cal) -> pd.DataFrame:
    df = pd.DataFrame(log[etype])
    return df[df["t"] < cal.window_end]


def email_responses(log, cal, interventions: np.ndarray) -> tuple[list, list, list]:
    """(response_type, response_notes, error_message) for each intervention code in
    `interventions`, as the platform knows them at the window's end."""
    steps = _seen(log, "intervention_step", cal)
    steps = steps[steps["intervention"].isin(interventions)]
    did = {code: set(steps.loc[steps["step"] == code, "intervention"].tolist()) for code in (FAILED, CLICKED, RESPONDED)}
    unsub = _seen(log, "email_unsubscribed", cal).drop_duplicates("intervention").set_index("intervention")["recent"]
    coaching = _seen(log, "coaching", cal)
    booked = coaching[coaching["what"] == BOOKED].drop_duplicates("intervention").set_index("intervention")["at"]
    outcome = coaching[coaching["what"].isin([ATTENDED, MISSED])].drop_duplicates("intervention") \
        .set_index("intervention")["what"]
    changes = _seen(log, "trait_change", cal)
    fixed = set(changes.loc[changes["cause"] == TECH_FIX, "intervention"].tolist())
    engaged = changes[changes["cause"] == RE_ENGAGED].drop_duplicates("intervention").set_index("intervention")
    types, notes, errors = [], [], []
    for iid in (int(i) for i in interventions):
        if iid in did[FAILED]:
            types.append(None)
            notes.append(None)
            errors.append(BOUNCED)
            continue
        errors.append(None)
        if iid in unsub.index:
            types.append("unsubscribed")
            notes.append(f"unsubscribed from the platform's emails ({int(unsub[iid])} other emails "
                         f"received lately)")
            continue
        replied, clicked = iid in did[RESPONDED], iid in did[CLICKED]
        if not (replied or clicked):
            types.append(None)
            notes.append(None)
            continue
        types.append("replied" if replied else "clicked")
        parts = ["replied after following the link" if replied and clicked
                 else "replied" if replied else "followed the link"]
        if iid in booked.index:
            at = float(booked[iid])
            coached = f"coaching booked for {_when(cal, at)}"
            if iid in outcome.index:
                coached += ", attended" if outcome[iid] == ATTENDED else ", missed"
            elif at >= cal.window_end:
                coached += " (after the window)"
            parts.append(coached)
        if iid in fixed:
            parts.append("fixed the video setup")
        if iid in engaged.index:
            row = engaged.loc[iid]
            if row["capacity"] > 0 or row["hours_flex"] > 0:
                parts.append("committed to more teaching hours")
            elif row["quit_propensity"] < 0:
                parts.append("re-engaged")
        notes.append("; ".join(parts))
    return types, notes, errors


def experiment_notes(scenario, cal, k: int, group: pd.DataFrame, completed: bool, p, winner,
                     exposed: int, end) -> str:
    """One experiment's state in words: who took part and converted by variant, and the test's
    verdict once it completed. `group`: its assignments (variant codes, acted_at)."""
    e = scenario.experiments[k]
    counts = []
    for v, name in enumerate(e.variants):
        mine = group[group["variant"] == v]
        counts.append(f"{name} {int(mine['acted_at'].notna().sum())}/{len(mine)}")
    by_variant = ", ".join(counts)
    if completed:
        alpha = scenario.platform.experiments.alpha
        verdict = (f"{winner} wins (chi-square p = {p:.4f} < {alpha:g})" if winner
                   else f"no winner (chi-square p = {p:.4f}, alpha {alpha:g})")
        return f"completed {_when(cal, end)}: converted by variant {by_variant}; {verdict}"
    return (f"active at the window's end: {len(group)} assigned, {exposed} exposed, converted by "
            f"variant so far {by_variant}")
