"""The committed dashboard notebooks are what `obslab serve` writes, every Viewer imports, Voila is told to cull."""

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


def test_voila_is_told_to_cull_idle_kernels_and_wait_for_output(tmp_path: Path) -> None:
    """The arguments `obslab serve` gives Voila reach the kernel manager's and the executor's configuration."""
    from obslab.dashboards.serving.voila_app import ObslabVoila

    voila = ObslabVoila()
    voila.parse_command_line(
        serving.voila_arguments(tmp_path, host="127.0.0.1", port=1, preheat=True, idle_timeout=900, cull_interval=60)
    )
    manager = voila.config.MappingKernelManager
    assert (int(manager.cull_idle_timeout), int(manager.cull_interval)) == (900, 60)
    assert str(manager.cull_connected) == "False"  # a page still open keeps its kernel
    assert int(voila.config.VoilaExecutor.iopub_timeout) == serving.IOPUB_TIMEOUT


def test_kernel_culling_settings_default_to_fifteen_minutes_and_refuse_nonsense() -> None:
    from obslab.errors import SettingsError
    from obslab.settings import load_settings

    settings = load_settings()
    assert (settings.dashboard_kernel_idle_timeout, settings.dashboard_kernel_cull_interval) == (900, 60)
    with pytest.raises(SettingsError, match="OBSLAB_DASHBOARD_KERNEL_CULL_INTERVAL"):
        load_settings(dashboard_kernel_cull_interval=0)
