"""The package's layout rules, read from its own files.

One folder per stage of the flow (events -> labels -> features -> models ->
explain -> evaluation / metrics / targeting -> persistence, cli, demo), small
modules, no import cycle, no import against the flow, no import from the
package front or of another module's private names.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "churnkit"
MAX_LINES = 500
MAX_LINES_ONE_CLASS = 700

# the stage of each top-level part of the package; an import may only go to a
# part of the same or an earlier stage
STAGES = {
    "exceptions": 0,
    "_version": 0,
    "_time": 0,
    "_memory": 0,
    "_compiled": 0,
    "_validation": 0,
    "_stats": 0,
    "_logging": 0,
    "_plainstate": 0,
    "_progress": 0,
    "events": 1,
    "datasets": 2,
    "labels": 2,
    "features": 3,
    "models": 4,
    "survival": 4,
    "explain": 5,
    "evaluation": 6,
    "metrics": 6,
    "targeting": 6,
    "persistence": 7,
    "mlflow": 7,
    "_skops": 7,
    "reporting": 7,
    "distributed": 7,
    "dask": 8,
    "spark": 8,
    "demo": 8,
    "cli": 9,
    "": 10,  # the package front, churnkit/__init__.py
}


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(parts), path


MODULES = dict(_modules())


def _imports(name, path):
    """(imported module, imported names, line) of every churnkit import."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "churnkit":
                    yield alias.name, [], node.lineno
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, module] if module else base)
            if module.split(".")[0] != "churnkit":
                continue
            names = [a.name for a in node.names]
            # `from churnkit.features import usage` imports a module
            subs = [n for n in names if f"{module}.{n}" in MODULES]
            for sub in subs:
                yield f"{module}.{sub}", [], node.lineno
            rest = [n for n in names if n not in subs]
            if rest:
                yield module, rest, node.lineno


IMPORTS = {name: list(_imports(name, path)) for name, path in MODULES.items()}


def _part(module: str) -> str:
    return module.split(".")[1] if "." in module else ""


def _edges():
    for name, imports in IMPORTS.items():
        for target, _, line in imports:
            if target in MODULES and target != name:
                yield name, target, line


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_size(name):
    path = MODULES[name]
    text = path.read_text(encoding="utf-8")
    n_lines = text.count("\n")
    tree = ast.parse(text)
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    limit = MAX_LINES_ONE_CLASS if len(classes) == 1 else MAX_LINES
    assert n_lines <= limit, (
        f"{path.relative_to(PACKAGE.parent)} has {n_lines} lines; at most {limit} "
        f"({len(classes)} classes). Split it by responsibility."
    )


def test_every_part_has_a_stage():
    parts = {_part(name) for name in MODULES} - {""}
    assert parts <= set(STAGES), sorted(parts - set(STAGES))


def test_imports_follow_the_flow():
    against = [
        f"{src} imports {dst} (line {line})"
        for src, dst, line in _edges()
        if _part(src) and STAGES[_part(dst)] > STAGES[_part(src)]
    ]
    assert not against, "imports against the flow:\n" + "\n".join(against)


def test_no_import_from_the_package_front():
    front = [
        f"{name} line {line}"
        for name, imports in IMPORTS.items()
        if name != "churnkit"
        for target, _, line in imports
        if target == "churnkit"
    ]
    assert not front, "imports of `churnkit` inside the package:\n" + "\n".join(front)


def test_no_import_of_private_names():
    private = [
        f"{name} imports {target}.{n} (line {line})"
        for name, imports in IMPORTS.items()
        for target, names, line in imports
        if target != name
        for n in names
        if n.startswith("_") and not n.startswith("__")
    ]
    assert not private, "imports of another module's private names:\n" + "\n".join(
        private
    )


def test_no_import_cycle():
    graph = {}
    for src, dst, _ in _edges():
        graph.setdefault(src, set()).add(dst)
    # a package's __init__ re-exporting its own children is not a cycle
    for src in graph:
        graph[src] = {d for d in graph[src] if not d.startswith(src + ".")}
    state, stack, cycles = {}, [], []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_flat_api_names_resolve():
    import churnkit as ck

    for name in ck.__all__:
        assert getattr(ck, name) is not None, name
