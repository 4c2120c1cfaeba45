"""The event vocabulary: what the simulation records, in its own words.

Every event type, its fields (name and numpy dtype, in the order the simulation appends them) and
the code tables that give the small integer codes their names. world/ records by these names;
output/ stores and flattens them; analysis/ reads them back. A field is found by name
(`position(event_type, field)`), never by a number written elsewhere.
"""
from __future__ import annotations

from agents.decisions import ACTIONS, QUIT_CAUSES

STUDENT_ACTIONS = ACTIONS          # a student_decision's action (agents/decisions.py)

# --- who and what: the platform's catalogue --------------------------------------------------------
SUBJECTS = ("Math", "Science", "English", "History", "Test Prep", "Programming")
GRADES = ("Elementary", "Middle School", "High School", "College", "Adult")
CERTIFICATIONS = ("Basic", "Advanced", "Expert")

# --- sessions ----------------------------------------------------------------------------------------
CONNECTION = ("Excellent", "Good", "Fair", "Poor")
INITIATOR = ("tutor", "student")
CANCEL_REASON = ("tutor_quit", "student_left")
# who was in the room of a session that was not held (world/sessions.py `_not_held`)
CONNECTED = ("tutor", "student", "nobody")
# why a move decided at booking did not happen: the platform refuses a tutor's moves beyond
# platform.max_reschedule_share of their bookings, or no free hour was found
MOVE_REFUSED = ("platform_cap", "no_free_hour")
PLATFORM_CAP, NO_FREE_HOUR = range(len(MOVE_REFUSED))
LEAVE_REASON = ("quit", "suspended")          # why a tutor stopped: their decision, or the platform's
# why a student booked: already a student at the start, a new student, their next session with
# their tutor, a switch after a session, their tutor had no free hour (or had stopped), their
# booked session was cancelled because the tutor quit
BOOK_REASON = ("existing", "new", "continue", "switch", "tutor_unavailable", "tutor_quit")
EXISTING, NEW, AGAIN, SWITCHING, UNAVAILABLE, TUTOR_QUIT = range(len(BOOK_REASON))

# --- the platform loop: a tutor's logins and actions (world/engagement.py) -------------------------
DEVICES = ("desktop", "laptop", "mobile", "tablet")
LOGIN_KINDS = ("routine", "pre_session")
TUTOR_ACTIONS = ("session_scheduled", "session_completed", "profile_updated", "message_sent")
SCHEDULED, COMPLETED, PROFILE, MESSAGE = range(len(TUTOR_ACTIONS))
PROFILE_FIELDS = ("availability", "bio", "subjects", "photo")
MESSAGE_KINDS = ("welcome", "reminder")

# --- interventions, coaching and the trait changes they cause (world/interventions.py) ------------
INTERVENTION_TYPES = ("engagement", "first_session", "quality", "technical", "churn")
# the steps of an email; the last three are decisions against a step (p: the chance the tutor had
# of taking it)
STEPS = ("sent", "delivered", "failed", "opened", "clicked", "responded", "unopened", "unclicked",
         "unanswered")
SENT, DELIVERED, FAILED, OPENED, CLICKED, RESPONDED, UNOPENED, UNCLICKED, UNANSWERED = range(len(STEPS))
COACHING = ("coaching_scheduled", "coaching_attended", "coaching_missed")
BOOKED, ATTENDED, MISSED = range(len(COACHING))
CAUSES = ("coaching", "self_study", "tech_fix", "re_engaged")
COACHED, SELF_STUDY, TECH_FIX, RE_ENGAGED = range(len(CAUSES))
# the channels of a message (world/experiments.py)
CHANNELS = ("email", "in_app")
EMAIL, IN_APP = range(len(CHANNELS))

# event type -> its columns (name, numpy dtype). Every type starts with the time in minutes.
# Every decision carries the probability it faced and the inputs that produced it (state that
# changes over time: reliability now, burnout, ratings...); static traits are in the ground truth.
SCHEMA: dict[str, list[tuple[str, str]]] = {
    # a student arrives, with the traits they keep (agents/student.py; grade and subject: codes in
    # GRADES, SUBJECTS): the ground truth's students table is these rows, so a student who has
    # left is forgotten by the simulation
    "student_arrived": [("t", "f8"), ("student", "i4"), ("existing", "?"), ("grade", "i1"),
                        ("subject", "i1"), ("duration", "i2"), ("cadence_per_week", "i1"),
                        ("attention", "f8"), ("no_show_prob", "f8"), ("reschedule_prob", "f8"),
                        ("goal_sessions", "i4"), ("patience", "f8"), ("rating_bias", "f8"),
                        ("tech_setup", "f8"), ("prior_sessions", "i4")],
    # why: BOOK_REASON; p: the tutor's weight share (room left in the tutor's week x the rating
    # shown x primary subject) among the `candidates` tutors of the subject open to new students
    # (world/match_index.py: active, under the weekly intake, room for the smallest cadence),
    # before the student's own exclusions (tutors had, cadence beyond the room); where the
    # marketplace's linear scan picked instead (the student had every open tutor, or the index's
    # draws kept hitting tutors they cannot take), its share among the tutors that can take this
    # student and their number; 1 with their own tutor. room and shown_rating: the chosen
    # tutor's (room NaN with their own tutor)
    "session_booked": [("t", "f8"), ("session", "i4"), ("tutor", "i4"), ("student", "i4"),
                       ("start", "f8"), ("duration", "i2"), ("subject", "i1"), ("first", "?"),
                       ("in_preferred_hours", "?"), ("why", "i1"), ("p", "f4"), ("candidates", "i2"),
                       ("room", "f4"), ("shown_rating", "f4")],
    # decided at booking (`decided`, with the tutor's reliability now and burnout then), done
    # hours before the session (t); p: the mover's probability (student: their habit)
    "session_rescheduled": [("t", "f8"), ("session", "i4"), ("by", "i1"), ("old_start", "f8"),
                            ("new_start", "f8"), ("p", "f4"), ("burnout", "f4"), ("decided", "f8"),
                            ("reliability", "f4")],
    # a move decided at booking that did not happen (reason: MOVE_REFUSED); start: the session's
    # time, which stands; moves and bookings: the tutor's so far (what the platform's cap compares)
    "session_move_refused": [("t", "f8"), ("session", "i4"), ("by", "i1"), ("reason", "i1"),
                             ("start", "f8"), ("p", "f4"), ("moves", "i4"), ("bookings", "i4")],
    "session_cancelled": [("t", "f8"), ("session", "i4"), ("reason", "i1")],
    # reliability: the tutor's reliability now (burnout wears it), which made p_tutor_no_show and
    # enters a first session's rating; p_reschedule: the tutor's chance of moving this session,
    # faced when it was booked
    "session_outcome": [("t", "f8"), ("session", "i4"), ("tutor_showed", "?"),
                        ("student_showed", "?"), ("p_tutor_no_show", "f4"),
                        ("p_student_no_show", "f4"), ("burnout", "f4"), ("reliability", "f4"),
                        ("p_reschedule", "f4")],
    # a session not held: who came into the room (CONNECTED) and the connection the platform
    # measured for them (CONNECTION; nobody came: the tutor's usual connection at that hour)
    "session_not_held": [("t", "f8"), ("session", "i4"), ("connected", "i1"), ("connection", "i1")],
    "session_observed": [("t", "f8"), ("session", "i4"), ("actual_duration", "i2"),
                         ("connection", "i1"), ("network_load", "f4"), ("tech_issue", "?"),
                         ("attention", "f4"), ("camera", "f4"), ("speak", "f4"), ("screen", "f4"),
                         ("sentiment_overall", "f4"), ("sentiment_student", "f4"),
                         ("sentiment_tutor", "f4"), ("empathy", "f4"), ("clarity", "f4"),
                         ("engagement", "f4"), ("quality", "f4"), ("rating", "f4"),
                         ("satisfaction", "f4"), ("recommend", "?")],
    # after a session time: action (agents/student.py ACTIONS) with the probability of the draw
    # that decided it, the chances of leaving and switching it faced, and what drove them
    "student_decision": [("t", "f8"), ("student", "i4"), ("session", "i4"), ("action", "i1"),
                         ("p", "f4"), ("p_leave", "f4"), ("p_switch", "f4"), ("rating", "f4"),
                         ("first", "?"), ("patience", "f4"), ("sessions_done", "i2")],
    # p = propensity x every cause's multiplier that day (agents/tutor.py quit_factors), kept as
    # m_<cause>; rating_7d = the tutor's 7-day mean rating (NaN without sessions); reason 1,
    # suspended: p = 1, missed_30d no-shows in the last 30 days
    "tutor_quit": [("t", "f8"), ("tutor", "i4"), ("reason", "i1"), ("p", "f4"), ("propensity", "f4"),
                   ("burnout", "f4"), ("recent_rating", "f4"), ("missed_30d", "i2")]
                  + [(f"m_{cause}", "f4") for cause in QUIT_CAUSES],
    # the platform's daily view of every active tutor (at the intervention job's hour): the churn
    # probability it computed, with the tutor's own hazards that day (quit, login: decided at
    # midnight), burnout and reliability now
    "tutor_day": [("t", "f8"), ("tutor", "i4"), ("churn_probability", "f4"), ("churn_signals", "i1"),
                  ("p_quit", "f4"), ("p_login", "f4"), ("burnout", "f4"), ("reliability", "f4")],
    # --- the platform loop (codes above)
    # a tutor logs in: routine or before a session (session = that session, else -1); p = the
    # day's login probability
    "tutor_login": [("t", "f8"), ("tutor", "i4"), ("kind", "i1"), ("device", "i1"), ("ip", "u4"),
                    ("session", "i4"), ("p", "f4")],
    # what a tutor does on the platform: schedule / complete a session, update the profile,
    # message a student (detail: profile field or message kind, else -1)
    "tutor_action": [("t", "f8"), ("tutor", "i4"), ("action", "i1"), ("session", "i4"),
                     ("student", "i4"), ("device", "i1"), ("ip", "u4"), ("detail", "i1"), ("p", "f4")],
    # the platform decides to email a tutor (the daily job, or an experiment's campaign), with the
    # signals it read; experiment/variant -1 when none
    "intervention": [("t", "f8"), ("intervention", "i4"), ("tutor", "i4"), ("itype", "i1"),
                     ("campaign", "?"), ("experiment", "i2"), ("variant", "i1"), ("send_at", "f8"),
                     ("churn_probability", "f4"), ("churn_signals", "i1"), ("rating_30d", "f4"),
                     ("rating_7d", "f4"), ("engagement_30d", "f4"), ("first_session_avg", "f4"),
                     ("tech_rate", "f4"), ("sessions_7d", "i2"), ("sessions_30d", "i2")],
    # one step of an email: sent, delivered, failed, opened, clicked, responded, or a decision
    # against a step (unopened, unclicked, unanswered); p: the step's probability, made of the
    # tutor's responsiveness (trait), burnout then, fit (the off-hours factor of an open: 1 in the
    # tutor's active hours), the variant's multiplier (open, click appeal) and fatigue (the
    # divisor of the tutor's recent emails: 1 / (1 + open or click fatigue x emails received in
    # engagement.email.memory_days before this one))
    "intervention_step": [("t", "f8"), ("intervention", "i4"), ("step", "i1"), ("p", "f4"),
                          ("burnout", "f4"), ("fit", "f4"), ("multiplier", "f4"), ("fatigue", "f4")],
    # a delivered email makes the tutor unsubscribe from the platform's emails (none is sent to
    # them after it): p = unsubscribe_base x (1 + unsubscribe_fatigue x recent), recent = emails
    # received in the memory before this one
    "email_unsubscribed": [("t", "f8"), ("tutor", "i4"), ("intervention", "i4"), ("p", "f4"), ("recent", "i2")],
    # coaching booked / attended / missed (at: the coaching time, in an hour the tutor had free;
    # teaching_hour: an hour the tutor offers students that day, given up for the call)
    "coaching": [("t", "f8"), ("tutor", "i4"), ("intervention", "i4"), ("experiment", "i2"),
                 ("what", "i1"), ("at", "f8"), ("p", "f4"), ("teaching_hour", "?")],
    # a tutor's traits change (deltas); k = effect x coachability x share that drove it
    "trait_change": [("t", "f8"), ("tutor", "i4"), ("intervention", "i4"), ("experiment", "i2"),
                     ("cause", "i1"), ("k", "f4"), ("skill", "f4"), ("reliability", "f4"),
                     ("empathy", "f4"), ("speak_style", "f4"), ("tech_setup", "f4"),
                     ("hours_flex", "f4"), ("quit_propensity", "f4"), ("capacity", "i1")],
    "experiment_started": [("t", "f8"), ("experiment", "i2"), ("eligible", "i4"), ("assigned", "i4")],
    "experiment_assigned": [("t", "f8"), ("experiment", "i2"), ("tutor", "i4"), ("variant", "i1")],
    "experiment_exposed": [("t", "f8"), ("experiment", "i2"), ("tutor", "i4"), ("channel", "i1"),
                           ("p", "f4")],
    # the tutor takes the variant's call to action (a click); baseline: the metric's 7-day mean
    "experiment_acted": [("t", "f8"), ("experiment", "i2"), ("tutor", "i4"), ("channel", "i1"),
                         ("baseline", "f4"), ("n_before", "i2"), ("p", "f4")],
    # conversion_days after the action the platform compares the metric before and after
    "experiment_evaluated": [("t", "f8"), ("experiment", "i2"), ("tutor", "i4"), ("acted_at", "f8"),
                             ("before", "f4"), ("after", "f4"), ("n_before", "i2"), ("n_after", "i2"),
                             ("lift", "f4"), ("converted", "?")],
}


def position(event_type: str, field: str) -> int:
    """Where `field` stands in a row of `event_type` as the simulation appends it."""
    return [name for name, _ in SCHEMA[event_type]].index(field)
