"""The look-ahead, the churn labels and the churn model.

- The look-ahead (days simulated after the window, for the labels) changes nothing that the
  tables show: a run with lookahead 0 and one with lookahead 30 write byte-identical tables, on
  the dev scenario and on production.
- ground_truth/churn_labels.csv agrees with tutor_profiles.csv.
- On the churn study scenario at twice its size (600 tutors, 60 days of look-ahead, ~60
  positives, ~30 s) the learned model beats chance out of fold, and the spec's formula and the
  learned models are scored on the same folds.
- Too few positives, or one class: metrics.json says so and the run goes on.
- Training in several processes (forked) writes the same bytes as in one.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import DEV_SEED, ROOT, run_cli, simulate

# every file a run writes that the look-ahead must leave alone (churn_labels.csv is its purpose,
# run.json records the scenario, model/ is trained on the labels)
WINDOW_FILES = ["tutor_profiles.csv", "sessions.csv", "tutor_aggregates.csv", "engagement_events.csv",
                "interventions.csv", "experiments.csv", "experiment_assignments.csv",
                "ground_truth/reschedules.csv", "ground_truth/tutor_traits.csv",
                "ground_truth/students.csv", "daily.csv", "events.npz"]
STUDY_SEED = 1


def assert_same_files(a: Path, b: Path) -> None:
    """Every window file the same bytes; events.npz the same window log (entry by entry), the
    look-ahead's quits added to it (output/recorder.py AFTER_WINDOW) all after the window's end."""
    import zipfile
    from output.recorder import AFTER_WINDOW
    different = [name for name in WINDOW_FILES if name != "events.npz"
                 and (a / name).read_bytes() != (b / name).read_bytes()]
    assert not different, f"the look-ahead changed {different}"
    entries = []
    for run in (a, b):
        with zipfile.ZipFile(run / "events.npz") as zf:
            entries.append({n: zf.read(n) for n in zf.namelist() if not n.startswith(AFTER_WINDOW + ".")})
    assert entries[0] == entries[1], "the look-ahead changed the window's event log"
    for run in (a, b):
        manifest = json.loads((run / "run.json").read_text())
        end = (manifest["warmup_days"] + manifest["window_days"]) * 1440
        with np.load(run / "events.npz") as data:
            if f"{AFTER_WINDOW}.t.npy" in data.files:
                assert (data[f"{AFTER_WINDOW}.t"] >= end).all()


# --- the look-ahead --------------------------------------------------------------------------

def test_lookahead_leaves_every_table_byte_identical_dev(tmp_path):
    runs = {}
    for days in (0, 30):
        runs[days] = simulate(tmp_path / f"la{days}", "--mode", "dev", "--seed", DEV_SEED, "--no-model",
                              "--set", f"calendar.lookahead_days={days}")
    assert_same_files(runs[0], runs[30])
    labels = {d: pd.read_csv(runs[d] / "ground_truth" / "churn_labels.csv") for d in runs}
    assert (labels[0]["horizon_days"] == 0).all() and (labels[30]["horizon_days"] == 30).all()
    # whoever had stopped by the window's end is churned in both; the look-ahead can only add
    assert (labels[30]["churned"] | ~labels[0]["churned"]).all()


def test_lookahead_leaves_every_table_byte_identical_production(production_run, tmp_path):
    """production.toml simulates 30 days after the window; the same run without them."""
    assert json.loads((production_run / "run.json").read_text())["lookahead_days"] == 30
    without = simulate(tmp_path / "la0", "--no-model", "--set", "calendar.lookahead_days=0")
    assert_same_files(production_run, without)


def test_second_process_writes_the_same_bytes_as_one_process(dev_run, tmp_path):
    """With --jobs 2 a second process writes the tables while the look-ahead is simulated, then
    the labels and the model; with --jobs 1 everything runs in one. Every file of the run, labels
    and model included, is the same."""
    code, stdout, stderr = run_cli("--mode", "dev", "--seed", DEV_SEED, "--jobs", "2", "--no-progress",
                                   "--out", tmp_path / "forked")
    assert code == 0, stderr
    assert "while a second process wrote the tables" in stdout, "the tables were not written by a second process"
    serial = simulate(tmp_path / "serial", "--mode", "dev", "--seed", DEV_SEED, "--jobs", "1", report=True)
    files = sorted(str(f.relative_to(serial)) for f in serial.rglob("*") if f.is_file())
    assert "ground_truth/churn_labels.csv" in files and "model/metrics.json" in files
    assert files == sorted(str(f.relative_to(dev_run)) for f in dev_run.rglob("*") if f.is_file())
    different = [f for f in files if (serial / f).read_bytes() != (tmp_path / "forked" / f).read_bytes()]
    assert not different, f"--jobs 1 and --jobs 2 differ in {different}"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here: everything runs in one process")
def test_a_worker_that_dies_reading_the_log_leaves_the_files_one_process_writes(tmp_path, monkeypatch):
    """With --jobs 2 the second process reads the window's log from the run's spool. If it dies
    doing so, the simulating process writes everything itself, from the spool as it was at the
    window's end (the look-ahead only added to it): the same files."""
    from pipeline import one_run as pipeline
    from world.scenario import read_document, validate_document
    parent, read_log = os.getpid(), pipeline.Window.read_log

    def dies_in_the_worker(self):
        if os.getpid() != parent:
            os._exit(3)
        return read_log(self)
    monkeypatch.setattr(pipeline.Window, "read_log", dies_in_the_worker)
    path = ROOT / "scenarios" / "dev.toml"
    document = read_document(path)
    scenario = validate_document(document, str(path))
    summary = pipeline.run(scenario, document, tmp_path / "forked", jobs=2)
    assert not summary["tables_beside_lookahead"], "the worker cannot have written the tables"
    assert not (tmp_path / "forked" / ".events").exists()
    monkeypatch.setattr(pipeline.Window, "read_log", read_log)
    pipeline.run(scenario, document, tmp_path / "serial", jobs=1)
    files = sorted(str(f.relative_to(tmp_path / "serial")) for f in (tmp_path / "serial").rglob("*") if f.is_file())
    assert "ground_truth/churn_labels.csv" in files
    different = [f for f in files if (tmp_path / "serial" / f).read_bytes() != (tmp_path / "forked" / f).read_bytes()]
    assert not different, f"after the fork died the files differ in {different}"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here: everything runs in one process")
def test_a_worker_that_dies_while_the_window_is_sent_costs_nothing_but_time(dev_run, tmp_path):
    """The worker dies just as the window is handed over: the run does not wait for its answer
    (it would hang) and writes everything itself, the same files as ever."""
    script = (
        "import sys, run; from pipeline import worker\n"
        "hand_over = worker.Worker.write_tables\n"
        "def then_die(self, *args):\n"
        "    handed = hand_over(self, *args)\n"
        "    self._process.kill()\n"
        "    return handed\n"
        "worker.Worker.write_tables = then_die\n"
        "sys.exit(run.main(sys.argv[1:]))\n")
    done = subprocess.run([sys.executable, "-c", script, "--mode", "dev", "--seed", str(DEV_SEED), "--jobs", "2",
                           "--no-progress", "--out", str(tmp_path / "out")],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "while a second process wrote the tables" not in done.stdout, "the dead worker cannot have written them"
    files = sorted(str(f.relative_to(dev_run)) for f in dev_run.rglob("*") if f.is_file())
    different = [f for f in files if (dev_run / f).read_bytes() != (tmp_path / "out" / f).read_bytes()]
    assert not different, f"after the worker died the files differ in {different}"


def test_churn_labels_agree_with_the_profiles(production_run):
    labels = pd.read_csv(production_run / "ground_truth" / "churn_labels.csv", keep_default_na=False)
    profiles = pd.read_csv(production_run / "tutor_profiles.csv")
    run = json.loads((production_run / "run.json").read_text())
    assert list(labels.columns) == ["tutor_id", "churned", "churned_at", "reason", "horizon_days"]
    assert labels["tutor_id"].tolist() == profiles["tutor_id"].tolist()
    churned = labels["churned"].astype(str) == "True"
    assert ((labels["churned_at"] != "") == churned).all(), "churned_at is given exactly for churned tutors"
    assert set(labels.loc[churned, "reason"]) <= {"quit", "suspended"}
    assert (labels.loc[~churned, "reason"] == "").all()
    end = pd.Timestamp(run["window_end"])
    at = pd.to_datetime(labels["churned_at"].where(churned))
    before_end = churned & (at < end)
    assert (before_end.to_numpy() == ~profiles["active_status"].to_numpy()).all(), \
        "a tutor is churned before the window's end exactly when active_status is False"
    assert (at[churned] < end + pd.Timedelta(days=30)).all()
    assert (churned & (at >= end)).any(), "nobody stopped in the 30 days after the production window"


# --- the model on the churn study ------------------------------------------------------------

@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Path:
    """scenarios/churn_study.toml at twice its size (600 tutors, 60 days after the window, ~60
    tutors churning), seed 1, with its model: at 300 tutors the out-of-fold AUC of one seed rests
    on 25-35 positives and moves by 0.15 from seed to seed."""
    return simulate(tmp_path_factory.mktemp("study") / "out", "scenarios/churn_study.toml",
                    "--seed", STUDY_SEED, "--tutors", 600, "--sessions-per-day", 3000)


def metrics_of(folder: Path) -> dict:
    return json.loads((folder / "model" / "metrics.json").read_text())


def test_learned_model_beats_chance_out_of_fold(study):
    m = metrics_of(study)
    assert m["status"] == "trained", m
    assert m["positives"] >= 40, f"only {m['positives']} positives in the churn study"
    auc = m["models"]["logistic"]["roc_auc"]["mean"]
    assert auc > 0.6, f"logistic regression ROC AUC out of fold {auc:.3f} <= 0.6"
    for name in ("spec_formula", "logistic", "gradient_boosting"):
        scores = m["models"][name]
        assert 0 <= scores["brier"]["mean"] <= 1
        assert len(scores["roc_auc"]["per_repeat"]) == m["cv"]["n_repeats"]
    assert m["models"]["logistic"]["pr_auc"]["mean"] > m["base_rate"], "PR AUC no better than the base rate"


def test_spec_formula_and_learned_models_share_the_same_folds(study):
    m = metrics_of(study)
    cv = m["cv"]
    hashes = {name: s["fold_hash"] for name, s in m["models"].items()}
    assert set(hashes.values()) == {cv["fold_hash"]}, hashes
    # the recorded folds are the ones hashed, a stratified partition of the rows in every repeat
    h = hashlib.sha256()
    for k, test in enumerate(cv["test_folds"]):
        h.update(f"{k}:".encode() + ",".join(map(str, sorted(test))).encode() + b";")
    assert h.hexdigest()[:16] == cv["fold_hash"]
    assert len(cv["test_folds"]) == cv["n_splits"] * cv["n_repeats"]
    labels = pd.read_csv(study / "ground_truth" / "churn_labels.csv").set_index("tutor_id")
    y = labels.loc[cv["tutor_ids"], "churned"].to_numpy(bool)
    assert y.sum() == m["positives"] and len(y) == m["rows"]
    for r in range(cv["n_repeats"]):
        folds = cv["test_folds"][r * cv["n_splits"]:(r + 1) * cv["n_splits"]]
        together = sorted(i for f in folds for i in f)
        assert together == list(range(m["rows"])), f"repeat {r}: the folds are not a partition of the rows"
        assert all(y[f].sum() >= 1 for f in folds), f"repeat {r}: a fold without a positive"


def test_population_is_the_tutors_active_at_the_window_end(study):
    m = metrics_of(study)
    profiles = pd.read_csv(study / "tutor_profiles.csv")
    assert m["rows"] == int(profiles["active_status"].sum())
    assert "active_status" not in m["features"] and "churn_probability" not in m["features"]
    assert m["tutors"] - m["rows"] == m["stopped_before_window_end"]


def test_saved_model_is_json_and_reproduces_the_fitted_pipeline(study):
    from analysis import churn as cm
    folder = study / "model"
    for name in ("metrics.json", "churn_model.json", "feature_importance.png", "calibration.png"):
        assert (folder / name).is_file(), f"model/{name} was not written"
        assert (folder / name).stat().st_size > 0
    assert (folder / "calibration.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    saved = cm.load_model(folder / "churn_model.json")
    assert saved["sklearn_version"] and saved["format_version"] == cm.MODEL_FORMAT_VERSION
    data = cm.load_dataset(study)
    ours = cm.predict(saved, data["X"])
    ref = cm.logistic_model(STUDY_SEED).fit(data["X"].to_numpy("float64"), data["y"])
    theirs = ref.predict_proba(data["X"].to_numpy("float64"))[:, 1]
    assert np.allclose(ours, theirs, atol=1e-9), "the JSON model does not give the pipeline's probabilities"


def test_model_command_retrains_to_the_same_metrics(study, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(study, copy)
    shutil.rmtree(copy / "model")
    code, out, err = run_cli("model", copy, timeout=120)
    assert code == 0, err
    assert out.startswith("churn model: "), out
    assert (copy / "model" / "metrics.json").read_bytes() == (study / "model" / "metrics.json").read_bytes()
    assert (copy / "model" / "churn_model.json").read_bytes() == (study / "model" / "churn_model.json").read_bytes()


MODEL_FILES = ("metrics.json", "churn_model.json", "feature_importance.png", "calibration.png")


def train_copy(study: Path, folder: Path, jobs: int) -> dict:
    """Train on a copy of the study's tables (without its model/); {file name: bytes} written."""
    from analysis import churn as cm
    shutil.copytree(study, folder, ignore=shutil.ignore_patterns("model"))
    assert cm.train(folder, STUDY_SEED, jobs=jobs)["status"] == "trained"
    return {name: (folder / "model" / name).read_bytes() for name in MODEL_FILES}


@pytest.fixture
def counted_forks(monkeypatch) -> list:
    """Whether each request for a fork (the helper, a cross-validation worker) was granted."""
    from analysis.churn import processes as cm
    granted, real = [], cm._fork_context

    def counting():
        ctx = real()
        granted.append(ctx is not None)
        return ctx
    monkeypatch.setattr(cm, "_fork_context", counting)
    return granted


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here: the model always trains in one process")
def test_training_in_two_processes_writes_the_same_bytes(study, tmp_path, counted_forks):
    serial = train_copy(study, tmp_path / "jobs1", jobs=1)
    assert counted_forks == [], "jobs=1 asked for a fork"
    parallel = train_copy(study, tmp_path / "jobs2", jobs=2)
    # scikit-learn is loaded here (by jobs=1): the helper shares the fits, no other fork is needed
    assert counted_forks == [True], "jobs=2 did not fork one helper for the figures and the fits"
    for name in MODEL_FILES:
        assert serial[name] == parallel[name], f"model/{name} differs between jobs=1 and jobs=2"
    # and the run itself (default jobs, in its own process) wrote the same
    assert serial["metrics.json"] == (study / "model" / "metrics.json").read_bytes()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here: the model always trains in one process")
def test_a_forked_worker_that_dies_costs_nothing_but_time(study, tmp_path, counted_forks, monkeypatch):
    """Its share of the fits (or its figures) is done again in the parent: same files. The helper
    dies at its first task (the feature figure), as does a worker forked once it is seen gone."""
    from analysis.churn import processes as cm
    parent = os.getpid()
    real_fit, real_figure = cm._fit_predict, cm.FIGURES["feature_importance.png"]

    def die_in_child(real):
        def wrapper(*args):
            if os.getpid() != parent:
                os._exit(3)
            return real(*args)
        return wrapper
    monkeypatch.setattr(cm, "_fit_predict", die_in_child(real_fit))
    monkeypatch.setitem(cm.FIGURES, "feature_importance.png", die_in_child(real_figure))
    files = train_copy(study, tmp_path / "dying", jobs=2)
    assert counted_forks and all(counted_forks)
    for name in MODEL_FILES:
        assert files[name] == (study / "model" / name).read_bytes(), f"model/{name} differs"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here: the model always trains in one process")
def test_fits_a_worker_took_before_it_died_are_done_in_the_parent(study, tmp_path, monkeypatch):
    """The fits are taken from a shared queue: those a forked process took but never returned (it
    died at its third) are found missing and done in the parent. Same files."""
    from analysis.churn import processes as cm
    parent, real = os.getpid(), cm.LEARNED["gradient_boosting"]
    built = []                                  # a copy in each forked process

    def dies_at_its_third_fit(seed):
        if os.getpid() != parent:
            built.append(seed)
            if len(built) == 3:
                os._exit(3)
        return real(seed)
    monkeypatch.setitem(cm.LEARNED, "gradient_boosting", dies_at_its_third_fit)
    files = train_copy(study, tmp_path / "dying", jobs=2)
    for name in MODEL_FILES:
        assert files[name] == (study / "model" / name).read_bytes(), f"model/{name} differs"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here: everything runs in one process")
def test_worker_ends_by_itself_when_the_run_fails_before_the_window():
    """A run that fails before it hands the window over tells its second process so: the worker
    must end on its own (exit code 0), not wait until close() gives up and terminates it."""
    from pipeline.worker import Worker
    worker = Worker.start(train_model=True)
    assert worker is not None, "where fork exists no worker was started"
    process = worker._process
    worker.close()
    assert process.exitcode == 0, f"the worker did not end on its own (exit code {process.exitcode})"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here: everything runs in one process")
def test_the_simulating_process_never_imports_the_models_libraries(tmp_path):
    """With --jobs 2 the second process writes the files and trains the model: the simulating
    process is spared importing scikit-learn and matplotlib. (pandas and scipy it does import:
    `import mesa` brings them, through mesa's DataCollector and its continuous space.)"""
    script = ("import sys, run; code = run.main(['--mode', 'dev', '--jobs', '2', '--no-progress', "
              f"'--out', {str(tmp_path / 'out')!r}]); "
              "print(code, sorted(m for m in ('sklearn', 'matplotlib') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "0 []", done.stdout


# --- skipping --------------------------------------------------------------------------------

def test_no_lookahead_skips_the_model_with_one_line(tmp_path):
    out = tmp_path / "out"
    code, stdout, stderr = run_cli("--mode", "dev", "--seed", DEV_SEED, "--out", out, "--no-progress",
                                   "--set", "calendar.lookahead_days=0")
    assert code == 0, stderr
    m = metrics_of(out)
    assert m["status"] == "skipped" and "look-ahead" in m["reason"]
    lines = [line for line in stdout.splitlines() if "churn model" in line]
    assert len(lines) == 1 and "skipped" in lines[0], stdout
    assert not (out / "model" / "churn_model.json").exists()


@pytest.mark.parametrize("positives", [0, 3])
def test_one_class_or_few_positives_skip_without_crash(dev_run, tmp_path, positives):
    copy = tmp_path / "copy"
    shutil.copytree(dev_run, copy)
    path = copy / "ground_truth" / "churn_labels.csv"
    labels = pd.read_csv(path)
    profiles = pd.read_csv(copy / "tutor_profiles.csv")
    labels["horizon_days"] = 14
    active = profiles["active_status"].to_numpy(bool)
    labels.loc[active, ["churned", "churned_at", "reason"]] = [False, None, None]
    run = json.loads((copy / "run.json").read_text())
    for i in np.flatnonzero(active)[:positives]:
        labels.loc[i, ["churned", "churned_at", "reason"]] = [True, f"{run['window_end']} 09:00:00", "quit"]
    labels.to_csv(path, index=False)
    code, out, err = run_cli("model", copy)
    assert code == 0, err
    m = metrics_of(copy)
    assert m["status"] == "skipped" and m["positives"] == positives, m
    assert out.count("\n") == 2 and "skipped" in out.splitlines()[0], out


def test_no_model_flag_trains_nothing(dev_run, tmp_path):
    out = simulate(tmp_path / "out", "--mode", "dev", "--seed", DEV_SEED, "--no-model")
    assert not (out / "model").exists()
    assert (dev_run / "model" / "metrics.json").is_file(), "a default run writes model/metrics.json"


def test_model_command_bad_input_is_one_line_exit_2(tmp_path):
    code, out, err = run_cli("model", tmp_path / "missing")
    assert code == 2 and err.count("\n") == 1 and "missing" in err, err


def test_train_safely_never_raises(tmp_path):
    from analysis.churn import train_safely
    (tmp_path / "tutor_profiles.csv").write_text("tutor_id\nT0001\n")
    result = train_safely(tmp_path, 1)
    assert result["status"] == "error", result
    assert json.loads((tmp_path / "model" / "metrics.json").read_text())["status"] == "error"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here: everything runs in one process")
def test_a_run_failing_while_its_worker_writes_leaves_nothing_behind(tmp_path, monkeypatch):
    """The look-ahead fails while the second process is writing the tables into the temporary
    folder: the worker is stopped before that folder is removed, so nothing is left behind."""
    from pipeline import one_run as pipeline
    from world.model import Platform
    from world.scenario import read_document, validate_document

    def broken(self, on_day=None):
        raise RuntimeError("the look-ahead broke")
    monkeypatch.setattr(Platform, "run_lookahead", broken)
    path = ROOT / "scenarios" / "dev.toml"
    document = read_document(path)
    with pytest.raises(RuntimeError, match="the look-ahead broke"):
        pipeline.run(validate_document(document, str(path)), document, tmp_path / "out", jobs=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == []
