"""The platform's intervention loop (spec section 13).

Every day at `job_hour` the platform reads each active tutor's signals as they stand (the same
30/7-day signals and churn formula as the aggregates table, from world/signals.py), and emails
the tutors whose rules fire: the first type in `priority` whose threshold is crossed, at most one
email per tutor every `min_days_between` days. An experiment the tutor is assigned to may change
the email's template, send time, and the tutor's cap (world/experiments.py).

What happens to an email is the tutor's doing, decided on the tutor's own "email" stream:

    sent -> delivered (minutes later; a few bounce: failed)
         -> opened   p = open_scale x responsiveness x (fit of the arrival time to the tutor's
                     active hours) x variant; read after a delay that is shorter for responsive
                     tutors, within open_horizon_hours or never. Reading the advice changes the
                     tutor a little (self-study).
         -> clicked  p = click_scale x responsiveness x the variant's appeal (click_multiplier):
                     the link books a coaching session (technical emails: the tutor runs the
                     connection check and fixes the setup)
         -> responded a reply: p = respond_after_click, or respond_scale x responsiveness x appeal
                     if the tutor only read it (that reply asks for what the link offers). The
                     tutor re-engages: less likely to quit, and after an engagement or churn
                     email, more hours (hours_flex, sessions a day). An experiment's campaign is
                     a broadcast from a no-reply address: it is never answered.

A booked coaching session is attended with the tutor's reliability as it is that day. Attended
coaching raises skill, reliability and empathy and brings the speak ratio towards 50/50, each by
coachability x coaching effect x the scenario's gain. So engagement after an email, and sessions
after it, are measured from the tutor's real sessions: they move only as far as the tutor did.
"""
from __future__ import annotations

import math

import numpy as np

from world.clock import MINUTES_PER_DAY
from world.events import (ATTENDED, BOOKED, CLICKED, COACHED, DELIVERED, EMAIL, FAILED, INTERVENTION_TYPES,
                          MISSED, OPENED, RE_ENGAGED, RESPONDED, SELF_STUDY, SENT, TECH_FIX, UNANSWERED,
                          UNCLICKED, UNOPENED)

TYPES = INTERVENTION_TYPES
NAN = float("nan")

# template_{type}_{n:03d}: n = 1 is the standing template; experiments' variants use n = 2, 3...
TEMPLATES: dict[str, list[tuple[str, str]]] = {
    "engagement": [
        ("We would love to see you back, {tutor_id}",
         "Hi {tutor_id}, you held {sessions_7d} sessions in the last 7 days ({sessions_30d} in the "
         "last 30). Students are looking for tutors in your subjects right now: open a few more "
         "hours this week, or book a free 30-minute session review with a coach."),
        ("{tutor_id}, students are asking for your hours",
         "Hi {tutor_id}, {sessions_7d} sessions this week. Students in your subjects are booking "
         "this evening and tomorrow: add two hours to your calendar, or book a 30-minute session "
         "review with a coach and plan your week with them."),
        ("A quick check-in, {tutor_id}",
         "Hi {tutor_id}, how are your sessions going? You held {sessions_7d} sessions in 7 days. "
         "Reply to this email or book a short call with a coach."),
    ],
    "first_session": [
        ("Tips for great first sessions",
         "Hi {tutor_id}, your first sessions were rated {first_avg} stars on average over the last "
         "30 days. A first session decides whether a student stays: book a 30-minute first-session "
         "coaching call with one of our coaches."),
        ("{tutor_id}, your personal first-session plan",
         "Hi {tutor_id}, we looked at your recent first sessions ({first_avg} stars on average). A "
         "coach has prepared three suggestions for your next new student: how to open, how to find "
         "the student's goal, how to end with a plan. Pick a time for a 30-minute call."),
        ("Your first sessions, {tutor_id}",
         "Hi {tutor_id}, first sessions rated {first_avg} stars. Watch the 5-minute first-session "
         "guide or book a call with a coach."),
    ],
    "quality": [
        ("Your session feedback summary",
         "Hi {tutor_id}, your rating is {rating_30d} over the last 30 days and {rating_7d} over the "
         "last 7 (engagement {engagement}). Your feedback scorecard is ready in the dashboard, and "
         "a coach can go through it with you."),
        ("What your students said this month, {tutor_id}",
         "Hi {tutor_id}, students rated you {rating_30d} on average this month ({rating_7d} this "
         "week). We picked moments from your sessions that went well and two that could go better: "
         "see them in the dashboard and book a feedback session with a coach."),
        ("Feedback for {tutor_id}",
         "Hi {tutor_id}, rating {rating_30d} (30 days). Book a feedback session."),
    ],
    "technical": [
        ("Improve your connection quality",
         "Hi {tutor_id}, {tech_pct}% of your sessions in the last 30 days had technical issues. "
         "Run the connection check and follow the setup guide: a wired connection and a closed "
         "background app solve most of them."),
        ("{tutor_id}, let's fix your connection",
         "Hi {tutor_id}, technical issues interrupted {tech_pct}% of your recent sessions. Our "
         "connection check takes two minutes and tells you exactly what to change."),
        ("Connection check", "Hi {tutor_id}, {tech_pct}% of sessions had issues. Run the check."),
    ],
    "churn": [
        ("How can we help, {tutor_id}?",
         "Hi {tutor_id}, we noticed changes in your recent sessions (rating {rating_30d}, "
         "{sessions_7d} sessions in the last 7 days). Reply to this email or book a call with your "
         "tutor success coach: we would like to help."),
        ("{tutor_id}, a call with your coach?",
         "Hi {tutor_id}, your last weeks looked harder than usual (rating {rating_30d}, "
         "{sessions_7d} sessions in 7 days). Your coach has time this week: book a 30-minute call."),
        ("Checking in, {tutor_id}",
         "Hi {tutor_id}, rating {rating_30d}, {sessions_7d} sessions this week. Reply if we can help."),
    ],
}


def _fmt(value, spec: str) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "n/a"
    return "n/a" if math.isnan(v) else format(v, spec)


def render(itype: str, template: int, values: dict) -> tuple[str, str]:
    """Subject and body of template `template` (1-based) of a type, filled with the signals the
    platform read when it decided to send (a platform formula over observations)."""
    options = TEMPLATES[itype]
    subject, body = options[min(template, len(options)) - 1]
    fields = {
        "tutor_id": values["tutor_id"],
        "sessions_7d": _fmt(values["sessions_7d"], ".0f"),
        "sessions_30d": _fmt(values["sessions_30d"], ".0f"),
        "rating_30d": _fmt(values["rating_30d"], ".2f"),
        "rating_7d": _fmt(values["rating_7d"], ".2f"),
        "engagement": _fmt(values["engagement_30d"], ".2f"),
        "first_avg": _fmt(values["first_session_avg"], ".2f"),
        "tech_pct": _fmt(100.0 * float(values["tech_rate"]), ".0f"),
    }
    return subject.format(**fields), body.format(**fields)


def _truncated_exponential(rng, mean: float, cap: float) -> float:
    """An exponential delay with this mean, conditioned on being at most `cap`."""
    u = rng.random()
    return -mean * math.log(1.0 - u * (1.0 - math.exp(-cap / mean)))


class Interventions:
    def __init__(self, model, signals):
        self.model = model
        self.env = model.env
        self.rec = model.recorder
        sc = model.settings
        self.cfg = sc.platform.interventions
        self.coach = sc.platform.coaching
        self.mail = sc.engagement.email
        self.signals = signals
        self.experiments = None               # set by world/experiments.py
        self.last_sent: dict[int, float] = {}
        self.next_id = 0
        self.open = 0                         # emails decided whose story is not over yet
        streams = model.streams
        self.mail_rng = [streams.stream("tutor", t.index, "email") for t in model.tutors]
        self.coach_rng = [streams.stream("tutor", t.index, "coaching") for t in model.tutors]

    # --- the daily job ---------------------------------------------------------------------------
    def run(self):
        cfg = self.cfg
        first = cfg.first_day * MINUTES_PER_DAY + cfg.job_hour * 60.0
        if first > self.env.now:
            yield self.env.timeout(first - self.env.now)
        while True:
            self.job()
            yield self.env.timeout(MINUTES_PER_DAY)

    def rules(self, snap: dict) -> dict[str, np.ndarray]:
        """Which intervention types' rules fire for each tutor (arrays by tutor index)."""
        cfg = self.cfg
        nz = lambda a: np.nan_to_num(a, nan=0).astype(bool)
        with np.errstate(invalid="ignore"):
            r30, r7 = snap["avg_rating_30d"], snap["avg_rating_7d"]
            engagement = nz(snap["avg_engagement_score"] < cfg.low_engagement)
            n7, n30 = snap["total_sessions_7d"], snap["total_sessions_30d"]
            engagement = engagement | (n7 < n30 * cfg.engagement_activity_ratio)
            return {
                "churn": snap["churn_probability"] >= cfg.churn_probability,
                "first_session": nz(snap["first_session_avg_rating"] < cfg.first_session_rating),
                "technical": nz(snap["technical_issue_rate"] > cfg.technical_issue_rate),
                "quality": nz(r30 < cfg.quality_rating_30d) | nz(r7 < r30 - cfg.quality_rating_drop),
                "engagement": engagement,
            }

    def job(self) -> None:
        """Every day: the platform reads every tutor's signals (kept in the event log: the daily
        churn probability a trace plots), and, when the policy is enabled, emails."""
        now = self.env.now
        cfg = self.cfg
        snap = self.signals.snapshot(now)
        self.signals.record_day(now, snap)
        if not cfg.enabled:
            return
        # the rules' verdicts as lists of plain bools: read tutor by tutor below, where indexing
        # a numpy array would make a numpy scalar each time
        fire = {k: verdicts.tolist() for k, verdicts in self.rules(snap).items()}
        priority = cfg.priority
        ok = snap["active_status"] & (snap["total_sessions_30d"] >= cfg.min_sessions_30d)
        for i in np.flatnonzero(ok).tolist():
            tutor = self.model.tutors[i]
            if tutor.unsubscribed:
                continue
            itype = next((k for k in priority if fire[k][i]), None)
            if itype is None:
                continue
            cap = self.experiments.cap_days(tutor, now) if self.experiments else None
            cap = cfg.min_days_between if cap is None else cap
            last = self.last_sent.get(i)
            if last is not None and now - last < cap * MINUTES_PER_DAY:
                continue
            tag = self.experiments.tag(tutor, itype, now) if self.experiments else None
            self.send(tutor, itype, snap, tag)

    # --- an email ----------------------------------------------------------------------------------
    def send(self, tutor, itype: str, snap: dict, tag=None, campaign: bool = False) -> int:
        """Decide an email now; it goes out at the send hour (the variant's, else the policy's)."""
        env = self.env
        now = env.now
        i = tutor.index
        iid = self.next_id
        self.next_id += 1
        hour = self.cfg.send_hour
        if tag is not None and tag.effect.send_hour is not None:
            hour = tag.effect.send_hour
        send_at = (now // MINUTES_PER_DAY) * MINUTES_PER_DAY + hour * 60.0
        if send_at < now:
            send_at += MINUTES_PER_DAY
        self.rec.intervention.append((
            now, iid, i, TYPES.index(itype), campaign, -1 if tag is None else tag.k,
            -1 if tag is None else tag.variant, send_at, snap["churn_probability"][i],
            snap["churn_signals_detected"][i], snap["avg_rating_30d"][i], snap["avg_rating_7d"][i],
            snap["avg_engagement_score"][i], snap["first_session_avg_rating"][i],
            snap["technical_issue_rate"][i], snap["total_sessions_7d"][i], snap["total_sessions_30d"][i]))
        if not campaign:
            self.last_sent[i] = now
        self.open += 1
        env.process(self._email(iid, tutor, itype, send_at, tag, campaign))
        return iid

    def open_count(self) -> int:
        """Emails decided and not yet settled (still to be sent, read, clicked or answered)."""
        return self.open

    def _wait_to_active(self, tutor, t: float) -> float:
        """Minutes until the tutor's active hours (0 inside them)."""
        a, b = self.mail.active_hours["morning" if tutor.morning else "evening"]
        hour = (t / 60.0) % 24.0
        if a <= hour < b:
            return 0.0
        return ((a - hour) % 24.0) * 60.0

    def _email(self, iid: int, tutor, itype: str, send_at: float, tag, campaign: bool):
        try:
            yield from self._email_steps(iid, tutor, itype, send_at, tag, campaign)
        finally:
            self.open -= 1

    def _email_steps(self, iid: int, tutor, itype: str, send_at: float, tag, campaign: bool):
        env, rec, m, cfg = self.env, self.rec.intervention_step, self.mail, self.cfg
        rng = self.mail_rng[tutor.index]
        if send_at > env.now:
            yield env.timeout(send_at - env.now)
        rec.append((env.now, iid, SENT, 1.0, NAN, 1.0, 1.0, 1.0))
        delay = rng.uniform(*cfg.delivery_minutes)
        bounced = rng.random() < cfg.failure_rate
        yield env.timeout(delay)
        if bounced:
            rec.append((env.now, iid, FAILED, cfg.failure_rate, NAN, 1.0, 1.0, 1.0))
            return
        rec.append((env.now, iid, DELIVERED, 1.0 - cfg.failure_rate, NAN, 1.0, 1.0, 1.0))
        t = env.now
        if not tutor.active:
            return
        # fatigue: the emails the tutor already had lately make this one less welcome
        recent = tutor.emails_recent(t)
        tutor.inbox.append(t)
        p_unsubscribe = min(1.0, m.unsubscribe_base * (1.0 + m.unsubscribe_fatigue * recent))
        if rng.random() < p_unsubscribe and not tutor.unsubscribed:
            tutor.unsubscribed = True      # this email is the last one: the platform sends no more
            self.rec.email_unsubscribed.append((t, tutor.index, iid, p_unsubscribe, recent))
            return
        tired_open = 1.0 / (1.0 + m.open_fatigue * recent)
        tired = 1.0 / (1.0 + m.click_fatigue * recent)
        effect = tag.effect if tag is not None else None
        resp = tutor.responsiveness
        burnout = tutor.burnout(t)
        damp = 1.0 - m.burnout_drop * burnout
        wait = self._wait_to_active(tutor, t)
        fit = 1.0 if wait == 0.0 else m.off_hours_open_factor
        open_mult = effect.open_multiplier if effect else 1.0
        p_open = min(m.max_p, m.open_scale * resp * fit * damp * open_mult * tired_open)
        if rng.random() >= p_open:
            rec.append((t, iid, UNOPENED, p_open, burnout, fit, open_mult, tired_open))
            return
        horizon = m.open_horizon_hours * 60.0
        mean = (m.open_delay_hours * (1.0 - resp) + 0.25) * 60.0
        yield env.timeout(min(wait, horizon) + _truncated_exponential(rng, mean, max(1.0, horizon - wait)))
        if not tutor.active:
            return
        rec.append((env.now, iid, OPENED, p_open, burnout, fit, open_mult, tired_open))
        if tag is not None:
            self.experiments.exposed(tag, env.now, EMAIL, p_open)
        self.improve(tutor, iid, tag, itype, SELF_STUDY, self.coach.self_study_share)
        appeal = effect.click_multiplier if effect else 1.0     # of the call to action
        p_click = min(m.max_p, m.click_scale * resp * damp * appeal * tired)
        clicked = rng.random() < p_click
        if clicked:
            yield env.timeout(rng.uniform(*m.click_delay_minutes))
            if not tutor.active:
                return
            rec.append((env.now, iid, CLICKED, p_click, burnout, 1.0, appeal, tired))
            if tag is not None:
                self.experiments.acted(tag, env.now, EMAIL, p_click)
            self.follow_link(tutor, iid, tag, itype)
            p_respond = m.respond_after_click
        else:
            rec.append((env.now, iid, UNCLICKED, p_click, burnout, 1.0, appeal, tired))
            p_respond = min(m.max_p, m.respond_scale * resp * damp * appeal * tired)
        respond_mult = 1.0 if clicked else appeal
        respond_tired = 1.0 if clicked else tired
        if campaign:                 # a broadcast from a no-reply address: nobody answers it
            return
        if rng.random() >= p_respond:
            rec.append((env.now, iid, UNANSWERED, p_respond, burnout, 1.0, respond_mult, respond_tired))
        else:
            yield env.timeout(rng.uniform(*m.respond_delay_hours) * 60.0)
            if not tutor.active:
                return
            rec.append((env.now, iid, RESPONDED, p_respond, burnout, 1.0, respond_mult, respond_tired))
            if not clicked:          # the reply asks for what the link offers
                self.follow_link(tutor, iid, tag, itype)
            self.re_engage(tutor, iid, tag, itype)

    # --- what the tutor does about it ------------------------------------------------------------
    def follow_link(self, tutor, iid: int, tag, itype: str) -> None:
        """The email's (or in-app card's) call to action: book coaching, or fix the setup."""
        if itype == "technical":
            self.improve(tutor, iid, tag, itype, TECH_FIX, 1.0)
            return
        c = self.coach
        rng = self.coach_rng[tutor.index]
        now = self.env.now
        day = int(now // MINUTES_PER_DAY) + rng.randint(*c.delay_days)
        at = day * MINUTES_PER_DAY + rng.uniform(*c.hours) * 60.0
        # the call takes an hour the tutor has free (the drawn one, or the next free one), which
        # students can then not book; if the tutor offers that hour, it is teaching time given up
        hour = self.model.marketplace.hold_free_hour(tutor, int(at // 60))
        at += (hour - int(at // 60)) * 60.0
        teaching = self.model.marketplace.offers(tutor, hour)
        exp = -1 if tag is None else tag.k
        self.rec.coaching.append((now, tutor.index, iid, exp, BOOKED, at, 1.0, teaching))
        self.env.process(self._coaching(tutor, iid, tag, itype, at, teaching))

    def _coaching(self, tutor, iid: int, tag, itype: str, at: float, teaching: bool):
        env = self.env
        yield env.timeout(at - env.now)
        exp = -1 if tag is None else tag.k
        p = tutor.reliability_now(at) if tutor.active else 0.0
        if self.coach_rng[tutor.index].random() < p:
            yield env.timeout(self.coach.duration_minutes)
            self.rec.coaching.append((env.now, tutor.index, iid, exp, ATTENDED, at, p, teaching))
            self.improve(tutor, iid, tag, itype, COACHED, 1.0)
        else:
            self.rec.coaching.append((env.now, tutor.index, iid, exp, MISSED, at, p, teaching))

    def improve(self, tutor, iid: int, tag, itype: str, cause: int, share: float) -> None:
        """Coaching (share 1) or reading the advice (self-study share) changes the tutor's traits:
        teaching traits, or the technical setup after a technical email."""
        # the lessons a tutor has had teach the next one less (self-study counts as its share)
        k = self.coach.effect * tutor.coachability * share * self.coach.repeat_decay ** tutor.lessons
        tutor.lessons += share
        if tag is not None:
            k *= tag.effect.coaching_multiplier
        if k <= 0.0:
            return
        g = self.coach.gains
        d_skill = d_rel = d_emp = d_speak = d_tech = 0.0
        if itype == "technical":
            d_tech = k * g.tech_setup
            tutor.tech_setup += d_tech
        else:
            d_skill = k * g.skill
            d_rel = min(0.99, tutor.reliability + k * g.reliability) - tutor.reliability
            d_emp = min(10.0, tutor.empathy + k * g.empathy) - tutor.empathy
            d_speak = (0.5 - tutor.speak_style) * min(1.0, k * g.speak_balance)
            tutor.skill += d_skill
            tutor.reliability += d_rel
            tutor.empathy += d_emp
            tutor.speak_style += d_speak
        self.rec.trait_change.append((self.env.now, tutor.index, iid, -1 if tag is None else tag.k, cause, k,
                                      d_skill, d_rel, d_emp, d_speak, d_tech, 0.0, 0.0, 0))

    def re_engage(self, tutor, iid: int, tag, itype: str) -> None:
        """A reply: the tutor is less likely to leave; answering an engagement or churn email, they
        also commit to more hours (more flexible, more sessions a day)."""
        c = self.coach
        more_hours = itype in ("engagement", "churn")
        gain = c.capacity_gain if more_hours else 0
        d_flex = (1.0 - tutor.hours_flex) * c.availability_gain if more_hours else 0.0
        # re-engaged once, a tutor is not re-engaged again by every further reply
        d_quit = min(0.0, tutor.drawn_quit_propensity * (1.0 - c.retention_effect) - tutor.quit_propensity)
        if d_flex == 0.0 and d_quit == 0.0 and gain == 0:
            return
        tutor.quit_propensity += d_quit
        if more_hours:
            tutor.commit_more_hours(d_flex, gain)
        self.rec.trait_change.append((self.env.now, tutor.index, iid, -1 if tag is None else tag.k, RE_ENGAGED, 1.0,
                                      0.0, 0.0, 0.0, 0.0, 0.0, d_flex, d_quit, gain))
