"""The import graph reads one way: rooms in a declared order, no loops, small modules.

Every ``import`` in ``autoembedding/`` counts — top level and inside functions (lazy imports of
heavy libraries included), ``if TYPE_CHECKING:`` blocks aside (they never run). The test fails on

* an import loop between two files;
* an import of a room declared *above* the importing one in :data:`ORDER`;
* a module over :data:`MAX_LINES` lines (the catalog's data table aside).

:data:`ORDER` is the one declaration of the package order (``docs/architecture.md`` draws it).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "autoembedding"

#: The rooms, lowest first. A module may import its own room and any room listed before it. A
#: room is a module or a package (every module under it); the longest matching name wins.
ORDER: tuple[str, ...] = (
    # the ground: no imports from the package but each other, in this order
    "autoembedding._version",
    "autoembedding.errors",
    "autoembedding.arguments",
    "autoembedding.env",
    "autoembedding.warn",
    "autoembedding.progress",
    "autoembedding.data",
    "autoembedding.metrics",
    "autoembedding.record",
    # what models there are and where their weights come from
    "autoembedding.catalog",
    "autoembedding.backends",
    "autoembedding.offline",
    # one room per outside system
    "autoembedding.adapters",
    "autoembedding.lexical",
    "autoembedding.chroma",
    # serving what a collection's record says, following a swap
    "autoembedding.retrieval",
    # what a probe and a swap share: candidate labels, targets, report types
    "autoembedding.candidates",
    # the two jobs
    "autoembedding.probe",
    "autoembedding.swap",
    # the documented short paths (autoembedding.selector.probe / swap / Targets)
    "autoembedding.selector",
    # the framework classes, then the entry points
    "autoembedding.integrations",
    "autoembedding.pytest_plugin",
    "autoembedding.cli",
    "autoembedding.__main__",
    "autoembedding",
)

#: Lines a module may have.
MAX_LINES = 400
#: Modules allowed over :data:`MAX_LINES`: data tables, not logic.
LONG_DATA = {"autoembedding.catalog"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def owner(name: str) -> str:
    """The module (a file) that ``name`` (a module, or a name inside one) refers to."""
    while name not in MODULES:
        name = name.rpartition(".")[0]
    return name


def room(module: str) -> int:
    """Index in :data:`ORDER` of the room holding ``module`` (the longest matching prefix)."""
    best = -1
    for i, prefix in enumerate(ORDER):
        if (module == prefix or module.startswith(prefix + ".")) and (
            best < 0 or len(prefix) > len(ORDER[best])
        ):
            best = i
    assert best >= 0, f"{module} is in no room of ORDER: add it there"
    return best


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = getattr(test, "id", None) or getattr(test, "attr", None)
            if name == "TYPE_CHECKING":
                for child in node.body:
                    skip.update(id(n) for n in ast.walk(child))
    return skip


def imports_of(module: str) -> set[str]:
    """The package's modules that ``module`` imports (lazy imports included)."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_checking_nodes(tree)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            names = [f"{source}.{alias.name}" for alias in node.names] or [source]
            names = [n if n in MODULES else source for n in names]
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            names = [str(node.args[0].value)]
        else:
            continue
        found.update(owner(n) for n in names if n.split(".")[0] == "autoembedding")
    found.discard(module)
    return found


GRAPH = {module: imports_of(module) for module in MODULES}


def test_every_module_is_in_a_room() -> None:
    for module in MODULES:
        room(module)


def test_no_import_runs_up_the_package_order() -> None:
    upward = [
        f"{module} ({ORDER[room(module)]}) imports {target} ({ORDER[room(target)]})"
        for module, targets in GRAPH.items()
        for target in sorted(targets)
        if room(target) > room(module)
    ]
    assert not upward, "imports up the declared order:\n" + "\n".join(upward)


def _loops() -> list[list[str]]:
    """Strongly connected components of more than one file (Tarjan, iterative enough here)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    loops: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(GRAPH[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                loops.append(sorted(component))

    for node in sorted(GRAPH):
        if node not in index:
            visit(node)
    return loops


def test_no_import_loop_between_files() -> None:
    assert _loops() == []


@pytest.mark.parametrize("module", sorted(set(MODULES) - LONG_DATA))
def test_modules_stay_small(module: str) -> None:
    lines = len(MODULES[module].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{module} has {lines} lines (> {MAX_LINES}): split it"


def test_the_checker_sees_lazy_imports_and_skips_type_checking(tmp_path: Path) -> None:
    """The parser itself: a lazy import counts, a TYPE_CHECKING one does not."""
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from autoembedding.cli import main\n"
        "def f():\n    from autoembedding.errors import AutoEmbeddingError\n"
    )
    tree = ast.parse(source)
    skip = _type_checking_nodes(tree)
    lazy = [
        n.module
        for n in ast.walk(tree)
        if isinstance(n, ast.ImportFrom) and id(n) not in skip and n.module != "typing"
    ]
    assert lazy == ["autoembedding.errors"]
