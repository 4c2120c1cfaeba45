"""The spec's tables and their vocabulary: file names, typed columns, section titles, enums.

Plain data, shared by the machinery (views, measurements) and by every section's claims.
"""
from __future__ import annotations

# ------------------------------------------------------------------------------------ tables

TABLE_FILES: dict[str, str] = {
    "profiles": "tutor_profiles.csv",
    "sessions": "sessions.csv",
    "aggregates": "tutor_aggregates.csv",
    "events": "engagement_events.csv",
    "interventions": "interventions.csv",
    "experiments": "experiments.csv",
    "assignments": "experiment_assignments.csv",
}
# ground truth written beside the spec tables (not part of the spec): optional
EXTRA_FILES: dict[str, str] = {
    "traits": "ground_truth/tutor_traits.csv",
    "reschedules": "ground_truth/reschedules.csv",
    "labels": "ground_truth/churn_labels.csv",
}
MANIFEST_FILE = "run.json"

# `needs` shorthands: the tables a check cannot do without (else SKIP)
P = ("profiles",)
S = ("sessions",)
A = ("aggregates",)
PA = ("profiles", "aggregates")
E = ("events",)
I = ("interventions",)  # noqa: E741
X = ("experiments",)
G = ("assignments",)
# the view most session-level claims are measured on
C = "completed"

# -------------------------------------------------------------------------------- columns

BOOL, NUM, TIME = "bool", "num", "time"
# typed columns (everything else is read as text); a value that does not parse is a load error
COLUMN_TYPES: dict[str, dict[str, str]] = {
    "profiles": {
        "months_experience": NUM, "total_sessions_completed": NUM, "avg_historical_rating": NUM,
        "reliability_score": NUM, "reschedule_rate": NUM, "no_show_count": NUM,
        "active_status": BOOL,
    },
    "sessions": {
        "session_datetime": TIME, "scheduled_duration_min": NUM, "actual_duration_min": NUM,
        "is_first_session": BOOL, "session_completed": BOOL, "student_showed": BOOL,
        "tutor_showed": BOOL, "had_technical_issues": BOOL, "student_attention_pct": NUM,
        "tutor_camera_on_pct": NUM, "tutor_speak_ratio": NUM, "screen_share_pct": NUM,
        "overall_sentiment": NUM, "student_sentiment": NUM, "tutor_sentiment": NUM,
        "empathy_score": NUM, "clarity_score": NUM, "engagement_score": NUM,
        "student_rating": NUM, "student_satisfaction": NUM, "would_recommend": BOOL,
    },
    "aggregates": {
        "total_sessions_30d": NUM, "total_sessions_7d": NUM, "avg_rating_30d": NUM,
        "avg_rating_7d": NUM, "avg_engagement_score": NUM, "avg_empathy_score": NUM,
        "avg_clarity_score": NUM, "avg_student_satisfaction": NUM, "first_session_count": NUM,
        "first_session_avg_rating": NUM, "poor_first_session_flag": BOOL,
        "recommendation_rate": NUM, "technical_issue_rate": NUM, "sentiment_trend_7d": NUM,
        "churn_probability": NUM, "churn_signals_detected": NUM,
    },
    "events": {"timestamp": TIME},
    "interventions": {
        "sent_at": TIME, "delivered_at": TIME, "opened_at": TIME, "clicked_at": TIME,
        "responded_at": TIME, "engagement_before": NUM, "engagement_after": NUM,
        "sessions_before_count": NUM, "sessions_after_count": NUM,
    },
    "experiments": {"start_date": TIME, "end_date": TIME, "sample_size": NUM, "significance": NUM},
    "assignments": {"assigned_at": TIME, "exposed_at": TIME, "converted_at": TIME,
                    "conversion_value": NUM},
    "traits": {},
    "reschedules": {"probability": NUM},
    "labels": {"churned": BOOL, "churned_at": TIME, "horizon_days": NUM},
}
PROFILE_COLUMNS = ("tutor_id", "months_experience", "total_sessions_completed",
                   "certification_level", "avg_historical_rating", "reliability_score",
                   "reschedule_rate", "no_show_count", "subjects_taught", "primary_subject",
                   "active_status")
# what a session not held leaves empty (section 2)
SESSION_OBSERVABLES = ("actual_duration_min", "connection_quality", "had_technical_issues",
                       "student_attention_pct", "tutor_camera_on_pct", "tutor_speak_ratio",
                       "screen_share_pct", "overall_sentiment", "student_sentiment",
                       "tutor_sentiment", "empathy_score", "clarity_score", "engagement_score",
                       "student_rating", "student_satisfaction", "would_recommend")

# ------------------------------------------------------------------------------- sections

SECTIONS: dict[int, str] = {
    1: "Tutor profiles (tutor_profiles.csv)",
    2: "Session data (sessions.csv)",
    3: "Video engagement metrics (sessions.csv)",
    4: "Sentiment and quality scores (sessions.csv)",
    5: "Student feedback (sessions.csv)",
    6: "Tutor aggregates (tutor_aggregates.csv)",
    7: "Churn prediction features (tutor_aggregates.csv)",
    8: "Correlations and edge cases",
    9: "Validation rules",
    10: "Tutor personas (ground_truth/tutor_traits.csv)",
    12: "Engagement events (engagement_events.csv)",
    13: "Interventions (interventions.csv)",
    14: "Experiments (experiments.csv)",
    15: "Experiment assignments (experiment_assignments.csv)",
    17: "Data volumes",
    18: "Session patterns",
}

# ---------------------------------------------------------------------------------- enums

SUBJECTS = ("Math", "Science", "English", "History", "Test Prep", "Programming")
GRADES = ("Elementary", "Middle School", "High School", "College", "Adult")
CONNECTIONS = ("Excellent", "Good", "Fair", "Poor")
EVENT_TYPES = ("login", "session_scheduled", "session_completed", "profile_updated",
               "message_sent", "coaching_attended", "coaching_scheduled", "email_opened",
               "email_clicked")
INTERVENTION_TYPES = ("engagement", "first_session", "quality", "technical", "churn")
INTERVENTION_STEPS = ("sent_at", "delivered_at", "opened_at", "clicked_at", "responded_at")
INTERVENTION_STATUS = ("pending", "sent", "delivered", "opened", "clicked", "responded", "failed")
