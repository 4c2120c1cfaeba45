"""The command line when things go wrong: bad input is one line on stderr and exit 2, Ctrl-C is
one line and exit 130, and neither leaves anything half-written; a reader that goes away gets no
traceback.
"""
from __future__ import annotations

import time
import tomllib
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli, stop_as_a_user

def _invalid_toml(tmp: Path):
    path = tmp / "broken.toml"
    path.write_text('name = "broken"\n[calendar\nwindow_days = 3\n')
    return [str(path)], ["broken.toml"]


def _unknown_key(tmp: Path):
    path = tmp / "typo.toml"
    path.write_text(f'extends = "{(ROOT / "scenarios" / "dev.toml").as_posix()}"\n'
                    f'[behaviour]\nno_show_scael = 0.5\n')
    return [str(path)], ["typo.toml", "no_show_scael"]


BAD_INPUT = {
    "tutors-zero": lambda tmp: (["--tutors", "0"], ["--tutors", "0"]),
    "tutors-negative": lambda tmp: (["--tutors", "-3"], ["--tutors", "-3"]),
    "tutors-not-a-number": lambda tmp: (["--tutors", "abc"], ["--tutors", "abc"]),
    "unknown-mode": lambda tmp: (["--mode", "nope"], ["--mode", "nope"]),
    "missing-scenario": lambda tmp: ([str(tmp / "no_such_scenario.toml")], ["no_such_scenario.toml"]),
    "invalid-toml": _invalid_toml,
    "unknown-key": _unknown_key,
    "negative-window": lambda tmp: (["--set", "calendar.window_days=-1"], ["window_days"]),
    "more-markets-than-tutors": lambda tmp: (["--tutors", "2", "--set", "platform.markets=3"], ["platform.markets", "3"]),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_is_one_line_exit_2_and_no_output_folder(case, tmp_path):
    args, words = BAD_INPUT[case](tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    out = tmp_path / "out"
    code, stdout, stderr = run_cli(*args, "--out", out, timeout=60)
    assert code == 2, f"exit code {code}, stderr:\n{stderr}"
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].strip(), f"stderr is not exactly one line:\n{stderr}"
    for word in words:
        assert word in lines[0], f"the error does not name {word!r}: {lines[0]}"
    assert "Traceback" not in stderr and stdout == ""
    assert not out.exists(), "--out folder created by a failed run"
    assert sorted(p.name for p in tmp_path.iterdir()) == before, "a failed run left files beside --out"


CORPUS = tomllib.loads((ROOT / "tests" / "data" / "bad_inputs.toml").read_text())["case"]


def _prepare(case: dict, tmp: Path) -> Path:
    """The case's --out, with {tmp} prepared as its `setup` says."""
    out = Path(case.get("out", "{tmp}/out").format(tmp=tmp))
    setup = case.get("setup")
    if setup == "file":
        (tmp / "afile").write_text("a file\n")
    elif setup == "out-file":
        out.write_text("a file\n")
    elif setup == "read-only":
        out.mkdir()
        (out / "mine.txt").write_text("keep\n")
        out.chmod(0o555)
    return out


@pytest.mark.parametrize("case", CORPUS, ids=[c["name"] for c in CORPUS])
def test_each_bad_input_of_the_corpus_gives_its_message_exit_2_and_writes_nothing(case, tmp_path):
    out = _prepare(case, tmp_path)
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")}
    try:
        code, stdout, stderr = run_cli(*case["args"], "--no-progress", "--out", out, timeout=60)
    finally:
        if case.get("setup") == "read-only":
            out.chmod(0o755)
    expected = [m.format(tmp=tmp_path, out=out) for m in case["message"]]
    assert (code, stderr.splitlines()) == (2, expected), stderr
    assert stdout == "" and "Traceback" not in stderr
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")} == before, "something was written"


@pytest.mark.parametrize("when, how", [("simulating", "ctrl-c"), ("writing", "ctrl-c"), ("writing", "kill")])
def test_ctrl_c_is_one_line_exit_130_and_leaves_everything_as_it_was(when, how, tmp_path):
    """Ctrl-C (SIGINT to the process group, as a terminal sends it) while the production run
    simulates the window (its second process started), or once its first file is in the temporary folder (the tables
    being written beside the look-ahead): one line on stderr, exit 130, the existing --out folder
    untouched, nothing beside it, no process left behind. A `kill` (SIGTERM to the run's own
    process only, as a service manager or a CI timeout sends it) likewise: exit 143."""
    import subprocess
    import sys
    out = tmp_path / "out"
    out.mkdir()
    (out / "marker.txt").write_text("keep me\n")

    from tests.conftest import own_group_with_ctrl_c
    proc = subprocess.Popen([sys.executable, "run.py", "--out", str(out), "--no-progress"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=own_group_with_ctrl_c)
    def group():
        table = subprocess.run(["ps", "-eo", "pid=,pgid="], capture_output=True, text=True).stdout.split()
        return [pid for pid, g in zip(table[::2], table[1::2]) if g == str(proc.pid)]
    from analysis.cpus import default_jobs
    if when == "simulating":
        # the run forks its second process once its libraries are imported, before it builds the
        # platform: wait for it (a loaded machine takes seconds to import them), then let it simulate
        deadline = time.time() + 120
        while default_jobs() >= 2 and proc.poll() is None and time.time() < deadline and len(group()) < 2:
            time.sleep(0.05)
        time.sleep(0.5)
    else:
        deadline = time.time() + 120
        while proc.poll() is None and time.time() < deadline and not any(
                f.is_file() for d in tmp_path.glob(".out.tmp-*") for f in d.rglob("*")):
            time.sleep(0.02)
    if proc.poll() is not None:
        pytest.skip(f"the run ended before it was {when}: nothing to interrupt")
    if default_jobs() >= 2:
        assert len(group()) >= 2, "the run has not started its model process: nothing to check below"
    stderr, code, line = stop_as_a_user(proc, how, "run.py")
    assert proc.returncode == code, f"exit {proc.returncode}:\n{stderr[-2000:]}"
    assert stderr.strip().splitlines() == [line], stderr[-2000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"], "an interrupted run left files beside --out"
    assert sorted(p.name for p in out.iterdir()) == ["marker.txt"]
    deadline = time.time() + 10
    while True:
        left = group()
        if not left or time.time() > deadline:
            break
        time.sleep(0.2)
    assert not left, f"processes of the interrupted run still alive: {left}"


@pytest.mark.parametrize("args", [["--tutors", "0"], ["--set", "calendar.window_days=-1"]], ids=["bad-flag", "bad-scenario"])
def test_failed_run_leaves_an_existing_output_folder_untouched(args, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "marker.txt").write_text("keep me\n")
    code, _, _ = run_cli(*args, "--out", out, timeout=60)
    assert code == 2
    assert sorted(p.name for p in out.iterdir()) == ["marker.txt"]
    assert (out / "marker.txt").read_text() == "keep me\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_reader_that_stops_reading_gets_no_traceback():
    """`run.py schema | head`: the output's reader goes away; run.py ends quietly (exit 1, like
    Python's own tools) instead of printing a BrokenPipeError traceback."""
    import subprocess
    import sys
    proc = subprocess.Popen([sys.executable, "run.py", "schema"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.close()                 # nobody reads: the first write fails
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 1, err
    assert "Traceback" not in err and "BrokenPipe" not in err, err
