"""The event log spooled to disk while the simulation runs (output/recorder.py): the tables flattened
from the spooled chunks are the tables of the log held whole, whatever the chunk size; what the
simulation keeps in memory is the present (students on the platform, bookings ahead), not the
history; a run that cannot write its spool fails with one line and leaves nothing behind.
"""
from __future__ import annotations

import random

import numpy as np
import pytest

from tests.conftest import ROOT

DEV = ROOT / "scenarios" / "dev.toml"


def test_a_spooled_table_reads_back_as_the_table_held_in_memory(tmp_path, monkeypatch):
    """Appends, daily extends and packs at uneven moments: the spool's columns, read back whole or
    cut at an earlier count, are the in-memory table's, value for value."""
    from output import recorder
    monkeypatch.setattr(recorder, "CHUNK_ROWS", 7)
    columns = [("t", "f8"), ("who", "i4"), ("flag", "?"), ("p", "f4")]
    held, spooled = recorder.EventTable("probe", columns), recorder.EventTable("probe", columns, tmp_path)
    rng = random.Random(3)
    counts = []
    for step in range(300):
        if rng.random() < 0.2:
            n = rng.randint(0, 5)
            cols = [[rng.random() for _ in range(n)], [rng.randint(0, 99) for _ in range(n)],
                    [rng.random() < 0.5 for _ in range(n)], [rng.random() for _ in range(n)]]
            held.extend(cols)
            spooled.extend(cols)
        else:
            row = (rng.random() * 1e4, rng.randint(-5, 10 ** 6), rng.random() < 0.5, rng.random())
            held.append(row)
            spooled.append(row)
        if len(spooled.rows) >= recorder.CHUNK_ROWS:
            held.pack()
            spooled.pack()
            counts.append(len(spooled))
    whole, back = held.arrays(), spooled.arrays()
    assert len(spooled) == len(held) == len(whole["t"]) > 100
    for name, dtype in columns:
        assert back[name].dtype == np.dtype(dtype)
        assert np.array_equal(back[name], whole[name]), f"column {name} differs after the spool"
    cut = counts[len(counts) // 2]
    early = {name: np.fromfile(recorder.spool_path(tmp_path, "probe", name), dtype=dtype, count=cut)
             for name, dtype in columns}
    for name, _ in columns:
        assert np.array_equal(early[name], whole[name][:cut])


def _run(out, jobs, monkeypatch=None, chunk_rows=None):
    from pipeline import one_run
    from world.scenario import read_document, validate_document
    if chunk_rows is not None:
        from output import recorder
        monkeypatch.setattr(recorder, "CHUNK_ROWS", chunk_rows)
    document = read_document(DEV)
    one_run.run(validate_document(document, str(DEV)), document, out, jobs=jobs)
    return out


def _files(folder):
    return {str(f.relative_to(folder)): f.read_bytes() for f in sorted(folder.rglob("*")) if f.is_file()}


def test_tables_from_small_chunks_are_the_tables_from_one_chunk(tmp_path, monkeypatch):
    """The dev run with its log spooled in chunks of 97 rows (thousands of chunks) and in chunks
    larger than the run (one chunk per event type, packed at the window's end): every file the
    same bytes, except run.json, which says nothing of chunks either."""
    small = _files(_run(tmp_path / "small", 1, monkeypatch, chunk_rows=97))
    whole = _files(_run(tmp_path / "whole", 1, monkeypatch, chunk_rows=10 ** 9))
    assert "sessions.csv" in small and "events.npz" in small and "ground_truth/students.csv" in small
    assert small.keys() == whole.keys()
    different = [name for name in small if small[name] != whole[name]]
    assert not different, f"chunked and unchunked flattening differ in {different}"
    assert not any(name.startswith(".events") for name in small), "the spool was left in the run folder"


def test_sessions_written_in_parts_are_the_sessions_written_whole(tmp_path, monkeypatch):
    """sessions.csv built and written 37 rows at a time (output/tables.py `sessions_parts`), by the
    run's second process, which keeps the parts on disk for the report: every file the same bytes
    as with one part, report.html included, except sessions.parquet, which has a row group per
    part and the same rows and values."""
    import pyarrow.parquet as pq

    from output import tables
    from pipeline import one_run
    from world.scenario import apply_overrides, read_document, validate_document

    def run(out, part_rows):
        monkeypatch.setattr(tables, "PART_ROWS", part_rows)
        document = apply_overrides(read_document(DEV), ['outputs.format="both"'])
        one_run.run(validate_document(document, str(DEV)), document, out, jobs=2, report=True)
        return _files(out)

    parts, whole = run(tmp_path / "parts", 37), run(tmp_path / "whole", 10 ** 9)
    assert "report.html" in parts and parts.keys() == whole.keys()
    assert pq.ParquetFile(tmp_path / "parts" / "sessions.parquet").num_row_groups > 20
    assert pq.ParquetFile(tmp_path / "whole" / "sessions.parquet").num_row_groups == 1
    assert pq.read_table(tmp_path / "parts" / "sessions.parquet").equals(
        pq.read_table(tmp_path / "whole" / "sessions.parquet"))
    different = [name for name in parts if parts[name] != whole[name] and name != "sessions.parquet"]
    assert not different, f"sessions in parts and whole differ in {different}"


def test_the_simulation_keeps_the_present_not_the_history(tmp_path):
    """At the window's end the model holds the students on the platform only (Mesa too), and the
    tutors' bookings of the days ahead only; the students who left are in the log, with their
    traits."""
    from agents.student import Student
    from pipeline.one_run import simulate_window
    from world.scenario import load
    model, _, counts = simulate_window(load(DEV), spool=tmp_path / "spool")
    arrived = model.recorder.student_arrived.arrays()
    assert counts["student_arrived"] == len(arrived["student"]) > model.active_students > 0, \
        "no student left in the dev run: nothing to forget"
    assert len(model.students) == model.active_students
    assert all(s.active for s in model.students.values())
    assert len(model.agents_by_type[Student]) == model.active_students, "Mesa still holds students who left"
    first_hour = (model.calendar.total_days - 7) * 24
    old = [t.tutor_id for t in model.tutors if any(k < first_hour for k in t.booked_slots)]
    assert not old, f"tutors {old[:5]} still hold bookings of more than a week ago"


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_full_disk_is_one_line_exit_1_and_nothing_written(tmp_path, jobs):
    """The run's spool cannot be written (no space left on the device; made to fail from inside,
    since a small file system needs privileges to mount): one line naming the problem, exit 1,
    and neither the output folder nor its temporary folder left."""
    import subprocess
    import sys
    script = ("import errno, sys, run\nfrom output import recorder\n"
              "def no_space(self, chunk):\n"
              "    raise OSError(errno.ENOSPC, 'No space left on device', str(self.spool))\n"
              "recorder.EventTable._keep = no_space\n"
              "sys.exit(run.main(sys.argv[1:]))\n")
    done = subprocess.run([sys.executable, "-c", script, "--mode", "dev", "--jobs", jobs, "--no-progress", "--out", str(tmp_path / "out")],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "no space left" in lines[0].lower() and "Traceback" not in done.stderr, done.stderr
    assert not (tmp_path / "out").exists() and list(tmp_path.iterdir()) == []
