"""The trending page in a browser: metrics against time, the camera change as a marker, an alarm acknowledged."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from sqlalchemy import select

from obslab.audit import AuditEvent
from obslab.db import make_engine, make_session_factory
from obslab.observing.models import Alarm
from obslab.plots.trending import TREND_PLOT
from tests.helpers.browsing import VIEWPORT, Watched, shot_if_failed
from tests.helpers.served import served
from tests.helpers.trend_alarms import RULE
from tests.ui.test_layout_browser import CUT_OFF

pytestmark = [pytest.mark.ui, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
#: Where the picture is also left for people to look at.
SHOTS = Path("/tmp/shots")
VIEWER = "sobrien"
CHANGE = datetime(2026, 11, 19, 18, 0, tzinfo=UTC)  # the demo's ROBO-CAM version 2
#: What the page's BokehJS draws: each trend figure on show with its vertical lines and the names written on it.
FIGURE_FACTS = f"""() => {{
  if (!window.Bokeh || !Bokeh.index) {{ return null; }}
  const shown = [...Bokeh.index.query(
    (view) => (view.model.name || "").startsWith("{TREND_PLOT}:") && view.el.isConnected)];
  const column = (figure, field) => figure.renderers
    .map((r) => r.data_source?.data)
    .map((data) => (data instanceof Map ? data.get(field) : data?.[field]))
    .filter((values) => values !== undefined)
    .flatMap((values) => [...values].map(String));
  return shown.map((view) => ({{
    name: view.model.name,
    lines: view.model.renderers.filter((r) => r.dimension === "height" && r.location != null).map((r) => r.location),
    names: column(view.model, "text"),
    alarmed: column(view.model, "alarms").filter((rules) => rules !== ""),
  }}));
}}"""


@pytest.fixture
def page(browser: Any, demo_with_alarms: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Watched]:
    with served(demo_with_alarms, tmp_path, panel=True, viewer=VIEWER) as base:
        watched = Watched(browser)
        watched.page.goto(base + "trends", timeout=120_000)
        with shot_if_failed(watched, request):
            yield watched


def figure_facts(page: Any, count: int) -> list[dict[str, Any]]:
    """The trend figures' facts once ``count`` of them are drawn, each with its points."""
    ready = f"facts && facts.length === {count} && facts.every((f) => f.names.length > 0)"
    page.wait_for_function(f"() => {{ const facts = ({FIGURE_FACTS})(); return {ready}; }}", timeout=60_000)
    return page.evaluate(FIGURE_FACTS)


def cells(page: Any, table: str, field: str) -> list[str]:
    return page.locator(f'.{table} .tabulator-row .tabulator-cell[tabulator-field="{field}"]').all_inner_texts()


def click_until(target: Any, shown: Any, attempts: int = 3) -> None:
    """Click ``target`` until ``shown`` appears: a table laid out again as the page settles can lose one click."""
    for attempt in range(attempts):
        target.click()
        try:
            shown.wait_for(timeout=10_000)
            return
        except PlaywrightTimeout:
            if attempt == attempts - 1:
                raise


def test_series_against_time_with_the_camera_change_and_an_alarm_acknowledged(
    page: Watched, demo_with_alarms: str
) -> None:
    p = page.page
    p.locator(".obslab-header").filter(has_text=VIEWER).wait_for(timeout=60_000)
    p.locator(".obslab-trending-summary").filter(has_text="1 configuration change").wait_for(timeout=60_000)
    # Seeing and Strehl, each a figure against time, the camera change drawn on both as a named line.
    facts = figure_facts(p, 2)
    assert [f["name"] for f in facts] == [f"{TREND_PLOT}:seeing_arcsec", f"{TREND_PLOT}:strehl_percent"]
    change_ms = CHANGE.timestamp() * 1000  # Bokeh keeps times as milliseconds since the epoch
    for figure in facts:
        assert figure["lines"] == [pytest.approx(change_ms)] and figure["names"] == ["ROBO-CAM v2"], figure
    strehl = facts[1]
    assert strehl["alarmed"] and all(RULE in rules for rules in strehl["alarmed"])
    p.locator(".obslab-trending-markers .tabulator-row").filter(has_text="ROBO-CAM v2").wait_for()
    assert cells(p, "obslab-trending-markers", "from") == ["2026-11-19 18:00 UTC"]

    # Pick one of the test rule's alarms: shown whole (its markup as text), the button names it.
    row = p.locator(".obslab-trending-alarms .tabulator-row").filter(has_text=RULE).first
    alarm_id = int(row.locator('.tabulator-cell[tabulator-field="id"]').inner_text())
    selected = p.locator(".obslab-trending-selected").filter(has_text=f"Alarm {alarm_id}")
    click_until(row, selected)
    button = p.get_by_role("button", name=f"Acknowledge alarm {alarm_id}")
    button.wait_for(timeout=30_000)
    assert "Strehl under 12 %: <b>check the loop</b>" in selected.inner_text()
    p.mouse.move(0, 0)  # no tooltip over the picture
    p.wait_for_timeout(1000)  # the figures settle before the picture
    assert p.evaluate(CUT_OFF) == []  # every title, value and hint fits at 1400 px, nothing scrolls sideways
    assert VIEWPORT == {"width": 1400, "height": 1000}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    p.screenshot(path=ARTIFACTS / "trending.png", full_page=True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ARTIFACTS / "trending.png", SHOTS / "trending.png")

    button.click()
    p.locator(".obslab-message").filter(has_text=f"Alarm {alarm_id} acknowledged.").wait_for(timeout=30_000)
    p.locator(".obslab-trending-alarms .tabulator-row").filter(
        has=p.locator(f'.tabulator-cell[tabulator-field="id"]:text-is("{alarm_id}")')
    ).wait_for(state="detached", timeout=30_000)
    engine = make_engine(demo_with_alarms)
    try:
        with make_session_factory(engine)() as session:
            alarm = session.get(Alarm, alarm_id)
            event = session.scalar(
                select(AuditEvent).where(
                    AuditEvent.action == "alarm.acknowledged", AuditEvent.entity_id == str(alarm_id)
                )
            )
            assert alarm.acknowledged_at is not None and event is not None
    finally:
        engine.dispose()
    p.locator(".obslab-trending-log-options input[type=checkbox]").check()
    p.locator(".obslab-trending-alarms .tabulator-row").filter(has_text=f"acknowledged by {VIEWER}").wait_for(
        timeout=30_000
    )

    # A mistyped night is named and clears the figures; put right, they come back.
    last = p.get_by_placeholder("YYYYMMDD").nth(1)
    last.fill("2026-13-01")
    last.press("Enter")
    p.locator(".obslab-error").filter(has_text="last night: '2026-13-01' is not allowed").wait_for(timeout=30_000)
    p.locator(".obslab-trending-figures").first.wait_for(state="hidden", timeout=30_000)
    last.fill("20261119")
    last.press("Enter")
    p.locator(".obslab-error").first.wait_for(state="hidden", timeout=30_000)
    p.locator(".obslab-trending-summary").filter(has_text="values on 2 nights").first.wait_for(timeout=30_000)
    page.assert_clean()
