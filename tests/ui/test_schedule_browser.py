"""The schedule page in a browser: the night chart, every leftover with its reason, what-if, re-plan, alerts."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from obslab.access import find_user
from obslab.dashboards.state.schedule_chart import chart_range
from obslab.db import make_engine, make_session_factory
from obslab.plots.schedule import ALTITUDES, LOCAL_AXIS, LOST, TIMELINE
from obslab.plots.skymap import PLANNED, SKYMAP
from obslab.scheduling.alerts import ingest
from obslab.scheduling.models import Schedule
from obslab.scheduling.night import night_geometry
from obslab.scheduling.service import active_schedule
from obslab.scheduling.views import night_skymap
from tests.helpers.browsing import Watched
from tests.helpers.served import served
from tests.helpers.support import KITT_PEAK
from tests.helpers.voevents import swift_bat_grb

pytestmark = [pytest.mark.ui, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
NIGHT = "2026-11-21"  # the demo's night (its clock is fixed); typed in, so the test does not depend on today's date
SCHEDULER = "ayamamoto"
HOSTILE_IVORN = "ivo://nasa.gsfc.gcn/SWIFT#BAT_GRB_Pos_<img src=x onerror=window.__pwned=1>"
#: What the page's BokehJS says of the night chart on show: both figures' time range (shared or not), the
#: timeline's legend, and the local-time axis's labels of the given UTC ticks (milliseconds). Views, not the
#: document's models: a redrawn chart's old models may linger in the document for a while.
CHART_FACTS = f"""(ticks) => {{
  if (!window.Bokeh || !Bokeh.index) {{ return null; }}
  const shown = (name) => [...Bokeh.index.query((view) => view.model.name === name && view.el.isConnected)];
  const [timelines, altitudes] = [shown("{TIMELINE}"), shown("{ALTITUDES}")];
  if (timelines.length !== 1 || altitudes.length !== 1) {{ return null; }}
  const [timeline, altitude] = [timelines[0].model, altitudes[0].model];
  const local = timeline.above.find((axis) => axis.name === "{LOCAL_AXIS}");
  const legends = [...timeline.above, ...timeline.below, ...timeline.center].filter((m) => m.items);
  return {{
    shared: timeline.x_range === altitude.x_range,
    range: [timeline.x_range.start, timeline.x_range.end, altitude.x_range.start, altitude.x_range.end],
    legend: legends.flatMap((legend) => legend.items.map((item) => item.label.value ?? item.label)),
    local: local ? local.formatter.doFormat(ticks, {{}}) : null,
  }};
}}"""


@pytest.fixture
def page(
    browser: Any, writable_demo_database: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Watched]:
    engine = make_engine(writable_demo_database)
    with make_session_factory(engine)() as session, session.begin():
        packet = swift_bat_grb(4242, datetime(2026, 11, 22, 4, 50, tzinfo=UTC), 84.5, 10.2).replace(
            "ivo://nasa.gsfc.gcn/SWIFT#BAT_GRB_Pos_4242-259", HOSTILE_IVORN.replace("<", "&lt;")
        )
        ingest(
            session,
            find_user(session, SCHEDULER),
            packet,
            site=KITT_PEAK,
            replan=False,
            now=lambda: datetime(2026, 11, 22, 5, 0, tzinfo=UTC),
        )
    engine.dispose()
    with served(writable_demo_database, tmp_path, panel=True, viewer=SCHEDULER) as base:
        watched = Watched(browser)
        watched.page.goto(base + "schedule", timeout=120_000)  # as test_browser.py: the page is built before "load"
        passed = False
        try:
            yield watched
            passed = request.node.report_call.passed
        finally:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            watched.page.screenshot(
                path=ARTIFACTS / ("schedule.png" if passed else f"FAILED-{request.node.name}.png"), full_page=True
            )
            watched.page.close()


def stored_versions(url: str) -> list[int]:
    """The versions stored for the test's night (the demo stores its own plans and the alerts' re-plans)."""
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            query = select(Schedule.version_number).where(Schedule.night == date.fromisoformat(NIGHT))
            return list(session.scalars(query.order_by(Schedule.version_number)))
    finally:
        engine.dispose()


def cells(page: Any, table: str, field: str) -> list[str]:
    return page.locator(f'.{table} .tabulator-row .tabulator-cell[tabulator-field="{field}"]').all_inner_texts()


def chart_facts(page: Any, *, lost: bool) -> dict[str, Any]:
    """The chart's facts once it shows (with ``lost``: the what-if's lost time in its legend)."""
    shows = f"facts && facts.legend.includes('{LOST}') === {str(lost).lower()}"
    page.wait_for_function(
        f"(ticks) => {{ const facts = ({CHART_FACTS})(ticks); return {shows}; }}", arg=TICKS, timeout=30_000
    )
    return page.evaluate(CHART_FACTS, TICKS)


def night_range_ms() -> list[float]:
    start, end = chart_range(night_geometry(KITT_PEAK, date.fromisoformat(NIGHT)))
    return [start.timestamp() * 1000, end.timestamp() * 1000] * 2


#: 03:00 and 09:30 UTC on the demo night: 20:00 and 02:30 at Kitt Peak (MST, UTC-7, no summer time).
TICKS = [
    datetime(2026, 11, 22, 3, 0, tzinfo=UTC).timestamp() * 1000,
    datetime(2026, 11, 22, 9, 30, tzinfo=UTC).timestamp() * 1000,
]


def test_night_plan_reasons_what_if_replan_and_alerts(page: Watched, writable_demo_database: str) -> None:
    p = page.page
    before = stored_versions(writable_demo_database)
    assert before, "the demo stores its nights' plans"
    following = before[-1] + 1
    p.locator(".obslab-header").filter(has_text=SCHEDULER).wait_for(timeout=60_000)
    box = p.locator(".obslab-schedule-controls input").first
    box.fill(NIGHT)
    box.press("Enter")
    p.locator(".obslab-schedule-summary").filter(has_text=f"{NIGHT} at Kitt Peak").wait_for(timeout=30_000)
    # The chart is drawn: both figures on the night's time axis, shared, with the local time on top; and the
    # table of leftovers has a reason and a detail on every row.
    p.locator(".obslab-schedule-chart canvas").first.wait_for(timeout=30_000)
    facts = chart_facts(p, lost=False)
    assert facts["shared"] and facts["range"] == pytest.approx(night_range_ms(), abs=1), facts
    assert facts["local"] == ["20:00", "02:30"] and "night" in facts["legend"], facts
    p.locator(".obslab-schedule-left .tabulator-row").first.wait_for(timeout=30_000)
    reasons = cells(p, "obslab-schedule-left", "reason")
    assert reasons and all(re.fullmatch(r"[a-z_]+", reason) for reason in reasons), reasons
    assert all(len(detail) > 20 for detail in cells(p, "obslab-schedule-left", "detail"))
    assert cells(p, "obslab-schedule-blocks", "name")

    # What-if with weather: shown, not stored.
    p.get_by_placeholder("07:10-08:30").fill("07:00-09:00")
    p.get_by_placeholder("07:10-08:30").press("Enter")
    p.locator(".obslab-schedule-whatif button").click()
    p.locator(".obslab-message").filter(has_text="nothing stored").wait_for(timeout=30_000)
    p.locator(".obslab-schedule-summary").filter(has_text="what-if (not stored)").wait_for(timeout=30_000)
    assert stored_versions(writable_demo_database) == before
    # The what-if's chart shades the lost time, on the same time axis as before.
    facts = chart_facts(p, lost=True)
    assert facts["shared"] and facts["range"] == pytest.approx(night_range_ms(), abs=1), facts
    p.locator(".obslab-schedule-chart").screenshot(path=ARTIFACTS / "schedule-chart-what-if.png")

    # Re-plan and store, as the scheduler.
    p.locator(".obslab-schedule-replan button").click()
    p.locator(".obslab-message").filter(has_text=f"stored as version {following}").wait_for(timeout=30_000)
    p.locator(".obslab-schedule-summary").filter(has_text=f"version {following} (weather)").wait_for(timeout=30_000)
    assert stored_versions(writable_demo_database) == [*before, following]

    # A refused input names its field and changes nothing.
    p.get_by_placeholder("06:30").fill("25:00")
    p.get_by_placeholder("06:30").press("Enter")
    p.locator(".obslab-schedule-whatif button").click()
    p.locator(".obslab-error").filter(has_text="from: '25:00' is not allowed").wait_for(timeout=30_000)

    # The alert feed shows the hostile IVORN as text.
    assert HOSTILE_IVORN in cells(p, "obslab-schedule-alerts", "key")
    assert p.evaluate("window.__pwned") is None
    page.assert_clean()


#: What the page's BokehJS says of the sky map on show: its title, legend and the tile ranks written on it.
SKYMAP_FACTS = f"""() => {{
  if (!window.Bokeh || !Bokeh.index) {{ return null; }}
  const views = [...Bokeh.index.query((view) => view.model.name === "{SKYMAP}" && view.el.isConnected)];
  if (views.length !== 1) {{ return null; }}
  const plot = views[0].model;
  const legends = [...plot.above, ...plot.below, ...plot.center].filter((m) => m.items);
  const texts = plot.renderers.flatMap((r) => [...((r.data_source && r.data_source.data.text) || [])]);
  return {{
    title: plot.title.text,
    legend: legends.flatMap((legend) => legend.items.map((item) => item.label.value ?? item.label)),
    ranks: texts.map(Number).sort((a, b) => a - b),
  }};
}}"""


def test_the_lvk_map_with_its_tiles_and_what_the_plan_holds(page: Watched, writable_demo_database: str) -> None:
    engine = make_engine(writable_demo_database)
    with make_session_factory(engine)() as session:
        tiled = night_skymap(session, KITT_PEAK, date.fromisoformat(NIGHT))
        blocks = {block.request_id for block in active_schedule(session, date.fromisoformat(NIGHT)).blocks}
    engine.dispose()
    assert tiled is not None, "the demo's LVK merger is tiled for its night"
    planned = sum(tile["request"] in blocks for tile in tiled.tiles)
    p = page.page
    p.locator(".obslab-header").filter(has_text=SCHEDULER).wait_for(timeout=60_000)
    box = p.locator(".obslab-schedule-controls input").first
    box.fill(NIGHT)
    box.press("Enter")
    p.locator(".obslab-schedule-skymap canvas").first.wait_for(timeout=30_000)
    p.wait_for_function(f"({SKYMAP_FACTS})() !== null", timeout=30_000)
    facts = p.evaluate(f"({SKYMAP_FACTS})()")

    assert facts["title"].startswith(f"{tiled.event_id} PRELIMINARY, 90% area ")
    assert facts["title"].endswith(f": {planned} of {len(tiled.tiles)} tiles in this plan") and planned > 0
    assert facts["ranks"] == list(range(1, len(tiled.tiles) + 1))
    assert {"50% region", "90% region", PLANNED} <= set(facts["legend"]), facts["legend"]
    assert p.get_by_text(f"Sky map of {tiled.event_id} (received {tiled.received:%Y-%m-%d %H:%M} UTC)").is_visible()
    p.locator(".obslab-schedule-skymap").screenshot(path=ARTIFACTS / "schedule-skymap.png")
    page.assert_clean()
