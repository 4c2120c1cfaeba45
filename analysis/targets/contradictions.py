"""Where the specification contradicts itself, the reading we chose (report.md prints it).

A list of (title, text); the checks of the section modules follow these readings. `READINGS`
names the checks that measure the spec's own number and may miss it for the reason a reading
gives: validate reports them as READING (not FAIL) when they miss.
"""
from __future__ import annotations

from analysis.targets.personas import PERSONA_TOL_TEXT
from analysis.targets.tolerance import RULE_TEXT

HISTORICAL = "avg_historical_rating 4.2 (tutor level) vs student_rating 4.1 (session level)"
RECOMMEND = "would_recommend 78% vs 'True if satisfaction >= 7.0' with satisfaction N(8.2, 1.2)"
RELIABILITY = "reliability_score Beta(8, 2) (mean 0.80) vs the personas' reliability ranges"
DECLINING = "declining activity 'sessions_7d < sessions_30d / 4' vs the rock stars' churn_probability 0.05-0.15"
# check key -> the title of the reading it may miss by
READINGS = {"historical_rating_mean": HISTORICAL, "historical_rating_skew": HISTORICAL,
            "recommend_share": RECOMMEND, "reliability_mean": RELIABILITY,
            "rock_star_churn": DECLINING}

CONTRADICTIONS: list[tuple[str, str]] = [
    ("session_completed 97% and student_showed 97%",
     "Both cannot hold once tutors also miss sessions (tutor_showed 95-99%): completion needs "
     "both to show, so 97% completed with 97% of students showing leaves no room for a tutor "
     "no-show. We target session_completed 97% ± 3 points, student_showed in 94.5-99.5% "
     "(student no-shows may be rarer than 3%) and tutor_showed in 95-99.5% (below)."),
    ("'16% of tutors have no-show issues' vs Poisson(3) if flagged and the 8% no-show persona",
     "Measured as the share of tutors with no_show_count >= 3 (the churn signal's threshold "
     "'> 2'), target 16% ± 3 points. If 16% were flagged and drew Poisson(3), only 9% would "
     "reach 3; the no-show persona is 8% of tutors."),
    ("24% of first sessions below 3.5 vs ratings N(4.1, 0.6) and the first session's -0.3",
     "Section 8 wants 24% of first sessions rated below 3.5; section 5 gives ratings a mean of "
     "4.1 and an SD of 0.6 and first sessions an adjustment of -0.3, which put first sessions "
     "near N(3.8, 0.6): 31% below 3.5. 24% needs first sessions near 3.93, i.e. a platform "
     "mean near 4.23, outside 4.1's band. Section 5 itself reads the 24% as the churn risk a "
     "poor first session carries ('<3.5 on first session = 24% churn risk'). We keep the "
     "rating's mean, SD and penalty and check the share against what they imply, 31% ± 3 "
     "points (production lands at 28-31%); poor_first_session_flag is checked as "
     "first_session_avg_rating < 3.5."),
    ("first-session penalty",
     "'is_first_session -> rating (negative penalty -0.3)' is the rating formula's adjustment. "
     "Across the platform, first sessions go mostly to tutors with room for new students, who "
     "are rated lower than the busiest (struggling newbies take a fifth of them), so the plain "
     "difference of means is 0.4 although every first session is rated 0.3 below its tutor's "
     "usual. We measure the penalty within tutors: each rated first session against its own "
     "tutor's other sessions, 0.3 ± 0.09 (the rule's 0.15 of the rating's SD)."),
    (RECOMMEND,
     "N(8.2, 1.2) gives 84% at or above 7.0, not 78%. We keep both claims: the rule (True iff "
     "satisfaction >= 7.0) must hold on 100% of completed sessions, and the share is measured "
     "against 78% ± 3 points. With satisfaction at mean 8.2 and SD 1.2-1.38 the share lands at "
     "80-84%: the check is reported as READING when it misses; a satisfaction SD near 1.55 (or "
     "a mean near 7.9) would reconcile the two."),
    ("satisfaction and rating",
     "'Correlates with rating (rating * 2)' states no r. Satisfaction's mean and SD are exactly "
     "twice the rating's (8.2 = 2 x 4.1, 1.2 = 2 x 0.6), so we read 'rating * 2' as the scale: "
     "mean satisfaction minus twice the mean rating is 0 ± 0.18 (0.15 of 1.2). A literal "
     "satisfaction = 2 x rating would make empathy -> satisfaction (0.72) equal empathy -> "
     "rating, which the rating's skill-driven quality and noise keep near 0.45; so the "
     "correlation itself is required to be strong (r >= 0.5), not 1."),
    (RELIABILITY,
     "Section 1 gives reliability_score a Beta(8, 2): mean 0.80, SD 0.12. Section 10 gives the "
     "personas (93% of tutors) ranges: rock star 0.85-0.95, solid performer 0.70-0.85, struggling "
     "newbie 0.50-0.70, burned-out veteran 0.60-0.75, no-show problem 0.40-0.60, natural "
     "0.80-0.95. With every persona at the middle of its range the platform's mean is 0.74; "
     "with every one at the top of its range, 0.81 (the other 7% at Beta(8, 2)'s 0.80). We keep "
     "the personas' ranges (the persona checks and the churn stories read them) and the SD "
     "(0.12 ± 15%), and report the mean as READING when it misses: production lands at "
     "0.77-0.78 (coaching raises some tutors' reliability during the run), and a million-session "
     "run, whose two standard errors are 0.003, at 0.777."),
    (DECLINING,
     "Section 7's declining-activity signal, sessions_7d < sessions_30d / 4, fires for a tutor at "
     "a steady pace: a week is 7/30 = 0.233 of a 30-day window, less than a quarter. With 0.12 "
     "per signal and noise U(0, 0.1) (mean 0.05), section 10's rock-star band 0.05-0.15 leaves "
     "room for at most 0.83 signals on average, and the solid performers' 0.15-0.35 asks for at "
     "least that many, though their own ranges (reschedule_rate 0.05-0.12, ratings 4.0-4.5, "
     "empathy 6-8) trip no other signal: only the literal rule, firing on their steady activity, "
     "lifts them into their band. The steadier a tutor's weekly count (the more sessions), the "
     "more often it fires, so rock stars carry it most: at a million sessions 87% of rock stars "
     "and 68% of solid performers, means 0.157 and 0.154. Read as 'below the 30-day pace' (7/30), "
     "rock stars would land at 0.092 and solid performers at 0.106, below their band. We keep "
     "the rule as the spec writes it (churn_probability can then be recomputed from the table's "
     "columns) and report the rock stars' mean as READING when it misses; production (15 rock "
     "stars) lands inside the band's two standard errors."),
    (HISTORICAL,
     "The historical rating is a tutor-level mean (4.2, 'skewed high', and section 10's persona "
     "ranges, which average to 4.22 over tutors); the session rating a session-level one (4.1). "
     "In a marketplace where better-rated tutors draw more students and struggling tutors lose "
     "theirs, the session-level mean lies above the tutor-level one (production: by 0.07), not "
     "0.1 below it. We keep the session rating's 4.1 (the number the dashboard shows first) and "
     "report the tutor-level mean and skew as READING when they miss: production lands at "
     "4.05-4.09, skew about +0.3 (the struggling newbies' 3.5 against a bulk near 4.1)."),
    ("98.2% tutor-initiated reschedules",
     "reschedule_rate counts tutor-initiated reschedules only, so the spec tables cannot show "
     "the share. Measured from ground_truth/reschedules.csv (session_id, initiated_by) when "
     "present, else SKIP."),
    ("engagement_score composite and its target",
     "'40% attention + 30% speak balance + 15% sentiment' sums to 85%, and the formula "
     "(attention*0.4 + speak_balance*30 + (sentiment+1)*15)/10 with the spec's attention "
     "(72), speak ratio (0.50 ± 0.12) and sentiment (0.45) gives a mean near 7.5 and an SD "
     "near 0.8, not 6.3 and 1.6. Whatever the balance's width, the formula's SD on the spec's "
     "inputs stays below 1.25, so 1.6 is out of reach without a term the spec does not have; "
     "r(balance, engagement) = 0.45 holds only with the plain balance, at a mean of 7.5. We "
     "keep the formula (checked on every row) and the mean 6.3, and read 'speak balance' as a "
     "platform rule that reaches 0 at |ratio - 0.5| = width (scenario: "
     "platform.speak_balance_width, 0.14 puts the formula's mean on the spec's inputs at 6.3). "
     "The SD and the correlation are checked against what the formula gives on the spec's "
     "inputs at the run's width (analysis/targets/composite.py): SD 1.21 ± 15%, r 0.77 ± 0.10."),
    ("empathy and clarity formulas vs their means",
     "5 + reliability*3 + experience/60*1.5 with reliability 0.8 and experience 24 months "
     "gives empathy near 8.0 (spec mean 6.5); 5 + reliability*3 gives clarity near 7.4 (spec "
     "6.8). We check the spec's means and SDs."),
    ("avg_historical_rating: 'Beta(8,2) shifted' and 'mean ~4.2'",
     "Beta(8,2) scaled to 2-5 has mean 4.4 (SD 0.36). We check mean 4.2 ± 0.054 (0.15 of that "
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
     "weekday, target 0.70 ± 0.03, widened by two standard errors of the ratio over the "
     "window's days (about 0.05 over 30 days). '35% morning (8-12), 65% evening (3-9pm)' is read at "
     "tutor level: the share of tutors most of whose block sessions are morning ones. "
     "Section 18's connection 'peak hours "
     "(6-9pm)' is narrower than the schedule's 'peak 3-9pm'; each is used where it is stated. "
     "'70% in preferred hours' and the morning/evening login peaks need each tutor's preferred "
     "hours, which the spec tables do not hold: not checked."),
    ("Connection quality by period",
     "Section 2's 60/30/8/2 is checked overall; section 18's peak (weekdays 18:00-20:59) "
     "50/30/15/5, weekend 65/28/6/1 and normal 60/30/8/2 are checked per period, ± 3 points "
     "per category. The overall mix is then a blend and drifts a little from 60/30/8/2."),
    ("Volumes (section 17)",
     "Sessions are checked against run.json's sessions_per_day x window_days ± 5% when "
     "present, else production (150 tutors) 22,500 ± 5% and dev (25 tutors) 1,000 ± 15%. "
     "Engagement events of 4,500-9,000 cannot hold a session_completed event per session "
     "(22,500 sessions) plus 2-5 logins per tutor-week; we check the stated range. Dev's "
     "event and intervention rates per tutor-day are twice production's; custom runs scale "
     "production's ranges by tutors x days."),
    ("Tolerances and sample size",
     "One rule (analysis/targets/tolerance.py): " + RULE_TEXT + ". A share of 150 tutors has "
     "a standard error of about 3 points and a rate over 60 emails 6, more than the band; at "
     "session level (n ~ 21,000) the widening is below a point and 0.01 of a rating. The "
     "report says '(within 2 SE = x)' where the widening decided."),
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
     "in " + PERSONA_TOL_TEXT + ". 'Declining' for a snapshot "
     "column is read as below the longer window: avg_rating_7d < avg_rating_30d, and "
     "sentiment_trend_7d below the tutor's mean overall_sentiment over the window; declining "
     "reliability and increasing reschedules cannot be seen in one snapshot: not checked."),
    ("Edge cases as tutor shares",
     "Each edge case is a share of tutors with ± 3 points (first-session failures: of first "
     "sessions, above): high-performing new tutors "
     "(months < 6, avg_rating_30d >= 4.8) 5%; burned-out veterans (months > 36, avg_rating_7d "
     "< avg_rating_30d - 0.3) 3%; chronic reschedulers (reschedule_rate > 0.20) 15%; "
     "technical-issue victims (technical_issue_rate > 0.15, avg_rating_30d >= 4.0) 5%; "
     "weekend warriors (every session on Sat/Sun) 10% of tutors with sessions."),
    ("Correlation levels",
     "experience -> reliability, reliability -> rating, no_show_count -> churn and empathy <-> "
     "experience are measured across tutors; empathy -> satisfaction and speak balance -> "
     "engagement across completed sessions. The connection and first-session effects are "
     "differences of mean rating, 0.6 ± 0.09 and 0.3 ± 0.09 (0.15 of the rating's SD)."),
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

