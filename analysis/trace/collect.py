"""One agent's events from a run's log (`Tracer`), and the trace's event types."""
from __future__ import annotations

import math

import numpy as np

from analysis.trace import hazard
from analysis.trace.run_folder import Run
from world.events import STUDENT_ACTIONS

# the trace's event types (--type), in the order events of the same minute are listed
TYPES = ("arrived", "rescheduled", "move_refused", "cancelled", "no_show", "session", "booked", "decision",
         "quit", "login", "action", "intervention", "email", "coaching", "trait_change", "experiment", "daily")
HIDDEN_BY_DEFAULT = ("daily",)     # one row per tutor and day: asked for with --type daily
RANK = {t: i for i, t in enumerate(TYPES)}


def _codes() -> dict[str, tuple]:
    """The names behind the log's small integer codes."""
    from world.events import (CAUSES, CHANNELS, COACHING, DEVICES, INTERVENTION_TYPES, LOGIN_KINDS, MESSAGE_KINDS,
                              PROFILE_FIELDS, STEPS, SUBJECTS, TUTOR_ACTIONS)
    return {"subjects": SUBJECTS, "actions": TUTOR_ACTIONS, "devices": DEVICES, "login_kinds": LOGIN_KINDS,
            "message_kinds": MESSAGE_KINDS, "profile_fields": PROFILE_FIELDS, "channels": CHANNELS,
            "causes": CAUSES, "coaching": COACHING, "steps": STEPS, "intervention_types": INTERVENTION_TYPES}


def _f(x, digits: int = 6):
    """A JSON-ready float (None for NaN), rounded to `digits` decimals."""
    x = float(x)
    if not math.isfinite(x):
        return None if math.isnan(x) else x
    scale = 10.0 ** digits        # numpy's round, without its per-call cost: scale, half to even, unscale
    return round(x * scale) / scale


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
        mine = (b["tutor"] == index) if kind == "tutor" else (b["student"] == index)
        self.sessions = np.asarray(b["session"][mine])
        self.booked = self.rows_of("session_booked")
        self.events: list[dict] = []

    def booking(self, sid: int) -> dict:
        b, i = self.run.log["session_booked"], self.booked[int(sid)]
        return {"tutor": int(b["tutor"][i]), "student": int(b["student"][i]), "first": bool(b["first"][i]),
                "subject": int(b["subject"][i]), "duration": int(b["duration"][i])}

    def add(self, t, etype, kind, data, *, session=None, tutor=None, student=None, p=None):
        self.events.append({"t": float(t), "type": etype, "kind": kind, "session": session, "tutor": tutor,
                            "student": student, "p": p, "data": data})

    def collect(self) -> list[dict]:
        c = _codes()
        if self.kind == "student":
            self._arrivals()
        self._bookings(c)
        self._reschedules()
        self._moves_refused()
        self._cancellations()
        self._session_times(c)
        self._decisions()
        if self.kind == "student":
            # what tutors did in the platform about the student's sessions (confirmations, messages)
            act = self.run.log["tutor_action"]
            for r in _rows(act, act["student"] == self.index):
                self._action(r, c)
            return self.events
        self._tutor_only(c)
        return self.events

    def rows_of(self, etype: str) -> dict[int, int]:
        """{session: its (last) row} in an event table, for this agent's sessions only: a few
        hundred entries, where one for the whole log would hold millions at platform size."""
        sessions = self.run.log[etype]["session"]
        rows = np.flatnonzero(self._in_mine(sessions))
        return dict(zip(sessions[rows].tolist(), rows.tolist()))

    def _in_mine(self, arr):
        """Which of `arr` (session numbers) are this agent's sessions."""
        return np.isin(arr, self.sessions)

    def _arrivals(self):
        """A student's arrival."""
        arrived = self.run.log["student_arrived"]
        for r in _rows(arrived, arrived["student"] == self.index):
            self.add(r["t"], "arrived", "existing" if r["existing"] else "new", {"existing": bool(r["existing"])},
                     student=self.index)

    def _bookings(self, c):
        from world.events import BOOK_REASON
        run, log = self.run, self.run.log
        subjects = c["subjects"]
        for r in _rows(log["session_booked"], self._in_mine(log["session_booked"]["session"])):
            self.add(r["t"], "booked", BOOK_REASON[r["why"]] if 0 <= r["why"] < len(BOOK_REASON) else "continue", {
                "start": run.stamp(r["start"]), "duration": r["duration"], "subject": subjects[r["subject"]],
                "first": r["first"], "in_preferred_hours": r["in_preferred_hours"],
                "why": BOOK_REASON[r["why"]] if 0 <= r["why"] < len(BOOK_REASON) else None,
                "p": _f(r["p"]), "candidates": r["candidates"], "room": _f(r["room"]),
                "shown_rating": _f(r["shown_rating"], 3)},
                session=r["session"], tutor=r["tutor"], student=r["student"], p=_f(r["p"]))

    def _reschedules(self):
        from world.events import INITIATOR
        run, log = self.run, self.run.log
        for r in _rows(log["session_rescheduled"], self._in_mine(log["session_rescheduled"]["session"])):
            bk = self.booking(r["session"])
            self.add(r["t"], "rescheduled", INITIATOR[r["by"]], {
                "by": INITIATOR[r["by"]], "old_start": run.stamp(r["old_start"]), "new_start": run.stamp(r["new_start"]),
                "p": _f(r["p"]), "decided_at": run.stamp(r["decided"]), "reliability": _f(r["reliability"]),
                "burnout": _f(r["burnout"])},
                session=r["session"], tutor=bk["tutor"], student=bk["student"], p=_f(r["p"]))

    def _moves_refused(self):
        from world.events import INITIATOR, MOVE_REFUSED
        run = self.run
        refused = run.log.get("session_move_refused", {})
        for r in _rows(refused, self._in_mine(refused["session"])) if refused else ():   # (older logs lack it)
            bk = self.booking(r["session"])
            self.add(r["t"], "move_refused", MOVE_REFUSED[r["reason"]], {
                "by": INITIATOR[r["by"]], "reason": MOVE_REFUSED[r["reason"]], "start": run.stamp(r["start"]),
                "p": _f(r["p"]), "moves": r["moves"], "bookings": r["bookings"]},
                session=r["session"], tutor=bk["tutor"], student=bk["student"], p=_f(r["p"]))

    def _cancellations(self):
        from world.events import CANCEL_REASON
        log = self.run.log
        for r in _rows(log["session_cancelled"], self._in_mine(log["session_cancelled"]["session"])):
            bk = self.booking(r["session"])
            self.add(r["t"], "cancelled", CANCEL_REASON[r["reason"]], {"reason": CANCEL_REASON[r["reason"]]},
                     session=r["session"], tutor=bk["tutor"], student=bk["student"])

    def _session_times(self, c):
        """Session times: held (with what was observed) or a no-show."""
        log = self.run.log
        subjects = c["subjects"]
        obs = log["session_observed"]
        obs_at = self.rows_of("session_observed")
        for r in _rows(log["session_outcome"], self._in_mine(log["session_outcome"]["session"])):
            bk = self.booking(r["session"])
            pt, ps = _f(r["p_tutor_no_show"]), _f(r["p_student_no_show"])
            data = {"subject": subjects[bk["subject"]], "first": bk["first"], "duration": bk["duration"],
                    "tutor_showed": r["tutor_showed"], "student_showed": r["student_showed"],
                    "p_tutor_no_show": pt, "p_student_no_show": ps, "reliability": _f(r["reliability"]),
                    "burnout": _f(r["burnout"]), "p_reschedule": _f(r["p_reschedule"])}
            held = r["tutor_showed"] and r["student_showed"]
            if held and int(r["session"]) in obs_at:
                data.update(self._observed(obs, obs_at[int(r["session"])]))
                p = _f((1.0 - (pt or 0.0)) * (1.0 - (ps or 0.0)))
                self.add(r["t"], "session", "held", data, session=r["session"], tutor=bk["tutor"],
                         student=bk["student"], p=p)
            else:
                kind = "both" if not (r["tutor_showed"] or r["student_showed"]) else \
                    "tutor" if not r["tutor_showed"] else "student"
                p = {"tutor": pt, "student": ps, "both": _f((pt or 0.0) * (ps or 0.0))}[kind]
                self.add(r["t"], "no_show", kind, data, session=r["session"], tutor=bk["tutor"],
                         student=bk["student"], p=p)

    def _observed(self, obs, i: int) -> dict:
        """What was observed of a held session (row `i` of session_observed)."""
        from world.events import CONNECTION
        return {
            "end": self.run.stamp(obs["t"][i]), "actual_duration": int(obs["actual_duration"][i]),
            "connection": CONNECTION[int(obs["connection"][i])], "network_load": _f(obs["network_load"][i]),
            "tech_issue": bool(obs["tech_issue"][i]), "attention": _f(obs["attention"][i], 2),
            "camera": _f(obs["camera"][i], 2), "speak": _f(obs["speak"][i], 4),
            "screen": _f(obs["screen"][i], 2), "sentiment_overall": _f(obs["sentiment_overall"][i], 4),
            "empathy": _f(obs["empathy"][i], 3), "clarity": _f(obs["clarity"][i], 3),
            "engagement": _f(obs["engagement"][i], 3), "quality": _f(obs["quality"][i], 4),
            "rating": _f(obs["rating"][i], 1), "satisfaction": _f(obs["satisfaction"][i], 1),
            "recommend": bool(obs["recommend"][i])}

    def _decisions(self):
        """The student's decision after each session time."""
        log = self.run.log
        out = log["session_outcome"]
        outcome_at = self.rows_of("session_outcome")
        poor = self.run.scenario.behaviour.poor_rating
        for r in _rows(log["student_decision"], self._in_mine(log["student_decision"]["session"])):
            bk = self.booking(r["session"])
            i = outcome_at.get(int(r["session"]))
            tutor_came, student_came = (True, True) if i is None else (bool(out["tutor_showed"][i]),
                                                                       bool(out["student_showed"][i]))
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

    def _action(self, r, c):
        name = c["actions"][r["action"]]
        detail = (c["profile_fields"][r["detail"]] if name == "profile_updated" and r["detail"] >= 0 else
                  c["message_kinds"][r["detail"]] if name == "message_sent" and r["detail"] >= 0 else None)
        self.add(r["t"], "action", name, {"action": name, "device": c["devices"][r["device"]], "detail": detail,
                                          "p": _f(r["p"])},
                 session=r["session"] if r["session"] >= 0 else None, tutor=r["tutor"],
                 student=r["student"] if r["student"] >= 0 else None, p=_f(r["p"]))

    def _tutor_only(self, c):
        """The events only a tutor has: quitting, the platform, its interventions and experiments, and
        the daily state."""
        self._quits()
        self._logins(c)
        act = self.run.log["tutor_action"]
        for r in _rows(act, act["tutor"] == self.index):
            self._action(r, c)
        itype_of = self._interventions(c)
        self._emails(c, itype_of)
        self._coaching(c)
        self._trait_changes(c)
        self._experiments(c)
        self._days()

    def _experiment_id(self, e):
        exps = self.run.scenario.experiments
        return exps[e].id if 0 <= e < len(exps) else None

    def _variant_name(self, e, v):
        exps = self.run.scenario.experiments
        return exps[e].variants[v] if 0 <= e < len(exps) and 0 <= v < len(exps[e].variants) else None

    def _quits(self):
        from world.events import LEAVE_REASON
        log, k = self.run.log, self.index
        for r in _rows(log["tutor_quit"], log["tutor_quit"]["tutor"] == k):
            data = {"reason": LEAVE_REASON[r["reason"]], "p": _f(r["p"], 8), "burnout": _f(r["burnout"]),
                    "recent_rating": _f(r["recent_rating"], 3), "propensity": _f(r["propensity"], 8),
                    "missed_30d": r["missed_30d"],
                    "factors": {cause: _f(m, 6) for cause, m in hazard.row_factors(r).items()}}
            if data["reason"] == "quit" and data["propensity"] is not None:
                # how much each cause added to the propensity (analysis/trace/hazard.py)
                added = hazard.shares(float(r["propensity"]), hazard.factors(data))
                data["hazard_added"] = {name: _f(v, 8) for name, v in added.items()}
            self.add(r["t"], "quit", LEAVE_REASON[r["reason"]], data, tutor=k, p=_f(r["p"], 8))

    def _logins(self, c):
        log, k = self.run.log, self.index
        for r in _rows(log["tutor_login"], log["tutor_login"]["tutor"] == k):
            self.add(r["t"], "login", c["login_kinds"][r["kind"]], {
                "kind": c["login_kinds"][r["kind"]], "device": c["devices"][r["device"]], "p": _f(r["p"])},
                session=r["session"] if r["session"] >= 0 else None, tutor=k, p=_f(r["p"]))

    def _interventions(self, c) -> dict:
        """The tutor's interventions; returns {intervention number: (type, experiment, variant)}."""
        run, k = self.run, self.index
        iv = run.log["intervention"]
        itype_of = {}
        for r in _rows(iv, iv["tutor"] == k):
            itype = c["intervention_types"][r["itype"]]
            itype_of[int(r["intervention"])] = (itype, r["experiment"], r["variant"])
            self.add(r["t"], "intervention", "campaign" if r["campaign"] else "email", {
                "intervention": run.intervention(r["intervention"]), "intervention_num": r["intervention"],
                "itype": itype, "campaign": r["campaign"], "experiment": self._experiment_id(r["experiment"]),
                "variant": self._variant_name(r["experiment"], r["variant"]), "send_at": run.stamp(r["send_at"]),
                "churn_probability": _f(r["churn_probability"], 4), "churn_signals": r["churn_signals"],
                "rating_30d": _f(r["rating_30d"], 2), "rating_7d": _f(r["rating_7d"], 2),
                "engagement_30d": _f(r["engagement_30d"], 2), "first_session_avg": _f(r["first_session_avg"], 2),
                "tech_rate": _f(r["tech_rate"], 3), "sessions_7d": r["sessions_7d"], "sessions_30d": r["sessions_30d"]},
                tutor=k)
        return itype_of

    def _emails(self, c, itype_of: dict):
        """The steps of the tutor's interventions (sent, opened, clicked, ...)."""
        run, k = self.run, self.index
        st = run.log["intervention_step"]
        clicked = set(st["intervention"][st["step"] == c["steps"].index("clicked")].tolist())
        for r in _rows(st, np.isin(st["intervention"], list(itype_of))):
            itype, e, v = itype_of[int(r["intervention"])]
            step = c["steps"][r["step"]]
            self.add(r["t"], "email", step, {
                "intervention": run.intervention(r["intervention"]), "intervention_num": r["intervention"],
                "itype": itype, "step": step, "p": _f(r["p"]), "burnout": _f(r["burnout"]), "fit": _f(r["fit"]),
                "multiplier": _f(r["multiplier"]), "after_click": int(r["intervention"]) in clicked,
                "experiment": self._experiment_id(e), "variant": self._variant_name(e, v)},
                tutor=k, p=None if step == "sent" else _f(r["p"]))

    def _coaching(self, c):
        run, k = self.run, self.index
        co = run.log["coaching"]
        for r in _rows(co, co["tutor"] == k):
            what = c["coaching"][r["what"]]
            self.add(r["t"], "coaching", what, {
                "what": what, "intervention": run.intervention(r["intervention"]),
                "experiment": self._experiment_id(r["experiment"]), "at": run.stamp(r["at"]), "p": _f(r["p"])},
                tutor=k, p=None if what == "coaching_scheduled" else _f(r["p"]))

    def _trait_changes(self, c):
        run, k = self.run, self.index
        tc = run.log["trait_change"]
        for r in _rows(tc, tc["tutor"] == k):
            cause = c["causes"][r["cause"]]
            deltas = {name: _f(r[name], 6) for name in ("skill", "reliability", "empathy", "speak_style", "tech_setup",
                                                        "hours_flex", "quit_propensity")}
            deltas["capacity"] = r["capacity"]
            self.add(r["t"], "trait_change", cause, {
                "cause": cause, "intervention": run.intervention(r["intervention"]),
                "experiment": self._experiment_id(r["experiment"]), "k": _f(r["k"]),
                **{f"d_{n}": v for n, v in deltas.items()}},
                tutor=k)

    def _experiments(self, c):
        """The tutor's experiment events: assigned, exposed, acted, evaluated."""
        run, k = self.run, self.index
        exps = run.scenario.experiments
        channels = c["channels"]
        for name, what in (("experiment_assigned", "assigned"), ("experiment_exposed", "exposed"),
                           ("experiment_acted", "acted"), ("experiment_evaluated", "evaluated")):
            tab = run.log[name]
            for r in _rows(tab, tab["tutor"] == k):
                e = r["experiment"]
                data = {"what": what, "experiment": self._experiment_id(e),
                        "metric": exps[e].primary_metric if 0 <= e < len(exps) else None,
                        "variant": self._variant_name(e, r["variant"] if "variant" in r else self._variant(e))}
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

    def _days(self):
        """One row per day: the platform's churn probability and the tutor's state."""
        run, k = self.run, self.index
        day = run.log["tutor_day"]
        ch = run.scenario.platform.churn
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
