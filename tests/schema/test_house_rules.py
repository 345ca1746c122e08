"""The house rules that keep the code base navigable: docstrings, module size, one-way imports."""

from __future__ import annotations

import ast
from pathlib import Path

import obslab

PACKAGE = Path(obslab.__file__).parent
MODULES = sorted(path for path in PACKAGE.rglob("*.py") if "versions" not in path.parts)
FACES = {"dashboards", "api", "cli"}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_every_module_says_what_it_is_for_in_one_line() -> None:
    for path in MODULES:
        docstring = ast.get_docstring(ast.parse(path.read_text()))
        assert docstring, f"{path.relative_to(PACKAGE)} has no module docstring"
        assert docstring.splitlines()[0].strip(), f"{path.relative_to(PACKAGE)}: empty first docstring line"


def test_modules_stay_small() -> None:
    for path in MODULES:
        assert len(path.read_text().splitlines()) <= 600, f"{path.relative_to(PACKAGE)} is over 600 lines: split it"


def test_domain_and_base_never_import_the_faces() -> None:
    for path in MODULES:
        relative = path.relative_to(PACKAGE)
        if relative.parts[0].removesuffix(".py") in FACES:
            continue
        for name in _imports(path):
            parts = name.split(".")
            assert not (parts[0] == "obslab" and len(parts) > 1 and parts[1] in FACES), f"{relative} imports {name}"


def test_migrations_do_not_import_application_code() -> None:
    # Old migrations must keep working when the models change, so they may not import them.
    for path in (PACKAGE / "migrations" / "versions").glob("*.py"):
        assert not any(name.startswith("obslab") for name in _imports(path)), path.name
