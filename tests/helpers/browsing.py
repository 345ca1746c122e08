"""Debian's chromium under Playwright, with pages that block and record every request leaving loopback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1400, "height": 1000}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def is_local(url: str) -> bool:
    return url.startswith(("data:", "blob:", "about:")) or urlparse(url).hostname in LOOPBACK


class Watched:
    """A fresh page that blocks and records non-loopback requests, and records console errors.

    Opened from a browser, the page has a context of its own, which closing the page closes too (and
    with it any request still under way).  Opened from a context (made with ``viewport=VIEWPORT``), it
    leaves the context open when it closes, as closing a tab leaves the browser running.
    """

    def __init__(self, browser_or_context: Any) -> None:
        opener = browser_or_context
        self.page = opener.new_page(viewport=VIEWPORT) if hasattr(opener, "new_context") else opener.new_page()
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.console: list[str] = []  # every console message, for a failure's record
        self.page.on("request", lambda request: None if is_local(request.url) else self.outside.append(request.url))
        self.page.on("console", self._heard)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.route(lambda url: not is_local(url), lambda route: route.abort())

    def _heard(self, message: Any) -> None:
        self.console.append(f"{message.type}: {message.text}")
        if message.type == "error":
            self.errors.append(message.text)

    def assert_clean(self) -> None:
        assert self.outside == [], f"requests left loopback: {self.outside}"
        assert self.errors == [], f"browser console errors: {self.errors}"


@contextmanager
def shot_if_failed(watched: Watched, request: Any) -> Iterator[Watched]:
    """For a fixture: yields ``watched``; at its teardown, a full-page ``FAILED-<test>.png`` if the test's call did
    not pass (the report ``tests/conftest.py`` keeps on the item), then the page closed."""
    try:
        yield watched
    finally:
        report = getattr(request.node, "report_call", None)
        if report is None or not report.passed:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            watched.page.screenshot(path=SCREENSHOTS / f"FAILED-{request.node.name}.png", full_page=True)
        watched.page.close()
