"""The OpenAPI page at /docs works offline: the app serves Swagger UI's files itself and nothing points outside."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlparse

import pytest

from obslab.api.docs import ASSETS, assets_folder
from tests.api.http import call
from tests.helpers.browsing import LOOPBACK, Watched

URL = re.compile(r"https?://[^\s'\"<>()\\${}]+")
#: Hosts named inside Swagger UI's JavaScript that the page never loads, and why: XML and JSON Schema namespaces and
#: dialect names are identifiers; the others appear in error messages, licences, a link-detection table and examples.
#: validator.swagger.io (the validity badge) and petstore.swagger.io (the default document) are defaults the page
#: overrides, which test_the_page_overrides_the_defaults_that_would_load_from_outside checks.
NEVER_LOADED = {
    "www.w3.org": "XML namespaces",
    "json-schema.org": "JSON Schema dialect identifiers",
    "spec.openapis.org": "OpenAPI dialect identifiers",
    "datatracker.ietf.org": "links in schema keyword documentation",
    "www.rfc-editor.org": "links in schema keyword documentation",
    "github.com": "licence and issue links in comments",
    "reactjs.org": "React's error-message links",
    "redux.js.org": "Redux's error-message links",
    "fb.me": "React's error-message links",
    "swagger.io": "a link in the page footer text",
    "spdx.org": "licence identifiers",
    "vladimirgorej.com": "a comment's link",
    "example.com": "examples in documentation",
    "실례.com": "an example of an international domain name",
    "base": "a placeholder base for resolving relative references",
    "twitter.com": "the link detector's table",
    "www.tiktok.com": "the link detector's table",
    "instagram.com": "the link detector's table",
    "www.facebook.com": "the link detector's table",
    "soundcloud.com": "the link detector's table",
    "validator.swagger.io": "a default the page overrides",
    "petstore.swagger.io": "a default the page overrides",
}


def outside(text: str) -> set[str]:
    return {url for url in URL.findall(text) if urlparse(url).hostname not in LOOPBACK}


def referenced(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', html)


def test_the_page_names_no_outside_address_and_its_files_come_from_the_app(api: str) -> None:
    page = call(api, "GET", "/docs")
    assert page.status == 200 and page.headers["content-type"].startswith("text/html")
    assert outside(page.text) == set(), "the /docs page names an outside address"
    files = referenced(page.text)
    assert sorted(path.rsplit("/", 1)[-1] for path in files) == sorted(ASSETS)
    for path in files:
        assert path.startswith("/docs/static/"), path
        served = call(api, "GET", path)
        assert served.status == 200, path
        name = path.rsplit("/", 1)[-1]
        assert served.headers["content-type"].startswith(ASSETS[name])
        if name.endswith((".js", ".css")):  # what was served is the installed package's file, byte for byte
            assert served.text == (assets_folder() / name).read_text(encoding="utf-8")


def test_the_stylesheet_loads_nothing_from_outside(api: str) -> None:
    css = call(api, "GET", "/docs/static/swagger-ui.css").text
    assert "@import" not in css
    targets = re.findall(r"url\(\s*['\"]?([^'\")]*)", css)
    assert targets and all(target.startswith("data:") for target in targets), [t[:40] for t in targets]


def test_the_script_names_outside_hosts_only_as_identifiers_and_texts(api: str) -> None:
    script = call(api, "GET", "/docs/static/swagger-ui-bundle.js").text
    hosts = {urlparse(url).hostname for url in outside(script)}
    assert hosts - set(NEVER_LOADED) == set(), "a new outside host in Swagger UI: check whether the page loads it"


def test_the_page_overrides_the_defaults_that_would_load_from_outside(api: str) -> None:
    page = call(api, "GET", "/docs").text
    assert "url: '/openapi.json'" in page
    assert '"validatorUrl": null' in page


def test_only_the_pages_own_files_are_served(api: str) -> None:
    assert call(api, "GET", "/docs/static/index.html").status == 404  # its initializer would load the petstore
    assert call(api, "GET", "/docs/static/..%2F..%2F__init__.py").status == 404
    assert call(api, "GET", "/redoc").status == 404  # FastAPI's ReDoc page loads fonts and script from CDNs


def test_the_openapi_document_describes_the_routes(api: str) -> None:
    document = call(api, "GET", "/openapi.json").json()
    assert document["info"]["title"] == "obslab"
    assert "/health" in document["paths"] and "/docs" not in document["paths"]


@pytest.mark.ui
def test_swagger_ui_renders_in_chromium_without_leaving_loopback(api: str, browser: Any) -> None:
    watched = Watched(browser)
    watched.page.goto(f"{api}/docs")
    watched.page.wait_for_selector(".opblock-summary-path", timeout=30_000)
    assert "obslab" in watched.page.inner_text(".info .title")
    paths = watched.page.locator(".opblock-summary-path").all_inner_texts()
    assert "/health" in [path.strip() for path in paths]
    watched.assert_clean()
    watched.page.close()
