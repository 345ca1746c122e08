"""The schedule page in a browser: timeline and altitudes, every leftover with its reason, what-if, re-plan."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from obslab.access import find_user
from obslab.db import make_engine, make_session_factory
from obslab.scheduling.alerts import ingest
from obslab.scheduling.models import Schedule
from tests.helpers.browsing import Watched
from tests.helpers.served import served
from tests.helpers.support import KITT_PEAK
from tests.helpers.voevents import swift_bat_grb

pytestmark = [pytest.mark.ui, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
NIGHT = "2026-11-21"  # the demo's night (its clock is fixed); typed in, so the test does not depend on today's date
SCHEDULER = "ayamamoto"
HOSTILE_IVORN = "ivo://nasa.gsfc.gcn/SWIFT#BAT_GRB_Pos_<img src=x onerror=window.__pwned=1>"


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
        watched.page.goto(base + "schedule")
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
    # Both plots are drawn (Bokeh canvases), and the table of leftovers has a reason and a detail on every row.
    p.locator(".obslab-schedule-timeline canvas").first.wait_for(timeout=30_000)
    p.locator(".obslab-schedule-altitudes canvas").first.wait_for(timeout=30_000)
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
    assert HOSTILE_IVORN in cells(p, "obslab-schedule-alerts", "ivorn")
    assert p.evaluate("window.__pwned") is None
    page.assert_clean()
