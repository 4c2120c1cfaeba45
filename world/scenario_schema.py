"""The scenario's schema: every key of a scenario file, its type, range and meaning, as pydantic
models. Unknown keys are errors. world/scenario.py reads files (`extends`, `--set`) and turns
pydantic's errors into one line each.
"""
from __future__ import annotations

from typing import Literal, Union

from pydantic import Field, field_validator, model_validator

from world.scenario_distributions import Dist, Strict, WithRanges

from world.events import CERTIFICATIONS, CONNECTION, GRADES, INTERVENTION_TYPES, SUBJECTS

Certification = Literal[CERTIFICATIONS]
ConnectionLevel = Literal[CONNECTION]


# --- tutors --------------------------------------------------------------------------------------

TUTOR_TRAITS = (
    "months_experience", "reliability", "skill", "empathy", "clarity", "speak_style",
    "camera_habit", "tech_setup", "screen_share_habit", "capacity_per_day", "hours_flex",
    "historical_sessions_per_month", "quit_propensity", "responsiveness", "coachability",
    "burnout_onset_day", "burnout_max",
)


class TutorTraits(WithRanges):
    """Trait distributions of one persona. Every field may be omitted in a persona: the value in
    [tutors.defaults] is used instead."""
    months_experience: Dist | None = None
    reliability: Dist | None = None
    skill: Dist | None = None              # latent teaching quality, ~0..1.2
    empathy: Dist | None = None            # latent empathy on the 1-10 scale the NLP measures
    clarity: Dist | None = None
    speak_style: Dist | None = None        # the tutor's habitual share of talking time
    camera_habit: Dist | None = None       # habitual share of time with the camera on
    tech_setup: Dist | None = None         # quality of the tutor's connection / equipment (z-score)
    screen_share_habit: Dist | None = None
    capacity_per_day: Dist | None = None   # most sessions the tutor accepts on a day
    hours_flex: Dist | None = None         # probability of accepting a slot outside the preferred block
    historical_sessions_per_month: Dist | None = None  # workload before the simulation started
    quit_propensity: Dist | None = None            # baseline daily hazard of quitting
    responsiveness: Dist | None = None     # how quickly/likely the tutor reacts to platform emails
    coachability: Dist | None = None       # how much coaching changes the tutor
    burnout_onset_day: Dist | None = None  # window day on which burnout starts (none: never)
    burnout_max: Dist | None = None        # burnout level reached (0..1)
    morning_share: float | None = Field(None, ge=0, le=1)      # P(preferred block is morning)
    weekend_only_share: float | None = Field(None, ge=0, le=1)
    odd_hours_share: float | None = Field(None, ge=0, le=1)    # also takes 6-7am / 10-11pm slots
    weekend_day_weight: float | None = Field(None, ge=0)       # a Sat/Sun against a weekday when choosing working days
    working_days: Dist | None = None       # weekdays worked per week (weekday tutors)
    certification: dict[Certification, float] | None = None

    @model_validator(mode="after")
    def _cert(self):
        if self.certification is not None:
            _check_shares(self.certification, "certification")
        return self


class Persona(TutorTraits):
    share: float = Field(ge=0, le=1)
    description: str = ""


class Tutors(Strict):
    count: int = Field(gt=0)
    subjects_count_weights: list[float] = Field(min_length=3, max_length=3)  # 1, 2, 3 subjects
    experience_reliability_rho: float = Field(ge=-1, le=1)   # within a persona
    defaults: TutorTraits
    personas: dict[str, Persona]

    @model_validator(mode="after")
    def _personas(self):
        total = sum(p.share for p in self.personas.values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"persona shares must sum to 1, they sum to {total:.4f}")
        missing = [t for t in TUTOR_TRAITS if getattr(self.defaults, t) is None and t != "burnout_onset_day"]
        missing += [t for t in ("morning_share", "weekend_only_share", "odd_hours_share",
                                "weekend_day_weight", "working_days", "certification") if getattr(self.defaults, t) is None]
        if missing:
            raise ValueError(f"[tutors.defaults] must give every trait; missing: {', '.join(missing)}")
        _check_shares(dict(enumerate(self.subjects_count_weights)), "subjects_count_weights")
        return self


# --- students ------------------------------------------------------------------------------------

class HourPreference(Strict):
    """When a student segment likes to have sessions: weights per hour (0-23) on weekdays and
    at weekends. Hours missing from a table have weight `other`."""
    weekday: dict[int, float]
    weekend: dict[int, float]
    other: float = Field(0.02, ge=0)


class Students(WithRanges):
    # how strongly a new student prefers better-rated tutors: weight (rating / 5) ** sensitivity
    grade_weights: dict[str, float]
    subject_weights: dict[str, float]
    duration_weights: dict[str, dict[int, float]]       # grade -> {30: w, 60: w, 90: w}
    cadence_weights: dict[int, float]                    # sessions per week -> weight
    hours: dict[str, HourPreference]                     # grade -> preference
    attention: Dist                                      # the student's attentiveness (pct)
    no_show_prob: Dist
    reschedule_prob: Dist
    goal_sessions: Dist                                  # sessions the student came for
    patience: Dist                                       # 0..1: tolerance for bad experiences
    rating_bias: Dist                                    # personal rating leniency (stars)
    tech_setup: Dist                                     # the student's connection (z-score)
    days_flex: int = Field(ge=0)                         # days a booking may slip past the wish
    rebook_jitter: float = Field(ge=0, lt=1)             # next session after cadence x (1 +/- jitter) days
    rating_sensitivity: float = Field(ge=0)

    @model_validator(mode="after")
    def _weights(self):
        for key in ("grade_weights", "subject_weights", "cadence_weights"):
            _check_shares(getattr(self, key), key)
        _check_keys(self.grade_weights, GRADES, "grade_weights")
        _check_keys(self.subject_weights, SUBJECTS, "subject_weights")
        _check_keys(self.duration_weights, GRADES, "duration_weights")
        _check_keys(self.hours, GRADES, "hours")
        for grade, w in self.duration_weights.items():
            _check_shares(w, f"duration_weights.{grade}")
        return self


# --- behaviour of sessions, network and platform ------------------------------------------------

class ReferenceSession(Strict):
    """The session the perception weights are centred on: a weight moves an outcome by the
    observable's distance from here (a shift here is a shift of the outcome's base)."""
    skill: float
    empathy: float
    clarity: float
    attention: float
    camera: float
    rating: float


class Behaviour(Strict):
    """How traits become events: every coefficient of the causal model."""
    # tutor reliability -> reschedules and no-shows
    reschedule_scale: float = Field(ge=0)          # p = scale * (1 - reliability now) ** power
    reschedule_power: float = Field(ge=0)
    reschedule_lead_hours: tuple[float, float]     # how long before the session it is moved
    reschedule_shift_days: tuple[int, int]         # how far it is moved
    no_show_scale: float = Field(ge=0)             # p = scale * (1 - reliability now) ** power
    no_show_power: float = Field(ge=0)
    burnout_reliability_cut: float = Field(ge=0, le=1)  # share of reliability lost at burnout 1
    burnout_ramp_days: float = Field(gt=0)         # days from burnout onset to its full level
    burnout_capacity_cut: float = Field(ge=0, le=1)  # share of daily capacity lost at burnout 1
    # quitting: daily hazard = propensity x certification factor x (1 + gain x cause) for every
    # cause below (agents/tutor.py `quit_factors`), each read from the tutor's own last 7/30 days
    quit_burnout_gain: float = Field(ge=0)         # x burnout (0-1)
    quit_rating_floor: float                       # the recent rating a tutor minds falling below
    quit_low_rating_gain: float = Field(ge=0)      # per star the 7-day mean rating is below the floor
    quit_rating_decline_gain: float = Field(ge=0)  # per star the 7-day mean is below the 30-day
    quit_poor_first_gain: float = Field(ge=0)      # x share of 30-day first sessions rated poor
    quit_no_show_gain: float = Field(ge=0)         # per no-show of the tutor's in 30 days
    quit_reschedule_gain: float = Field(ge=0)      # x share of 30-day sessions the tutor moved
    quit_engagement_floor: float                   # the students' mean engagement a tutor minds falling below
    quit_low_engagement_gain: float = Field(ge=0)  # per point of 30-day engagement below the floor
    quit_activity_gain: float = Field(ge=0)        # x (1 - last 7 days' sessions / the 30-day pace)
    quit_idle_gain: float = Field(ge=0)            # when the tutor had no session in 7 days
    quit_email_gain: float = Field(ge=0)           # per email in the memory beyond the tolerance
    quit_certification_factor: dict[Certification, float]
    # session perception
    quality_skill_weight: float
    reference: ReferenceSession                    # what "above" means in the weights below
    quality_empathy_weight: float                  # per point of empathy above the reference
    quality_clarity_weight: float                  # per point of clarity above the reference
    quality_attention_weight: float                # per 10 points of attention above the reference
    quality_camera_weight: float                   # per 10 points of camera-on time above the reference
    quality_burnout_penalty: float                 # quality lost at burnout 1
    quality_noise_sd: float = Field(ge=0)
    rating_base: float
    rating_slope: float
    rating_noise_sd: float = Field(ge=0)
    first_session_penalty: float
    first_session_unreliability_penalty: float     # stars lost: k * (floor - reliability now) ** 2
    first_session_reliability_floor: float = Field(ge=0, le=1)   # below it a first impression suffers
    connection_rating_penalty: dict[ConnectionLevel, float]
    tech_issue_rating_penalty: float
    satisfaction_base: float
    satisfaction_rating_weight: float
    satisfaction_empathy_weight: float
    satisfaction_noise_sd: float = Field(ge=0)
    recommend_threshold: float
    # session observables
    attention_tutor_weight: float                  # attention points per unit of skill above the reference
    attention_noise_sd: float = Field(ge=0)
    attention_connection_penalty: dict[ConnectionLevel, float]
    speak_noise_sd: float = Field(ge=0)
    speak_attention_weight: float                  # tutors talk more to inattentive students
    speak_burnout_shift: float                     # burned-out tutors lecture instead of engaging
    camera_noise_sd: float = Field(ge=0)
    camera_tech_issue_penalty: float
    screen_share_subject: dict[str, float]
    screen_share_noise_sd: float = Field(ge=0)
    duration_noise_sd: float = Field(ge=0)         # relative
    duration_tech_issue_cut: float                 # relative
    sentiment_tutor_base: float
    sentiment_tutor_empathy_weight: float
    sentiment_tutor_burnout_weight: float
    sentiment_tutor_noise_sd: float = Field(ge=0)
    sentiment_student_base: float
    sentiment_student_rating_weight: float         # per star above the reference rating
    sentiment_student_noise_sd: float = Field(ge=0)
    sentiment_overall_mix: float = Field(ge=0, le=1)   # weight of the student's speech
    sentiment_overall_base: float                      # the lesson's content is more neutral than either party
    sentiment_overall_noise_sd: float = Field(ge=0)
    empathy_noise_sd: float = Field(ge=0)
    empathy_burnout_cut: float = Field(ge=0, le=1)     # share of empathy a fully burned-out tutor shows less
    clarity_noise_sd: float = Field(ge=0)
    # students' reactions
    leave_after_poor_first: float = Field(ge=0, le=1)      # poor = rating < poor_rating
    switch_after_poor_first: float = Field(ge=0, le=1)
    leave_after_poor: float = Field(ge=0, le=1)
    switch_after_poor: float = Field(ge=0, le=1)
    poor_rating: float
    leave_after_tutor_no_show: float = Field(ge=0, le=1)
    switch_after_tutor_no_show: float = Field(ge=0, le=1)


class Network(Strict):
    """Connection quality = tutor setup + student setup + noise - load(hour, weekend), cut at
    thresholds. Load is the congestion of home internet by hour."""
    load_by_hour: dict[int, float]
    weekend_load: float
    noise_sd: float = Field(gt=0)
    jitter_per_load: float = Field(ge=0)               # congestion also makes connections erratic
    thresholds: tuple[float, float, float]             # Poor | Fair | Good | Excellent
    tech_issue_prob: dict[ConnectionLevel, float]


class ChurnFormula(Strict):
    """The platform's rule-based churn score (spec section 7)."""
    declining_rating_drop: float = 0.3
    low_engagement: float = 5.5
    high_reschedule_rate: float = 0.15
    poor_first_session: float = 3.5
    poor_first_session_weight: int = 2
    no_show_count: int = 2
    declining_activity_ratio: float = 0.25
    per_signal: float = 0.12
    cap: float = 0.85
    noise_max: float = 0.10
    high: float = 0.5
    medium: float = 0.3
    min_sessions_7d: int = 3


# --- the platform loop: tutors' own activity, interventions, coaching, experiments ---------------

InterventionType = Literal[INTERVENTION_TYPES]
Hours = tuple[float, float]


def _ordered_pair(v, name):
    if v[1] < v[0]:
        raise ValueError(f"{name}: [{v[0]}, {v[1]}] must be [low, high]")


class EmailBehaviour(Strict):
    """How tutors treat the platform's emails and in-app cards. Every probability scales with the
    tutor's `responsiveness` trait: p = scale * responsiveness * ..., capped at `max_p`."""
    active_hours: dict[Literal["morning", "evening"], Hours]   # when morning / evening tutors read mail
    open_scale: float = Field(ge=0)              # P(open) = scale * responsiveness * fit * variant
    off_hours_open_factor: float = Field(ge=0)   # fit of an email arriving outside the active hours
    open_delay_hours: float = Field(gt=0)        # mean reading delay = this * (1 - responsiveness) + 0.25 h
    open_horizon_hours: float = Field(gt=0)      # an email not opened within this is never opened
    click_scale: float = Field(ge=0)             # P(click | opened) = scale * responsiveness * variant
    click_delay_minutes: Hours
    respond_after_click: float = Field(ge=0, le=1)   # P(reply | clicked)
    respond_scale: float = Field(ge=0)           # P(reply | opened, not clicked) = scale * responsiveness
    respond_delay_hours: Hours
    in_app_view_prob: float = Field(ge=0, le=1)  # P(a login shows the tutor a pending in-app card)
    burnout_drop: float = Field(ge=0, le=1)      # every reaction * (1 - drop * burnout)
    max_p: float = Field(gt=0, le=1)
    # fatigue: n = the platform's emails the tutor received in the last `memory_days`
    memory_days: float = Field(gt=0)
    open_fatigue: float = Field(ge=0)              # P(open) / (1 + this * n)
    click_fatigue: float = Field(ge=0)             # P(click), P(reply) / (1 + this * n)
    unsubscribe_base: float = Field(ge=0, le=1)    # P(unsubscribe | delivered) at n = 0 ...
    unsubscribe_fatigue: float = Field(ge=0)       # ... * (1 + this * n); no email after it
    tolerance: int = Field(ge=0)                   # emails in the memory a tutor takes without annoyance


class Engagement(Strict):
    """Tutors' own platform activity (spec section 12): logins and what they do when logged in."""
    login_rate: float = Field(ge=0)              # logins a week = login_rate * responsiveness
    burnout_login_drop: float = Field(ge=0, le=1)
    weekend_factor: float = Field(ge=0)          # a weekend day's login chance relative to a weekday's
    pre_session_share: float = Field(ge=0, le=1) # share of login days the tutor logs in before a session
    pre_session_lead_hours: Hours                # how long before that session
    earliest_login_hour: float = Field(ge=0, lt=24)
    peak_hours: dict[Literal["morning", "evening"], Hours]  # routine logins, by the tutor's block
    schedule_prob: float = Field(ge=0, le=1)     # a login schedules each of the next upcoming sessions ...
    schedule_max_per_login: int = Field(ge=0)    # ... up to this many
    schedule_after_login_minutes: Hours
    schedule_horizon_hours: float = Field(gt=0)  # only sessions starting within this are scheduled
    message_prob: float = Field(ge=0, le=1)      # a login sends a message to an upcoming student
    message_delay_minutes: Hours
    profile_update_prob: float = Field(ge=0, le=1)
    profile_delay_minutes: Hours
    completed_delay_minutes: Hours               # session_completed after the session's end
    devices: dict[Literal["desktop", "laptop", "mobile", "tablet"], float]
    device_habit: float = Field(ge=0, le=1)      # P(a login uses the tutor's usual device)
    email: EmailBehaviour

    @model_validator(mode="after")
    def _pairs(self):
        for name in ("pre_session_lead_hours", "schedule_after_login_minutes", "message_delay_minutes",
                     "profile_delay_minutes", "completed_delay_minutes"):
            _ordered_pair(getattr(self, name), name)
        _check_shares(self.devices, "devices")
        return self


class InterventionPolicy(Strict):
    """The platform's daily intervention job: who gets an email, of which type, how often."""
    enabled: bool = True
    job_hour: float = Field(ge=0, lt=24)         # when the job reads the signals each day
    send_hour: float = Field(ge=0, lt=24)        # default hour an email goes out (variants may move it)
    first_day: int = Field(ge=0)                 # simulation day the job first runs (history needed)
    min_days_between: float = Field(ge=0)        # frequency cap per tutor
    min_sessions_30d: int = Field(ge=0)          # too little data: no intervention
    priority: list[InterventionType] = Field(min_length=1)  # the first type whose rule fires is sent
    churn_probability: float                     # churn: churn_probability >= this
    first_session_rating: float                  # first_session: 30-day first-session mean < this
    technical_issue_rate: float                  # technical: 30-day technical-issue rate > this
    quality_rating_30d: float                    # quality: 30-day rating < this ...
    quality_rating_drop: float                   # ... or 7-day rating < 30-day rating - this
    low_engagement: float                        # engagement: 30-day engagement < this ...
    engagement_activity_ratio: float = Field(ge=0)  # ... or sessions_7d < sessions_30d x this (0: off)
    delivery_minutes: Hours
    failure_rate: float = Field(ge=0, le=1)      # emails that bounce


class CoachingGains(Strict):
    """Trait change of a fully coachable tutor (coachability 1) at coaching effect 1."""
    skill: float
    reliability: float
    empathy: float
    speak_balance: float = Field(ge=0, le=1)     # share of the gap to a 50/50 speak ratio closed
    tech_setup: float                            # technical interventions: the tutor fixes the setup


class Coaching(Strict):
    """What the emails and coaching sessions do to a tutor (scaled by the `coachability` trait)."""
    effect: float = Field(ge=0)                  # 0: coaching changes nothing (what-if lever)
    gains: CoachingGains
    self_study_share: float = Field(ge=0)        # reading an email: this share of a coaching's effect
    delay_days: tuple[int, int]                  # coaching session this many days after booking
    hours: Hours                                 # at this time of day
    duration_minutes: int = Field(gt=0)
    availability_gain: float = Field(ge=0, le=1) # a reply: share of the gap to hours_flex 1 closed
    capacity_gain: int = Field(ge=0)             # a reply: sessions a day the tutor accepts in addition
    retention_effect: float = Field(ge=0, le=1)  # a reply: quit propensity * (1 - this), once
    repeat_decay: float = Field(ge=0, le=1)      # a lesson's effect x this ** lessons had before


class ExperimentPolicy(Strict):
    """How the platform runs and analyses experiments."""
    # conversion: the metric's 7-day mean `conversion_days` after a tutor's action (so that the
    # coaching it booked has happened) against its 7-day mean before the action
    conversion_days: float = Field(ge=7)
    exposure_hours: float = Field(gt=0)          # a variant not seen within this is never seen
    min_exposure_hours: float = Field(ge=0)      # no exposure before this (assignment is at midnight)
    conversion_threshold: float = Field(ge=0)    # relative improvement that counts as a conversion
    conversion_value_cap: float = Field(gt=0)    # the largest improvement the platform reports (a larger one at the cap)
    min_sessions: int = Field(ge=1)              # sessions needed on each side of the comparison
    alpha: float = Field(gt=0, lt=1)             # significance level for a winner
    in_app_delay_minutes: Hours                  # an in-app click after the card is seen


class Platform(Strict):
    # independent markets the tutors and the demand are split into, each simulated as a platform of
    # its own (a student books only the tutors of their market): pipeline/markets.py
    markets: int = Field(1, ge=1)
    speak_balance_width: float = Field(gt=0)          # |ratio - 0.5| at which balance reaches 0
    primary_subject_weight: float = Field(gt=0)       # search weight of a tutor in their primary subject (others: 1)
    full_roster_weight: float = Field(gt=0, le=1)     # search weight left to a tutor whose roster is full
    listing_prior_rating: float = Field(ge=1, le=5)   # the rating shown before a tutor has ratings ...
    listing_prior_sessions: float = Field(ge=0)       # ... and how many ratings it counts as
    churn: ChurnFormula = ChurnFormula()
    acquisition_gain: float = Field(ge=0, le=1)       # how fast marketing corrects to demand
    new_students_per_week: int = Field(gt=0)           # first sessions a tutor takes on in 7 days
    max_reschedule_share: float = Field(gt=0, le=1)    # the platform refuses a tutor's moves beyond it
    no_show_suspension: int = Field(ge=0)              # no-shows in 30 days that suspend a tutor (0: never)
    roster_fill: float = Field(gt=0)                  # regulars' nominal weekly sessions per weekly slot a tutor accepts
    interventions: InterventionPolicy
    coaching: Coaching
    experiments: ExperimentPolicy


SEGMENT_KEYS = ("churn_risk_level", "churn_probability", "churn_signals_detected",
                "total_sessions_30d", "total_sessions_7d", "avg_rating_30d", "avg_rating_7d",
                "avg_engagement_score", "first_session_count", "first_session_avg_rating",
                "technical_issue_rate", "months_experience", "certification_level", "active_status")


class Bounds(Strict):
    min: float | None = None
    max: float | None = None


class VariantEffect(Strict):
    """What a variant changes in the platform's messages to the tutors assigned to it."""
    open_multiplier: float = Field(1.0, ge=0)
    click_multiplier: float = Field(1.0, ge=0)   # appeal of the call to action: clicks and replies
    coaching_multiplier: float = Field(1.0, ge=0)  # how much more the coaching it leads to changes a tutor
    send_hour: float | None = Field(None, ge=0, lt=24)
    min_days_between: float | None = Field(None, ge=0)


class Experiment(Strict):
    """One A/B test (spec section 14). Days are relative to the window's first day (negative:
    during the warm-up); no end_day: still running at the window's end."""
    id: str = Field(pattern=r"^EXP\d{3}$")
    name: str
    hypothesis: str
    description: str = ""
    variants: list[str] = Field(min_length=2)
    target_segment: dict[Literal[SEGMENT_KEYS], Union[list[Union[bool, int, float, str]], Bounds]]
    primary_metric: Literal["engagement_lift", "rating_lift"]
    secondary_metrics: dict[str, Union[bool, int, float, str]] = {}
    start_day: int
    end_day: int | None = None
    allocation: float = Field(1.0, gt=0, le=1)   # share of eligible tutors assigned
    in_app_view: float | None = Field(None, ge=0, le=1)  # P(a login shows the in-app variant):
    # where it is placed (a banner, a dashboard card); default engagement.email.in_app_view_prob
    channels: list[Literal["email", "in_app"]] = Field(min_length=1)
    intervention_type: InterventionType          # the campaign email's template
    applies_to: list[InterventionType] = []      # daily-job emails the variants also govern
    effects: dict[str, VariantEffect] = {}

    @model_validator(mode="after")
    def _check(self):
        if len(set(self.variants)) != len(self.variants):
            raise ValueError("variants must be distinct")
        bad = [v for v in self.effects if v not in self.variants]
        if bad:
            raise ValueError(f"effects: {bad[0]!r} is not one of the variants")
        if self.end_day is not None and self.end_day <= self.start_day:
            raise ValueError(f"end_day ({self.end_day}) must be after start_day ({self.start_day})")
        return self


class Calendar(Strict):
    window_days: int = Field(gt=0)
    warmup_days: int = Field(ge=0)
    # the window's end: an ISO date (the window ends at its midnight) or a local date-time to the
    # minute, as TOML or as text; "now" is resolved when the scenario is read (world/scenario.py)
    window_end: str
    # days simulated AFTER the window, only to see which tutors stop then (ground_truth/
    # churn_labels.csv, the churn model's label); nothing of them reaches the spec's tables
    lookahead_days: int = Field(0, ge=0)

    @field_validator("window_end", mode="before")
    @classmethod
    def _window_end(cls, value):
        """A TOML date (`window_end = 2026-12-04`) or local date-time (`2026-12-04T15:00:00`), as
        given or through `--set`, is the same as its text."""
        return window_end_text(value)


WINDOW_END_EXPECTED = ("expected a date like 2026-11-01, a local date-time to the minute like "
                       "2026-12-04T15:00, or now")


def window_end_text(value) -> str:
    """The window's end as text: 'YYYY-MM-DD' for a date, 'YYYY-MM-DDTHH:MM:SS' for a date-time
    (one that falls on a midnight is its date). ValueError names what was expected."""
    import datetime as dt
    if isinstance(value, dt.datetime):
        when = value
    elif isinstance(value, dt.date):
        return value.isoformat()
    elif isinstance(value, str):
        try:
            when = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(WINDOW_END_EXPECTED) from None
    else:
        raise ValueError(WINDOW_END_EXPECTED)
    if when.tzinfo is not None:
        raise ValueError("expected a local date-time without an offset (the tables' timestamps have none)")
    if when.second or when.microsecond:
        raise ValueError("expected a time to the minute (no seconds)")
    if when.time() == dt.time(0, 0):
        return when.date().isoformat()
    return when.isoformat(timespec="seconds")


class Demand(Strict):
    sessions_per_day: float = Field(gt=0)


class Outputs(Strict):
    engagement_events: bool = True
    interventions: bool = True
    experiments: bool = True
    model: bool = True
    event_log: bool = True
    # the tables' file format: CSV (the spec's), Parquet with real types (output/parquet.py), or both
    format: Literal["csv", "parquet", "both"] = "csv"
    # the sessions booked at the window's end for this many days after it: upcoming_sessions.csv,
    # and what then became of them (ground_truth/upcoming_outcomes.csv); 0: neither is written
    upcoming_days: int = Field(7, ge=0)


class Scenario(Strict):
    name: str
    description: str = ""
    seed: int = Field(ge=0)
    calendar: Calendar
    demand: Demand
    tutors: Tutors
    students: Students
    behaviour: Behaviour
    network: Network
    platform: Platform
    engagement: Engagement
    experiments: list[Experiment] = []
    outputs: Outputs = Outputs()

    @model_validator(mode="after")
    def _markets(self):
        if self.platform.markets > self.tutors.count:
            raise ValueError(f"platform.markets: {self.platform.markets} markets need at least as many "
                             f"tutors (tutors.count is {self.tutors.count})")
        return self

    @model_validator(mode="after")
    def _experiments(self):
        seen = set()
        for i, e in enumerate(self.experiments):
            if e.id in seen:
                raise ValueError(f"experiments[{i}].id: {e.id} is used twice")
            seen.add(e.id)
            if e.start_day < -self.calendar.warmup_days:
                raise ValueError(f"experiments[{i}].start_day: {e.start_day} is before the simulation "
                                 f"starts (warm-up of {self.calendar.warmup_days} days)")
        return self


def _check_shares(weights: dict, name: str) -> None:
    if any(v < 0 for v in weights.values()):
        raise ValueError(f"{name}: weights must be >= 0")
    if sum(weights.values()) <= 0:
        raise ValueError(f"{name}: weights must not all be 0")


def _check_keys(mapping: dict, allowed: tuple, name: str) -> None:
    bad = [k for k in mapping if k not in allowed]
    if bad:
        raise ValueError(f"{name}: unknown key {bad[0]!r}, expected one of {', '.join(allowed)}")
