"""Each traced event in words: what happened and why, as a text line or a JSON line.

Each event type's sentence is a template in `TEMPLATES`, keyed by (type, kind); the values it
quotes are the event's `data` (what `--json` prints) and a few pre-formatted helpers (`HELPERS`).
"""
from __future__ import annotations

import json
import math
import string

from analysis.trace.run_folder import Run

JSON_KEYS = ("time", "minute", "phase", "type", "kind", "agent", "tutor", "student", "session",
             "session_num", "p", "text", "why", "data")


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
                       "propensity {propensity:.4f}{factors_s} -> p={p:.4f} that day{added_s}"),
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


class _Fmt(string.Formatter):
    """str.format, but a missing value (None, NaN) prints as n/a whatever its format."""

    def format_field(self, value, spec):
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "n/a"
        return super().format_field(value, spec)


FMT = _Fmt()


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
    moved = [(cause, m) for cause, m in (d.get("factors") or {}).items() if m is not None and m != 1.0]
    return {"limit": c["sc"].platform.no_show_suspension,
            "factors_s": "".join(f" x {cause.replace('_', ' ')} {m:.3g}" for cause, m in moved),
            "added_s": ("; added to the propensity: " + ", ".join(f"{name.replace('_', ' ')} {v:+.4f}"
                                                                for name, v in d["hazard_added"].items())
                        if d.get("hazard_added") else "")}


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
    mark = {"warmup": "wu", "after": "la"}.get(run.phase(ev["t"]), "  ")      # la: the look-ahead
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
