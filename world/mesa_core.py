"""Mesa's core (Model, Agent, DataCollector) without the rest of mesa's package start-up.

`import mesa` runs mesa's package __init__, which imports all of mesa at once: its grid and
network spaces (networkx), its experimental continuous space (scipy.spatial, which wraps numpy's
array API on import), the batch runner (which sets the process-wide multiprocessing start method
to "spawn"). tutorsim uses three classes of mesa's core, whose modules need only numpy; the rest
costs about 0.6 s at the start of every run (bench/run_bench.py, README "Speed").

So `mesa` is registered as a package without running its __init__, its three core modules are
imported, and their classes are set on the package under their usual names (`mesa.Model`,
`mesa.Agent`, `mesa.DataCollector`: the same objects). The first time anything asks the package
for another name (`mesa.space`, `mesa.__version__`, `from mesa import batch_run`, ...), mesa's own
__init__ runs in it, so other code in the process still sees the whole of mesa. Where mesa is
already imported, or anything here fails, it is a plain `import mesa`.

mesa's DataCollector module imports pandas (0.3 s) only to build a table at the end
(`get_model_vars_dataframe`); the simulation itself never needs pandas. Unless pandas is already
loaded, the module is imported without it and given a stand-in that imports pandas the first time
a table is asked for: a run imports pandas after its simulation, in the process that writes the
tables (pipeline/one_run.py).
"""
from __future__ import annotations

import contextlib
import importlib
import importlib.util
import inspect
import sys
import types

CORE = (("mesa.agent", "Agent"), ("mesa.model", "Model"), ("mesa.datacollection", "DataCollector"))


def _complete(package: types.ModuleType, spec) -> None:
    """Run mesa's own __init__ in the package (once): the rest of mesa becomes available."""
    del package.__getattr__
    spec.loader.exec_module(package)


class _PandasOnFirstUse:
    """Stands for pandas in mesa.datacollection until it is first used; then imports it."""

    def __init__(self, module: types.ModuleType):
        self._module = module

    def __getattr__(self, name: str):
        import pandas
        self._module.pd = pandas            # from now on the module holds pandas itself
        return getattr(pandas, name)


def _import_without_pandas(name: str) -> types.ModuleType:
    """Import module `name`, whose `import pandas` is allowed to fail, without loading pandas."""
    if "pandas" in sys.modules:
        return importlib.import_module(name)
    sys.modules["pandas"] = None            # makes `import pandas` raise ImportError, for this import only
    try:
        module = importlib.import_module(name)
    finally:
        del sys.modules["pandas"]
    if getattr(module, "pd", None) is None:
        module.pd = _PandasOnFirstUse(module)
    return module


class _FramesWithoutSource:
    """What mesa's logging module asks of `inspect` while mesa's core is imported, answered from
    the frames alone. mesa.model names its logger after its module (`inspect.stack()`,
    `inspect.getmodule()`) and its logged methods after their class (`inspect.getouterframes()`):
    the real functions read the source of every frame on the import stack and index every module
    loaded, 40-60 ms of each run's start. The names come out the same."""

    def __getattr__(self, name: str):
        return getattr(inspect, name)

    @staticmethod
    def currentframe():
        return sys._getframe(1)

    @staticmethod
    def getouterframes(frame, context: int = 1) -> list[tuple]:
        frames = []
        while frame is not None:
            frames.append((frame, frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name, None, None))
            frame = frame.f_back
        return frames

    def stack(self, context: int = 1) -> list[tuple]:
        return self.getouterframes(sys._getframe(1))

    @staticmethod
    def getmodule(obj, _filename=None):
        if isinstance(obj, types.FrameType):
            return sys.modules.get(obj.f_globals.get("__name__"))
        return inspect.getmodule(obj, _filename)


@contextlib.contextmanager
def _frames_without_source():
    """mesa's logging module sees `_FramesWithoutSource` as `inspect`, for as long as this lasts
    (where mesa has that module and it uses `inspect`; otherwise nothing changes)."""
    try:
        logging_module = importlib.import_module("mesa.mesa_logging")
    except ImportError:
        logging_module = None
    if getattr(logging_module, "inspect", None) is not inspect:
        yield
        return
    logging_module.inspect = _FramesWithoutSource()
    try:
        yield
    finally:
        logging_module.inspect = inspect


def _load_core() -> types.ModuleType:
    if "mesa" in sys.modules:
        return sys.modules["mesa"]
    spec = importlib.util.find_spec("mesa")
    if spec is None or spec.loader is None or not spec.submodule_search_locations:
        import mesa
        return mesa
    package = importlib.util.module_from_spec(spec)     # the package, its __init__ not yet run

    def __getattr__(name: str):
        if name.startswith("__") and name not in ("__version__", "__all__"):
            raise AttributeError(name)       # dunder probes (copy, pickle, inspect) need no mesa
        _complete(package, spec)
        return getattr(package, name)

    package.__getattr__ = __getattr__
    sys.modules["mesa"] = package
    try:
        with _frames_without_source():
            for module, name in CORE:
                setattr(package, name, getattr(_import_without_pandas(module), name))
    except Exception:                        # noqa: BLE001 - another mesa layout: load it whole
        for key in [k for k in sys.modules if k == "mesa" or k.startswith("mesa.")]:
            del sys.modules[key]
        import mesa
        return mesa
    return package


mesa = _load_core()
