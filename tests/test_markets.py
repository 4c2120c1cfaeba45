"""A platform split into markets (pipeline/markets.py, output/market_logs.py): the run's log is
each market's own simulation, renumbered and merged, nothing more and nothing lost; its numbers
are dense and in time order as one platform's; the daily series add up; and the files do not depend
on --jobs."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from output.recorder import load_log, read_spool
from pipeline.markets import market_scenarios
from pipeline.one_run import run, simulate_window
from world.events import SCHEMA
from world.scenario import load

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / "scenarios" / "dev.toml"
MARKETS = ["platform.markets=2"]


@pytest.fixture(scope="module")
def split(tmp_path_factory):
    """A dev run in two markets, and each market simulated on its own."""
    tmp = tmp_path_factory.mktemp("markets")
    scenario = load(DEV, MARKETS)
    run(scenario, {}, tmp / "run", jobs=1)
    alone = []
    for k, market in enumerate(market_scenarios(scenario)):
        model, _, counts = simulate_window(market, spool=tmp / f"alone{k}")
        daily = pd.DataFrame(model.datacollector.model_vars)
        daily["ratings"] = [n for _, n in model.rating_totals]
        daily["rating_sum"] = [total for total, _ in model.rating_totals]
        alone.append((market, dict(read_spool(tmp / f"alone{k}", counts)), daily))
    return scenario, load_log(tmp / "run" / "events.npz"), alone, tmp / "run"


def test_the_markets_share_the_tutors_and_demand_and_draw_their_own_numbers():
    scenario = load(DEV, MARKETS)
    markets = market_scenarios(scenario)
    assert [m.tutors.count for m in markets] == [13, 12]
    assert sum(m.demand.sessions_per_day for m in markets) == pytest.approx(scenario.demand.sessions_per_day)
    assert len({m.seed for m in markets} | {scenario.seed}) == 3
    assert market_scenarios(load(DEV)) == [load(DEV)]       # one market is the scenario itself


def test_numbers_are_dense_and_in_time_order(split):
    _, log, _, _ = split
    for etype, col in (("student_arrived", "student"), ("session_booked", "session"), ("intervention", "intervention")):
        ids, t = log[etype][col], log[etype]["t"]
        assert np.array_equal(ids, np.arange(len(ids))), f"{etype}.{col} is not 0, 1, 2, ..."
        assert np.all(np.diff(t) >= 0), f"{etype} is not in time order"
    made = {"student": len(log["student_arrived"]["t"]), "session": len(log["session_booked"]["t"]),
            "intervention": len(log["intervention"]["t"]), "tutor": 25}
    for etype, table in log.items():
        for col, bound in made.items():
            if col in table:
                assert np.all((table[col] >= -1) & (table[col] < bound)), f"{etype}.{col} names no {col}"


def test_each_market_is_its_own_simulation_renumbered(split):
    """The run's rows of a market are, in order, that market simulated alone, every value the same
    and every number renumbered one to one: each event type, found by the tutor, session or
    student it names."""
    _, log, alone, _ = split
    offset = 0
    for market, own, _ in alone:
        n = market.tutors.count
        booked = log["session_booked"]
        here = (booked["tutor"] >= offset) & (booked["tutor"] < offset + n)
        assert here.sum() == len(own["session_booked"]["t"])
        numbers = {"tutor": dict(zip(range(n), range(offset, offset + n))),
                   "session": _one_to_one(own["session_booked"]["session"], booked["session"][here]),
                   "student": _one_to_one(own["session_booked"]["student"], booked["student"][here])}
        mails = log["intervention"]
        mine = (mails["tutor"] >= offset) & (mails["tutor"] < offset + n)
        numbers["intervention"] = _one_to_one(own["intervention"]["intervention"], mails["intervention"][mine])
        for etype, columns in SCHEMA.items():
            key = next((c for c in ("tutor", "session", "student", "intervention") if c in dict(columns)), None)
            if key is None:
                continue
            ours = np.isin(log[etype][key], list(numbers[key].values()))
            theirs = np.isin(own[etype][key], list(numbers[key]))
            rows = np.flatnonzero(ours)[:theirs.sum()]        # the look-ahead's quits come after
            assert len(rows) == theirs.sum(), f"{etype}: rows lost"
            for col, _ in columns:
                got, want = log[etype][col][rows], own[etype][col][theirs]
                if col in numbers:
                    want = np.array([numbers[col].get(int(x), -1) if x >= 0 else x for x in want])
                assert np.array_equal(got, want, equal_nan=want.dtype.kind == "f"), f"{etype}.{col} differs"
        offset += n


def _one_to_one(own: np.ndarray, merged: np.ndarray) -> dict:
    """The renumbering seen in aligned rows: each own number to one run's number, and back."""
    pairs = set(zip(own.tolist(), merged.tolist()))
    assert len({a for a, _ in pairs}) == len(pairs) == len({b for _, b in pairs}), "not one to one"
    return dict(pairs)


def test_rows_add_up_and_experiments_start_once(split):
    _, log, alone, _ = split
    for etype in SCHEMA:
        if etype in ("experiment_started", "tutor_quit"):
            continue
        assert len(log[etype]["t"]) == sum(len(own[etype]["t"]) for _, own, _ in alone), etype
    started = log["experiment_started"]
    assert len(np.unique(started["experiment"])) == len(started["experiment"])
    for col in ("eligible", "assigned"):
        want = sum(own["experiment_started"][col].astype(int) for _, own, _ in alone)
        assert np.array_equal(started[col], want), col
    assert len(log["experiment_assigned"]["t"]) == started["assigned"].sum()


def test_the_daily_series_are_the_markets_together(split):
    _, _, alone, folder = split
    daily = pd.read_csv(folder / "daily.csv")
    markets = [d for _, _, d in alone]
    for col in ("active_tutors", "active_students", "sessions", "open_interventions"):
        assert daily[col].tolist() == sum(d[col] for d in markets).tolist(), col
    assert np.allclose(daily["expected_quits"], sum(d["expected_quits"] for d in markets), atol=2e-6)
    # the mean of every market's ratings that day, not the mean of the markets' means
    weighted = (sum(d["rating_sum"] for d in markets) / sum(d["ratings"] for d in markets)).round(3)
    assert np.array_equal(daily["mean_rating"], weighted, equal_nan=True)
    for d in markets:       # the markets' own means, of the same totals
        assert np.array_equal(d["mean_rating"].astype(float), (d["rating_sum"] / d["ratings"]).round(3), equal_nan=True)
    assert daily["active_tutors"].iloc[0] == 25


def test_the_files_do_not_depend_on_jobs(tmp_path):
    """report.html included: with two jobs its first checks start when the first market ends
    (pipeline/worker.py `room`), with one after everything else."""
    from world.scenario import apply_overrides, read_document, validate_document
    document = apply_overrides(read_document(DEV), MARKETS)
    scenario = validate_document(document, str(DEV), MARKETS)
    run(scenario, document, tmp_path / "one", jobs=1, report=True)
    run(scenario, document, tmp_path / "two", jobs=2, report=True)
    assert (tmp_path / "two" / "report.html").is_file()
    one = sorted(p.relative_to(tmp_path / "one") for p in (tmp_path / "one").rglob("*") if p.is_file())
    two = sorted(p.relative_to(tmp_path / "two") for p in (tmp_path / "two").rglob("*") if p.is_file())
    assert one == two
    for rel in one:
        assert (tmp_path / "one" / rel).read_bytes() == (tmp_path / "two" / rel).read_bytes(), rel


def test_the_live_mode_refuses_markets_in_one_line():
    from tests.conftest import run_cli
    code, stdout, stderr = run_cli("live", str(ROOT / "scenarios" / "platform_1m.toml"),
                                   "--db", "postgresql://nobody@127.0.0.1:1/none", timeout=60)
    assert code == 2 and stdout == ""
    assert len(stderr.splitlines()) == 1 and "platform.markets" in stderr and "platform_1m.toml" in stderr, stderr
