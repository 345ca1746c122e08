"""The configurations page in a browser: records on both time axes, as-of across the correction, diff, focal plane."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from obslab.configs.types import ConfigVersion
from obslab.configs.views import history
from obslab.db import make_engine, make_session_factory
from obslab.plots.configs import CONFIG_TIMELINE, FOCAL_PLANE
from tests.helpers.browsing import VIEWPORT, Watched, shot_if_failed
from tests.helpers.served import served

pytestmark = [pytest.mark.ui, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
VIEWER = "sobrien"
TIME_HINT = "now, or 2026-06-01 12:00"
#: What the page's BokehJS draws: the versions of the timeline's boxes (current, then superseded) and the seats
#: of the focal plane's IFUs, from the figures on show (a redrawn figure's old views may linger a while).
FIGURE_FACTS = f"""() => {{
  if (!window.Bokeh || !Bokeh.index) {{ return null; }}
  const shown = (name) => [...Bokeh.index.query((view) => view.model.name === name && view.el.isConnected)];
  const column = (figure, field) => figure.renderers
    .map((r) => r.data_source?.data)
    .map((data) => (data instanceof Map ? data.get(field) : data?.[field]))
    .filter((values) => values !== undefined)
    .map((values) => [...values].map(String));
  const [timelines, planes] = [shown("{CONFIG_TIMELINE}"), shown("{FOCAL_PLANE}")];
  return {{
    versions: timelines.length === 1 ? column(timelines[0].model, "version") : null,
    slots: planes.length === 1 ? column(planes[0].model, "slot") : null,
    title: planes.length === 1 ? planes[0].model.title.text : null,
  }};
}}"""


@pytest.fixture
def page(browser: Any, demo_database: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Watched]:
    with served(demo_database, tmp_path, panel=True, viewer=VIEWER) as base:
        watched = Watched(browser)
        watched.page.goto(base + "configs", timeout=120_000)
        with shot_if_failed(watched, request):
            yield watched


def virus_history(url: str) -> list[ConfigVersion]:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            return history(session, "VIRUS")
    finally:
        engine.dispose()


def typed(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def enter(page: Any, locator: Any, text: str) -> None:
    locator.fill(text)
    locator.press("Enter")


def summary_says(page: Any, text: str) -> None:
    page.locator(".obslab-configs-summary").filter(has_text=text).wait_for(timeout=30_000)


def figure_facts(page: Any, *, plane: str = "") -> dict[str, Any]:
    """The figures' facts once the timeline is drawn (and, with ``plane``, the focal plane titled so)."""
    ready = "facts.versions !== null" + (f" && (facts.title || '').includes('{plane}')" if plane else "")
    page.wait_for_function(f"() => {{ const facts = ({FIGURE_FACTS})(); return facts && {ready}; }}", timeout=30_000)
    return page.evaluate(FIGURE_FACTS)


def cells(page: Any, table: str, field: str) -> list[str]:
    return page.locator(f'.{table} .tabulator-row .tabulator-cell[tabulator-field="{field}"]').all_inner_texts()


def columns_fill(page: Any, table: str, last: str, timeout: float = 30.0) -> None:
    """Wait until the table's last column reaches its right edge: a table given new rows lays its columns out again."""
    deadline = time.monotonic() + timeout
    while True:
        holder = page.locator(f".{table} .tabulator-tableholder").first.bounding_box()
        column = page.locator(f'.{table} .tabulator-col[tabulator-field="{last}"]').first.bounding_box()
        gap = holder["x"] + holder["width"] - (column["x"] + column["width"]) if holder and column else None
        if gap is not None and gap < 30:
            return
        assert time.monotonic() < deadline, f"{table}: its columns stop {gap} px short of its right edge"
        page.wait_for_timeout(200)


def test_timeline_as_of_across_the_correction_diff_and_focal_plane(page: Watched, demo_database: str) -> None:
    p = page.page
    versions = virus_history(demo_database)
    (old,) = [v for v in versions if not v.current]
    p.locator(".obslab-header").filter(has_text=VIEWER).wait_for(timeout=60_000)
    summary_says(p, "VIRUS version 6:")
    # Both figures drawn: every record a box (the superseded one apart), every VIRUS IFU on the plane and no
    # placeholder or other instrument's feed.
    facts = figure_facts(p, plane="VIRUS version 6: 68 IFUs (actual positions)")
    assert facts["versions"] == [["1", "2", "3", "5", "6"], ["4"]], facts
    ifus = {key for key, value in versions[-1].items.items() if int(value["specid"]) < 900}
    assert len(facts["slots"]) == 1 and set(facts["slots"][0]) == ifus and "000" not in facts["slots"][0]
    p.locator(".obslab-configs-not-drawn").filter(has_text="Not drawn: 000, 001, 002, 003, 004").wait_for()

    # As of a moment in the corrected period: before the correction the record it corrected, after it the correction.
    valid, known = p.get_by_placeholder(TIME_HINT).nth(0), p.get_by_placeholder(TIME_HINT).nth(1)
    enter(p, valid, typed(old.valid_from + timedelta(days=7)))
    summary_says(p, "VIRUS version 5:")
    enter(p, known, typed(old.superseded_at - timedelta(days=14)))
    summary_says(p, "VIRUS version 4:")
    p.locator(".obslab-configs-record").filter(has_text="superseded 2026-06-24 00:00 UTC").wait_for()
    p.locator(".obslab-configs-diff-text").filter(has_text="From version 3 to version 4: 10 added").wait_for()
    p.get_by_role("button", name="nominal").click()
    assert figure_facts(p, plane="VIRUS version 4: 62 IFUs (nominal positions)")["versions"] == facts["versions"]
    columns_fill(p, "obslab-configs-diff", "after")
    columns_fill(p, "obslab-configs-items", "platesc")
    p.mouse.move(0, 0)  # no tooltip over the picture
    p.wait_for_timeout(1000)  # the redrawn figures settle before the picture
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    assert VIEWPORT == {"width": 1400, "height": 1000}
    p.screenshot(path=ARTIFACTS / "configs.png", full_page=True)

    # The correction as a diff of two versions: two spectrographs swapped, attribute by attribute.
    enter(p, p.get_by_placeholder("the version before"), "4")
    enter(p, p.get_by_placeholder("the version shown"), "v5")
    p.locator(".obslab-configs-diff-text").filter(has_text="From version 4 to version 5: 0 added").wait_for()
    assert cells(p, "obslab-configs-diff", "attribute") == ["specid", "specid"]
    before, after = cells(p, "obslab-configs-diff", "before"), cells(p, "obslab-configs-diff", "after")
    assert before == after[::-1], (before, after)

    # A refused time names its field and value, and nothing of the times before stays on the page.
    enter(p, known, "2026-13-01")
    p.locator(".obslab-error").filter(has_text="known at: '2026-13-01' is not allowed").wait_for(timeout=30_000)
    p.locator(".obslab-configs-diff .tabulator-row").first.wait_for(state="detached", timeout=30_000)
    assert p.locator(".obslab-configs-summary").inner_text().strip() == ""
    enter(p, known, "")
    p.locator(".obslab-error").first.wait_for(state="hidden", timeout=30_000)

    # An instrument without positions: its items in the table, no plane.
    p.locator(".obslab-configs-controls select").select_option("ROBO-CAM")
    summary_says(p, "ROBO-CAM version 1:")
    p.locator(".obslab-configs-items .tabulator-row").filter(has_text="wheel-1").wait_for(timeout=30_000)
    p.locator(".obslab-configs-plane").first.wait_for(state="hidden", timeout=30_000)
    assert "lp600" in cells(p, "obslab-configs-items", "filter")
    page.assert_clean()
