"""The committed dashboard notebooks are what `obslab serve` writes, and every registered Viewer imports."""

from __future__ import annotations

from pathlib import Path

import pytest

from obslab.dashboards import registry
from obslab.dashboards.serving import serving

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("entry", registry.DASHBOARDS, ids=[entry.slug for entry in registry.DASHBOARDS])
def test_the_committed_notebook_is_what_obslab_serve_writes(entry: registry.DashboardEntry) -> None:
    path = ROOT / "dashboards" / f"{entry.slug}.ipynb"
    assert path.is_file(), f"commit {path.relative_to(ROOT)}: write serving.notebook_text(entry) to it"
    assert path.read_bytes().decode("utf-8") == serving.notebook_text(entry)


def test_every_committed_dashboard_notebook_has_a_registry_entry() -> None:
    committed = {path.stem for path in (ROOT / "dashboards").glob("*.ipynb")}
    assert committed == {entry.slug for entry in registry.DASHBOARDS}


def test_write_notebooks_writes_the_committed_text(tmp_path: Path) -> None:
    for path in serving.write_notebooks(tmp_path / "served"):
        assert path.read_bytes() == (ROOT / "dashboards" / path.name).read_bytes()


@pytest.mark.parametrize("entry", registry.DASHBOARDS, ids=[entry.slug for entry in registry.DASHBOARDS])
def test_every_dashboard_viewer_imports(entry: registry.DashboardEntry) -> None:
    viewer = entry.load_viewer()
    assert isinstance(viewer, type)
    assert viewer.__name__ == entry.viewer_class
    assert viewer.__module__ == entry.viewer_module
