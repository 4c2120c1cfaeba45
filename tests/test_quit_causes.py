"""The causes of churn are causes: each one, raised, raises tutors' quitting; email fatigue lowers
open rates; an unsubscribed tutor gets no more email; coaching has diminishing returns.

Each cause's effect is measured as the expected number of quits in the window, the sum of every
active tutor's daily quit hazard (the event log's `tutor_day.p_quit`), on the same seed with and
without the cause raised: the hazard of a quit that happened or not, so the comparison is not at
the mercy of a few draws, while it still needs the cause to come from what the tutor lived (a
gain that reads a signal nobody feeds would change nothing). One test on realised quits (window
and look-ahead) turns every cause off. The run: 40 tutors, 14 days (~1.5 s each).
"""
from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import simulate, simulate_all

WORLD = ("--mode", "dev", "--tutors", 40, "--sessions-per-day", 200, "--seed", 5, "--no-model",
         "--set", "outputs.engagement_events=false",
         # the veterans burn out from the warm-up on, so that their burnout weighs in a 14-day window
         "--set", "tutors.personas.burned_out_veteran.burnout_onset_day=[-14, -10]")

# cause -> the --set values that raise it (a gain, and where the cause has a floor, the floor too)
RAISED = {
    "burnout": ["behaviour.quit_burnout_gain=12"],
    "low_rating": ["behaviour.quit_low_rating_gain=4", "behaviour.quit_rating_floor=4.6"],
    "declining_rating": ["behaviour.quit_rating_decline_gain=8"],
    "poor_first_sessions": ["behaviour.quit_poor_first_gain=8"],
    "no_shows": ["behaviour.quit_no_show_gain=2"],
    "rescheduling": ["behaviour.quit_reschedule_gain=12"],
    "low_engagement": ["behaviour.quit_low_engagement_gain=2", "behaviour.quit_engagement_floor=7"],
    "declining_activity": ["behaviour.quit_activity_gain=10"],
    "email_annoyance": ["behaviour.quit_email_gain=1", "engagement.email.tolerance=0",
                        "platform.interventions.min_days_between=1"],
}
OFF = [f"behaviour.quit_{g}=0" for g in ("burnout_gain", "low_rating_gain", "rating_decline_gain",
                                          "poor_first_gain", "no_show_gain", "reschedule_gain",
                                          "low_engagement_gain", "activity_gain", "email_gain")]


def _sets(values):
    return [a for v in values for a in ("--set", v)]


def _log(folder):
    from output.recorder import load_log
    return load_log(folder / "events.npz")


def _expected_quits(folder) -> float:
    return float(_log(folder)["tutor_day"]["p_quit"].astype(float).sum())


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("causes")
    jobs = [(root / "base", WORLD)]
    # the email-annoyance run is compared with a base that emails as often, without the annoyance
    jobs.append((root / "base_email", WORLD + tuple(_sets(RAISED["email_annoyance"][2:]))))
    jobs += [(root / cause, WORLD + tuple(_sets(sets))) for cause, sets in RAISED.items()]
    jobs.append((root / "off", WORLD + tuple(_sets(OFF))))
    folders = simulate_all(jobs)
    return {job[0].name: folder for job, folder in zip(jobs, folders)}


@pytest.mark.parametrize("cause", list(RAISED))
def test_raising_a_cause_raises_the_quit_hazard_it_reads(runs, cause):
    base = runs["base_email" if cause == "email_annoyance" else "base"]
    before, after = _expected_quits(base), _expected_quits(runs[cause])
    assert after > 1.05 * before, f"{cause}: expected quits {before:.2f} -> {after:.2f}"
    # and the cause's own multiplier is what moved: it exceeds 1 on some tutor's quit, or the
    # mean hazard rose although the other causes were left as they were
    quits = _log(runs[cause])["tutor_quit"]
    if len(quits["t"]):
        assert (quits[f"m_{cause}"] >= 1.0).all()


def test_without_its_causes_churn_falls(runs):
    """Realised quits, window and look-ahead: every cause's gain at 0 leaves fewer tutors leaving."""
    def quits(folder):
        q = _log(folder)["tutor_quit"]
        return int((q["reason"] == 0).sum())
    assert quits(runs["off"]) < quits(runs["base"])
    assert _expected_quits(runs["off"]) < 0.8 * _expected_quits(runs["base"])


def test_email_fatigue_lowers_open_rates(tmp_path):
    """The same world emailing daily, with and without fatigue: fewer of the emails are opened when
    the tutors tire of them, and the recorded fatigue divisor is below 1 exactly when the tutor had
    emails in the memory."""
    from world.events import STEPS
    daily = WORLD + ("--set", "platform.interventions.min_days_between=1")
    tired, fresh = simulate_all([
        (tmp_path / "tired", daily + ("--set", "engagement.email.open_fatigue=0.5")),
        (tmp_path / "fresh", daily + ("--set", "engagement.email.open_fatigue=0",
                                      "--set", "engagement.email.click_fatigue=0"))])

    def open_rate(folder):
        st = _log(folder)["intervention_step"]
        opened = (st["step"] == STEPS.index("opened")).sum()
        decided = opened + (st["step"] == STEPS.index("unopened")).sum()
        return opened / decided, st
    r_tired, st = open_rate(tired)
    r_fresh, _ = open_rate(fresh)
    assert r_tired < r_fresh - 0.05, (r_tired, r_fresh)
    reads = np.isin(st["step"], [STEPS.index("opened"), STEPS.index("unopened")])
    assert (st["fatigue"][reads] < 1.0).any() and (st["fatigue"][reads] <= 1.0).all()


def test_an_unsubscribed_tutor_gets_no_more_email(tmp_path):
    out = simulate(tmp_path / "out", *WORLD, "--set", "platform.interventions.min_days_between=1",
                   "--set", "engagement.email.unsubscribe_base=0.2")
    log = _log(out)
    gone = log["email_unsubscribed"]
    assert len(gone["t"]) >= 3
    iv = log["intervention"]
    for tutor, t in zip(gone["tutor"], gone["t"]):
        later = (iv["tutor"] == tutor) & (iv["t"] > t)
        assert not later.any(), f"tutor {tutor} unsubscribed at {t} and was emailed after"


def test_each_coaching_call_teaches_less_than_the_one_before(tmp_path):
    """Diminishing returns: a tutor's coaching calls (outside experiments) change their traits by
    k = effect x coachability x repeat_decay ** lessons had before, so each call's k is below the
    previous one's by at least the decay of that call."""
    from world.events import CAUSES
    decay = 0.7
    out = simulate(tmp_path / "out", *WORLD, "--set", "platform.interventions.min_days_between=2",
                   "--set", "platform.interventions.first_session_rating=3.5",
                   "--set", "engagement.email.click_scale=2", "--set", f"platform.coaching.repeat_decay={decay}")
    tc = _log(out)["trait_change"]
    coached = (tc["cause"] == CAUSES.index("coaching")) & (tc["experiment"] == -1)
    pairs = 0
    for tutor in np.unique(tc["tutor"][coached]):
        k = tc["k"][coached & (tc["tutor"] == tutor)].astype(float)
        for before, after in zip(k[:-1], k[1:]):
            assert after <= before * decay * (1 + 1e-5), (tutor, k)
            pairs += 1
    assert pairs >= 5
