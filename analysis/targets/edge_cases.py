"""Section 8, second half: the six edge cases, each a share of tutors (or of first sessions)."""
from __future__ import annotations

from statistics import NormalDist

import pandas as pd

from analysis.targets.checks import share
from analysis.targets.columns import A, C, P, PA, S
from analysis.targets.predicates import above, at_least, below, both, present, true


def rating_declining(df: pd.DataFrame) -> pd.Series:
    """avg_rating_7d < avg_rating_30d - 0.3 (the churn signal 'declining ratings')."""
    return df["avg_rating_7d"] < df["avg_rating_30d"] - 0.3


share(8, "edge case 1, high-performing new tutors: months < 6 and avg_rating_30d >= 4.8",
      level="tutor", needs=PA, view="tutors", tol=0.03, target=0.05,
      pred=both(below("months_experience", 6), at_least("avg_rating_30d", 4.8)))
share(8, "edge case 2, burned-out veterans: months > 36 and avg_rating_7d < avg_rating_30d "
         "- 0.3", level="tutor", needs=PA, view="tutors", tol=0.03, target=0.03,
      pred=both(above("months_experience", 36), rating_declining))
# '24% of first sessions rated < 3.5' against section 5's ratings N(4.1, 0.6) and the first
# session's -0.3: those give Phi((3.5 - 3.8) / 0.6) = 31% (see the contradictions)
FIRST_FAILURES = NormalDist(4.1 - 0.3, 0.6).cdf(3.5)
share(8, "edge case 3, first-session failures: completed first sessions rated < 3.5 (spec: "
         "24%; its rating distribution: 31%)",
      level="session", needs=S, view=C, target=round(FIRST_FAILURES, 3),
      key="first_session_failures",
      where=both(true("is_first_session"), present("student_rating")),
      pred=below("student_rating", 3.5))
share(8, "edge case 4, chronic reschedulers: reschedule_rate > 0.20", level="tutor", needs=P,
      view="profiles", tol=0.03, target=0.15, pred=above("reschedule_rate", 0.20))
share(8, "edge case 5, technical-issue victims: technical_issue_rate > 0.15 and "
         "avg_rating_30d >= 4.0", level="tutor", needs=A, view="aggregates", tol=0.03,
      target=0.05,
      pred=both(above("technical_issue_rate", 0.15), at_least("avg_rating_30d", 4.0)),
      note="'despite good teaching' read as avg_rating_30d >= 4.0")
share(8, "edge case 6, weekend warriors: every session of the tutor on Sat/Sun", level="tutor",
      needs=S, view="activity", tol=0.03, target=0.10,
      pred=at_least("weekend_share", 1.0), note="over tutors with at least one session")
