"""The package reads top-down: no import cycle (imports inside functions count) and no import that goes
up a layer of docs/architecture.md's table."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from conftest import REPO

PACKAGE = REPO / "long1k"


def module_names() -> dict[str, Path]:
    names = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(REPO).with_suffix("").parts
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return names


def imported(node: ast.AST, module: str, is_package: bool) -> list[str]:
    """The long1k modules an import statement names (a package's submodules named in `from P import x`)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = node.module or ""
    if node.level:
        anchor = module.split(".") if is_package else module.split(".")[:-1]
        anchor = anchor[: len(anchor) - node.level + 1]
        base = ".".join(anchor + ([base] if base else []))
    return [base] + [f"{base}.{alias.name}" for alias in node.names]


def import_graph() -> dict[str, set[str]]:
    modules = module_names()
    graph = {name: set() for name in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):  # every import, at the top or inside a function
            graph[name] |= {target for target in imported(node, name, path.name == "__init__.py")
                            if target in modules and target != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
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
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


def unit(module: str) -> str:
    return module.split(".")[1] if "." in module else module


def layers() -> dict[str, int]:
    """unit -> layer, from the table in docs/architecture.md."""
    table = {}
    for line in (REPO / "docs" / "architecture.md").read_text(encoding="utf-8").splitlines():
        match = re.match(r"\|\s*(\d+)\s*\|([^|]+)\|", line)
        if match:
            for name in match.group(2).split(","):
                table[name.strip().replace("\\_", "_")] = int(match.group(1))
    return table


def test_no_import_cycle():
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_lazy_cycles():
    graph = {"long1k.a": {"long1k.b"}, "long1k.b": {"long1k.c"}, "long1k.c": {"long1k.a"}, "long1k.d": set()}
    assert cycles(graph) == [["long1k.a", "long1k.b", "long1k.c"]]
    lazy = ast.parse("def f():\n    from long1k.tasks import spec\n")
    assert imported(lazy.body[0].body[0], "long1k.x", False) == ["long1k.tasks", "long1k.tasks.spec"]


def test_imports_never_go_up_a_layer():
    layer = layers()
    graph = import_graph()
    unplaced = sorted({unit(m) for m in graph} - set(layer))
    assert not unplaced, f"place these units in docs/architecture.md's layer table: {unplaced}"
    upward = sorted(f"{a} (layer {layer[unit(a)]}) imports {b} (layer {layer[unit(b)]})"
                    for a, targets in graph.items() for b in targets if layer[unit(b)] > layer[unit(a)])
    assert upward == []
