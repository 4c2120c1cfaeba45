"""A platform split into independent markets (scenario `platform.markets`).

A platform of thousands of tutors is simulated as `markets` platforms of its own kind, each with
its share of the tutors and of the demand and random streams of its own: a student looks for a
tutor only among their market's tutors, and nothing else crosses markets (acquisition aims at the
market's share of demand; the daily jobs and experiments run per market, an experiment assigning
its allocation of each market's eligible tutors). The markets are simulated side by side, one
process each where the run has a second core (pipeline/one_run.py), and the run's window and
look-ahead are made of theirs: the event logs merged into one (output/market_logs.py), the tutors'
traits and the daily series put together here.

One market (the default) is the whole platform, simulated as before. More markets are a different
realisation of the same model, not the same bytes: at platform size each market still holds
thousands of tutors, hundreds per subject (docs/scale.md shows what `validate` says of it). The
same seed and markets give the same files whatever --jobs.
"""
from __future__ import annotations

import hashlib

from agents.ids import tutor_id
from output.market_logs import MarketLogs
from pipeline.window import Window


def market_scenarios(scenario) -> list:
    """The scenario of each market: its share of the tutors (as equal as whole numbers allow) and
    of the demand, and a seed of its own drawn from the run's. One market: the scenario itself."""
    k = scenario.platform.markets
    if k == 1:
        return [scenario]
    n = scenario.tutors.count               # at least k (world/scenario_schema.py)
    out = []
    for m in range(k):
        tutors = scenario.tutors.model_copy(update={"count": n // k + (m < n % k)})
        demand = scenario.demand.model_copy(update={"sessions_per_day": scenario.demand.sessions_per_day / k})
        out.append(scenario.model_copy(update={"seed": market_seed(scenario.seed, m), "tutors": tutors,
                                               "demand": demand}))
    return out


def market_seed(seed: int, market: int) -> int:
    """The root seed of a market's random streams (world/streams.py): a hash of the run's."""
    digest = hashlib.blake2b(repr((int(seed), "market", market)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


def run_window(windows: list[Window], scenario, document: dict, spool) -> Window:
    """The run's window, made of the markets' (in market order); its log is merged into `spool`
    when it is first read."""
    logs = market_logs(windows)
    traits = []
    for window in windows:
        traits += window.tutor_traits
    for i, row in enumerate(traits):                 # numbered market after market
        traits[i] = {**row, "tutor_id": tutor_id(i)}
    totals = [[sum(x) for x in zip(*day)] for day in zip(*(w.rating_totals for w in windows))]
    return Window(scenario, document, windows[0].calendar, logs.counts(), spool, traits,
                  [d for w in windows for d in w.usual_devices], daily_series(windows, totals), totals,
                  markets=logs)


def market_logs(windows: list[Window]) -> MarketLogs:
    return MarketLogs([(w.spool, w.counts) for w in windows], [len(w.tutor_traits) for w in windows])


def daily_series(windows: list[Window], totals: list) -> dict:
    """world/model.py's daily series of the whole platform: the day, the mean rating of all the
    markets' ratings that day, and every other series (counts, expected quits) summed."""
    out = {}
    for name in windows[0].daily:
        days = list(zip(*(w.daily[name] for w in windows)))
        if name == "day":
            out[name] = [values[0] for values in days]
        elif name == "mean_rating":
            out[name] = [round(s / n, 3) if n else None for s, n in totals]
        else:
            out[name] = [_total(values) for values in days]
    return out


def _total(values):
    """A day's series summed over the markets (a float to world/model.py's 6 decimals)."""
    total = sum(values)
    return round(total, 6) if isinstance(total, float) else total
