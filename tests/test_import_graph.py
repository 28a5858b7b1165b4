"""Dependencies point down: read from the source, so a cycle fails here before it fails a user.

Every ``import`` in the package counts, including those inside functions and under
``TYPE_CHECKING``: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import jqtrade

PACKAGE = Path(jqtrade.__file__).parent

#: Units that sit below the account and must never import it.
BELOW_ACCOUNT = (
    "model",
    "gates",
    "sim",
    "data",
    "errors",
    "clock",
    "calendar",
    "fileio",
    "streams",
    "option_fields",
)


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    package = (
        _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    )
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return {name for name in found if name == "jqtrade" or name.startswith("jqtrade.")}


def _unit(module: str) -> str:
    """The first level below ``jqtrade``: a subpackage or a top-level module."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _graph() -> dict[str, set[str]]:
    units = {_unit(_module_name(p)) for p in PACKAGE.rglob("*.py")} - {""}
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        source = _unit(_module_name(path))
        if not source:
            continue
        targets = {_unit(name) for name in _imports(path)} & units
        graph.setdefault(source, set()).update(targets - {source})
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one unit (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_cycle_between_packages() -> None:
    cycles = _cycles(_graph())
    assert not cycles, f"jqtrade 的包之间有循环依赖：{cycles}"


def test_nothing_below_the_account_imports_it() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        module = _module_name(path)
        if _unit(module) in BELOW_ACCOUNT:
            bad = sorted(name for name in _imports(path) if _unit(name) == "account")
            if bad:
                offenders.append(f"{module} -> {', '.join(bad)}")
    assert not offenders, "account 之下的模块导入了 account：\n" + "\n".join(offenders)


def test_the_checker_sees_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_every_gate_and_model_module_is_read() -> None:
    graph = _graph()
    assert "model" in graph and "gates" in graph
    assert "account" in graph["runtime"]
