"""The processes the churn model's work is shared with, and what loads them early.

With jobs >= 2 (the default where this process may use two CPUs; `jobs` argument,
`--jobs`) and where forking is safe, a forked helper renders the figures and, where scikit-learn was
loaded before it was forked (a preloaded process, pipeline/worker.py), takes its share of the
cross-validation's fits; otherwise it imports matplotlib while this one imports scikit-learn, and
the fits are shared with a forked worker (`_Helper`, `_fit_folds`). Every fit builds its model
afresh from (name, seed) and the out-of-fold predictions are assembled in the same order: the
files are the same bytes with any number of processes.
"""
from __future__ import annotations

import sys

import numpy as np

from analysis.chart.mpl import pyplot
from analysis.churn.figures import FIGURES, _figure, _png
from analysis.churn.models import LEARNED
from analysis.cpus import can_fork

SKLEARN_MODULES = ("sklearn.calibration", "sklearn.ensemble", "sklearn.impute", "sklearn.linear_model",
                   "sklearn.metrics", "sklearn.model_selection", "sklearn.pipeline", "sklearn.preprocessing")


def preload() -> None:
    """Import what training uses (SKLEARN_MODULES, matplotlib with its Agg backend), so that a
    process started early (pipeline/worker.py) has them loaded before it is asked to train."""
    import importlib
    for name in SKLEARN_MODULES:
        importlib.import_module(name)
    pyplot()


def warm_up() -> None:
    """Run, once, what training runs first: a fit of each model on made-up rows, and a small
    figure with text (matplotlib loads its font then). A preloaded process with time to spare
    (pipeline/worker.py, while the look-ahead is simulated) calls it, and the first real training,
    and the helpers it forks, then start warm: some 0.1 s sooner done. Nothing here is kept:
    every fit builds its model afresh and every figure is closed."""
    import warnings
    rows = np.random.default_rng(0).normal(size=(40, 4))
    label = np.arange(40) % 4 == 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for make in LEARNED.values():
            make(0).fit(rows, label).predict_proba(rows)
    fig, ax = _figure(figsize=(2, 2))
    ax.barh(["a", "b"], [1.0, 2.0])
    ax.set_title("warm-up")
    _png(fig)


def sklearn_loaded() -> bool:
    """Whether scikit-learn's parts are loaded here (`preload`, or an earlier training): a fork of
    this process can then fit at once, without importing them first."""
    return all(name in sys.modules for name in SKLEARN_MODULES)


def _fork_context():
    """multiprocessing's "fork" context where forking is safe here, else None (work in this process):
    not where fork does not exist, nor with other threads running (the child would inherit the
    locks they hold, not the threads), nor in a daemonic process (it may not have children)."""
    import multiprocessing as mp
    import threading
    if not can_fork():
        return None
    if threading.active_count() > 1 or mp.current_process().daemon:
        return None
    return mp.get_context("fork")


def _child_ignores_ctrl_c() -> None:
    """In a forked child: Ctrl-C is the parent's to handle (it stops its children itself)."""
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _fit_predict(tasks, Xv, y, splits, seed, indices=None) -> dict:
    """{i: the out-of-fold probabilities of tasks[i] = (model name, fold index)} for each i of
    `indices` (a list, or those taken from a `_TaskQueue` shared with other processes), or of every
    task. Each fit builds its model afresh from (name, seed), so where and after what it runs
    changes nothing.

    The first fit of each model here validates its parameters; the others, of the same constructor
    with the same arguments, skip that (the boosting model validates each of its 20 trees again:
    some 15% of its time). The check that X is finite is skipped: `cross_validate` made it once."""
    import warnings

    import sklearn
    out, validated = {}, set()
    for i in range(len(tasks)) if indices is None else indices:
        name, k = tasks[i]
        train, test = splits[k]
        model = LEARNED[name](seed)
        with sklearn.config_context(skip_parameter_validation=name in validated, assume_finite=True), \
                warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(Xv[train], y[train])
            out[i] = model.predict_proba(Xv[test])[:, 1]
        validated.add(name)
    return out


class _TaskQueue:
    """Task indices 0, 1, ..., each handed to whichever process asks first: a counter in shared
    memory, made before the fork of the processes that share it (inherited: it cannot be sent). The
    processes sharing the fits take the next one as they finish the last, and so end together
    whatever else they are given to do."""

    def __init__(self, ctx):
        self._next = ctx.Value("q", 0)

    def take(self, n: int):
        """The indices below `n` this process takes, one at a time."""
        while True:
            with self._next.get_lock():
                i = self._next.value
                self._next.value = i + 1
            if i >= n:
                return
            yield i


def _fit_folds_child(send, tasks, Xv, y, splits, seed, queue) -> None:
    _child_ignores_ctrl_c()
    try:
        reply = ("ok", _fit_predict(tasks, Xv, y, splits, seed, queue.take(len(tasks))))
    except Exception as e:  # noqa: BLE001 - the parent redoes what it took, and raises there
        reply = ("error", f"{type(e).__name__}: {e}")
    try:
        send.send(reply)
    except OSError:
        pass                                    # the parent has stopped waiting
    send.close()


def _fit_folds(tasks, Xv, y, splits, seed, jobs: int, helper=None) -> list:
    """`_fit_predict(tasks, ...)` as a list, the tasks taken from one queue (`_TaskQueue`, in the
    order of `tasks`) by this process, the `helper` where it can fit (`_Helper.share_fits`) and
    forked children, `jobs` processes in all. The tasks a child or the helper took but did not
    return (it failed or died) are done here: an error is raised as it would be in one process."""
    shared = helper is not None and len(tasks) >= 2 and helper.share_fits(tasks, splits, seed)
    ctx = _fork_context() if jobs - shared >= 2 and len(tasks) >= 2 else None
    if ctx is None and not shared:
        out = _fit_predict(tasks, Xv, y, splits, seed)
        return [out[i] for i in range(len(tasks))]
    queue = helper.queue if shared else _TaskQueue(ctx)
    forks = min(jobs - shared, len(tasks)) - 1 if ctx is not None else 0   # besides this one and the helper
    children, out = [], {}                      # children: those not known to have replied
    try:
        for _ in range(forks):
            receive, send = ctx.Pipe(duplex=False)
            process = ctx.Process(target=_fit_folds_child, name="tutorsim-churn-cv", daemon=True,
                                  args=(send, tasks, Xv, y, splits, seed, queue))
            try:
                process.start()
            except OSError:                     # no fork now (memory, process limit): fewer takers
                receive.close()
            else:
                children.append((process, receive))
            send.close()
        out.update(_fit_predict(tasks, Xv, y, splits, seed, queue.take(len(tasks))))
        for process, receive in list(children):
            try:
                status, value = receive.recv()
            except (EOFError, OSError):
                status, value = "lost", None
            if status == "ok":
                out.update(value)
                # it ends by itself, not waited for (see _Helper.close): multiprocessing reaps it
                receive.close()
                children.remove((process, receive))
        if shared:
            out.update(helper.fits())
        missing = [i for i in range(len(tasks)) if i not in out]
        out.update(_fit_predict(tasks, Xv, y, splits, seed, missing))
    finally:                                    # on an error here, or Ctrl-C: stop those still at work
        for process, receive in children:
            receive.close()
            if process.is_alive():
                process.terminate()
            process.join()
    return [out[i] for i in range(len(tasks))]


class _Helper:
    """A forked process that works beside this one on what it is asked, in the order asked: render
    a figure (FIGURES), or take its share of the cross-validation's fits (`share_fits`). Forked
    from a preloaded process (pipeline/worker.py) it renders the feature figure while this
    one starts the fits, joins in the fits, then renders the calibration figure while this one
    computes the metrics: one fork, and the two processes busy until the end. Forked from one
    without scikit-learn (run.py model) it imports matplotlib while this one imports scikit-learn,
    and only renders: a fork of this process, once it has scikit-learn, shares the fits instead.
    Both processes run the same functions: the same bytes. What the helper fails to do (or all
    that is left when it dies) is done here, where an error is raised as it would be without it."""

    def __init__(self, fork: bool, Xv, y):
        self._process = self._conn = self.queue = None
        self._can_fit = False
        self._pending, self._done = [], {}      # asked of the child, in order; {file name: PNG bytes}
        self._fits = {}                         # {task index: probabilities} the child returned
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is not None and pyplot.get_fignums():
            fork = False                        # figures open here, maybe windows: not for a fork to touch
        ctx = _fork_context() if fork else None
        if ctx is not None:
            self.queue = _TaskQueue(ctx)
            self._can_fit = sklearn_loaded()
            self._conn, child = ctx.Pipe()
            process = ctx.Process(target=_helper_child, args=(child, self._conn, Xv, y, self.queue),
                                  name="tutorsim-churn-helper", daemon=True)
            try:
                process.start()
                self._process = process
            except OSError:                     # no fork now (memory, process limit): work here
                self._conn.close()
                self._conn = None
            child.close()

    def render(self, name: str, *args) -> None:
        if not self._ask(("figure", name, args)):
            self._done[name] = FIGURES[name](*args)

    def share_fits(self, tasks, splits, seed) -> bool:
        """Ask the child to take fits of `tasks` from its `queue` (it has X and y: they were there
        at the fork); False where it cannot (gone, or it would import scikit-learn first)."""
        return self.can_fit and self._ask(("fits", tasks, splits, seed))

    @property
    def can_fit(self) -> bool:
        """Whether the child can fit at once: scikit-learn was loaded here when it was forked."""
        return self._process is not None and self._can_fit

    def fits(self) -> dict:
        """{task index: probabilities} of the fits the child took and returned, once it has."""
        self._receive(wait=True)
        return self._fits

    def results(self) -> dict:
        """{file name: PNG bytes} of every figure asked for."""
        self._receive(wait=True)
        self.close()
        return dict(self._done)

    def _ask(self, request) -> bool:
        self._receive(wait=False)   # a reply left in the pipe could keep the child from reading this
        if self._process is None:
            return False
        try:
            self._conn.send(request)
        except OSError:
            self.close(wait=False)
            return False
        self._pending.append(request)
        return True

    def _receive(self, wait: bool) -> None:
        """The child's replies: all of them (wait), or those already sent."""
        while self._pending and self._process is not None:
            try:
                if not wait and not self._conn.poll():
                    return
                status, value = self._conn.recv()
            except (EOFError, OSError):
                self.close(wait=False)
                break
            kind, *request = self._pending.pop(0)
            if kind == "fits":
                self._fits = value if status == "ok" else {}    # what it took is done here (_fit_folds)
            else:
                name, args = request
                self._done[name] = value if status == "ok" else FIGURES[name](*args)
        for kind, *request in self._pending:    # the child has gone
            if kind == "figure":
                name, args = request
                self._done[name] = FIGURES[name](*args)
        self._pending = []

    def close(self, wait: bool = True) -> None:
        """Let the child end (it does when this end closes), or end it (wait=False). A child let
        end is not waited for: it takes some 10 ms to tear down its copy of this process's memory,
        while this one writes the files; multiprocessing reaps it (when it next starts a process,
        or at exit)."""
        if self._process is None:
            return
        self._conn.close()
        if not wait:
            if self._process.is_alive():
                self._process.terminate()
            self._process.join()
        self._process = self._conn = None


def _helper_child(conn, parent_end, Xv, y, queue) -> None:
    parent_end.close()          # inherited by the fork: open here, it would keep recv() from seeing the end
    _child_ignores_ctrl_c()
    try:
        pyplot()                # now, while the parent imports scikit-learn (loaded already if preloaded)
    except Exception:  # noqa: BLE001 - rendering then fails, and the parent renders (and raises) itself
        pass
    replies = []
    while True:
        # A reply waits while another request does: a PNG is larger than the pipe holds, and
        # sending it would wait for the parent to read, which it does once its own fits are done.
        if replies and not conn.poll():
            try:
                for reply in replies:
                    conn.send(reply)
            except OSError:
                break
            replies = []
        try:
            kind, *request = conn.recv()
        except (EOFError, OSError):
            break
        try:
            if kind == "fits":
                tasks, splits, seed = request
                replies.append(("ok", _fit_predict(tasks, Xv, y, splits, seed, queue.take(len(tasks)))))
            else:
                name, args = request
                replies.append(("ok", FIGURES[name](*args)))
        except Exception as e:  # noqa: BLE001 - see above; fits it took are done by the parent
            replies.append(("error", f"{type(e).__name__}: {e}"))
    conn.close()
