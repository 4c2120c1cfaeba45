"""The house rules of the code's layout, checked by reading the source with `ast` (nothing of the
project is imported):

- the import chain run.py -> commands/ -> pipeline/ -> analysis/ -> output/ -> world/ -> agents/:
  a module imports its own package and packages further down, never one up the chain; run.py
  imports commands (and the standard library) only; agents/ imports agents, mesa, numpy and the
  standard library only;
- no import cycle between the project's modules;
- no module over 600 lines;
- no assignment into sys.modules, and no write to a private attribute (`_name`) of an object that
  is not `self`/`cls`.

Every import counts: module-level and inside functions, absolute and relative, and
`importlib.import_module(...)` / `__import__(...)` with a literal name (or an f-string's literal
start, `f"commands.{name}"` -> commands). A name computed at run time cannot be read and is not
counted. The checkers are plain functions of a folder; the tests at the end feed them a small fake
tree with one offence each, so each rule is seen to fail.
"""
from __future__ import annotations

import ast
import functools
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT

CHAIN = ("run", "commands", "pipeline", "analysis", "output", "world", "agents")
PACKAGES = CHAIN[1:]
RUN_MAY_IMPORT = {"commands"}
AGENTS_MAY_IMPORT = {"agents", "mesa", "numpy"}
STDLIB = frozenset(sys.stdlib_module_names)
MAX_LINES = 600
SYS_MODULES_WRITES = {"update", "setdefault", "__setitem__"}


# --- reading a tree ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Module:
    name: str            # dotted: run, world, world.model
    rel: str             # path from the tree's root: world/model.py
    is_package: bool     # an __init__.py
    tree: ast.Module
    lines: int


@dataclass(frozen=True)
class Import:
    module: Module
    line: int
    target: str          # the absolute dotted name imported (for `from X import y`: X.y if that is a module, else X)
    in_function: bool

    @property
    def top(self) -> str:
        return self.target.split(".")[0]

    @property
    def where(self) -> str:
        return f"{self.module.rel}:{self.line}"

    def __str__(self) -> str:
        return f"{self.where} imports {self.target}" + (" (inside a function)" if self.in_function else "")


def top(name: str) -> str:
    return name.split(".")[0]


@functools.lru_cache(maxsize=None)
def read_tree(root: Path) -> dict[str, Module]:
    """run.py and every module of the chain's packages under `root`, by dotted name."""
    paths = [root / "run.py"] if (root / "run.py").is_file() else []
    for package in PACKAGES:
        paths += sorted(p for p in (root / package).rglob("*.py") if "__pycache__" not in p.parts)
    modules = {}
    for path in paths:
        rel = path.relative_to(root)
        parts = list(rel.with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        text = path.read_text(encoding="utf-8")
        modules[".".join(parts)] = Module(".".join(parts), rel.as_posix(), is_package,
                                          ast.parse(text, filename=str(path)), len(text.splitlines()))
    return modules


def _relative_base(module: Module, level: int, name: str | None) -> str:
    """The absolute name of `from <level dots><name> import ...` in `module`."""
    parts = module.name.split(".")
    if not module.is_package:
        parts = parts[:-1]
    parts = parts[:len(parts) - (level - 1)] if level - 1 <= len(parts) else []
    return ".".join(parts + (name.split(".") if name else []))


def _dynamic_name(call: ast.Call) -> str | None:
    """The module named by importlib.import_module("x.y") / __import__("x.y"), or the literal
    dotted start of an f-string (f"commands.{name}" -> commands); None if it cannot be read."""
    func = call.func
    if not (isinstance(func, ast.Name) and func.id in ("__import__", "import_module")
            or isinstance(func, ast.Attribute) and func.attr == "import_module"):
        return None
    if not call.args:
        return None
    arg = call.args[0]
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value or None
    if isinstance(arg, ast.JoinedStr) and arg.values and isinstance(arg.values[0], ast.Constant):
        start = str(arg.values[0].value)
        return start.rsplit(".", 1)[0] if "." in start else None
    return None


def imports_of(module: Module, known: set[str]) -> list[Import]:
    """Every import of `module`, module-level and inside functions."""
    found = []

    def visit(node: ast.AST, in_function: bool) -> None:
        if isinstance(node, ast.Import):
            found.extend(Import(module, node.lineno, alias.name, in_function) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _relative_base(module, node.level, node.module) if node.level else node.module
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.append(Import(module, node.lineno, sub if sub in known else base, in_function))
        elif isinstance(node, ast.Call) and (name := _dynamic_name(node)) and not name.startswith("."):
            found.append(Import(module, node.lineno, name, in_function))
        inside = in_function or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        for child in ast.iter_child_nodes(node):
            visit(child, inside)

    visit(module.tree, False)
    return list(dict.fromkeys(found))          # `from x import a, b`: one import of x on that line


@functools.lru_cache(maxsize=None)
def all_imports(root: Path) -> tuple[Import, ...]:
    modules = read_tree(root)
    return tuple(i for m in modules.values() for i in imports_of(m, set(modules)))


# --- the rules: each returns its offences, one line each ---------------------------------------------

def chain_offences(root: Path) -> list[str]:
    """Imports of a package up the chain from the importing module's own."""
    out = []
    for i in all_imports(root):
        if i.top in CHAIN and CHAIN.index(i.top) < CHAIN.index(top(i.module.name)):
            out.append(f"{i}: {i.top} is up the chain from {top(i.module.name)}")
    return out


def run_offences(root: Path) -> list[str]:
    """run.py imports commands and the standard library only."""
    return [f"{i}: run.py may import commands and the standard library only"
            for i in all_imports(root)
            if i.module.name == "run" and i.top not in RUN_MAY_IMPORT and i.top not in STDLIB]


def agents_offences(root: Path) -> list[str]:
    """agents/ imports agents, mesa, numpy and the standard library only."""
    return [f"{i}: agents/ may import agents, mesa, numpy and the standard library only"
            for i in all_imports(root)
            if top(i.module.name) == "agents" and i.top not in AGENTS_MAY_IMPORT and i.top not in STDLIB]


def _owner(target: str, known: dict[str, Module]) -> str | None:
    """The project module an import loads: the longest known prefix of its name."""
    parts = target.split(".")
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in known:
            return ".".join(parts[:n])
    return None


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components of `graph` (node -> successors)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            components.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return components


def cycle_offences(root: Path) -> list[str]:
    """Each set of modules that import one another in a circle, with the imports that close it."""
    known = read_tree(root)
    edges: dict[tuple[str, str], list[Import]] = {}
    for i in all_imports(root):
        target = _owner(i.target, known)
        if target is not None and target != i.module.name:
            edges.setdefault((i.module.name, target), []).append(i)
    graph: dict[str, set[str]] = {name: set() for name in known}
    for source, target in edges:
        graph[source].add(target)
    out = []
    for component in strongly_connected(graph):
        if len(component) > 1:
            inside = [str(i) for (s, t), found in sorted(edges.items())
                      if s in component and t in component for i in found]
            out.append(f"cycle among {', '.join(component)}: " + "; ".join(inside))
    return out


def size_offences(root: Path, max_lines: int = MAX_LINES) -> list[str]:
    return [f"{m.rel}: {m.lines} lines (at most {max_lines})"
            for m in read_tree(root).values() if m.lines > max_lines]


def _assigned(node: ast.AST) -> list[ast.expr]:
    """The targets a statement assigns to, tuples and starred targets unpacked."""
    if isinstance(node, ast.Assign):
        targets = list(node.targets)
    elif isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.For, ast.AsyncFor)):
        targets = [node.target]
    elif isinstance(node, ast.withitem) and node.optional_vars is not None:
        targets = [node.optional_vars]
    else:
        return []
    flat = []
    while targets:
        t = targets.pop()
        if isinstance(t, (ast.Tuple, ast.List)):
            targets.extend(t.elts)
        elif isinstance(t, ast.Starred):
            targets.append(t.value)
        else:
            flat.append(t)
    return flat


def sys_modules_offences(root: Path) -> list[str]:
    """`sys.modules[...] = ...`, `sys.modules = ...`, `sys.modules.update/setdefault/__setitem__(...)`
    (`import sys as s` and `from sys import modules` included)."""
    out = []
    for m in read_tree(root).values():
        sys_names, modules_names = set(), set()
        for node in ast.walk(m.tree):
            if isinstance(node, ast.Import):
                sys_names |= {a.asname or a.name for a in node.names if a.name == "sys"}
            elif isinstance(node, ast.ImportFrom) and node.module == "sys" and not node.level:
                modules_names |= {a.asname or a.name for a in node.names if a.name == "modules"}

        def is_sys_modules(e: ast.AST) -> bool:
            return (isinstance(e, ast.Attribute) and e.attr == "modules" and isinstance(e.value, ast.Name)
                    and e.value.id in sys_names) or (isinstance(e, ast.Name) and e.id in modules_names)

        for node in ast.walk(m.tree):
            for t in _assigned(node):
                if is_sys_modules(t) or isinstance(t, ast.Subscript) and is_sys_modules(t.value):
                    out.append(f"{m.rel}:{t.lineno} assigns into sys.modules: {ast.unparse(t)} = ...")
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in SYS_MODULES_WRITES and is_sys_modules(node.func.value)):
                out.append(f"{m.rel}:{node.lineno} writes into sys.modules: {ast.unparse(node.func)}(...)")
    return out


def _is_self(e: ast.AST) -> bool:
    return isinstance(e, ast.Name) and e.id in ("self", "cls")


def private_write_offences(root: Path) -> list[str]:
    """`obj._name = ...` / `obj._name += ...` (and `setattr(obj, "_name", ...)`) where obj is not
    `self` or `cls`: a write to another object's private field."""
    out = []
    for m in read_tree(root).values():
        for node in ast.walk(m.tree):
            for t in _assigned(node):
                if isinstance(t, ast.Attribute) and t.attr.startswith("_") and not _is_self(t.value):
                    out.append(f"{m.rel}:{t.lineno} writes the private attribute {ast.unparse(t)}")
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr"
                    and len(node.args) >= 2 and not _is_self(node.args[0])
                    and isinstance(node.args[1], ast.Constant) and str(node.args[1].value).startswith("_")):
                out.append(f"{m.rel}:{node.lineno} writes the private attribute "
                           f"{ast.unparse(node.args[0])}.{node.args[1].value} (setattr)")
    return out


def _report(offences: list[str], rule: str) -> str:
    return f"{len(offences)} offence(s) against the rule: {rule}\n  " + "\n  ".join(offences)


# --- the rules on the real tree --------------------------------------------------------------------

def test_the_tree_is_found():
    modules = read_tree(ROOT)
    assert "run" in modules and all(p in modules for p in PACKAGES), sorted(modules)


def test_imports_follow_the_chain():
    offences = chain_offences(ROOT)
    assert not offences, _report(offences, "import only your own package or one further down "
                                           "run.py -> commands -> pipeline -> analysis -> output -> world -> agents")


def test_run_py_imports_commands_only():
    offences = run_offences(ROOT)
    assert not offences, _report(offences, "run.py imports commands and the standard library only")


def test_agents_import_only_agents_mesa_numpy_and_the_standard_library():
    offences = agents_offences(ROOT)
    assert not offences, _report(offences, "agents/ imports agents, mesa, numpy and the standard library only")


def test_no_import_cycle():
    offences = cycle_offences(ROOT)
    assert not offences, _report(offences, "no import cycle between the project's modules")


def test_no_module_over_600_lines():
    offences = size_offences(ROOT)
    assert not offences, _report(offences, f"no module over {MAX_LINES} lines")


def test_no_assignment_into_sys_modules():
    offences = sys_modules_offences(ROOT)
    assert not offences, _report(offences, "no assignment into sys.modules")


def test_no_write_to_a_private_attribute_of_another_object():
    offences = private_write_offences(ROOT)
    assert not offences, _report(offences, "no write to a `_private` attribute of an object other than self/cls")


# --- each rule can fail: a small fake tree, then one offence at a time -------------------------------

CLEAN = {
    "run.py": """\
        import importlib
        import sys

        def main(name):
            return importlib.import_module(f"commands.{name}").main(sys.argv)
        """,
    "commands/__init__.py": "",
    "commands/run.py": "from pipeline import one_run\nfrom analysis.cpus import jobs\n",
    "pipeline/__init__.py": "",
    "pipeline/one_run.py": "import pandas\nfrom output import recorder\n",
    "analysis/__init__.py": "",
    "analysis/cpus.py": "import os\n\njobs = os.cpu_count()\n",
    "output/__init__.py": "",
    "output/recorder.py": "from world.model import Platform\n",
    "world/__init__.py": "",
    "world/model.py": """\
        import sys

        import mesa

        from agents.tutor import Tutor
        from . import streams


        class Platform(mesa.Model):
            def __init__(self):
                self._tutors = [Tutor()]
                self._count += 1
                self.stream = streams
                in_module = "pandas" in sys.modules

            @classmethod
            def build(cls):
                cls._built = True
        """,
    "world/streams.py": "import numpy as np\n",
    "agents/__init__.py": "",
    "agents/tutor.py": "from __future__ import annotations\n\nimport random\n\nimport mesa\nimport numpy as np\n\nfrom .traits import Traits\n",
    "agents/traits.py": "Traits = dict\n",
}

RULES = {"chain": chain_offences, "run": run_offences, "agents": agents_offences, "cycle": cycle_offences,
         "size": size_offences, "sys_modules": sys_modules_offences, "private": private_write_offences}


def fake_tree(root: Path, changes: dict[str, str]) -> Path:
    """CLEAN with `changes` appended to (or creating) the named files."""
    for rel, text in CLEAN.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    for rel, text in changes.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        before = path.read_text() if path.exists() else ""
        path.write_text(before + textwrap.dedent(text))
    return root


@pytest.mark.parametrize("rule", list(RULES))
def test_a_clean_fake_tree_has_no_offence(rule, tmp_path):
    assert RULES[rule](fake_tree(tmp_path, {})) == []


# (rule, changes, file:line and words every offence report must hold, number of offences)
OFFENCES = {
    "chain-module-level": ("chain", {"world/streams.py": "from output import recorder\n"},
                           ["world/streams.py:2 imports output.recorder", "output is up the chain from world"], 1),
    "chain-in-a-function": ("chain", {"world/streams.py": "def f():\n    import output.recorder\n"},
                            ["world/streams.py:3 imports output.recorder (inside a function)"], 1),
    "chain-relative": ("chain", {"analysis/cpus.py": "from ..pipeline import one_run\n"},
                       ["analysis/cpus.py:4 imports pipeline.one_run", "pipeline is up the chain from analysis"], 1),
    "chain-import-module": ("chain", {"agents/traits.py": "import importlib\nw = importlib.import_module('world.model')\n"},
                            ["agents/traits.py:3 imports world.model"], 1),
    "chain-run-is-top": ("chain", {"commands/run.py": "def f():\n    from run import main\n"},
                         ["commands/run.py:4 imports run", "run is up the chain from commands"], 1),
    "run-skips-a-step": ("run", {"run.py": "from pipeline import one_run\n"},
                         ["run.py:6 imports pipeline.one_run", "run.py may import commands"], 1),
    "run-third-party": ("run", {"run.py": "def g():\n    import numpy\n"},
                        ["run.py:7 imports numpy (inside a function)"], 1),
    "agents-up": ("agents", {"agents/traits.py": "from world.mesa_core import mesa\n"},
                  ["agents/traits.py:2 imports world.mesa_core", "agents/ may import agents, mesa, numpy"], 1),
    "agents-third-party": ("agents", {"agents/tutor.py": "def f():\n    import pandas\n"},
                           ["agents/tutor.py:10 imports pandas (inside a function)"], 1),
    "cycle-in-a-function": ("cycle", {"world/streams.py": "def f():\n    from world import model\n"},
                            ["cycle among world.model, world.streams", "world/model.py:6 imports world.streams",
                             "world/streams.py:3 imports world.model (inside a function)"], 1),
    "cycle-across-packages": ("cycle", {"agents/traits.py": "from commands.run import one_run\n"},
                              ["cycle among agents.traits, agents.tutor, commands.run, output.recorder, "
                               "pipeline.one_run, world.model", "agents/traits.py:2 imports commands.run"], 1),
    "size": ("size", {"output/big.py": "x = 1\n" * (MAX_LINES + 1), "output/fits.py": "x = 1\n" * MAX_LINES},
             ["output/big.py: 601 lines"], 1),
    "sys-modules-item": ("sys_modules", {"world/model.py": "sys.modules['pandas'] = None\n"},
                         ["world/model.py:19 assigns into sys.modules: sys.modules['pandas']"], 1),
    "sys-modules-alias": ("sys_modules", {"output/recorder.py": "import sys as _s\n_s.modules.update({})\n"},
                          ["output/recorder.py:3 writes into sys.modules: _s.modules.update"], 1),
    "sys-modules-from": ("sys_modules", {"output/recorder.py": "from sys import modules\nmodules['x'] = 1\n"},
                         ["output/recorder.py:3 assigns into sys.modules: modules['x']"], 1),
    "private-library-field": ("private", {"world/model.py": "mesa.model._mesa_logger = None\n"},
                              ["world/model.py:19 writes the private attribute mesa.model._mesa_logger"], 1),
    "private-augmented": ("private", {"world/model.py": "def f(p):\n    p._count += 1\n"},
                          ["world/model.py:20 writes the private attribute p._count"], 1),
    "private-through-self": ("private", {"world/model.py": "def g(self):\n    self.stream._cache, x = {}, 1\n"},
                             ["world/model.py:20 writes the private attribute self.stream._cache"], 1),
    "private-setattr": ("private", {"output/recorder.py": "setattr(Platform, '_hidden', 1)\n"},
                        ["output/recorder.py:2 writes the private attribute Platform._hidden (setattr)"], 1),
}


@pytest.mark.parametrize("case", list(OFFENCES))
def test_each_rule_reports_its_offence(case, tmp_path):
    rule, changes, words, count = OFFENCES[case]
    offences = RULES[rule](fake_tree(tmp_path, changes))
    assert len(offences) == count, offences
    for word in words:
        assert word in offences[0], f"{word!r} not in {offences[0]!r}"
    others = [name for name, check in RULES.items() if name != rule and check(tmp_path)]
    assert set(others) <= {"chain", "run", "agents", "cycle"}, f"{case} also broke {others}"
