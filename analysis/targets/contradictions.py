"""Where the specification contradicts itself, the reading we chose (report.md prints it).

A list of (title, text); the checks of the section modules follow these readings.
"""
from __future__ import annotations

from analysis.targets.personas import PERSONA_TOL_TEXT

CONTRADICTIONS: list[tuple[str, str]] = [
    ("session_completed 97% and student_showed 97%",
     "Both cannot hold once tutors also miss sessions (tutor_showed 95-99%): completion needs "
     "both to show. We target session_completed 97% ± 3 points, student_showed 97% with "
     "tolerance 94.5-99.5% (student no-shows may be rarer than 3%), tutor_showed 95-99%."),
    ("'16% of tutors have no-show issues' vs Poisson(3) if flagged and the 8% no-show persona",
     "Measured as the share of tutors with no_show_count >= 3 (the churn signal's threshold "
     "'> 2'), target 16% ± 5 points. If 16% were flagged and drew Poisson(3), only 9% would "
     "reach 3; the no-show persona is 8% of tutors."),
    ("'24% of first sessions fail' / '24% of churners fail here'",
     "Measured as the share of completed, rated first sessions with student_rating < 3.5, "
     "target 24% ± 5 points; poor_first_session_flag is checked as first_session_avg_rating "
     "< 3.5."),
    ("would_recommend 78% vs 'True if satisfaction >= 7.0' with satisfaction N(8.2, 1.2)",
     "N(8.2, 1.2) gives 84% at or above 7.0, not 78%. We keep both claims: the rule (True iff "
     "satisfaction >= 7.0) must hold on 100% of completed sessions, and the share target is "
     "78% ± 5 points. With the spec's satisfaction distribution the share lands near 84% and "
     "fails; a satisfaction SD near 1.55 (or a mean near 7.9) reconciles the two."),
    ("98.2% tutor-initiated reschedules",
     "reschedule_rate counts tutor-initiated reschedules only, so the spec tables cannot show "
     "the share. Measured from ground_truth/reschedules.csv (session_id, initiated_by) when "
     "present, else SKIP."),
    ("engagement_score composite and its target",
     "'40% attention + 30% speak balance + 15% sentiment' sums to 85%, and the formula "
     "(attention*0.4 + speak_balance*30 + (sentiment+1)*15)/10 with the spec's attention "
     "(72), speak ratio (0.50 ± 0.12) and sentiment (0.45) gives a mean near 7.5 and an SD "
     "near 0.8, not 6.3 and 1.6. We keep the formula and read 'speak balance' as a platform "
     "rule that reaches 0 at |ratio - 0.5| = 0.15 (scenario: platform.speak_balance_width), "
     "which brings the mean to 6.3; a balance that steep dominates the composite's variance, "
     "so the session-level correlation of the spec's plain balance (1 - |r - 0.5| / 0.5) with "
     "the score is about 0.8, not 0.45: we require it to be at least 0.30."),
    ("empathy and clarity formulas vs their means",
     "5 + reliability*3 + experience/60*1.5 with reliability 0.8 and experience 24 months "
     "gives empathy near 8.0 (spec mean 6.5); 5 + reliability*3 gives clarity near 7.4 (spec "
     "6.8). We check the spec's means and SDs."),
    ("avg_historical_rating: 'Beta(8,2) shifted' and 'mean ~4.2'",
     "Beta(8,2) scaled to 2-5 has mean 4.4 (SD 0.36). We check mean 4.2 ± 0.18 (half that "
     "SD); the figure draws the scaled Beta."),
    ("tutor_camera_on_pct: Beta(9,1) vs mean 92%, SD 8%",
     "Beta(9,1) on 0-100 has mean 90 and SD 9. We check the stated 92 / 8."),
    ("experience -> rating '+0.15 max' vs experience -> reliability 0.35 and reliability -> "
     "rating 0.58",
     "The chain alone implies about 0.20, and the personas of section 10 (rock stars 36-60 "
     "months rated 4.7-5.0, struggling newbies 1-6 months rated 3.5-4.0) imply far more. We "
     "follow the personas and require the correlation to be positive."),
    ("total_sessions_completed: 'months * uniform(8, 25)' vs 750 sessions a day",
     "22,500 sessions in 30 days over 150 tutors is 150 sessions per tutor-month, while the "
     "profile formula allows 8-25 a month. We read the column as a lifetime count: history "
     "before the simulation (months x the tutor's historical monthly rate, 8-25) plus the "
     "sessions really held in the simulation; checked as >= 8 x months and correlated with "
     "experience."),
    ("tutor no-shows: 'tutor_showed 95-99%' vs '16% of tutors with no-show issues' and "
     "no_show_count 0-10",
     "With about 140 sessions per tutor in the window, 16% of tutors at 3-10 no-shows and the "
     "rest near 0 give about 0.5-1% tutor no-shows, i.e. tutor_showed near 99-99.5%. We keep "
     "the per-tutor claims and accept tutor_showed in 95-99.5%."),
    ("Hour of day and weekends",
     "'Peak 3-9pm' is read as: sessions starting 15:00-20:59 are at least half of all "
     "sessions. 'Less on weekends' / '~30% lower': sessions per weekend day over sessions per "
     "weekday, target 0.70 ± 0.10. '35% morning (8-12), 65% evening (3-9pm)' is read at "
     "tutor level: the share of tutors most of whose block sessions are morning ones. "
     "Section 18's connection 'peak hours "
     "(6-9pm)' is narrower than the schedule's 'peak 3-9pm'; each is used where it is stated. "
     "'70% in preferred hours' and the morning/evening login peaks need each tutor's preferred "
     "hours, which the spec tables do not hold: not checked."),
    ("Connection quality by period",
     "Section 2's 60/30/8/2 is checked overall; section 18's peak (weekdays 18:00-20:59) "
     "50/30/15/5, weekend 65/28/6/1 and normal 60/30/8/2 are checked per period, ± 5 points "
     "per category. The overall mix is then a blend and drifts a little from 60/30/8/2."),
    ("Volumes (section 17)",
     "Sessions are checked against run.json's sessions_per_day x window_days ± 5% when "
     "present, else production (150 tutors) 22,500 ± 5% and dev (25 tutors) 1,000 ± 15%. "
     "Engagement events of 4,500-9,000 cannot hold a session_completed event per session "
     "(22,500 sessions) plus 2-5 logins per tutor-week; we check the stated range. Dev's "
     "event and intervention rates per tutor-day are twice production's; custom runs scale "
     "production's ranges by tutors x days."),
    ("Tolerances and sample size",
     "A share or rate measured over n items has a binomial standard error sqrt(p(1-p)/n): about "
     "3 points for a share of 150 tutors and 6 points for a rate over 60 emails, more than the "
     "±3-5 point tolerances. Shares, categorical mixes and the email rates therefore pass when "
     "the measured value is within their band widened by 2 standard errors at the measured n "
     "(the report says '(within 2 SE)'); at session level (n ~ 21,000) that widening is below "
     "a point. Persona means (8-75 tutors each) likewise pass within their band widened by two "
     "standard errors of the mean."),
    ("Persona churn: 'otherwise decent metrics' vs churn 0.55-0.80",
     "The churn probability is the spec's formula: 0.12 per weighted signal plus up to 0.10 of "
     "noise. The no-show persona's 0.55-0.80 needs 4-6 of the six signals although the spec says "
     "its other metrics are decent; the burned-out veteran's 0.50-0.75 and the struggling "
     "newbie's 0.45-0.70 likewise need 4+. In tutorsim these tutors show their 2-4 signals "
     "(no-shows, reschedules, falling activity, poor first sessions, declining ratings), and the "
     "platform's own interventions coach many of them, which lowers their signals further. We "
     "require each at-risk persona's mean churn_probability to be in the formula's Medium band "
     "or above (>= 0.36, three signals) and at least twice the solid performers' mean, and keep "
     "the spec's upper bounds."),
    ("Persona shares and edge cases",
     "Persona shares sum to 88% (10+50+15+5+8). Chronic reschedulers (>20%, 15% of tutors) "
     "exceed what the persona ranges allow (only burned-out veterans reach 0.20-0.25: ~5%). "
     "Burned-out veterans are 5% as a persona but 3% as an edge case. Persona means must lie "
     "in the spec range widened by: " + PERSONA_TOL_TEXT + ". 'Declining' for a snapshot "
     "column is read as below the longer window: avg_rating_7d < avg_rating_30d, and "
     "sentiment_trend_7d below the tutor's mean overall_sentiment over the window; declining "
     "reliability and increasing reschedules cannot be seen in one snapshot: not checked."),
    ("Edge cases as tutor shares",
     "Each edge case is a share of tutors with ± 3 points: high-performing new tutors "
     "(months < 6, avg_rating_30d >= 4.8) 5%; burned-out veterans (months > 36, avg_rating_7d "
     "< avg_rating_30d - 0.3) 3%; chronic reschedulers (reschedule_rate > 0.20) 15%; "
     "technical-issue victims (technical_issue_rate > 0.15, avg_rating_30d >= 4.0) 5%; "
     "weekend warriors (every session on Sat/Sun) 10% of tutors with sessions."),
    ("Correlation levels",
     "experience -> reliability, reliability -> rating, no_show_count -> churn and empathy <-> "
     "experience are measured across tutors; empathy -> satisfaction and speak balance -> "
     "engagement across completed sessions. Connection and first-session effects are "
     "differences of mean rating (0.4-0.8 and 0.15-0.45)."),
    ("Interventions: open and click rates vs outcome shares",
     "Opened 70% of sent and clicked 30-40% of opens (~25% of sent) do not square with 60% "
     "success 'opened + clicked/responded': most successes must then be responses without a "
     "click. Outcomes are derived from the furthest step reached among delivered "
     "interventions: success = clicked or responded, partial = opened only, ignored = not "
     "opened."),
    ("churn_signals_detected",
     "Range 0-8 while six signals weigh at most 7 (poor first sessions count twice). We "
     "accept the column as either the weighted or the unweighted count; the probability check "
     "uses the weighted sum, as the formula does."),
    ("Experiment eligibility",
     "'Completed experiments: all eligible tutors assigned; active: 60-80% of eligible' needs "
     "each tutor's segment at the experiment's start; the aggregates are an end-of-window "
     "snapshot, so this is not checked. Conversion rates are taken over all assignments of a "
     "variant (control vs every other variant), exposure over all assignments of completed "
     "vs active experiments."),
]

