"""What the files are written from, taken at the window's end (pipeline/one_run.py)."""
from __future__ import annotations

from output.recorder import read_spool


class Window:
    """The event log's row counts at the window's end (the log itself is read back from the spool,
    cut at them: `read_log`), the tutors' traits, the daily series, the scenario. Small and plain,
    so that it can be handed to another process; the simulation then goes on into the look-ahead,
    which only adds rows to the spool (and only to the tutors' quits). The students' traits are in
    the log (`student_arrived`).

    A platform split into markets (pipeline/markets.py) has one window per market and one for the
    run, made of theirs, whose log is merged from the markets' spools when it is first read
    (`markets`: output/market_logs.py `MarketLogs`)."""

    def __init__(self, scenario, document: dict, calendar, counts: dict, spool, tutor_traits: list,
                 usual_devices: list, daily: dict, rating_totals: list, booked_before_end=None,
                 markets=None):
        self.scenario = scenario
        self.document = document
        self.calendar = calendar
        self.counts = counts                # events of each type in the log at the window's end
        self.spool = spool
        self.tutor_traits = tutor_traits
        self.usual_devices = usual_devices
        self.daily = daily                  # one list per daily model-level series
        self.rating_totals = rating_totals  # each day's (sum, count) of ratings: daily's mean_rating
        self.booked_before_end = booked_before_end     # sessions booked by now have lower numbers
        self.markets = markets              # the markets' logs to merge into `spool`, or None
        self.log = None

    @classmethod
    def at_end_of(cls, model, counts: dict, scenario, document: dict) -> Window:
        """The window of a platform (world/model.py) whose log holds `counts` rows at its end."""
        from world.events import DEVICES
        return cls(scenario, document, model.calendar, counts, model.recorder.spool,
                   [t.traits() for t in model.tutors],           # coaching moves them later
                   [DEVICES[h.device] for h in model.engagement.habits],
                   # Mesa's DataCollector: one list per daily model-level series
                   {name: list(values) for name, values in model.datacollector.model_vars.items()},
                   list(model.rating_totals), booked_before_end=model.desk.next_sid)

    def read_log(self) -> Window:
        """The event log as it was at the window's end, from the spool (merged there first, once,
        from the markets' spools)."""
        if self.markets is not None:
            self.markets.write(self.spool)
            self.markets = None
        self.log = read_spool(self.spool, self.counts)
        return self
