"""One agent's events from a run's log (`Tracer`), and the trace's event types."""
from __future__ import annotations

import math

import numpy as np

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
