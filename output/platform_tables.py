"""Flattening the platform loop's events into the spec's tables (sections 12-15).

    engagement_events.csv       tutor-initiated platform actions in the window: logins, sessions
                                scheduled / completed in the platform, profile updates, messages,
                                coaching booked / attended, emails opened / clicked
    interventions.csv           every email the platform decided to send in the window, with its
                                steps and the tutor's sessions 7 days before / after sending
    experiments.csv             every experiment started by the window's end, with the analysis of
                                completed ones (chi-square test across variants)
    experiment_assignments.csv  every assignment of those experiments (completed experiments ran
                                in the warm-up: their assignments are written whole)

Pure functions of the event log, the ground-truth tables (via Context) and the scenario (the
experiments' definitions, the email templates), like output/tables.py.
"""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd

from output.responses import email_responses, experiment_notes
from output.recorder import log_columns
from output.tables import datetime_texts, numbered, rows_of
from world.clock import MINUTES_PER_DAY
from world.engagement import ip_text
from world.events import (ATTENDED, BOOKED, CLICKED, DELIVERED, DEVICES, FAILED, MESSAGE_KINDS, OPENED,
                          PROFILE_FIELDS, RESPONDED, SENT)
from world.events import INTERVENTION_TYPES as TYPES
from world.events import TUTOR_ACTIONS as ACTIONS
from world.interventions import render

EVENT_COLUMNS = ["event_id", "tutor_id", "event_type", "event_data", "timestamp"]
INTERVENTION_COLUMNS = [
    "intervention_id", "tutor_id", "intervention_type", "channel", "subject", "content",
    "template_id", "experiment_id", "experiment_variant", "sent_at", "delivered_at", "opened_at",
    "clicked_at", "responded_at", "status", "engagement_before", "engagement_after",
    "sessions_before_count", "sessions_after_count",
    "response_type", "response_notes", "error_message",        # beyond the spec: the dashboard's
]
EXPERIMENT_COLUMNS = [
    "experiment_id", "name", "hypothesis", "description", "variants", "target_segment",
    "primary_metric", "secondary_metrics", "start_date", "end_date", "status", "sample_size",
    "significance", "winner",
    "notes",                                                    # beyond the spec: the dashboard's
]
ASSIGNMENT_COLUMNS = ["experiment_id", "tutor_id", "variant", "assigned_at", "exposed_at",
                      "converted_at", "conversion_value"]
STEP_COLUMNS = {SENT: "sent_at", DELIVERED: "delivered_at", OPENED: "opened_at",
                CLICKED: "clicked_at", RESPONDED: "responded_at"}
STATUS_ORDER = ("sent", "delivered", "opened", "clicked", "responded")
WINDOW_DAYS_BEFORE_AFTER = 7


def _json(obj, sort_keys: bool = False) -> str:
    return json.dumps(obj, separators=(",", ":"), sort_keys=sort_keys)


def _in_window(cal, t) -> np.ndarray:
    t = np.asarray(t, dtype="float64")
    return (t >= cal.window_start) & (t < cal.window_end)


class _Frame:
    """What several tables share: ids of window sessions, held sessions per tutor, intervention ids."""

    def __init__(self, log, ctx):
        cal = ctx.calendar
        self.cal = cal
        self.tutor_ids = ctx.tutors["tutor_id"].to_numpy()
        self.student_ids = ctx.students["student_id"].to_numpy() if len(ctx.students) else np.array([], dtype=object)
        out = log_columns(log, "session_outcome", ("t", "session"))
        win = _in_window(cal, out["t"])
        order = np.lexsort((out["session"][win], out["t"][win]))   # as sessions.csv: by time, then session
        self.window_sessions = out["session"][win][order]        # row k is sessions.csv's S{k+1}
        # held sessions with their tutor, start time and engagement, sorted by tutor then time
        booked = pd.DataFrame(log_columns(log, "session_booked", ("session", "tutor")))
        held = pd.DataFrame(log_columns(log, "session_observed", ("session", "engagement")))
        held["engagement"] = held["engagement"].astype("float64")
        start = pd.DataFrame({"session": out["session"], "start": out["t"]})
        held = held.merge(start, on="session", how="left").merge(booked, on="session", how="left")
        held = held.sort_values(["tutor", "start", "session"], kind="mergesort")
        held_tutor = held["tutor"].to_numpy()
        # each tutor's held sessions: rows held_rows[tutor] to held_rows[tutor + 1] (found once, not
        # per intervention: at platform size a search with a key of another integer type
        # converted the whole column each time, 5 s for 4,000 interventions)
        self.held_rows = np.searchsorted(held_tutor, np.arange(len(self.tutor_ids) + 1), "left")
        self.held_start = held["start"].to_numpy()
        self.held_engagement = held["engagement"].to_numpy()
        # interventions decided in the window, numbered by decision time
        iv = pd.DataFrame(log["intervention"])
        iv = iv[_in_window(cal, iv["t"])].sort_values(["t", "intervention"], kind="mergesort")
        self.interventions = iv.reset_index(drop=True)
        self.intervention_label = dict(zip(iv["intervention"].tolist(), numbered("INT", len(iv), 4)))
        all_iv = pd.DataFrame(log["intervention"]).set_index("intervention")
        self.iv_tutor = all_iv["tutor"]
        self.iv_type = all_iv["itype"]
        self.iv_exp = all_iv["experiment"]
        self.iv_variant = all_iv["variant"]

    def session_ids(self, sids) -> list[str | None]:
        """sessions.csv's session_id of each session number in `sids` (None: not a window session)."""
        rank = rows_of(self.window_sessions, np.asarray(sids, dtype=np.int64))
        return [None if r < 0 else "S%06d" % (r + 1) for r in rank.tolist()]

    def student(self, st) -> str | None:
        return None if st < 0 else str(self.student_ids[int(st)])

    def held_between(self, tutor: int, lo: float, hi: float, closed_right: bool) -> tuple[int, float]:
        """Count and mean engagement of the tutor's held sessions starting in [lo, hi) (or (lo, hi])."""
        a, b = self.held_rows[tutor], self.held_rows[tutor + 1]
        starts = self.held_start[a:b]
        side_lo, side_hi = ("right", "right") if closed_right else ("left", "left")
        i = a + np.searchsorted(starts, lo, side_lo)
        j = a + np.searchsorted(starts, hi, side_hi)
        n = int(j - i)
        return n, (float(self.held_engagement[i:j].mean()) if n else math.nan)


def _experiment_id(scenario, k) -> str | None:
    return None if k < 0 else scenario.experiments[int(k)].id


def _template_id(itype: int, variant: int) -> str:
    """template_{type}_001 is the standing template; an experiment's variant v uses number v + 1."""
    return f"template_{TYPES[int(itype)]}_{(int(variant) + 1 if variant >= 0 else 1):03d}"


# ============================================================================ engagement events

def _ip_texts(ip: np.ndarray) -> list[str]:
    return [ip_text(v) for v in ip.astype(np.int64).tolist()]


def _quoted(values) -> list[str]:
    """JSON string literals (or null) of plain values (ids, names: nothing to escape)."""
    return ["null" if v is None else '"' + v + '"' for v in values]


def engagement_events_table(log, ctx, scenario, fr: _Frame, since: float | None = None) -> pd.DataFrame:
    """engagement_events.csv; with `since` (minutes), only the events from then on, numbered as in
    the whole table (pipeline/live.py's batches: the events before are not formatted)."""
    cal = fr.cal
    parts = []   # frames of t, rank, tutor, event_type, event_data
    before = 0   # the window's events before `since`

    def window(t: np.ndarray, extra=True) -> np.ndarray:
        nonlocal before
        inside = _in_window(cal, t) & extra
        if since is None:
            return inside
        early = np.asarray(t, dtype="float64") < since
        before += int((inside & early).sum())
        return inside & ~early

    # the JSON texts are put together in plain Python: pandas' string columns cost about 1 us a
    # cell for each `+` (0.04 s of this table in a production run)
    keep = window(log["tutor_login"]["t"])
    lg = {k: v[keep] for k, v in log["tutor_login"].items()}
    device = np.asarray(DEVICES, dtype=object)
    data = [f'{{"device":"{d}","ip":"{ip}"}}' for d, ip in zip(device[lg["device"]], _ip_texts(lg["ip"]))]
    parts.append(pd.DataFrame({"t": lg["t"], "rank": 0, "tutor": lg["tutor"], "event_type": "login",
                               "event_data": data}))

    keep = window(log["tutor_action"]["t"])
    act = {k: v[keep] for k, v in log["tutor_action"].items()}
    names = np.asarray(ACTIONS, dtype=object)[act["action"]]
    session = _quoted(fr.session_ids(act["session"]))
    student = _quoted([fr.student(x) for x in act["student"]])
    detail = np.clip(act["detail"].astype(int), 0, None)
    field = np.asarray(PROFILE_FIELDS, dtype=object)[detail % len(PROFILE_FIELDS)]
    kind = np.asarray(MESSAGE_KINDS, dtype=object)[detail % len(MESSAGE_KINDS)]
    data = []
    for name, d, ip, ses, stu, fld, knd in zip(names, device[act["device"]], _ip_texts(act["ip"]),
                                               session, student, field, kind):
        common = f'{{"device":"{d}","ip":"{ip}"'
        if name == "profile_updated":
            data.append(f'{common},"field":"{fld}"}}')
        elif name == "message_sent":
            data.append(f'{common},"session_id":{ses},"student_id":{stu},"message_type":"{knd}"}}')
        else:
            data.append(f'{common},"session_id":{ses},"student_id":{stu}}}')
    parts.append(pd.DataFrame({"t": act["t"], "rank": 1, "tutor": act["tutor"], "event_type": names,
                               "event_data": data}))

    rows = []
    steps = log["intervention_step"]
    keep = window(steps["t"], np.isin(steps["step"], (OPENED, CLICKED)))
    for t, iid, step in zip(steps["t"][keep], steps["intervention"][keep], steps["step"][keep]):
        data = {"intervention_id": fr.intervention_label.get(int(iid)),
                "template_id": _template_id(fr.iv_type[iid], fr.iv_variant[iid]),
                "experiment_id": _experiment_id(scenario, fr.iv_exp[iid])}
        rows.append((t, 2, fr.iv_tutor[iid], "email_opened" if step == OPENED else "email_clicked", _json(data)))
    co = log["coaching"]
    keep = window(co["t"], np.isin(co["what"], (BOOKED, ATTENDED)))
    at_text = datetime_texts(cal, co["at"][keep])
    for j, (t, tutor, iid, exp, what, teaching) in enumerate(zip(
            co["t"][keep], co["tutor"][keep], co["intervention"][keep], co["experiment"][keep], co["what"][keep],
            co["teaching_hour"][keep])):
        data = {"intervention_id": fr.intervention_label.get(int(iid)) if iid >= 0 else None,
                "experiment_id": _experiment_id(scenario, exp),
                "source": "email" if iid >= 0 else "in_app"}
        if what == BOOKED:
            data["coaching_at"] = at_text[j]
            data["teaching_hour"] = bool(teaching)      # the call holds an hour the tutor offers students
            name = "coaching_scheduled"
        else:
            data["duration_min"] = scenario.platform.coaching.duration_minutes
            name = "coaching_attended"
        rows.append((t, 3, tutor, name, _json(data)))
    parts.append(pd.DataFrame(rows, columns=["t", "rank", "tutor", "event_type", "event_data"]))

    df = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else parts[-1]
    df = df.sort_values(["t", "rank", "tutor", "event_type", "event_data"], kind="mergesort").reset_index(drop=True)
    return pd.DataFrame({
        "event_id": numbered("EV", len(df), 6, before + 1),
        "tutor_id": fr.tutor_ids[df["tutor"].to_numpy(int)] if len(df) else np.array([], dtype=object),
        "event_type": df["event_type"].to_numpy(),
        "event_data": df["event_data"].to_numpy(),
        "timestamp": datetime_texts(cal, df["t"].to_numpy("float64")),
    })[EVENT_COLUMNS]


# ================================================================================ interventions

def interventions_table(log, ctx, scenario, fr: _Frame) -> pd.DataFrame:
    cal = fr.cal
    iv = fr.interventions
    n = len(iv)
    steps = pd.DataFrame(log["intervention_step"])
    steps = steps[steps["intervention"].isin(iv["intervention"])]
    at = {}
    for code, col in STEP_COLUMNS.items():
        s = steps[steps["step"] == code].drop_duplicates("intervention").set_index("intervention")["t"]
        at[col] = s.reindex(iv["intervention"]).to_numpy("float64")
    failed = iv["intervention"].isin(steps.loc[steps["step"] == FAILED, "intervention"]).to_numpy()
    status = np.full(n, "pending", dtype=object)
    for name in STATUS_ORDER:
        status[~np.isnan(at[f"{name}_at"])] = name
    status[failed] = "failed"

    tutors = iv["tutor"].to_numpy(int)
    ref = np.where(np.isnan(at["sent_at"]), iv["t"].to_numpy("float64"), at["sent_at"])
    span = WINDOW_DAYS_BEFORE_AFTER * MINUTES_PER_DAY
    eng_b, n_b, eng_a, n_a = (np.full(n, np.nan) for _ in range(4))
    for r in range(n):
        n_b[r], eng_b[r] = fr.held_between(tutors[r], ref[r] - span, ref[r], closed_right=False)
        if ref[r] + span <= cal.window_end:     # the 7 days after have been observed
            n_a[r], eng_a[r] = fr.held_between(tutors[r], ref[r], ref[r] + span, closed_right=True)

    subjects, contents, templates = [], [], []
    for row in iv.itertuples(index=False):
        itype = TYPES[row.itype]
        template = row.variant + 1 if row.variant >= 0 else 1
        values = {"tutor_id": fr.tutor_ids[row.tutor], "sessions_7d": row.sessions_7d,
                  "sessions_30d": row.sessions_30d, "rating_30d": row.rating_30d, "rating_7d": row.rating_7d,
                  "engagement_30d": row.engagement_30d, "first_session_avg": row.first_session_avg,
                  "tech_rate": row.tech_rate}
        subject, body = render(itype, template, values)
        subjects.append(subject)
        contents.append(body)
        templates.append(_template_id(row.itype, row.variant))
    exps = [scenario.experiments[k] if k >= 0 else None for k in iv["experiment"].tolist()]
    response_type, response_notes, error_message = email_responses(log, cal, iv["intervention"].to_numpy())
    return pd.DataFrame({
        "intervention_id": numbered("INT", n, 4),
        "tutor_id": fr.tutor_ids[tutors] if n else np.array([], dtype=object),
        "intervention_type": [TYPES[k] for k in iv["itype"].tolist()],
        "channel": "email",
        "subject": subjects,
        "content": contents,
        "template_id": templates,
        "experiment_id": [e.id if e else None for e in exps],
        "experiment_variant": [e.variants[v] if e else None for e, v in zip(exps, iv["variant"].tolist())],
        **{col: datetime_texts(cal, at[col]) for col in STEP_COLUMNS.values()},
        "status": status,
        "engagement_before": np.round(eng_b, 2),
        "engagement_after": np.round(eng_a, 2),
        "sessions_before_count": pd.array(np.where(np.isnan(n_b), None, n_b), dtype="Int64"),
        "sessions_after_count": pd.array(np.where(np.isnan(n_a), None, n_a), dtype="Int64"),
        "response_type": response_type,
        "response_notes": response_notes,
        "error_message": error_message,
    })[INTERVENTION_COLUMNS]


# ================================================================================== experiments

def _segment_json(segment: dict) -> str:
    out = {}
    for key, cond in segment.items():
        out[key] = cond if isinstance(cond, list) else cond.model_dump(exclude_none=True)
    return _json(out, sort_keys=True)


def _outcomes(log, scenario) -> pd.DataFrame:
    """One row per assignment: variant, times of assignment, exposure and (converted) action."""
    a = pd.DataFrame(log["experiment_assigned"]).rename(columns={"t": "assigned"})
    ex = pd.DataFrame(log["experiment_exposed"]).drop_duplicates(["experiment", "tutor"])
    ev = pd.DataFrame(log["experiment_evaluated"])
    ev = ev[ev["converted"]].drop_duplicates(["experiment", "tutor"])
    a = a.merge(ex[["experiment", "tutor", "t"]].rename(columns={"t": "exposed"}), on=["experiment", "tutor"], how="left")
    a = a.merge(ev[["experiment", "tutor", "acted_at", "lift"]], on=["experiment", "tutor"], how="left")
    return a.sort_values(["experiment", "assigned", "tutor"], kind="mergesort").reset_index(drop=True)


def _analysis(group: pd.DataFrame, variants: list[str], alpha: float):
    """Pearson's chi-square test of conversion against variant (no continuity correction: the
    pooled two-proportion z-test when there are two variants); the p-value is the chi-square
    distribution's upper tail (scipy.special.chdtrc; scipy.stats would cost a second to import).
    Returns (p-value, winner or None)."""
    from scipy.special import chdtrc
    n = group.groupby("variant").size().reindex(range(len(variants)), fill_value=0).to_numpy()
    conv = group.assign(c=group["acted_at"].notna()).groupby("variant")["c"].sum() \
        .reindex(range(len(variants)), fill_value=0).to_numpy()
    table = np.array([conv, n - conv])
    if (n == 0).any() or conv.sum() == 0 or conv.sum() == n.sum():
        return 1.0, None
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    stat = float(((table - expected) ** 2 / expected).sum())
    p = float(chdtrc(len(variants) - 1, stat))
    if p >= alpha:
        return p, None
    rates = conv / n
    return p, variants[int(np.argmax(rates))]


def experiment_tables(log, ctx, scenario) -> tuple[pd.DataFrame, pd.DataFrame]:
    cal = ctx.calendar
    started = pd.DataFrame(log["experiment_started"]).set_index("experiment")
    outcomes = _outcomes(log, scenario)
    rows, keep = [], []
    for k, e in enumerate(scenario.experiments):
        if k not in started.index:
            continue                        # not started by the window's end
        keep.append(k)
        start = cal.window_start + e.start_day * MINUTES_PER_DAY
        end = None if e.end_day is None else cal.window_start + e.end_day * MINUTES_PER_DAY
        completed = end is not None and end <= cal.window_end
        group = outcomes[outcomes["experiment"] == k]
        p, winner = _analysis(group, e.variants, scenario.platform.experiments.alpha) if completed else (None, None)
        exposed = int((group["exposed"] < cal.window_end).sum())
        rows.append({
            "experiment_id": e.id, "name": e.name, "hypothesis": e.hypothesis,
            "description": e.description or None, "variants": _json(e.variants),
            "target_segment": _segment_json(e.target_segment), "primary_metric": e.primary_metric,
            # keys sorted: the same text whether the scenario comes from its file or from run.json
            "secondary_metrics": _json(e.secondary_metrics, sort_keys=True),
            "start_date": datetime_texts(cal, [start])[0],
            "end_date": datetime_texts(cal, [end])[0] if completed else None,
            "status": "completed" if completed else "active",
            # completed: who took part; active: the target, every eligible tutor
            "sample_size": len(group) if completed else int(started.loc[k, "eligible"]),
            "significance": round(p, 4) if p is not None else None,
            "winner": winner,
            "notes": experiment_notes(scenario, cal, k, group, completed, p, winner, exposed, end),
        })
    experiments = pd.DataFrame(rows, columns=EXPERIMENT_COLUMNS)
    experiments["sample_size"] = experiments["sample_size"].astype("Int64")
    experiments["significance"] = experiments["significance"].astype("Float64")
    o = outcomes[outcomes["experiment"].isin(keep)]
    ids = [scenario.experiments[k].id for k in o["experiment"].tolist()]
    names = [scenario.experiments[k].variants[v] for k, v in zip(o["experiment"].tolist(), o["variant"].tolist())]
    assignments = pd.DataFrame({
        "experiment_id": ids,
        "tutor_id": ctx.tutors["tutor_id"].to_numpy()[o["tutor"].to_numpy(int)] if len(o) else np.array([], dtype=object),
        "variant": names,
        "assigned_at": datetime_texts(cal, o["assigned"]),
        "exposed_at": datetime_texts(cal, o["exposed"]),
        "converted_at": datetime_texts(cal, o["acted_at"]),
        # the improvement as the platform reports it (its event, experiment_evaluated, keeps the lift)
        "conversion_value": np.round(np.minimum(o["lift"].to_numpy("float64"),
                                                scenario.platform.experiments.conversion_value_cap), 3),
    })[ASSIGNMENT_COLUMNS]
    return experiments, assignments


# ====================================================================================== entry

def unsubscribes_table(log, ctx, fr: _Frame) -> pd.DataFrame:
    """Ground truth: every tutor who unsubscribed from the platform's emails in the window, with
    the email that made them do it and the fatigue behind it."""
    cal = ctx.calendar
    un = pd.DataFrame(log["email_unsubscribed"])
    un = un[_in_window(cal, un["t"])].sort_values(["t", "tutor"], kind="mergesort")
    return pd.DataFrame({
        "tutor_id": fr.tutor_ids[un["tutor"].to_numpy()] if len(un) else np.array([], dtype=object),
        "unsubscribed_at": datetime_texts(cal, un["t"].to_numpy()),
        "intervention_id": [fr.intervention_label.get(int(i)) for i in un["intervention"].tolist()],
        "probability": un["p"].astype("float64").round(4).to_numpy(),
        "recent_emails": un["recent"].astype("int64").to_numpy(),
    })


def build_platform_tables(log, ctx, scenario, events_since: float | None = None,
                          unsubscribes: bool = True) -> dict[str, pd.DataFrame]:
    """The tables of sections 12-15 that the scenario's outputs ask for (engagement events from
    `events_since` on, the ground truth's unsubscribes unless told not to: pipeline/live.py)."""
    out = scenario.outputs
    tables: dict[str, pd.DataFrame] = {}
    if not (out.engagement_events or out.interventions or out.experiments):
        return tables
    fr = _Frame(log, ctx)
    if out.engagement_events:
        tables["engagement_events"] = engagement_events_table(log, ctx, scenario, fr, events_since)
    if out.interventions:
        tables["interventions"] = interventions_table(log, ctx, scenario, fr)
        if unsubscribes:
            tables["ground_truth/unsubscribes"] = unsubscribes_table(log, ctx, fr)
    if out.experiments:
        tables["experiments"], tables["experiment_assignments"] = experiment_tables(log, ctx, scenario)
    return tables
