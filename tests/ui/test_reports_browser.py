"""The reports page in a browser: run now with its cell progress, the report read in the page, a failure's cell."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest

from tests.helpers.browsing import VIEWPORT, Watched, shot_if_failed
from tests.helpers.served import served_process
from tests.notebooks.conftest import FAILING
from tests.ui.test_layout_browser import CUT_OFF

pytestmark = [pytest.mark.ui, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
SHOTS = Path("/tmp/shots")
VIEWER = "sobrien"
NIGHT = "20261118"  # the demo's night with a technical loss


@pytest.fixture
def page(
    browser: Any, writable_demo_database: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Watched]:
    own = tmp_path / "templates"
    own.mkdir()
    nbformat.write(FAILING, own / "broken.ipynb")
    settings = {"OBSLAB_REPORT_TEMPLATES_DIR": str(own)}
    with served_process(writable_demo_database, tmp_path, panel=True, viewer=VIEWER, settings=settings) as server:
        watched = Watched(browser)
        watched.page.goto(server.base + "reports", timeout=120_000)
        with shot_if_failed(watched, request):
            yield watched


def run(p: Any, template: str, night: str) -> None:
    p.locator(".obslab-reports-run-template select").select_option(template)
    night_input = p.locator(".obslab-reports-run-night input")
    night_input.fill(night)
    night_input.press("Enter")
    p.locator(".obslab-reports-run button").click()


def test_run_now_shows_progress_then_the_report_and_a_failure_shows_its_cell(page: Watched) -> None:
    p = page.page
    p.locator(".obslab-header").filter(has_text=VIEWER).wait_for(timeout=60_000)
    p.locator(".obslab-reports-table .tabulator-placeholder").filter(has_text="No report matches").wait_for()
    run(p, "nightly", NIGHT)
    # Papermill's progress, cell by cell, while the kernel works.
    p.locator(".obslab-reports-status").filter(has_text="Running: cell").wait_for(timeout=60_000)
    p.locator(".obslab-message").filter(has_text=" ran in ").wait_for(timeout=120_000)
    frame = p.frame_locator("iframe.obslab-report-frame")
    frame.locator("h1").filter(has_text="the night of 2026-11-18").wait_for(timeout=60_000)
    frame.locator("body").filter(has_text="technical: AO loop would not close").wait_for()
    frame.locator(".bk-Figure, .bk-Canvas, canvas").first.wait_for(timeout=60_000)  # the figures drawn
    assert p.locator(".obslab-reports-status").inner_text().strip() == ""

    # A template that fails: its cell and error, in the page and in the archive's row.
    run(p, "broken", NIGHT)
    failure = p.locator(".obslab-report-failure").filter(has_text="failed in cell 3 of the template")
    failure.wait_for(timeout=120_000)
    assert "ZeroDivisionError: division by zero" in failure.inner_text()
    p.locator(".obslab-error").filter(has_text="failed: cell 3").wait_for()
    rows = p.locator(".obslab-reports-table .tabulator-row")
    rows.filter(has_text="broken").filter(has_text="failed").wait_for()

    # The done report again, from the archive's table.
    rows.filter(has_text="nightly").first.click()
    frame.locator("h1").filter(has_text="the night of 2026-11-18").wait_for(timeout=60_000)
    p.locator(".obslab-error").filter(has_text="failed: cell 3").wait_for(state="hidden")  # that run's, not this
    p.mouse.move(0, 0)
    p.wait_for_timeout(1000)
    assert p.evaluate(CUT_OFF) == []
    assert VIEWPORT == {"width": 1400, "height": 1000}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    p.screenshot(path=ARTIFACTS / "reports.png", full_page=True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ARTIFACTS / "reports.png", SHOTS / "reports.png")
    page.assert_clean()
