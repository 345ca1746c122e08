"""Pure modules load no database and no Panel, and no two obslab modules import each other, even for typing."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import obslab
from tests.helpers.fresh_imports import loaded_by_importing

PACKAGE = Path(obslab.__file__).parent
#: Logic that takes and returns plain values: reusable from notebooks and dask workers without an ORM or a UI.
PURE = [
    "obslab.errors",
    "obslab.reports.parameters",
    "obslab.formatting",
    "obslab.roles",
    "obslab.astro",
    "obslab.catalog.types",
    "obslab.catalog.obsids",
    "obslab.catalog.values",
    "obslab.catalog.parameter_schema",
    "obslab.catalog.changes.validation",
    "obslab.catalog.changes.change_rules",
    "obslab.catalog.changes.eligibility",
    "obslab.catalog.changes.policy",
    "obslab.scheduling.types",
    "obslab.scheduling.ephemeris",
    "obslab.scheduling.night",
    "obslab.scheduling.visibility",
    "obslab.scheduling.planner",
    "obslab.scheduling.search",
    "obslab.scheduling.sequence",
    "obslab.scheduling.reasons",
    "obslab.scheduling.voevent",
    "obslab.scheduling.alert_policies",
    "obslab.scheduling.skymaps",
    "obslab.scheduling.notices",
    "obslab.scheduling.notices.types",
    "obslab.scheduling.notices.fields",
    "obslab.scheduling.notices.unified",
    "obslab.scheduling.notices.gwalert",
    "obslab.scheduling.notices.from_voevent",
    "obslab.scheduling.notices.read",
    "obslab.configs.types",
    "obslab.configs.fplane",
    "obslab.configs.hardware",
    "obslab.configs.datestr",
    "obslab.configs.validation",
    "obslab.configs.text_input",
    "obslab.configs.fplane_client",
    "obslab.observing.types",
    "obslab.observing.naming",
    "obslab.observing.header",
    "obslab.observing.rawfits",
    "obslab.observing.optics",
    "obslab.observing.fourier",
    "obslab.observing.synthetic",
    "obslab.observing.night_files",
    "obslab.observing.preview",
    "obslab.observing.alarm_rules",
    "obslab.observing.pipeline.graph",
    "obslab.observing.pipeline.fingerprint",
    "obslab.observing.pipeline.stages",
    "obslab.observing.pipeline.measure",
    "obslab.observing.pipeline.products",
    "obslab.observing.pipeline.night_lock",
    "obslab.observing.pipeline.tasks",  # what a dask worker imports: never the database
    "obslab.reports.types",
]
FORBIDDEN = ("sqlalchemy", "panel", "bokeh", "obslab.db", "obslab.models")


def test_pure_modules_load_no_database_and_no_panel() -> None:
    assert loaded_by_importing(PURE, FORBIDDEN) == ""


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_graph() -> dict[str, set[str]]:
    """Every obslab module and the obslab modules it names in any import, anywhere in the file."""
    paths = {_module_name(p): p for p in PACKAGE.rglob("*.py") if "versions" not in p.parts}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        targets: set[str] = set()
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + [base]).strip(".")
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    targets.add(full if full in paths else base)
        graph[name] = {t for t in targets if t in paths and t != name}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return stack[stack.index(target) :] + [target]
            if target not in state and (found := visit(target)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_circle_in_obslab() -> None:
    cycle = _cycle(_import_graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])


@pytest.mark.parametrize("edges", [{"a": {"b"}, "b": {"c"}, "c": {"a"}}, {"a": {"a2"}, "a2": {"a"}}])
def test_the_circle_finder_finds_circles(edges: dict[str, set[str]]) -> None:
    assert _cycle(edges) is not None
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
