"""One tutor's or student's timeline, and why: what `run.py trace` (commands/trace.py) shows.

The timeline is read from a run folder alone: the event log (`events.npz`), the ground truth
(`ground_truth/tutor_traits.csv`, `ground_truth/students.csv`) and `run.json` (the calendar and
the scenario, for the coefficients the reasons quote). Nothing is simulated again.

Every line is: simulated date-time, `wu` for warm-up events (before the window: they are in the
event log but not in the tables), what happened, with whom, and the reason with its numbers
(the probability the decision faced and the inputs that made it). Sessions of the window carry
their `session_id` (S000123, as in sessions.csv); others (warm-up, cancelled) their internal
number (#4512). Emails decided in the window carry their `intervention_id` (INT0012).

    run_folder.py   the run folder, read for tracing (`Run`): the log, the traits, ids and times
    collect.py      one agent's events from the log (`Tracer`), and the trace's event types
    words.py        each event in words (`TEMPLATES`, `render`), as a text or a JSON line
    headers.py      the lines above a text timeline: the agent's traits and the calendar
    plot.py         the timeline figure (analysis/chart/): PNG for --plot, SVG for the pages
"""
