"""The dashboards' index page: every text escaped, nothing fetched from anywhere, the viewer as pages show them."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from obslab.dashboards.context import ViewingUser
from obslab.dashboards.registry import DASHBOARDS, DashboardEntry
from obslab.dashboards.serving.index import index_html

HOSTILE = "<script>window.__pwned=1</script> & \"quotes\" 'too' <img src=x onerror=alert(1)>"
SOBRIEN = ViewingUser("sobrien", "Siobhan O'Brien", ("usint", "staff"), True)


class Page(HTMLParser):
    """The tags, attributes and text of a page, as a browser's parser sees them."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def attributes(self, name: str) -> list[str]:
        return [attrs[name] or "" for _tag, attrs in self.tags if name in attrs]


def page_of(**overrides: object) -> Page:
    arguments: dict[str, object] = {
        "site": "Kitt Peak",
        "viewer": SOBRIEN,
        "links": [(entry, f"voila/render/{entry.slug}.ipynb") for entry in DASHBOARDS],
        "home": "/",
        "served_by": "Voila",
    }
    return Page(index_html(**(arguments | overrides)))  # type: ignore[arg-type]


def test_every_dashboard_has_a_one_line_description() -> None:
    for entry in DASHBOARDS:
        assert entry.description.strip() and "\n" not in entry.description, entry.slug
        assert len(entry.description) <= 130 and entry.description.endswith("."), entry.slug


def test_every_dashboard_is_linked_with_its_title_and_description() -> None:
    page = page_of()
    text = "".join(page.text)
    cards = [attrs["href"] for tag, attrs in page.tags if tag == "a" and "obslab-index-card" in (attrs["class"] or "")]
    assert cards == [f"voila/render/{entry.slug}.ipynb" for entry in DASHBOARDS]
    for entry in DASHBOARDS:
        assert entry.title in text and entry.description in text
    assert "Kitt Peak" in text and "Siobhan O'Brien (sobrien)" in text and "usint" in text and "staff" in text


def test_every_text_is_escaped() -> None:
    hostile = DashboardEntry(slug=HOSTILE, title=HOSTILE, description=HOSTILE, viewer="x:Y")
    viewer = ViewingUser(HOSTILE, HOSTILE, (HOSTILE,), True)
    page = page_of(site=HOSTILE, viewer=viewer, links=[(hostile, HOSTILE)], home=HOSTILE, served_by=HOSTILE)
    assert not [tag for tag, _attrs in page.tags if tag in ("script", "img")]
    assert not [attrs for _tag, attrs in page.tags if "onerror" in attrs]
    text = "".join(page.text)
    # Site (title, header, intro), viewer name, role, dashboard title and description, server: all shown as text.
    assert text.count(HOSTILE) >= 7
    assert HOSTILE in page.attributes("href") and HOSTILE in page.attributes("data-slug")


def test_an_unknown_viewer_is_told_they_cannot_act() -> None:
    text = "".join(page_of(viewer=ViewingUser("visitor", "", (), False)).text)
    assert "visitor" in text and "not an obslab user: read-only" in text


@pytest.mark.parametrize("served_by", ["Voila", "Panel"])
def test_the_page_fetches_nothing(served_by: str) -> None:
    html = index_html(
        site="Kitt Peak",
        viewer=SOBRIEN,
        links=[(entry, entry.slug) for entry in DASHBOARDS],
        home="./",
        served_by=served_by,
    )
    page = Page(html)
    tags = {tag for tag, _attrs in page.tags}
    assert not tags & {"script", "img", "iframe", "object", "embed"}
    assert page.attributes("src") == []
    (icon,) = [attrs["href"] for tag, attrs in page.tags if tag == "link"]
    assert (icon or "").startswith("data:image/svg+xml,")
    assert all(not href.startswith(("http:", "https:", "//")) for href in page.attributes("href"))
    assert "url(" not in html and "@import" not in html and "@font-face" not in html
