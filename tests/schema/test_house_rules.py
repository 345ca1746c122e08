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


CLI = PACKAGE / "cli"


def _cli_imports(path: Path) -> set[str]:
    """Every module ``path`` imports, relative imports resolved against ``obslab.cli``."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = "obslab.cli" if node.level else ""
            module = ".".join(part for part in (base, node.module) if part)
            names.add(module)
            # `from obslab.cli import changes` imports the module obslab.cli.changes.
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def test_cli_init_is_only_the_main_group_and_its_registrations() -> None:
    assert len((CLI / "__init__.py").read_text().splitlines()) < 60, "cli/__init__.py: move commands to their module"


def test_cli_command_modules_share_only_cli_app() -> None:
    # A new group is a module of its own that imports obslab.cli._app, never another command module
    # nor obslab.cli itself (which imports every group).
    for path in sorted(CLI.glob("*.py")):
        if path.name == "__init__.py":
            continue
        for name in _cli_imports(path):
            if name == "obslab.cli" or name.startswith("obslab.cli."):
                assert name == "obslab.cli._app" or name.startswith("obslab.cli._app."), (
                    f"cli/{path.name} imports {name}"
                )
