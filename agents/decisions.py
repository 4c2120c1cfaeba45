"""What agents decide, as the codes and orders the event log stores."""

ACTIONS = ("continue", "switch", "leave", "done")
CONTINUE, SWITCH, LEAVE, DONE = range(len(ACTIONS))

# the causes of quitting, in the order of `quit_factors` (and of the event log's tutor_quit row)
QUIT_CAUSES = ("certification", "burnout", "low_rating", "declining_rating", "poor_first_sessions",
               "no_shows", "rescheduling", "low_engagement", "declining_activity", "idle", "email_annoyance")
# what a tutor remembers of the last days (world/signals.py `Signals.recent` hands it over to `Tutor.quit_factors`)
RECENT_FIELDS = ("sessions_7d", "sessions_30d", "rating_7d", "rating_30d", "engagement_30d", "first_sessions_30d",
                 "poor_first_sessions_30d", "no_shows_30d", "outcomes_30d", "moves_30d")

