"""`run.py trace ID [DATA_DIR]`: what one tutor or student did, when, and why.

The timeline is read from a run folder alone: the event log (`events.npz`), the ground truth
(`ground_truth/tutor_traits.csv`, `ground_truth/students.csv`) and `run.json` (the calendar and
the scenario, for the coefficients the reasons quote). Nothing is simulated again.

    python run.py trace T0042 [DATA_DIR]            the tutor's timeline, one line per event
    python run.py trace ST000123 data --since 2026-10-15 --until 2026-10-20 --type session,no_show
    python run.py trace T0042 --json                one JSON object per event (stable keys)
    python run.py trace T0042 --plot --out t.png    a PNG timeline

Every line is: simulated date-time, `wu` for warm-up events (before the window: they are in the
event log but not in the tables), what happened, with whom, and the reason with its numbers
(the probability the decision faced and the inputs that made it). Sessions of the window carry
their `session_id` (S000123, as in sessions.csv); others (warm-up, cancelled) their internal
number (#4512). Emails decided in the window carry their `intervention_id` (INT0012).

Each event type's sentence is a template in `TEMPLATES`, keyed by (type, kind); the values it
quotes are the event's `data` (what `--json` prints) and a few pre-formatted helpers.

Bad input (no folder, no events.npz, an unknown id, a bad date or type) is one line on stderr,
exit code 2.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import re
import string
import sys
import zipfile
from pathlib import Path

import numpy as np

from commands.cli import OneLineParser as _Parser  # one-line errors, exit 2
from output.reading import BadInput, read_csv
from world.clock import MINUTES_PER_DAY
from world.events import STUDENT_ACTIONS

# the trace's event types (--type), in the order events of the same minute are listed
TYPES = ("arrived", "rescheduled", "move_refused", "cancelled", "no_show", "session", "booked", "decision",
         "quit", "login", "action", "intervention", "email", "coaching", "trait_change", "experiment", "daily")
HIDDEN_BY_DEFAULT = ("daily",)     # one row per tutor and day: asked for with --type daily
RANK = {t: i for i, t in enumerate(TYPES)}
ID_RE = re.compile(r"^(T)(\d{4,})$|^(ST)(\d{6,})$")
JSON_KEYS = ("time", "minute", "phase", "type", "kind", "agent", "tutor", "student", "session",
             "session_num", "p", "text", "why", "data")


# ================================================================================== templates
# (type, kind) -> (what happened, why). Fields: the event's data plus the helpers of _helpers().
TEMPLATES: dict[tuple[str, str], tuple[str, str]] = {
    ("arrived", "new"): ("{actor}arrived on the platform (new student)", "the platform's marketing keeps demand met"),
    ("arrived", "existing"): ("{actor}was already a student when the simulation started", ""),
    ("booked", "existing"): ("{actor}booked {S}{with_tutor} for {start_s} {booking_s}", "already a student: {choice_s}"),
    ("booked", "new"): ("{actor}booked {S}{with_tutor} for {start_s} {booking_s}", "new student: {choice_s}"),
    ("booked", "continue"): ("{actor}booked {S}{with_tutor} for {start_s} {booking_s}", "next session with their tutor (p=1)"),
    ("booked", "switch"): ("{actor}booked {S}{with_tutor} for {start_s} {booking_s}", "switching tutor: {choice_s}"),
    ("booked", "tutor_unavailable"): ("{actor}booked {S}{with_tutor} for {start_s} {booking_s}",
                                      "their tutor had no free hour or had stopped: {choice_s}"),
    ("booked", "tutor_quit"): ("{actor}booked {S}{with_tutor} for {start_s} {booking_s}",
                               "their tutor quit before the session: {choice_s}"),
    ("rescheduled", "tutor"): ("{mover}rescheduled {S}{with_other} to {new_s}",
                               "reliability {reliability:.2f}, burnout {burnout:.2f} -> p={p:.2f} (decided at booking, {decided_s})"),
    ("rescheduled", "student"): ("{mover}rescheduled {S}{with_other} to {new_s}",
                                 "the student's own habit -> p={p:.4f}"),
    # (the reason, told by _h_move_refused)
    **{("move_refused", kind): ("{mover}could not reschedule {S}{with_other} (it stays at {start_s})",
                                "{refusal}; the move was decided at booking, p={p:.2f}")
       for kind in ("platform_cap", "no_free_hour")},
    ("cancelled", "tutor_quit"): ("{S} with {other} cancelled", "the tutor quit"),
    ("cancelled", "student_left"): ("{S} with {other} cancelled", "the student left"),
    ("session", "held"): ("held {S} with {other} ({subject}, {actual_duration} of {duration} min{first_s}): "
                          "rating {rating:.1f}, satisfaction {satisfaction:.1f}{recommend_s}",
                          "quality {quality:.2f}{first_why}, {connection} connection{tech_s}, tutor reliability "
                          "{reliability:.2f}, burnout {burnout:.2f}; both showed (p no-show: tutor "
                          "{p_tutor_no_show:.3f}, student {p_student_no_show:.3f})"),
    ("no_show", "tutor"): ("{tutor_id} did not show for {S} with {student_id}{first_s2}",
                           "reliability {reliability:.2f}, burnout {burnout:.2f} -> p={p_tutor_no_show:.3f}"),
    ("no_show", "student"): ("{student_id} did not show for {S} with {tutor_id}{first_s2}",
                             "the student's own habit -> p={p_student_no_show:.3f} (the tutor came: p no-show "
                             "{p_tutor_no_show:.3f})"),
    ("no_show", "both"): ("neither {tutor_id} nor {student_id} showed for {S}",
                          "tutor: reliability {reliability:.2f}, burnout {burnout:.2f} -> p={p_tutor_no_show:.3f}; "
                          "student: p={p_student_no_show:.3f}"),
    ("decision", "tutor_no_show"): ("{actor}{action_s} after {S}",
                                    "the tutor did not come; patience {patience:.2f} -> p(leave)={p_leave:.2f}, "
                                    "else p(switch)={p_switch:.2f}: p={p:.2f}"),
    ("decision", "poor_rating"): ("{actor}{action_s} after {S}",
                                  "rated it {rating:.1f} < {poor_rating:g}{first_why}; patience {patience:.2f} -> "
                                  "p(leave)={p_leave:.2f}, else p(switch)={p_switch:.2f}: p={p:.2f}"),
    ("decision", "student_missed"): ("{actor}{action_s} after {S}", "the student missed it and books again (p=1)"),
    ("decision", "goal_reached"): ("{actor}{action_s} after {S}", "goal reached: {sessions_done} sessions (p=1)"),
    ("decision", "good_rating"): ("{actor}{action_s} after {S}", "rated it {rating:.1f} >= {poor_rating:g} (p=1)"),
    ("quit", "quit"): ("quit the platform",
                       "propensity {propensity:.4f} x certification {cert_factor:g} x (1 + {burnout_gain:g} x burnout "
                       "{burnout:.2f}){low_s}{idle_s} -> p={p:.4f} that day"),
    ("quit", "suspended"): ("suspended by the platform", "{missed_30d} no-shows in 30 days (limit {limit})"),
    ("login", "routine"): ("logged in ({device})", "p={p:.2f} that day"),
    ("login", "pre_session"): ("logged in ({device}) to prepare {S}", "p={p:.2f} that day"),
    ("action", "session_scheduled"): ("{actor}confirmed {S}{with_student} in the platform", "p={p:.2f}"),
    ("action", "session_completed"): ("{actor}marked {S}{with_student} completed", ""),
    ("action", "profile_updated"): ("{actor}updated the profile ({detail})", "p={p:.2f}"),
    ("action", "message_sent"): ("{actor}sent a {detail} message about {S}{to_student}", "p={p:.2f}"),
    ("intervention", "email"): ("platform decided to send email {I} ({itype}){exp_s}",
                                "churn probability {churn_probability:.2f} (signals: {churn_signals}), rating 30d "
                                "{rating_30d:.2f} / 7d {rating_7d:.2f}, engagement {engagement_30d:.2f}, first "
                                "sessions {first_session_avg:.2f}, technical issues {tech_rate:.2f}, sessions 7d/30d "
                                "{sessions_7d}/{sessions_30d}"),
    ("intervention", "campaign"): ("platform decided to send campaign email {I} ({itype}){exp_s}",
                                   "the tutor was assigned to the experiment"),
    ("email", "sent"): ("email {I} ({itype}) sent", ""),
    ("email", "delivered"): ("email {I} delivered", "p={p:.2f}"),
    ("email", "failed"): ("email {I} bounced", "p={p:.2f}"),
    ("email", "opened"): ("opened email {I} ({itype})", "{open_why} -> p={p:.2f}"),
    ("email", "unopened"): ("did not open email {I} ({itype})", "{open_why} -> p(open)={p:.2f}"),
    ("email", "clicked"): ("clicked the link of email {I}", "{click_why} -> p={p:.2f}"),
    ("email", "unclicked"): ("did not click the link of email {I}", "{click_why} -> p(click)={p:.2f}"),
    ("email", "responded"): ("replied to email {I}", "{respond_why} -> p={p:.2f}"),
    ("email", "unanswered"): ("did not reply to email {I}", "{respond_why} -> p(reply)={p:.2f}"),
    ("coaching", "coaching_scheduled"): ("booked coaching for {at_s}{via_s}", ""),
    ("coaching", "coaching_attended"): ("attended coaching{via_s}", "p = reliability now {p:.2f}"),
    ("coaching", "coaching_missed"): ("missed coaching{via_s}", "reliability now {p:.2f} = p(attend)"),
    ("trait_change", "coaching"): ("traits changed by coaching: {deltas}", "k={k:.3f} (effect x coachability{mult_s})"),
    ("trait_change", "self_study"): ("traits changed by reading the advice: {deltas}",
                                     "k={k:.3f} (effect x coachability x self-study share{mult_s})"),
    ("trait_change", "tech_fix"): ("fixed the technical setup: {deltas}", "k={k:.3f} (effect x coachability{mult_s})"),
    ("trait_change", "re_engaged"): ("re-engaged after replying: {deltas}", "the platform's retention effect"),
    ("experiment", "assigned"): ("assigned to {exp} ({exp_name}), variant {variant}", ""),
    ("experiment", "exposed"): ("saw {exp} variant {variant} by {channel}", "p={p:.2f}"),
    ("experiment", "acted"): ("took the call to action of {exp} by {channel}",
                              "p={p:.2f}; {metric} before: {baseline:.2f} over {n_before} sessions"),
    ("experiment", "evaluated"): ("{exp} evaluated: {converted_s}",
                                  "{metric} {before:.2f} -> {after:.2f} over {n_before}/{n_after} sessions, lift {lift:+.3f}"),
    ("daily", "day"): ("platform: churn probability {churn_probability:.2f} ({risk}, signals: {churn_signals})",
                       "tutor that day: quit hazard {p_quit:.4f}, login p {p_login:.2f}, burnout {burnout:.2f}, "
                       "reliability {reliability:.2f}"),
}

TUTOR_HEADER = (
    "{tutor_id}  {persona}: {months_experience} months, {certification}, subjects {subjects} (primary {primary_subject})",
    "  skill {skill:.3f}{skill_d}, reliability {reliability:.3f}{reliability_d}, empathy {empathy:.2f}{empathy_d}, "
    "clarity {clarity:.2f}, speak style {speak_style:.2f}{speak_style_d}",
    "  burnout: {burnout_s}",
    "  quit propensity {quit_propensity:.4f}{quit_propensity_d}, responsiveness {responsiveness:.2f} (logs in from "
    "{usual_device}), coachability {coachability:.2f}, camera {camera_habit:.2f}, tech setup {tech_setup:+.2f}{tech_setup_d}",
    "  hours: {hours_s}, up to {capacity_per_day} sessions a day, flexibility {hours_flex:.2f}{hours_flex_d}",
    "  status: {status_s}",
)
STUDENT_HEADER = (
    "{student_id}  {grade}, {subject}, {cadence_per_week} a week, {duration} min; goal {goal_sessions} sessions{prior_s}",
    "  patience {patience:.2f}, attention {attention:.1f}, no-show habit {no_show_prob:.3f}, reschedule habit "
    "{reschedule_prob:.4f}, rating bias {rating_bias:+.2f}, tech setup {tech_setup:+.2f}",
    "  arrived {arrived_s}",
)


class _Fmt(string.Formatter):
    """str.format, but a missing value (None, NaN) prints as n/a whatever its format."""

    def format_field(self, value, spec):
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "n/a"
        return super().format_field(value, spec)


FMT = _Fmt()


def _codes() -> dict[str, tuple]:
    """The names behind the log's small integer codes."""
    from world.events import (CAUSES, CHANNELS, COACHING, DEVICES, INTERVENTION_TYPES, LOGIN_KINDS, MESSAGE_KINDS,
                              PROFILE_FIELDS, STEPS, SUBJECTS, TUTOR_ACTIONS)
    return {"subjects": SUBJECTS, "actions": TUTOR_ACTIONS, "devices": DEVICES, "login_kinds": LOGIN_KINDS,
            "message_kinds": MESSAGE_KINDS, "profile_fields": PROFILE_FIELDS, "channels": CHANNELS,
            "causes": CAUSES, "coaching": COACHING, "steps": STEPS, "intervention_types": INTERVENTION_TYPES}


# ================================================================================== the run

class _Doc:
    """Attribute access to a raw scenario document; a missing value reads as NaN."""

    def __init__(self, d: dict):
        self._d = d

    def __getattr__(self, key):
        if key.startswith("__"):
            raise AttributeError(key)
        return _Doc.wrap(self._d.get(key, float("nan")))

    @staticmethod
    def wrap(v):
        return _Doc(v) if isinstance(v, dict) else [_Doc.wrap(x) for x in v] if isinstance(v, list) else v


class Run:
    """A run folder, read for tracing."""

    def __init__(self, folder: Path, need_students: bool):
        from output.recorder import load_log
        from world.events import SCHEMA
        from world.scenario import ScenarioError, validate_document
        if not folder.is_dir():
            raise BadInput(f"{folder}: no such folder")
        path = folder / "run.json"
        if not path.is_file():
            raise BadInput(f"{path}: not found (not a run folder?)")
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
            self.window_days, self.warmup_days = int(manifest["window_days"]), int(manifest["warmup_days"])
            window_end = dt.datetime.fromisoformat(str(manifest["window_end"]))
            doc = manifest["scenario_document"]
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError) as e:
            raise BadInput(f"{path}: not a run manifest ({type(e).__name__}: {e})") from None
        try:
            self.scenario = validate_document(doc, f"{path}:scenario_document")
        except ScenarioError:
            # a run of another tutorsim version: its scenario is read as it is (what is missing
            # prints as n/a); the trace needs only a few coefficients for its words
            if not isinstance(doc, dict):
                raise BadInput(f"{path}: scenario_document is not a table") from None
            self.scenario = _Doc(doc)
        npz = folder / "events.npz"
        if not npz.is_file():
            raise BadInput(f"{npz}: not found (the run was made with --no-event-log?)")
        try:
            log = load_log(npz)
        except (OSError, ValueError, zipfile.BadZipFile, KeyError) as e:
            raise BadInput(f"{npz}: cannot read the event log: {e}") from None
        # a log of an older tutorsim lacks some columns: they read as missing (n/a)
        for etype, cols in SCHEMA.items():
            table = log.setdefault(etype, {})
            n = len(next(iter(table.values()))) if table else 0
            for col, dtype in cols:
                if col not in table:
                    kind = np.dtype(dtype).kind
                    table[col] = np.full(n, np.nan if kind == "f" else (-1 if kind in "iu" else False),
                                         dtype="f8" if kind == "f" else dtype)
        self.log = log
        self.start_dt = window_end - dt.timedelta(days=self.window_days + self.warmup_days)
        self.window_start = self.warmup_days * MINUTES_PER_DAY
        self.window_end = (self.warmup_days + self.window_days) * MINUTES_PER_DAY
        self.tutors = read_csv(folder / "ground_truth" / "tutor_traits.csv")
        self.students = read_csv(folder / "ground_truth" / "students.csv") if need_students else None
        self._labels()

    def _labels(self):
        log = self.log
        out = log["session_outcome"]
        win = (out["t"] >= self.window_start) & (out["t"] < self.window_end)
        order = np.lexsort((out["session"][win], out["t"][win]))     # as sessions.csv: time, then session
        self.session_label = {int(s): f"S{i + 1:06d}" for i, s in enumerate(out["session"][win][order])}
        iv = log["intervention"]
        win = (iv["t"] >= self.window_start) & (iv["t"] < self.window_end)
        order = np.lexsort((iv["intervention"][win], iv["t"][win]))
        self.intervention_label = {int(k): f"INT{i + 1:04d}" for i, k in enumerate(iv["intervention"][win][order])}

    # --- ids and times ---------------------------------------------------------------------------
    def when(self, t: float) -> dt.datetime:
        return self.start_dt + dt.timedelta(seconds=round(float(t) * 60.0))

    def stamp(self, t) -> str | None:
        return None if t is None or math.isnan(t) else self.when(t).strftime("%Y-%m-%d %H:%M:%S")

    def short(self, t) -> str:
        return "n/a" if t is None or math.isnan(t) else self.when(t).strftime("%m-%d %H:%M")

    def minute(self, when: dt.datetime) -> float:
        return (when - self.start_dt).total_seconds() / 60.0

    def phase(self, t: float) -> str:
        return "warmup" if t < self.window_start else "window" if t < self.window_end else "after"

    def session(self, sid) -> str:
        return self.session_label.get(int(sid), f"#{int(sid)}")

    def intervention(self, iid) -> str:
        return "(in-app)" if iid < 0 else self.intervention_label.get(int(iid), f"#{int(iid)}")

    @staticmethod
    def tutor_id(i) -> str:
        return f"T{int(i) + 1:04d}"

    @staticmethod
    def student_id(i) -> str:
        return f"ST{int(i) + 1:06d}"


# ================================================================================== events

def _f(x, digits: int = 6):
    """A JSON-ready float (None for NaN), rounded to `digits` decimals."""
    x = float(x)
    return None if math.isnan(x) else float(np.round(x, digits))


def _rows(table: dict, mask) -> list[dict]:
    """The rows of an event table where `mask` holds, as dicts of plain Python values."""
    idx = np.flatnonzero(mask)
    cols = {k: v[idx].tolist() for k, v in table.items()}
    return [dict(zip(cols, vals)) for vals in zip(*cols.values())] if cols else []


class Tracer:
    """Collects one agent's events from the log, as dicts with a fixed layout per type."""

    def __init__(self, run: Run, kind: str, index: int):
        self.run, self.kind, self.index = run, kind, index
        self.agent = run.tutor_id(index) if kind == "tutor" else run.student_id(index)
        log = run.log
        b = log["session_booked"]
        self.booked = {int(s): i for i, s in enumerate(b["session"])}
        mine = (b["tutor"] == index) if kind == "tutor" else (b["student"] == index)
        self.sessions = np.asarray(b["session"][mine])
        self.events: list[dict] = []

    def booking(self, sid: int) -> dict:
        b, i = self.run.log["session_booked"], self.booked[int(sid)]
        return {"tutor": int(b["tutor"][i]), "student": int(b["student"][i]), "first": bool(b["first"][i]),
                "subject": int(b["subject"][i]), "duration": int(b["duration"][i])}

    def add(self, t, etype, kind, data, *, session=None, tutor=None, student=None, p=None):
        self.events.append({"t": float(t), "type": etype, "kind": kind, "session": session, "tutor": tutor,
                            "student": student, "p": p, "data": data})

    def collect(self) -> list[dict]:
        from world.events import BOOK_REASON, CANCEL_REASON, CONNECTION, INITIATOR, LEAVE_REASON, MOVE_REFUSED
        run, log = self.run, self.run.log
        c = _codes()
        subjects = c["subjects"]
        in_mine = lambda arr: np.isin(arr, self.sessions)

        # --- a student's arrival
        if self.kind == "student":
            for r in _rows(log["student_arrived"], log["student_arrived"]["student"] == self.index):
                self.add(r["t"], "arrived", "existing" if r["existing"] else "new", {"existing": bool(r["existing"])},
                         student=self.index)

        # --- bookings
        for r in _rows(log["session_booked"], in_mine(log["session_booked"]["session"])):
            self.add(r["t"], "booked", BOOK_REASON[r["why"]] if 0 <= r["why"] < len(BOOK_REASON) else "continue", {
                "start": run.stamp(r["start"]), "duration": r["duration"], "subject": subjects[r["subject"]],
                "first": r["first"], "in_preferred_hours": r["in_preferred_hours"],
                "why": BOOK_REASON[r["why"]] if 0 <= r["why"] < len(BOOK_REASON) else None,
                "p": _f(r["p"]), "candidates": r["candidates"], "room": _f(r["room"]),
                "shown_rating": _f(r["shown_rating"], 3)},
                session=r["session"], tutor=r["tutor"], student=r["student"], p=_f(r["p"]))

        # --- reschedules and cancellations
        for r in _rows(log["session_rescheduled"], in_mine(log["session_rescheduled"]["session"])):
            bk = self.booking(r["session"])
            self.add(r["t"], "rescheduled", INITIATOR[r["by"]], {
                "by": INITIATOR[r["by"]], "old_start": run.stamp(r["old_start"]), "new_start": run.stamp(r["new_start"]),
                "p": _f(r["p"]), "decided_at": run.stamp(r["decided"]), "reliability": _f(r["reliability"]),
                "burnout": _f(r["burnout"])},
                session=r["session"], tutor=bk["tutor"], student=bk["student"], p=_f(r["p"]))
        refused = log.get("session_move_refused", {})
        for r in _rows(refused, in_mine(refused["session"])) if refused else ():   # (older logs lack it)
            bk = self.booking(r["session"])
            self.add(r["t"], "move_refused", MOVE_REFUSED[r["reason"]], {
                "by": INITIATOR[r["by"]], "reason": MOVE_REFUSED[r["reason"]], "start": run.stamp(r["start"]),
                "p": _f(r["p"]), "moves": r["moves"], "bookings": r["bookings"]},
                session=r["session"], tutor=bk["tutor"], student=bk["student"], p=_f(r["p"]))
        for r in _rows(log["session_cancelled"], in_mine(log["session_cancelled"]["session"])):
            bk = self.booking(r["session"])
            self.add(r["t"], "cancelled", CANCEL_REASON[r["reason"]], {"reason": CANCEL_REASON[r["reason"]]},
                     session=r["session"], tutor=bk["tutor"], student=bk["student"])

        # --- session times: held (with what was observed) or a no-show
        obs = log["session_observed"]
        obs_at = {int(s): i for i, s in enumerate(obs["session"])}
        for r in _rows(log["session_outcome"], in_mine(log["session_outcome"]["session"])):
            bk = self.booking(r["session"])
            pt, ps = _f(r["p_tutor_no_show"]), _f(r["p_student_no_show"])
            data = {"subject": subjects[bk["subject"]], "first": bk["first"], "duration": bk["duration"],
                    "tutor_showed": r["tutor_showed"], "student_showed": r["student_showed"],
                    "p_tutor_no_show": pt, "p_student_no_show": ps, "reliability": _f(r["reliability"]),
                    "burnout": _f(r["burnout"]), "p_reschedule": _f(r["p_reschedule"])}
            held = r["tutor_showed"] and r["student_showed"]
            if held and int(r["session"]) in obs_at:
                i = obs_at[int(r["session"])]
                data.update({
                    "end": run.stamp(obs["t"][i]), "actual_duration": int(obs["actual_duration"][i]),
                    "connection": CONNECTION[int(obs["connection"][i])], "network_load": _f(obs["network_load"][i]),
                    "tech_issue": bool(obs["tech_issue"][i]), "attention": _f(obs["attention"][i], 2),
                    "camera": _f(obs["camera"][i], 2), "speak": _f(obs["speak"][i], 4),
                    "screen": _f(obs["screen"][i], 2), "sentiment_overall": _f(obs["sentiment_overall"][i], 4),
                    "empathy": _f(obs["empathy"][i], 3), "clarity": _f(obs["clarity"][i], 3),
                    "engagement": _f(obs["engagement"][i], 3), "quality": _f(obs["quality"][i], 4),
                    "rating": _f(obs["rating"][i], 1), "satisfaction": _f(obs["satisfaction"][i], 1),
                    "recommend": bool(obs["recommend"][i])})
                p = _f((1.0 - (pt or 0.0)) * (1.0 - (ps or 0.0)))
                self.add(r["t"], "session", "held", data, session=r["session"], tutor=bk["tutor"],
                         student=bk["student"], p=p)
            else:
                kind = "both" if not (r["tutor_showed"] or r["student_showed"]) else \
                    "tutor" if not r["tutor_showed"] else "student"
                p = {"tutor": pt, "student": ps, "both": _f((pt or 0.0) * (ps or 0.0))}[kind]
                self.add(r["t"], "no_show", kind, data, session=r["session"], tutor=bk["tutor"],
                         student=bk["student"], p=p)

        # --- the student's decision after each session time
        out = log["session_outcome"]
        showed = {int(s): (bool(a), bool(b)) for s, a, b in zip(out["session"], out["tutor_showed"], out["student_showed"])}
        poor = self.run.scenario.behaviour.poor_rating
        for r in _rows(log["student_decision"], in_mine(log["student_decision"]["session"])):
            bk = self.booking(r["session"])
            tutor_came, student_came = showed.get(int(r["session"]), (True, True))
            rating = _f(r["rating"], 1)
            action = STUDENT_ACTIONS[r["action"]]
            case = ("tutor_no_show" if not tutor_came else "student_missed" if not student_came
                    else "goal_reached" if action == "done" else
                    "poor_rating" if rating is not None and rating < poor else "good_rating")
            self.add(r["t"], "decision", case, {
                "action": action, "case": case, "p": _f(r["p"]), "p_leave": _f(r["p_leave"]),
                "p_switch": _f(r["p_switch"]), "rating": rating, "first": r["first"], "patience": _f(r["patience"]),
                "sessions_done": r["sessions_done"]},
                session=r["session"], tutor=bk["tutor"], student=bk["student"], p=_f(r["p"]))

        if self.kind == "student":
            # what tutors did in the platform about the student's sessions (confirmations, messages)
            act = log["tutor_action"]
            for r in _rows(act, act["student"] == self.index):
                self._action(r, c)
            return self.events
        self._tutor_only(c, LEAVE_REASON)
        return self.events

    def _action(self, r, c):
        name = c["actions"][r["action"]]
        detail = (c["profile_fields"][r["detail"]] if name == "profile_updated" and r["detail"] >= 0 else
                  c["message_kinds"][r["detail"]] if name == "message_sent" and r["detail"] >= 0 else None)
        self.add(r["t"], "action", name, {"action": name, "device": c["devices"][r["device"]], "detail": detail,
                                          "p": _f(r["p"])},
                 session=r["session"] if r["session"] >= 0 else None, tutor=r["tutor"],
                 student=r["student"] if r["student"] >= 0 else None, p=_f(r["p"]))

    def _tutor_only(self, c, leave_reason):
        run, log, k = self.run, self.run.log, self.index
        sc = run.scenario
        for r in _rows(log["tutor_quit"], log["tutor_quit"]["tutor"] == k):
            self.add(r["t"], "quit", leave_reason[r["reason"]], {
                "reason": leave_reason[r["reason"]], "p": _f(r["p"], 8), "burnout": _f(r["burnout"]),
                "recent_rating": _f(r["recent_rating"], 3), "idle": r["idle"], "cert_factor": _f(r["cert_factor"]),
                "propensity": _f(r["propensity"], 8), "missed_30d": r["missed_30d"]}, tutor=k, p=_f(r["p"], 8))
        for r in _rows(log["tutor_login"], log["tutor_login"]["tutor"] == k):
            self.add(r["t"], "login", c["login_kinds"][r["kind"]], {
                "kind": c["login_kinds"][r["kind"]], "device": c["devices"][r["device"]], "p": _f(r["p"])},
                session=r["session"] if r["session"] >= 0 else None, tutor=k, p=_f(r["p"]))
        act = log["tutor_action"]
        for r in _rows(act, act["tutor"] == k):
            self._action(r, c)

        exps = sc.experiments
        exp_id = lambda e: exps[e].id if 0 <= e < len(exps) else None
        variant = lambda e, v: exps[e].variants[v] if 0 <= e < len(exps) and 0 <= v < len(exps[e].variants) else None
        iv = log["intervention"]
        mine = iv["tutor"] == k
        itype_of = {}
        for r in _rows(iv, mine):
            itype = c["intervention_types"][r["itype"]]
            itype_of[int(r["intervention"])] = (itype, r["experiment"], r["variant"])
            self.add(r["t"], "intervention", "campaign" if r["campaign"] else "email", {
                "intervention": run.intervention(r["intervention"]), "intervention_num": r["intervention"],
                "itype": itype, "campaign": r["campaign"], "experiment": exp_id(r["experiment"]),
                "variant": variant(r["experiment"], r["variant"]), "send_at": run.stamp(r["send_at"]),
                "churn_probability": _f(r["churn_probability"], 4), "churn_signals": r["churn_signals"],
                "rating_30d": _f(r["rating_30d"], 2), "rating_7d": _f(r["rating_7d"], 2),
                "engagement_30d": _f(r["engagement_30d"], 2), "first_session_avg": _f(r["first_session_avg"], 2),
                "tech_rate": _f(r["tech_rate"], 3), "sessions_7d": r["sessions_7d"], "sessions_30d": r["sessions_30d"]},
                tutor=k)
        st = log["intervention_step"]
        clicked = set(st["intervention"][st["step"] == c["steps"].index("clicked")].tolist())
        for r in _rows(st, np.isin(st["intervention"], list(itype_of))):
            itype, e, v = itype_of[int(r["intervention"])]
            step = c["steps"][r["step"]]
            self.add(r["t"], "email", step, {
                "intervention": run.intervention(r["intervention"]), "intervention_num": r["intervention"],
                "itype": itype, "step": step, "p": _f(r["p"]), "burnout": _f(r["burnout"]), "fit": _f(r["fit"]),
                "multiplier": _f(r["multiplier"]), "after_click": int(r["intervention"]) in clicked,
                "experiment": exp_id(e), "variant": variant(e, v)},
                tutor=k, p=None if step == "sent" else _f(r["p"]))
        co = log["coaching"]
        for r in _rows(co, co["tutor"] == k):
            what = c["coaching"][r["what"]]
            self.add(r["t"], "coaching", what, {
                "what": what, "intervention": run.intervention(r["intervention"]), "experiment": exp_id(r["experiment"]),
                "at": run.stamp(r["at"]), "p": _f(r["p"])},
                tutor=k, p=None if what == "coaching_scheduled" else _f(r["p"]))
        tc = log["trait_change"]
        for r in _rows(tc, tc["tutor"] == k):
            cause = c["causes"][r["cause"]]
            deltas = {name: _f(r[name], 6) for name in ("skill", "reliability", "empathy", "speak_style", "tech_setup",
                                                        "hours_flex", "quit_propensity")}
            deltas["capacity"] = r["capacity"]
            self.add(r["t"], "trait_change", cause, {
                "cause": cause, "intervention": run.intervention(r["intervention"]),
                "experiment": exp_id(r["experiment"]), "k": _f(r["k"]), **{f"d_{n}": v for n, v in deltas.items()}},
                tutor=k)
        channels = c["channels"]
        for name, what in (("experiment_assigned", "assigned"), ("experiment_exposed", "exposed"),
                           ("experiment_acted", "acted"), ("experiment_evaluated", "evaluated")):
            tab = log[name]
            for r in _rows(tab, tab["tutor"] == k):
                e = r["experiment"]
                data = {"what": what, "experiment": exp_id(e),
                        "metric": exps[e].primary_metric if 0 <= e < len(exps) else None,
                        "variant": variant(e, r["variant"] if "variant" in r else self._variant(e))}
                if "channel" in r:
                    data["channel"] = channels[r["channel"]]
                for col in ("p", "baseline", "before", "after", "lift"):
                    if col in r:
                        data[col] = _f(r[col])
                for col in ("n_before", "n_after", "converted"):
                    if col in r:
                        data[col] = r[col]
                if "acted_at" in r:
                    data["acted_at"] = run.stamp(r["acted_at"])
                self.add(r["t"], "experiment", what, data, tutor=k, p=data.get("p"))
        day = log["tutor_day"]
        ch = sc.platform.churn
        for r in _rows(day, day["tutor"] == k):
            cp = _f(r["churn_probability"], 4)
            risk = None if cp is None else "High" if cp >= ch.high else "Medium" if cp >= ch.medium else "Low"
            self.add(r["t"], "daily", "day", {
                "churn_probability": cp, "churn_signals": r["churn_signals"], "risk": risk,
                "p_quit": _f(r["p_quit"], 8), "p_login": _f(r["p_login"]), "burnout": _f(r["burnout"]),
                "reliability": _f(r["reliability"])}, tutor=k, p=_f(r["p_quit"], 8))

    def _variant(self, e):
        a = self.run.log["experiment_assigned"]
        hit = np.flatnonzero((a["tutor"] == self.index) & (a["experiment"] == e))
        return int(a["variant"][hit[0]]) if len(hit) else -1


# ================================================================================== words

DECISION_WORDS = {"continue": "continues with {tutor_id}", "switch": "switches tutor",
                  "leave": "leaves the platform", "done": "is done"}


def _short(stamp) -> str:
    """'2026-10-21 17:00:00' -> '10-21 17:00'."""
    return (stamp or "n/a")[5:16]


def _mover(d, h, c) -> dict:
    """Who moved (or tried to move) a session: not named when it is the traced agent, who is then
    said to have done it with the other party."""
    mover_is_me = (d["by"] == "tutor") == c["me_tutor"]
    mover = h["tutor_id"] if d["by"] == "tutor" else h["student_id"]
    return {"mover": "" if mover_is_me else f"{mover} ", "with_other": f" with {h['other']}" if mover_is_me else ""}


def _h_rescheduled(d, h, c):
    return {**_mover(d, h, c), "new_s": _short(d["new_start"]), "decided_s": _short(d["decided_at"])}


def _h_move_refused(d, h, c):
    if d["reason"] == "platform_cap":
        refusal = (f"the platform refuses a tutor's moves beyond {c['sc'].platform.max_reschedule_share:.0%} of "
                   f"their bookings ({d['moves']} of {d['bookings']} moved)")
    else:
        refusal = "no free hour with the tutor in the days looked at"
    return {**_mover(d, h, c), "start_s": _short(d["start"]), "refusal": refusal}


def _h_booked(d, h, c):
    return {
        "start_s": _short(d["start"]),
        "booking_s": (f"({d['subject']}, {d['duration']} min" + (", first session" if d["first"] else "")
                      + ("" if d["in_preferred_hours"] else ", outside the tutor's preferred hours") + ")"),
        "choice_s": FMT.format("chose {t} among {n} open tutors (room {room:.2f}, shown rating {r:.2f}) -> p={p:.2f}",
                               t=h["tutor_id"], n=d["candidates"], room=d["room"], r=d["shown_rating"], p=d["p"]),
    }


def _h_decision(d, h, c):
    return {"action_s": DECISION_WORDS[d["action"]].format(tutor_id=h["tutor_id"])}


def _h_quit(d, h, c):
    b, r = c["sc"].behaviour, d["recent_rating"]
    return {"burnout_gain": b.quit_burnout_gain, "limit": c["sc"].platform.no_show_suspension,
            "low_s": (f" x (1 + {b.quit_low_rating_gain:g} x (4 - recent rating {r:.2f}))"
                      if r is not None and r < 4.0 else ""),
            "idle_s": f" x {1 + b.quit_idle_gain:g} (no session for 7 days)" if d["idle"] else ""}


def _h_intervention(d, h, c):
    return {"exp_s": f" ({d['experiment']}, variant {d['variant']})" if d.get("experiment") else ""}


def _h_email(d, h, c):
    m = c["sc"].engagement.email
    resp = c["traits"].get("responsiveness", float("nan"))
    damp = FMT.format("(1 - {drop:g} x burnout {b:.2f})", drop=m.burnout_drop, b=d["burnout"])
    mult = "" if d["multiplier"] is None or d["multiplier"] == 1.0 else f" x variant {d['multiplier']:g}"
    fit = "in active hours" if d["fit"] is None or d["fit"] == 1.0 else f"off hours {d['fit']:g}"
    rate = "{s:g} x responsiveness {r:.2f} x {damp}{mult}"
    return {**_h_intervention(d, h, c),
            "open_why": FMT.format("{s:g} x responsiveness {r:.2f} x {fit} x {damp}{mult}",
                                   s=m.open_scale, r=resp, fit=fit, damp=damp, mult=mult),
            "click_why": FMT.format(rate, s=m.click_scale, r=resp, damp=damp, mult=mult),
            "respond_why": (f"after a click: {m.respond_after_click:g}" if d.get("after_click")
                            else FMT.format(rate, s=m.respond_scale, r=resp, damp=damp, mult=mult))}


def _h_coaching(d, h, c):
    return {"at_s": _short(d["at"]),
            "via_s": " (in-app card)" if d["intervention"] == "(in-app)" else f" (from email {d['intervention']})"}


TRAIT_NAMES = {"d_skill": "skill", "d_reliability": "reliability", "d_empathy": "empathy",
               "d_speak_style": "speak style", "d_tech_setup": "tech setup", "d_hours_flex": "flexibility",
               "d_quit_propensity": "quit propensity"}


def _h_trait_change(d, h, c):
    parts = [f"{label} {d[key]:+.4f}" for key, label in TRAIT_NAMES.items() if d.get(key)]
    if d.get("d_capacity"):
        parts.append(f"sessions a day {d['d_capacity']:+d}")
    return {"deltas": ", ".join(parts) or "none",
            "mult_s": " x the variant's multiplier" if d.get("experiment") else ""}


def _h_experiment(d, h, c):
    e = {e.id: e for e in c["sc"].experiments}.get(d["experiment"])
    keys = ("baseline", "before", "after", "lift", "n_before", "n_after", "channel", "metric", "variant")
    return {"exp": d["experiment"], "exp_name": e.name if e else "n/a",
            "converted_s": "converted" if d.get("converted") else "not converted", **{k: d.get(k) for k in keys}}


# event type -> the function giving its template's pieces beyond the event's data
HELPERS = {"rescheduled": _h_rescheduled, "move_refused": _h_move_refused, "booked": _h_booked,
           "decision": _h_decision, "quit": _h_quit, "intervention": _h_intervention, "email": _h_email,
           "coaching": _h_coaching,
           "trait_change": _h_trait_change, "experiment": _h_experiment}


def _helpers(ev: dict, run: Run, agent_kind: str, traits: dict) -> dict:
    """The pre-formatted pieces the templates quote besides the event's data: who is who (the
    traced agent is not named, the other party is), and the type's own pieces (HELPERS)."""
    d = ev["data"]
    tutor_id = run.tutor_id(ev["tutor"]) if ev["tutor"] is not None else None
    student_id = run.student_id(ev["student"]) if ev["student"] is not None else None
    me_tutor = agent_kind == "tutor"
    actor = "tutor" if ev["type"] == "action" else "student"      # who acts in the events that name one
    first = d.get("first")
    h = {"tutor_id": tutor_id, "student_id": student_id, "other": student_id if me_tutor else tutor_id,
         "S": run.session(ev["session"]) if ev["session"] is not None else "", "I": d.get("intervention", ""),
         "poor_rating": run.scenario.behaviour.poor_rating,
         "actor": "" if (actor == "tutor") == me_tutor else f"{tutor_id if actor == 'tutor' else student_id} ",
         "with_tutor": "" if me_tutor else f" with {tutor_id}",
         "with_student": f" with {student_id}" if me_tutor else "",
         "to_student": f" to {student_id}" if me_tutor else "",
         "first_s": ", first session" if first else "", "first_s2": " (first session)" if first else "",
         "first_why": " on a first session" if first else "",
         "recommend_s": ", recommends" if d.get("recommend") else ", would not recommend",
         "tech_s": ", technical issue" if d.get("tech_issue") else ""}
    more = HELPERS.get(ev["type"])
    if more is not None:
        h.update(more(d, h, {"sc": run.scenario, "traits": traits, "me_tutor": me_tutor}))
    return h


def render(ev: dict, run: Run, agent_kind: str, traits: dict) -> tuple[str, str]:
    """What happened and why, in words."""
    what, why = TEMPLATES[(ev["type"], ev["kind"])]
    fields = {**ev["data"], **_helpers(ev, run, agent_kind, traits)}
    if "p" not in fields:
        fields["p"] = ev["p"]
    return FMT.format(what, **fields), FMT.format(why, **fields)


def text_line(ev: dict, run: Run, what: str, why: str) -> str:
    mark = "wu" if run.phase(ev["t"]) == "warmup" else "  "
    return f"{run.when(ev['t']):%Y-%m-%d %H:%M} {mark}  {what}" + (f": {why}" if why else "")


def json_line(ev: dict, run: Run, agent: str, what: str, why: str) -> str:
    sid = ev["session"]
    obj = {
        "time": run.stamp(ev["t"]), "minute": round(ev["t"], 3), "phase": run.phase(ev["t"]),
        "type": ev["type"], "kind": ev["kind"], "agent": agent,
        "tutor": run.tutor_id(ev["tutor"]) if ev["tutor"] is not None else None,
        "student": run.student_id(ev["student"]) if ev["student"] is not None else None,
        "session": run.session_label.get(int(sid)) if sid is not None else None,
        "session_num": int(sid) if sid is not None else None,
        "p": ev["p"], "text": what, "why": why, "data": ev["data"],
    }
    return json.dumps({k: obj[k] for k in JSON_KEYS}, allow_nan=False)


# ================================================================================== header

def _value(row: dict, key, default=float("nan")):
    v = row.get(key, default)
    try:
        return default if v is None or (isinstance(v, float) and math.isnan(v)) else v
    except TypeError:
        return v


def tutor_header(run: Run, row: dict, events: list[dict]) -> list[str]:
    """The tutor's traits (as at the window's end, with their value at the start where the
    platform's coaching changed them), burnout and status."""
    h = {"usual_device": "n/a", **row}
    totals: dict[str, float] = {}
    for ev in events:
        if ev["type"] == "trait_change":
            for key, v in ev["data"].items():
                if key.startswith("d_") and v:
                    totals[key[2:]] = totals.get(key[2:], 0.0) + v
    names = {"skill": "skill", "reliability": "reliability", "empathy": "empathy", "speak_style": "speak_style",
             "tech_setup": "tech_setup", "hours_flex": "hours_flex", "quit_propensity": "quit_propensity"}
    specs = {"skill": ".3f", "reliability": ".3f", "empathy": ".2f", "speak_style": ".2f", "tech_setup": "+.2f",
             "hours_flex": ".2f", "quit_propensity": ".4f"}
    for key, col in names.items():
        change = totals.get(key, 0.0)
        spec = specs[key]
        h[f"{key}_d"] = (f" ({float(row[col]) - change:{spec}} at the start)" if abs(change) > 1e-12 else "")
    onset = _value(row, "burnout_onset_min")
    ramp = run.scenario.behaviour.burnout_ramp_days
    if isinstance(onset, float) and math.isnan(onset) or not float(_value(row, "burnout_max", 0.0)):
        h["burnout_s"] = "none"
    else:
        day = (float(onset) - run.window_start) / MINUTES_PER_DAY
        h["burnout_s"] = (f"from {run.when(float(onset)):%Y-%m-%d} (window day {day:+.0f}), rising to "
                          f"{float(row['burnout_max']):.2f} over {ramp:g} days")
    weekdays = " ".join(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[int(ch)]
                        for ch in str(_value(row, "working_weekdays", "")).split(".")[0] if ch.isdigit())
    block = ("weekend-only, 8 am-9 pm" if _truthy(row.get("weekend_only")) else
             "morning block 8 am-12 pm" if _truthy(row.get("morning")) else "evening block 3-9 pm")
    h["hours_s"] = block + (f" on {weekdays}" if weekdays and not _truthy(row.get("weekend_only")) else "") + \
        (", also odd hours (6-7 am, 10-11 pm)" if _truthy(row.get("odd_hours")) else "")
    quits = [ev for ev in events if ev["type"] == "quit"]
    if quits:
        q = quits[0]
        h["status_s"] = (f"{'suspended' if q['kind'] == 'suspended' else 'quit'} {run.stamp(q['t'])[:16]}"
                         + (" (in the warm-up)" if run.phase(q["t"]) == "warmup" else ""))
    else:
        h["status_s"] = "active at the window's end"
    return [FMT.format(line, **h) for line in TUTOR_HEADER]


def _truthy(v) -> bool:
    return str(v).strip().lower() in ("true", "1", "1.0")


def student_header(run: Run, row: dict) -> list[str]:
    h = dict(row)
    prior = _value(row, "prior_sessions", None)
    existing = _truthy(row.get("existing")) or float(_value(row, "arrived_at_min", 1.0)) == 0.0
    h["prior_s"] = f", {int(prior)} sessions before the simulation" if existing and prior is not None else ""
    arrived = float(_value(row, "arrived_at_min", 0.0))
    h["arrived_s"] = ("before the simulation started (an existing student)" if existing
                      else run.stamp(arrived)[:16] + (" (warm-up)" if arrived < run.window_start else ""))
    return [FMT.format(line, **h) for line in STUDENT_HEADER]


def calendar_line(run: Run) -> str:
    end = run.when(run.window_end)
    return (f"  window {run.when(run.window_start):%Y-%m-%d} .. {end:%Y-%m-%d} ({run.window_days} days); "
            f"warm-up from {run.start_dt:%Y-%m-%d} ({run.warmup_days} days): lines marked wu")


# ================================================================================== plot

def plot(run: Run, kind: str, agent: str, title: str, events: list[dict], out: Path,
         lo: float | None, hi: float | None) -> None:
    """A PNG timeline: ratings of held sessions (coloured by rating) with their rolling 7-day
    mean, no-shows and reschedules; for a tutor also emails, coaching and the platform's daily
    churn probability with burnout and reliability now."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    by = lambda *types: [ev for ev in events if ev["type"] in types]
    x = lambda evs: [run.when(ev["t"]) for ev in evs]
    tutor = kind == "tutor"
    heights = (3.2, 1.3, 2.0) if tutor else (3.2,)
    fig, axes = plt.subplots(len(heights), 1, figsize=(12, 2.0 + sum(heights)), sharex=True,
                             gridspec_kw={"height_ratios": heights}, squeeze=False, layout="constrained")
    axes = axes[:, 0]
    ax = axes[0]
    held = by("session")
    ratings = np.array([ev["data"]["rating"] for ev in held], dtype=float)
    sc = ax.scatter(x(held), ratings, c=ratings, cmap="RdYlGn", vmin=1, vmax=5, s=16, edgecolors="none",
                    zorder=3)
    fig.colorbar(sc, ax=list(axes), pad=0.01, fraction=0.025, aspect=40).set_label("session rating")
    first = [ev for ev in held if ev["data"]["first"]]
    ax.scatter(x(first), [ev["data"]["rating"] for ev in first], s=40, facecolors="none",
               edgecolors="black", linewidths=0.6, zorder=4)
    if len(held):
        t = np.array([ev["t"] for ev in held])
        days = np.arange(math.floor(t.min() / MINUTES_PER_DAY), math.floor(t.max() / MINUTES_PER_DAY) + 2)
        ends = days * MINUTES_PER_DAY
        mean7 = []
        for end in ends:
            m = (t < end) & (t >= end - 7 * MINUTES_PER_DAY)
            mean7.append(ratings[m].mean() if m.any() else np.nan)
        ax.plot([run.when(e) for e in ends], mean7, color="navy", lw=1.6, drawstyle="steps-post", zorder=5)
    ns = by("no_show")
    tutor_ns = [ev for ev in ns if ev["kind"] in ("tutor", "both")]
    student_ns = [ev for ev in ns if ev["kind"] == "student"]
    ax.scatter(x(tutor_ns), [0.75] * len(tutor_ns), marker="x", color="red", s=40, zorder=4)
    ax.scatter(x(student_ns), [0.75] * len(student_ns), marker="x", color="grey", s=30, zorder=4)
    moved = by("rescheduled")
    by_tutor = [ev for ev in moved if ev["kind"] == "tutor"]
    by_student = [ev for ev in moved if ev["kind"] == "student"]
    ax.scatter(x(by_tutor), [5.3] * len(by_tutor), marker="v", color="darkorange", s=28, zorder=4)
    ax.scatter(x(by_student), [5.3] * len(by_student), marker="v", color="grey", s=22, zorder=4)
    ax.set_ylim(0.45, 5.55)
    ax.set_ylabel("session rating")
    ax.legend(handles=[
        Line2D([], [], marker="o", ls="", color="yellowgreen", label="held session (ring: first)"),
        Line2D([], [], color="navy", lw=1.6, label="rolling 7-day mean rating"),
        Line2D([], [], marker="x", ls="", color="red", label="tutor no-show"),
        Line2D([], [], marker="x", ls="", color="grey", label="student no-show"),
        Line2D([], [], marker="v", ls="", color="darkorange", label="rescheduled by the tutor"),
        Line2D([], [], marker="v", ls="", color="grey", label="rescheduled by the student"),
        Patch(color="grey", alpha=0.12, label="warm-up (not in the tables)"),
        Line2D([], [], color="black", lw=1.2, label="quit / suspended"),
    ], loc="lower center", bbox_to_anchor=(0.5, 1.0), fontsize=7, ncol=4, frameon=False)

    if tutor:
        ax2 = axes[1]
        rows = [("decided", by("intervention"), "|", "steelblue"),
                ("opened", [e for e in by("email") if e["kind"] == "opened"], "o", "seagreen"),
                ("clicked", [e for e in by("email") if e["kind"] == "clicked"], "*", "purple"),
                ("replied", [e for e in by("email") if e["kind"] == "responded"], "s", "teal"),
                ("coaching", [e for e in by("coaching") if e["kind"] == "coaching_attended"], "D", "black")]
        missed = [e for e in by("coaching") if e["kind"] == "coaching_missed"]
        for y, (label, evs, marker, color) in enumerate(rows):
            ax2.scatter(x(evs), [y] * len(evs), marker=marker, color=color, s=40, zorder=3)
        ax2.scatter(x(missed), [len(rows) - 1] * len(missed), marker="D", facecolors="none", edgecolors="black",
                    s=40, zorder=3)
        ax2.set_yticks(range(len(rows)), [r[0] for r in rows], fontsize=8)
        ax2.set_ylim(-0.7, len(rows) - 0.3)
        ax2.set_ylabel("emails and\ncoaching", fontsize=9)
        ax2.grid(axis="x", alpha=0.3)

        ax3 = axes[2]
        daily = by("daily")
        ch = run.scenario.platform.churn
        if daily:
            xs = x(daily)
            ax3.plot(xs, [e["data"]["churn_probability"] for e in daily], color="crimson", lw=1.6,
                     label="churn probability (platform, daily)")
            ax3.plot(xs, [e["data"]["burnout"] for e in daily], color="dimgrey", lw=1.2, ls="--", label="burnout")
            ax3.plot(xs, [e["data"]["reliability"] for e in daily], color="teal", lw=1.2, ls=":",
                     label="reliability now")
        ax3.axhline(ch.high, color="crimson", lw=0.6, alpha=0.5)
        ax3.axhline(ch.medium, color="orange", lw=0.6, alpha=0.5)
        ax3.set_ylim(0, 1.02)
        ax3.set_ylabel("daily")
        ax3.legend(loc="upper left", fontsize=7, ncol=3, framealpha=0.85)
    for a in axes:
        left = run.when(lo if lo is not None else 0.0)
        right = run.when(hi if hi is not None else run.window_end)
        if run.window_start > (lo or 0.0):
            a.axvspan(left, run.when(run.window_start), color="grey", alpha=0.12, lw=0)
        for q in by("quit"):
            a.axvline(run.when(q["t"]), color="black", lw=1.2)
        a.set_xlim(left, right)
    fig.suptitle(title, fontsize=10)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)


# ================================================================================== command line


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="run.py trace",
                description="One tutor's or student's timeline from a run folder: every event with its "
                            "simulated time, who was involved, and why (the probability each decision "
                            "faced and its inputs). Warm-up events are marked wu.")
    p.add_argument("agent", metavar="ID", help="a tutor (T0042) or a student (ST000123)")
    p.add_argument("data_dir", metavar="DATA_DIR", nargs="?", default="data",
                   help="a folder written by `run.py` (default: data)")
    p.add_argument("--since", metavar="DATE", help="only events at or after DATE (ISO date or date-time)")
    p.add_argument("--until", metavar="DATE", help="only events up to DATE (a date: its whole day)")
    p.add_argument("--type", metavar="TYPE[,TYPE]", action="append",
                   help=f"only these event types: {', '.join(TYPES)} (default: all but daily)")
    p.add_argument("--json", action="store_true", help="one JSON object per event (stable keys)")
    p.add_argument("--plot", action="store_true", help="write a PNG timeline instead of listing")
    p.add_argument("--out", metavar="FILE.png", help="where the plot goes (implies --plot; default: trace_ID.png)")
    return p


def _bound(run: Run, text: str | None, flag: str, end: bool) -> float | None:
    if text is None:
        return None
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise BadInput(f"{flag} {text}: not an ISO date or date-time (e.g. 2026-10-21 or 2026-10-21T17:00)") from None
    if end and len(text) <= 10:          # a date: until the end of that day
        when += dt.timedelta(days=1)
        return run.minute(when) - 1e-9
    return run.minute(when)


def _types(values) -> tuple[str, ...]:
    if not values:
        return tuple(t for t in TYPES if t not in HIDDEN_BY_DEFAULT)
    wanted = [t.strip() for v in values for t in v.split(",") if t.strip()]
    unknown = [t for t in wanted if t not in TYPES]
    if unknown:
        raise BadInput(f"--type {unknown[0]}: unknown event type; expected one of {', '.join(TYPES)}")
    return tuple(dict.fromkeys(wanted))


def trace(argv: list[str], out=sys.stdout) -> int:
    args = parser().parse_args(argv)
    m = ID_RE.match(args.agent.strip().upper())
    if not m:
        raise BadInput(f"{args.agent}: not a tutor or student id (e.g. T0042, ST000123)")
    kind = "tutor" if m.group(1) else "student"
    index = int(m.group(2) or m.group(4)) - 1
    types = _types(args.type)
    folder = Path(args.data_dir)
    run = Run(folder, need_students=kind == "student")
    table, col = (run.tutors, "tutor_id") if kind == "tutor" else (run.students, "student_id")
    agent = run.tutor_id(index) if kind == "tutor" else run.student_id(index)
    hit = table.index[table[col] == agent]
    if index < 0 or not len(hit):
        last = table[col].iloc[-1] if len(table) else "none"
        raise BadInput(f"{args.agent}: no such {kind} in {folder} ({kind}s {table[col].iloc[0] if len(table) else ''}"
                       f"..{last})")
    row = table.loc[hit[0]].to_dict()
    lo = _bound(run, args.since, "--since", end=False)
    hi = _bound(run, args.until, "--until", end=True)

    tracer = Tracer(run, kind, index)
    everything = tracer.collect()
    everything.sort(key=lambda e: (e["t"], RANK[e["type"]], -1 if e["session"] is None else e["session"]))
    shown = [e for e in everything if e["type"] in types and (lo is None or e["t"] >= lo)
             and (hi is None or e["t"] <= hi)]
    traits = row if kind == "tutor" else {}

    if args.plot or args.out:
        path = Path(args.out) if args.out else Path(f"trace_{agent}.png")
        if path.suffix.lower() != ".png":
            raise BadInput(f"--out {path}: the plot is a PNG; give a file name ending in .png")
        persona = f" ({row.get('persona')})" if kind == "tutor" else f" ({row.get('grade')}, {row.get('subject')})"
        plot_events = [e for e in everything if (lo is None or e["t"] >= lo) and (hi is None or e["t"] <= hi)]
        plot(run, kind, agent, f"{agent}{persona}: sessions, emails, coaching and the platform's churn probability"
             if kind == "tutor" else f"{agent}{persona}: sessions", plot_events, path, lo, hi)
        print(f"trace: {agent}: {len(plot_events)} events plotted -> {path}", file=out)
        return 0
    if args.json:
        for ev in shown:
            what, why = render(ev, run, kind, traits)
            out.write(json_line(ev, run, agent, what, why) + "\n")
        return 0
    header = tutor_header(run, row, everything) if kind == "tutor" else student_header(run, row)
    for line in header:
        out.write(line + "\n")
    out.write(calendar_line(run) + "\n")
    counts = {}
    for ev in shown:
        counts[ev["type"]] = counts.get(ev["type"], 0) + 1
    hidden = "" if "daily" in types else " (daily platform rows: --type daily)"
    out.write(f"  {len(shown)} events: " + ", ".join(f"{n} {t}" for t, n in counts.items()) + hidden + "\n\n")
    for ev in shown:
        what, why = render(ev, run, kind, traits)
        out.write(text_line(ev, run, what, why) + "\n")
    return 0


def main(argv: list[str]) -> int:
    try:
        return trace(argv)
    except BadInput as e:
        sys.stderr.write(f"run.py trace: error: {e}\n")
        return 2
    except BrokenPipeError:            # `run.py trace ... | head`
        sys.stderr.close()
        return 0
