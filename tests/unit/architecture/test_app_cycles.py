"""No import cycle between Refill's apps at module level (issue 27).

The imports are read from the source (``ast``), not by importing it: a module-level import is a
top-level ``import``/``from … import`` statement, also inside a module-level ``if``/``try``, but not
under ``if TYPE_CHECKING:`` (it never runs). Imports inside functions are another rule's business
(ruff's); here they do not count.

A node of the graph is an app, ``refill.<app>`` (``refill.errors`` and the like are nodes of their
own), with one exception: an app's ``api.py`` is its ninja Router, the API face of that app mounted
by ``refill.api.v1``, so it belongs to the API layer, node ``api`` (docs/api.md, "Where the code is").
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

SRC = Path(__file__).resolve().parents[3] / "src"

# Module-level imports that still close a cycle between apps, each with why it is wrong and where it
# should go. Fix one and delete its line: the test fails while a listed import no longer exists, so
# the list only shrinks. Nothing may be added to it to make a new cycle pass.
ALLOWED: dict[tuple[str, str], str] = {}


def _module_name(path: Path, src: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(src).with_suffix("").parts)
    package = parts[-1] == "__init__"
    if package:
        parts = parts[:-1]
    return ".".join(parts), package


def _top_level_imports(body: list[ast.stmt], module: str, package: bool):
    """(imported module, line) for every import ``body`` runs when the module is imported."""
    for node in body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if package else 0)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            yield target, node.lineno
            for alias in node.names:  # `from refill.orders import models` imports refill.orders.models
                yield f"{target}.{alias.name}", node.lineno
        elif isinstance(node, ast.If):
            if "TYPE_CHECKING" not in ast.unparse(node.test):
                yield from _top_level_imports(node.body, module, package)
            yield from _top_level_imports(node.orelse, module, package)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody, *(h.body for h in node.handlers)):
                yield from _top_level_imports(block, module, package)


def app_of(module: str) -> str | None:
    """The node of ``refill.x.y…``: its app, or ``api`` for an app's Router (``refill.<app>.api``)."""
    parts = module.split(".")
    if parts[0] != "refill" or len(parts) < 2:
        return None
    if len(parts) >= 3 and parts[2] == "api":
        return "api"
    return parts[1]


def app_imports(src: Path = SRC) -> dict[str, dict[str, set[tuple[str, int]]]]:
    """{app: {imported app: {(importing module, line), …}}} for the module-level imports that cross
    apps, migrations left out (they name other apps' migrations, not their code)."""
    graph: dict[str, dict[str, set[tuple[str, int]]]] = defaultdict(lambda: defaultdict(set))
    for path in sorted((src / "refill").rglob("*.py")):
        if "migrations" in path.parts:
            continue
        module, package = _module_name(path, src)
        source = app_of(module)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for target, line in _top_level_imports(tree.body, module, package):
            imported = app_of(target)
            if source and imported and imported != source:
                graph[source][imported].add((module, line))
    return graph


def cycles(graph: dict[str, dict[str, set]]) -> list[list[str]]:
    """The strongly connected groups of more than one app (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph.get(node, {}):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _without_allowed(graph):
    kept: dict[str, dict[str, set]] = defaultdict(dict)
    for source, targets in graph.items():
        for target, sites in targets.items():
            left = {(module, line) for module, line in sites if (module, target) not in ALLOWED}
            if left:
                kept[source][target] = left
    return kept


def test_no_import_cycle_between_apps_at_module_level():
    graph = _without_allowed(app_imports())
    report = []
    for group in cycles(graph):
        members = set(group)
        report.append(" <-> ".join(group))
        for source in group:
            for target, sites in sorted(graph[source].items()):
                if target in members:
                    for module, line in sorted(sites):
                        report.append(f"    {source} -> {target}: {module}:{line}")
    assert not report, "import cycles between apps at module level:\n" + "\n".join(report)


def test_allowed_imports_still_exist():
    """An allowed import that is gone is deleted from ALLOWED, so the list only shrinks."""
    graph = app_imports()
    present = {
        (module, target) for targets in graph.values() for target, sites in targets.items() for module, _ in sites
    }
    assert [edge for edge in ALLOWED if edge not in present] == []


def test_the_reader_sees_a_cycle(tmp_path):
    """The check itself: two apps importing each other at module level are a cycle; inside a
    function, or only for type checking, they are not; a relative import counts."""
    for app in ("alpha", "beta", "gamma"):
        (tmp_path / "refill" / app).mkdir(parents=True)
        (tmp_path / "refill" / app / "__init__.py").write_text("")
    (tmp_path / "refill" / "__init__.py").write_text("")
    (tmp_path / "refill" / "alpha" / "models.py").write_text("from refill.beta.models import B\n")
    (tmp_path / "refill" / "beta" / "models.py").write_text("from ..alpha import models\n")
    (tmp_path / "refill" / "gamma" / "models.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from refill.alpha.models import A\n"
        "def f():\n    from refill.beta.models import B\n"
    )
    (tmp_path / "refill" / "alpha" / "views.py").write_text("from refill.gamma import models\n")
    graph = app_imports(tmp_path)
    assert cycles(graph) == [["alpha", "beta"]]
    assert graph["beta"]["alpha"] == {("refill.beta.models", 1)}
    assert "gamma" not in graph
