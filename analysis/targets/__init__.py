"""The field specification's measurable claims, carried into the project as data.

The specification (tutor-quality-data-spec.md, sections 1-18) is not read at run time; every number
`validate` measures against lives in this package. `CHECKS` is a flat list of `Check` records;
each has a kind that a small evaluator (analysis/validate.py) knows how to measure:

    range   every non-null value of a column lies in the spec range    (0 rows outside)
    enum    every non-null value is one of the spec's options          (0 rows outside)
    rule    a row-level predicate holds on 100% of rows               (0 rows violate)
    share   share of rows where a predicate holds                     (target +/- 3 points)
    shares  categorical distribution                                   (every category +/- 3 points)
    mean    mean of a column                                           (target +/- 0.15 of the spec SD)
    sd      standard deviation of a column                             (target +/- 15%)
    corr    Pearson r between two columns                              (target +/- 0.10, right sign)
    metric  any other number computed by a function of the tables     (stated interval)

Every band of a measured value is widened by two standard errors of the statistic at its n
(tolerance.py states the rule once).

A check runs on a *view*: a table or a frame derived from tables (completed sessions, tutors =
profiles joined to aggregates, personas = ground-truth traits joined to tutors...). `needs` lists
the tables that must be present; when one is absent the check is reported as SKIP, not FAIL.

Ids ("2.3") are assigned in list order within each section. `key` is a stable name for the few
checks that tests and the report look up.

Where the specification contradicts itself we chose one reading; `CONTRADICTIONS` says which,
and report.md prints it. A check that measures the spec's own number where a reading says it
cannot be met is reported as READING when it misses (`READINGS`), never silently passed.

The machinery: columns (tables, typed columns, sections, enums), checks (the records and their
builders), predicates (named row predicates), views, measures (the run's size and the window
measurements several sections share). The claims, one module per section or group of sections,
read in section order below:

    profiles 1, sessions 2, session_metrics 3-5, aggregates 6, churn 7, correlations and
    edge_cases 8, rules 9, personas 10, engagement 12, interventions 13, experiments 14-15,
    volumes 17, session_patterns 18; contradictions.
"""
from __future__ import annotations

from analysis.targets.checks import (CHECKS, DISTRIBUTIONS, Check, Dist, Measured, Skip, by_key,
                                     number)
from analysis.targets.columns import (BOOL, COLUMN_TYPES, CONNECTIONS, EVENT_TYPES, EXTRA_FILES,
                                      GRADES, INTERVENTION_STATUS, INTERVENTION_STEPS,
                                      INTERVENTION_TYPES, MANIFEST_FILE, NUM, PROFILE_COLUMNS,
                                      SECTIONS, SUBJECTS, TABLE_FILES, TIME)
from analysis.targets.measures import MODE_SIZE, run_info
from analysis.targets.predicates import is_false, is_true
from analysis.targets.views import VIEWS

# the claims, in section order: each module appends its checks to CHECKS as it is read
from analysis.targets import (profiles, sessions, session_metrics, aggregates, churn,
                              correlations, edge_cases, rules, personas, engagement,
                              interventions, experiments, volumes, session_patterns)
from analysis.targets.churn import SIGNAL_WEIGHTS, churn_signals
from analysis.targets.contradictions import CONTRADICTIONS, READINGS
from analysis.targets.personas import (AT_RISK, AT_RISK_CHURN_FLOOR, PERSONA_SHARES,
                                       PERSONA_TOL_TEXT, PERSONAS, persona_bounds)
from analysis.targets.session_patterns import CONNECTION_BY_PERIOD, period
from analysis.targets.volumes import VOLUMES

# sections 1, 2, 3-5, 6, 7, 8, 8, 9, 10, 12, 13, 14-15, 17, 18
CLAIM_MODULES = (profiles, sessions, session_metrics, aggregates, churn, correlations,
                 edge_cases, rules, personas, engagement, interventions, experiments, volumes,
                 session_patterns)

_sections = [c.section for c in CHECKS]
assert _sections == sorted(_sections), "CLAIM_MODULES must be read in section order"
number()
for _key, _title in READINGS.items():
    assert _title in dict(CONTRADICTIONS), _title
    by_key(_key).reading = _title

__all__ = [
    "AT_RISK", "AT_RISK_CHURN_FLOOR", "BOOL", "CHECKS", "COLUMN_TYPES", "CONNECTIONS",
    "CONNECTION_BY_PERIOD", "CONTRADICTIONS", "Check", "DISTRIBUTIONS", "Dist", "EVENT_TYPES",
    "EXTRA_FILES", "GRADES", "INTERVENTION_STATUS", "INTERVENTION_STEPS", "INTERVENTION_TYPES",
    "MANIFEST_FILE", "MODE_SIZE", "Measured", "NUM", "PERSONAS", "PERSONA_SHARES",
    "PERSONA_TOL_TEXT", "PROFILE_COLUMNS", "SECTIONS", "SIGNAL_WEIGHTS", "SUBJECTS", "Skip",
    "TABLE_FILES", "TIME", "VIEWS", "VOLUMES", "by_key", "churn_signals", "is_false", "is_true",
    "period", "persona_bounds", "run_info",
]
