"""The simulating process (pipeline/simulator.py): what it hands over is what simulating in the
run's own process gives, it has ended by the time the look-ahead's events arrive, and its errors
reach the command line as one line."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from analysis.cpus import can_fork

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / "scenarios" / "dev.toml"

pytestmark = pytest.mark.skipif(not can_fork(), reason="the simulating process is a fork; this platform has none")


def spooled(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_the_simulating_process_hands_over_what_simulating_here_gives_and_ends(tmp_path):
    from pipeline.one_run import lookahead_events, simulate_window, simulation
    from pipeline.window import Window
    from pipeline.simulator import Simulator
    from world.scenario import load

    scenario = load(DEV)
    model, _, counts = simulate_window(scenario, spool=tmp_path / "here")
    here = Window.at_end_of(model, counts, scenario, {})
    after_here = lookahead_events(model, here)

    simulator = Simulator.start(simulation(scenario, {}, False, tmp_path / "there"))
    try:
        there, window_s = simulator.window()
        after_there, lookahead_s = simulator.lookahead()
        assert simulator.exitcode == 0, "the look-ahead's events came before the process ended"
    finally:
        simulator.close()
    assert window_s > 0 and lookahead_s > 0
    assert there.counts == here.counts and there.booked_before_end == here.booked_before_end
    assert there.tutor_traits == here.tutor_traits and there.daily == here.daily
    assert set(after_there) == set(after_here)
    for etype, columns in after_here.items():
        assert set(after_there[etype]) == set(columns), etype
        for name, values in columns.items():
            assert np.array_equal(after_there[etype][name], values), f"{etype}.{name}"
    assert spooled(tmp_path / "there") == spooled(tmp_path / "here"), "the spooled event logs differ"


def test_an_error_while_simulating_is_raised_in_the_run_as_itself(tmp_path, monkeypatch):
    """The spool's last flush finds the disk full: the run's process raises that OSError, with the
    file's name."""
    import errno

    from output import recorder
    from pipeline.one_run import simulation
    from pipeline.simulator import Simulator
    from world.scenario import load

    def no_space(self):
        raise OSError(errno.ENOSPC, "No space left on device", str(self.spool))
    monkeypatch.setattr(recorder.Recorder, "flush", no_space)     # the fork inherits it
    scenario = load(DEV)
    simulator = Simulator.start(simulation(scenario, {}, False, tmp_path / "spool"))
    try:
        with pytest.raises(OSError) as raised:
            simulator.window()
    finally:
        simulator.close()
    assert raised.value.errno == errno.ENOSPC and raised.value.filename == str(tmp_path / "spool")


def test_a_simulation_killed_on_the_way_is_one_line_exit_1_and_nothing_written(tmp_path):
    """The simulating process dies (the kernel's out-of-memory killer sends SIGKILL): the run says
    so in one line, exits 1, and leaves neither the output folder nor its temporary folder."""
    script = ("import os, signal, sys, run\nfrom world import model\n"
              "step = model.Platform.step\n"
              "def killed(self):\n"
              "    if self.steps == 3:\n"
              "        os.kill(os.getpid(), signal.SIGKILL)\n"
              "    step(self)\n"
              "model.Platform.step = killed\n"
              "sys.exit(run.main(sys.argv[1:]))\n")
    done = subprocess.run([sys.executable, "-c", script, "--mode", "dev", "--jobs", "2", "--no-progress",
                           "--out", str(tmp_path / "out")], cwd=ROOT, capture_output=True, text=True, timeout=120)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1, done.stderr
    assert len(lines) == 1 and "killed (signal 9" in lines[0] and "Traceback" not in done.stderr, done.stderr
    assert list(tmp_path.iterdir()) == []
