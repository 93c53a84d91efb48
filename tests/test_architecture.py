"""The layout tells the data path: which side may import which, and no cycles.

Every ``import`` in the package counts, also those inside functions: a late import is
still a dependency, and a cycle hidden in a function body is still a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "fraudmatch"

# What each subpackage may import besides itself (docs/architecture.md shows the same).
ALLOWED: dict[str, set[str]] = {
    "common": set(),
    "sealing": {"common"},
    "spec": {"common", "sealing"},
    "council": {"common", "spec", "sealing"},
    "matching": {"common", "spec"},
    "review": {"common", "spec", "sealing", "matching", "hub"},
    "hub": {"common", "spec", "sealing", "matching", "review"},
    # package data (the shipped specification and rules) and the way to find it
    "shipped": set(),
    # the entry points assemble everything
    "cli": {"*"},
    "synth": {"*"},
    "library": {"*"},
}
MAX_LINES = 700


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(path: Path, name: str, known: set[str]) -> set[str]:
    """The package's own modules that ``name`` imports, resolved to module names."""
    found: set[str] = set()
    is_pkg = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_pkg else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{a.name}" for a in node.names] + [base]
        else:
            continue
        for target in targets:
            # the longest known module a dotted target names (``a.b.func`` -> ``a.b``)
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name and target.startswith("fraudmatch"):
                found.add(target)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(path, name, known) for name, path in modules.items()}


def _area(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def test_no_import_cycles() -> None:
    graph = _graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, set())):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_each_side_imports_only_what_its_layer_allows() -> None:
    wrong = []
    for module, targets in sorted(_graph().items()):
        area = _area(module)
        if area is None or area not in ALLOWED or "*" in ALLOWED[area]:
            continue
        for target in sorted(targets):
            other = _area(target)
            if other is None or other == area or other == "shipped":
                continue  # anyone may read the shipped package data
            if other not in ALLOWED[area]:
                wrong.append(f"{module} imports {target} ({area}/ may not import {other}/)")
    assert not wrong, "\n".join(wrong)


def test_every_module_belongs_to_a_known_area() -> None:
    areas = {_area(m) for m in _modules()} - {None}
    assert areas <= set(ALLOWED), f"new top-level area(s) {areas - set(ALLOWED)}: add to ALLOWED"


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: p.name)
def test_no_module_is_too_long(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{path.relative_to(PACKAGE.parent)} has {lines} lines"
