"""House rules: dashboard state and figures never load Panel, and figures never load SQLAlchemy."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.helpers.fresh_imports import loaded_by_importing

SRC = Path(__file__).resolve().parents[2] / "src"
STATE = sorted((SRC / "obslab" / "dashboards" / "state").glob("*.py"))
PLOTS = sorted((SRC / "obslab" / "plots").glob("*.py"))
#: Top-level packages each folder may not import, directly or (checked in a fresh interpreter) indirectly.
FORBIDDEN = {"state": {"panel", "holoviews", "bokeh"}, "plots": {"panel", "sqlalchemy"}}
NOT_LOADED = {"state": ("panel", "bokeh"), "plots": ("panel", "sqlalchemy")}


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_packages(path: Path) -> set[str]:
    """The top-level packages ``path`` imports anywhere in its code (inside functions too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


MODULES = [("state", path) for path in STATE] + [("plots", path) for path in PLOTS]
IDS = [module_name(path) for _folder, path in MODULES]


def test_every_folder_has_modules() -> None:
    # A moved folder must not make the rules below pass by checking nothing.
    assert {path.stem for path in STATE} >= {"catalog", "editor", "signoff", "express", "schedule", "actions", "duty"}
    assert {path.stem for path in PLOTS} >= {"sky", "schedule", "trending"}


@pytest.mark.parametrize(("folder", "path"), MODULES, ids=IDS)
def test_the_module_imports_nothing_its_folder_forbids(folder: str, path: Path) -> None:
    imported = imported_packages(path)
    assert path.name == "__init__.py" or imported  # the walk found the imports
    assert not imported & FORBIDDEN[folder]


@pytest.mark.parametrize("folder", ["state", "plots"])
def test_importing_each_module_leaves_panel_unloaded(folder: str) -> None:
    modules = [module_name(path) for kind, path in MODULES if kind == folder]
    assert loaded_by_importing(modules, NOT_LOADED[folder]) == ""


def test_the_state_package_imports_nothing() -> None:
    # Importing any state module runs this file first: an import here would reach every state module.
    assert imported_packages(SRC / "obslab" / "dashboards" / "state" / "__init__.py") == set()
