"""Every page at 1400 x 1000 in a browser: nothing cut off or scrolling sideways; the catalog's selection in step."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from obslab.access import find_user
from obslab.catalog.changes.signoff import sign_off
from obslab.catalog.changes.submit import submit_change
from obslab.catalog.models import EDITABLE_STATUSES, Observation, Revision
from obslab.catalog.types import SignOffState
from obslab.db import make_engine, make_session_factory, transaction
from obslab.scheduling.alerts import ingest
from tests.helpers.browsing import VIEWPORT, Watched, shot_if_failed
from tests.helpers.served import served
from tests.helpers.support import KITT_PEAK
from tests.helpers.voevents import swift_bat_grb

pytestmark = [pytest.mark.ui, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
#: An administrator: every sign-off area and the roster are hers, so "Yours to do" is as long as it gets.
VIEWER = "mgarcia"
NIGHT = "2026-11-21"  # the demo's night, typed in so the page does not depend on today's date

#: Every rendered Tabulator cell and column title whose content is wider than its box, every input hint that
#: does not fit, and every table (or the page) that scrolls sideways; Panel's hidden index column and its 1 px
#: spacer column are not content.
CUT_OFF = """() => {
    const everything = root => [...root.querySelectorAll("*")].flatMap(
        e => e.shadowRoot ? [e, ...everything(e.shadowRoot)] : [e]);
    const found = [];
    for (const e of everything(document)) {
        if (!e.classList || e.getBoundingClientRect().width === 0) continue;
        const column = e.closest(".tabulator-col, .tabulator-cell");
        const field = column?.getAttribute("tabulator-field") ?? "";
        if (field === "_index" || column?.classList.contains("empty")) continue;
        const clipped = e.scrollWidth > e.clientWidth + 1;
        if (e.classList.contains("tabulator-tableholder") && clipped) {
            found.push(`a table scrolls sideways: ${e.scrollWidth} > ${e.clientWidth} px`);
        } else if ((e.classList.contains("tabulator-cell") || e.classList.contains("tabulator-col-title")) && clipped) {
            found.push(`${field}: "${e.textContent.trim()}" needs ${e.scrollWidth} px, has ${e.clientWidth}`);
        }
    }
    // An input's hint (its placeholder) must fit inside it too: the form says what each field takes.
    const pen = document.createElement("canvas").getContext("2d");
    for (const e of everything(document)) {
        if (e.tagName !== "INPUT" || !e.placeholder || e.value || e.getBoundingClientRect().width === 0) continue;
        const style = getComputedStyle(e);
        pen.font = style.font;
        const room = e.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
        const needs = Math.ceil(pen.measureText(e.placeholder).width);
        if (needs > room + 1) found.push(`the hint "${e.placeholder}" needs ${needs} px, has ${room}`);
    }
    if (document.documentElement.scrollWidth > window.innerWidth) {
        found.push(`the page scrolls sideways: ${document.documentElement.scrollWidth} > ${window.innerWidth} px`);
    }
    return found;
}"""


def give_recent_actions(url: str) -> None:
    """The viewer submits one change and signs one area now, so My actions has rows; an alert with a long IVORN."""
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    try:
        with transaction(sessions) as session:
            viewer = find_user(session, VIEWER)
            still_open = select(Revision.obsid).where(Revision.closed_at.is_(None))
            observation = session.scalars(
                select(Observation)
                .where(
                    Observation.instrument.like("ACIS%"),
                    Observation.status.in_(EDITABLE_STATUSES),
                    Observation.si_mode.is_not(None),
                    Observation.obsid.not_in(still_open),
                )
                .order_by(Observation.obsid)
                .limit(1)
            ).one()
            submit_change(
                session, viewer, observation.obsid, seen_version=observation.version, edits=[("frame_time", 0, 2.8)]
            )
        with transaction(sessions) as session:
            sign_first_pending(session, find_user(session, VIEWER))
        with transaction(sessions) as session:
            ingest(
                session,
                find_user(session, "ayamamoto"),
                swift_bat_grb(4242, datetime(2026, 11, 22, 4, 50, tzinfo=UTC), 84.5, 10.2),
                site=KITT_PEAK,
                replan=False,
                now=lambda: datetime(2026, 11, 22, 5, 0, tzinfo=UTC),
            )
    finally:
        engine.dispose()


def sign_first_pending(session: Session, viewer: Any) -> None:
    others = select(Revision).where(Revision.closed_at.is_(None), Revision.submitted_by_id != viewer.id)
    revision = session.scalars(others.order_by(Revision.id)).first()
    area = next(s for s in revision.signoffs if s.state == SignOffState.PENDING and s.area != "verification")
    sign_off(session, viewer, revision.label, area.area, seen_version=area.version)


@pytest.fixture(scope="module")
def base(writable_demo_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    give_recent_actions(writable_demo_database)
    with served(writable_demo_database, tmp_path_factory.mktemp("layout"), panel=True, viewer=VIEWER) as url:
        yield url


@pytest.fixture
def watched(browser: Any, request: pytest.FixtureRequest) -> Iterator[Watched]:
    with shot_if_failed(Watched(browser), request) as watched:
        yield watched


def open_page(watched: Watched, base: str, slug: str) -> Any:
    page = watched.page
    page.goto(base + slug, timeout=120_000)
    page.locator(".obslab-header").filter(has_text=VIEWER).wait_for(timeout=90_000)
    return page


def settle(page: Any) -> None:
    """Let the last update draw (two animation frames), so the measurements are of what the user sees."""
    page.wait_for_timeout(500)
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")


def catalog(page: Any) -> None:
    page.locator(".obslab-catalog-table .tabulator-row").first.wait_for(timeout=60_000)


def change(page: Any) -> None:
    box = page.get_by_placeholder("e.g. 30001")
    box.fill("20005")
    box.press("Enter")
    page.locator(".obslab-editor-load button").click()
    page.locator(".obslab-field-targname-0 input").wait_for(timeout=30_000)


def signoff(page: Any) -> None:
    page.locator(".obslab-board-table .tabulator-row").first.wait_for(timeout=60_000)


def express(page: Any) -> None:
    listing = page.get_by_placeholder("20001-20050, 20077; 20101")
    listing.fill("20001-20030, 99999")
    listing.press("Tab")
    page.locator(".obslab-express-check button").click()
    page.locator(".obslab-express-table .tabulator-row").filter(has_text="99999").wait_for(timeout=30_000)


def mine(page: Any) -> None:
    page.locator(".obslab-actions-table .tabulator-row").filter(has_text="undo until").first.wait_for(timeout=60_000)


def duty(page: Any) -> None:
    page.locator(".obslab-duty-table .tabulator-row").first.wait_for(timeout=60_000)


def schedule(page: Any) -> None:
    box = page.locator(".obslab-schedule-controls input").first
    box.fill(NIGHT)
    box.press("Enter")
    page.locator(".obslab-schedule-summary").filter(has_text=f"{NIGHT} at Kitt Peak").wait_for(timeout=60_000)
    page.locator(".obslab-schedule-left .tabulator-row").first.wait_for(timeout=30_000)
    page.locator(".obslab-schedule-alerts .tabulator-row").first.wait_for(timeout=30_000)


def configs(page: Any) -> None:
    # The demo's VIRUS history as it is now, with its focal plane, items and the diff from the version before.
    page.locator(".obslab-configs-summary").filter(has_text="VIRUS version").wait_for(timeout=60_000)
    page.locator(".obslab-configs-plane canvas").first.wait_for(timeout=30_000)
    page.locator(".obslab-configs-items .tabulator-row").first.wait_for(timeout=30_000)
    page.locator(".obslab-configs-diff .tabulator-row").first.wait_for(timeout=30_000)


PAGES: dict[str, Callable[[Any], None]] = {
    "catalog": catalog,
    "change": change,
    "signoff": signoff,
    "express": express,
    "mine": mine,
    "duty": duty,
    "schedule": schedule,
    "configs": configs,
}


@pytest.mark.parametrize("slug", list(PAGES))
def test_every_page_reads_fully_at_1400_pixels(watched: Watched, base: str, slug: str) -> None:
    assert VIEWPORT == {"width": 1400, "height": 1000}
    page = open_page(watched, base, slug)
    PAGES[slug](page)
    settle(page)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"layout-{slug}.png", full_page=True)
    assert page.evaluate(CUT_OFF) == []
    assert "Traceback" not in page.locator("body").inner_text()
    watched.assert_clean()


def highlighted(page: Any) -> list[str]:
    """The obsids of the catalog rows drawn as selected."""
    return page.locator(
        '.obslab-catalog-table .tabulator-row.tabulator-selected .tabulator-cell[tabulator-field="obsid"]'
    ).all_inner_texts()


def filter_obsids(page: Any, text: str, count: int) -> None:
    box = page.get_by_placeholder("20001-20050, 20077")
    box.fill(text)
    box.press("Enter")
    page.locator(".obslab-page-status").filter(has_text=re.compile(rf"· {count} observations")).wait_for(timeout=30_000)
    settle(page)


def test_the_catalog_selection_detail_and_highlight_stay_in_step(watched: Watched, base: str) -> None:
    page = open_page(watched, base, "catalog")
    catalog(page)
    rows = page.locator(".obslab-catalog-table .tabulator-row")
    chosen = rows.nth(4).locator('.tabulator-cell[tabulator-field="obsid"]').inner_text()
    rows.nth(4).click()
    page.locator(".obslab-detail-summary").filter(has_text=f"Obsid {chosen}").wait_for(timeout=20_000)
    settle(page)
    assert highlighted(page) == [chosen]

    # Narrowed to a list that still holds it: still selected, its own row highlighted (now the first).
    filter_obsids(page, f"{chosen}-{int(chosen) + 9}", 10)
    assert highlighted(page) == [chosen]
    assert page.locator(".obslab-detail-summary").inner_text().startswith(f"Obsid {chosen}")

    # Narrowed to a list without it: nothing highlighted (row 0 is another observation), and no detail.
    filter_obsids(page, f"{int(chosen) + 1}-{int(chosen) + 9}", 9)
    assert highlighted(page) == []
    page.locator(".obslab-detail-empty").wait_for(timeout=20_000)
    assert page.locator(".obslab-detail-summary").count() == 0

    # A refused filter shows the refusal and no rows, and says why the table is empty; then it is put right.
    filter_obsids(page, "20001-2OO11", 0)
    page.locator(".obslab-error").filter(has_text="obsids: '20001-2OO11'").wait_for(timeout=20_000)
    assert page.locator(".obslab-catalog-table .tabulator-row").count() == 0
    placeholder = page.locator(".obslab-catalog-table .tabulator-placeholder")
    assert placeholder.inner_text().strip() == "No observations match these filters."
    filter_obsids(page, chosen, 1)
    page.locator(".obslab-error").filter(has_text="obsids").wait_for(state="hidden", timeout=20_000)
    rows.first.click()
    page.locator(".obslab-detail-summary").filter(has_text=f"Obsid {chosen}").wait_for(timeout=20_000)
    settle(page)
    assert highlighted(page) == [chosen]

    # RA and Dec are on the sky and in the detail; the column chooser puts them in the table too.
    ra = page.locator('.obslab-catalog-table .tabulator-cell[tabulator-field="ra_deg"]')
    assert ra.count() == 0 or not ra.first.is_visible()
    page.locator(".obslab-catalog-columns .card-header").click()
    page.locator(".obslab-catalog-columns label").filter(has_text="RA (deg)").click()
    ra.first.wait_for(timeout=20_000)
    assert re.fullmatch(r"\d{1,3}\.\d{4}", ra.first.inner_text()), ra.first.inner_text()
    watched.assert_clean()
