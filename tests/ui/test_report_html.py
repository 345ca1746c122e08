"""A demo night's nightly report, opened in Chromium: every figure drawn, nothing fetched from elsewhere, no errors."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from obslab.access import find_user
from obslab.db import make_engine, make_session_factory
from obslab.reports.runner import run_report
from obslab.settings import Settings
from tests.helpers.browsing import SCREENSHOTS, VIEWPORT, Watched, shot_if_failed
from tests.helpers.support import fixed_clock

pytestmark = [pytest.mark.ui, pytest.mark.slow]

#: Each Bokeh figure in the page with how many things it draws, once BokehJS has drawn them all.
FIGURES = """() => {
  if (!window.Bokeh || !Bokeh.index) return null;
  const views = Object.values(Bokeh.index);
  return views.map((view) => ({
    title: view.model.title ? view.model.title.text : "",
    renderers: view.model.renderers ? view.model.renderers.length : 0,
  }));
}"""


@pytest.fixture
def report_file(writable_demo_database: str, tmp_path: Path) -> Path:
    engine = make_engine(writable_demo_database)
    sessions = make_session_factory(engine)
    try:
        with sessions() as session:
            staff = find_user(session, "sobrien")
        settings = Settings(database_url=writable_demo_database, data_dir=tmp_path / "data")
        outcome = run_report(sessions, settings, staff, "nightly", {"night": "20261118"}, now=fixed_clock)
    finally:
        engine.dispose()
    return Path(outcome.html_path)


@pytest.fixture
def page(browser: Any, report_file: Path, request: pytest.FixtureRequest) -> Iterator[tuple[Watched, str]]:
    """The report served as a file from loopback, as any static web server (or the archive's folder) would."""
    handler = functools.partial(QuietHandler, directory=str(report_file.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with shot_if_failed(Watched(browser), request) as watched:
            yield watched, f"http://127.0.0.1:{server.server_port}/{report_file.name}"
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:  # the test's output is not a web log
        pass


def test_the_nightly_report_opens_offline_with_every_figure_drawn(page: tuple[Watched, str]) -> None:
    watched, url = page
    p = watched.page
    p.route("**/favicon.ico", lambda route: route.fulfill(status=204))  # the browser asks; a file has none
    p.goto(url)
    p.wait_for_function(f"() => {{ const f = ({FIGURES})(); return f && f.length >= 4; }}", timeout=30_000)
    figures = p.evaluate(FIGURES)
    titles = sorted(f["title"] for f in figures if f["title"])
    assert titles == ["Planned against taken", "Seeing", "Strehl ratio", "The night's hours"]
    assert all(f["renderers"] > 0 for f in figures if f["title"])
    text = p.locator("body").inner_text()
    assert "the night of 2026-11-18" in text and "Shutter open on science" in text and "Alarms raised" in text
    # The AO loop failed that night: the block it cost is named with the night log's reason.
    assert "of which lost to technical (night log)" in text and "technical: AO loop would not close" in text
    for section in ("Planned against executed", "Alerts received", "sign-off activity", "Configuration changes"):
        assert section in text
    assert "Traceback" not in text and "Error" not in text
    assert VIEWPORT == {"width": 1400, "height": 1000}
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    p.screenshot(path=SCREENSHOTS / "report-nightly.png", full_page=True)
    watched.assert_clean()
