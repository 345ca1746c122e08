"""obslab's one index, served by Voila and by `panel serve`: every dashboard linked and opening, offline, no errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from obslab.dashboards.registry import DASHBOARDS
from tests.helpers.browsing import VIEWPORT, Watched
from tests.helpers.served import served

pytestmark = [pytest.mark.ui, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
#: How each server names the index and a dashboard.
WAYS = {
    "voila": {"panel": False, "indexes": ["", "voila/tree"], "page": "voila/render/{slug}.ipynb"},
    "panel": {"panel": True, "indexes": [""], "page": "{slug}"},
}


@pytest.fixture(params=list(WAYS))
def index(request: pytest.FixtureRequest, browser: Any, demo_database: str, tmp_path: Path) -> Iterator[Any]:
    way = request.param
    with served(demo_database, tmp_path, panel=WAYS[way]["panel"]) as base:
        watched = Watched(browser)
        try:
            yield way, base, watched
        finally:
            watched.page.close()


def check_index(page: Any) -> list[str]:
    """Every dashboard in registry order with its title and description, the site and the viewer; the links."""
    cards = page.locator(".obslab-index-card")
    assert cards.count() == len(DASHBOARDS)
    for entry, card in zip(DASHBOARDS, cards.all(), strict=True):
        assert card.locator(".obslab-index-title").inner_text() == entry.title
        assert card.locator(".obslab-index-description").inner_text() == entry.description
        assert card.is_visible()
    assert page.locator(".obslab-index-site").inner_text() == "Kitt Peak"
    viewer = page.locator(".obslab-index-viewer").inner_text()
    assert "Siobhan O'Brien (sobrien)" in viewer and "usint" in viewer and "staff" in viewer
    assert page.title() == "obslab · Kitt Peak"
    assert "Traceback" not in page.locator("body").inner_text()
    return [card.get_attribute("href") or "" for card in cards.all()]


def test_the_index_links_every_dashboard_and_stays_offline(index: Any) -> None:
    way, base, watched = index
    page = watched.page
    for path in WAYS[way]["indexes"]:  # Voila's own page list is replaced at both of its addresses
        response = page.goto(base + path, timeout=60_000)
        assert response is not None and response.status == 200
        hrefs = check_index(page)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.goto(base)
    page.wait_for_load_state("networkidle")
    assert page.viewport_size == VIEWPORT
    page.screenshot(path=ARTIFACTS / f"index-{way}.png")

    # Every link opens its dashboard (the header marks it as the current page), and the brand leads back.
    for entry, href in zip(DASHBOARDS, hrefs, strict=True):
        assert href.endswith(WAYS[way]["page"].format(slug=entry.slug)), href
        page.goto(base)
        page.locator(f'.obslab-index-card[data-slug="{entry.slug}"]').click()
        # Voila's first page waits for the seven preheating kernels, well past Playwright's 30 s default.
        page.locator(".obslab-header .current").filter(has_text=entry.title).wait_for(timeout=180_000)
        assert page.url == base + WAYS[way]["page"].format(slug=entry.slug)
        assert "sobrien" in page.locator(".obslab-header").inner_text()
    page.locator(".obslab-brand a").click()
    page.locator(".obslab-index-card").first.wait_for(timeout=30_000)
    check_index(page)
    watched.assert_clean()
