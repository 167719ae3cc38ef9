"""No import cycles between kundresa's modules (issue 13, point 6).

The import graph is built statically with ``ast`` from module-level imports only: imports
inside functions and under ``if TYPE_CHECKING:`` are excluded (they cannot form a cycle at
import time). Every strongly connected component of more than one module is a cycle.

``KNOWN_CYCLES`` lists the cycles that still exist; it is strict, like an xfail list: a
cycle not in it fails, and a listed cycle that has disappeared fails too, so the list can
only shrink (remove the entry when the cycle is broken).
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "kundresa"

# Each entry: the set of modules in one cycle; to be removed as the cycles are broken.
# Empty: the cycles named in issue 13 (paths/_journeys <-> analysis, server registry ->
# analyses -> builders, server/app <-> web_map, synth/_generator <-> _truth) run only through
# function-level or TYPE_CHECKING imports today, so none is a module-level cycle.
KNOWN_CYCLES: set[frozenset[str]] = set()


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted((SRC / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _module_level(body: list[ast.stmt]) -> list[ast.Import | ast.ImportFrom]:
    """Imports executed when the module is imported (class bodies run, functions do not)."""
    out: list[ast.Import | ast.ImportFrom] = []
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            out.append(node)
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                out += _module_level(node.body)
            out += _module_level(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody):
                out += _module_level(block)
            for handler in node.handlers:
                out += _module_level(handler.body)
        elif isinstance(node, ast.With | ast.ClassDef):
            out += _module_level(node.body)
    return out


def import_graph() -> dict[str, set[str]]:
    """Module -> the kundresa modules it imports at module level."""
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        is_pkg = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in _module_level(tree.body):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = name.split(".") if is_pkg else name.split(".")[:-1]
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join(anchor + ([base] if base else []))
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    targets.append(sub if sub in modules else base)
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target.startswith(PACKAGE) and target in modules and target != name:
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> set[frozenset[str]]:
    """Strongly connected components of two or more modules (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: set[frozenset[str]] = set()
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        top = stack.pop()
                        on_stack.discard(top)
                        component.add(top)
                        if top == node:
                            break
                    if len(component) > 1:
                        found.add(frozenset(component))
            elif child not in index:
                index[child] = low[child] = counter
                counter += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


def test_graph_sees_the_package() -> None:
    graph = import_graph()
    assert "kundresa._workspace" in graph
    assert "kundresa._errors" in graph["kundresa._workspace"] or any(graph.values())


def test_detector_finds_a_cycle_and_ignores_function_level_imports() -> None:
    assert cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == {frozenset({"a", "b"})}
    assert cycles({"a": {"b"}, "b": set()}) == set()
    tree = ast.parse(
        "import x\nif TYPE_CHECKING:\n    import y\ndef f():\n    import z\n"
        "try:\n    import w\nexcept ImportError:\n    pass\n"
    )
    names = [a.name for n in _module_level(tree.body) for a in n.names]
    assert names == ["x", "w"]


def test_no_import_cycles() -> None:
    found = cycles(import_graph())
    new = found - KNOWN_CYCLES
    gone = KNOWN_CYCLES - found
    assert not new, f"import cycles: {[sorted(c) for c in new]}"
    assert not gone, f"cycles broken, remove them from KNOWN_CYCLES: {[sorted(c) for c in gone]}"
