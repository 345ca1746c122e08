"""The one index page of the dashboards, for Voila and `panel serve` alike: self-contained, escaped, offline."""

from __future__ import annotations

import html
from collections.abc import Sequence
from urllib.parse import quote

import tornado.web

from obslab import __version__
from obslab.dashboards.context import ViewingUser, default_context, viewing_user
from obslab.dashboards.registry import DASHBOARDS, DashboardEntry

#: The mark in the header and the tab: an observatory dome with its slit open, and a star.
LOGO_SVG = (
    '<svg viewBox="0 0 32 32" width="30" height="30" aria-hidden="true">'
    '<rect width="32" height="32" rx="7" fill="#1f6fb2"/>'
    '<path d="M6 23a10 10 0 0 1 20 0z" fill="#fff"/>'
    '<rect x="14.6" y="13" width="2.8" height="10" fill="#1f6fb2"/>'
    '<rect x="5" y="23" width="22" height="4" rx="1" fill="#fff"/>'
    '<circle cx="24.5" cy="7.5" r="1.7" fill="#ffd866"/></svg>'
)
#: Line icons (24x24, drawn in white on the tile) by dashboard slug; a dashboard without one shows its initial.
ICONS = {
    "catalog": '<rect x="4" y="4" width="16" height="16" rx="2"/><path d="M4 9.5h16M4 14.5h16M10 9.5V20"/>',
    "change": '<path d="M4 20h4L19 9l-4-4L4 16z"/><path d="M13 7l4 4"/>',
    "signoff": '<circle cx="12" cy="12" r="8"/><path d="M8.5 12.5l2.5 2.5 4.5-5"/>',
    "express": '<path d="M13 3L5 14h6l-1 7 8-11h-6z"/>',
    "schedule": '<path d="M19.5 14.5A8 8 0 1 1 9.5 4.5a6.5 6.5 0 0 0 10 10z"/>',
    "mine": '<path d="M4.5 12a7.5 7.5 0 1 0 2.2-5.3"/><path d="M4.5 4.5v4h4"/><path d="M12 8v4.5l3 1.5"/>',
    "duty": '<rect x="4" y="5" width="16" height="15" rx="2"/><path d="M4 10h16M9 3v4M15 3v4"/>',
}
#: Tile colours, one per dashboard in registry order (repeating).
TILE_COLOURS = ("#0b6bcb", "#8250df", "#1a7f37", "#bf3989", "#9a6700", "#0a7b83", "#cf4a22")

STYLE = """
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; min-height: 100vh; display: flex; flex-direction: column; background: #f3f5f8; color: #1f2328;
       font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans",
             "Liberation Sans", sans-serif; }
a { color: inherit; }
.bar { display: flex; align-items: center; gap: 20px; padding: 0 32px; height: 60px; background: #0b3d62;
       color: #fff; box-shadow: 0 1px 0 rgba(0, 0, 0, .2); }
.brand { display: flex; align-items: center; gap: 10px; text-decoration: none; font-weight: 700; font-size: 19px;
         letter-spacing: .2px; }
.brand svg { display: block; }
.site { padding-left: 20px; border-left: 1px solid rgba(255, 255, 255, .28); color: #d6e8f7; font-size: 15px; }
.viewer { margin-left: auto; display: flex; align-items: center; gap: 10px; font-size: 14px; }
.avatar { display: inline-flex; align-items: center; justify-content: center; width: 32px; height: 32px;
          border-radius: 50%; background: #d6e8f7; color: #0b3d62; font-weight: 700; font-size: 13px; }
.role { padding: 1px 9px; border-radius: 10px; background: rgba(255, 255, 255, .16); color: #e8f2fb;
        font-size: 12px; line-height: 20px; white-space: nowrap; }
.notice { padding: 1px 9px; border-radius: 10px; background: #ffd866; color: #3d2e00; font-size: 12px;
          line-height: 20px; }
main { flex: 1; width: 100%; max-width: 1160px; margin: 0 auto; padding: 40px 32px 48px; }
.intro { display: flex; align-items: baseline; justify-content: space-between; gap: 16px; margin-bottom: 24px; }
h1 { margin: 0; font-size: 28px; font-weight: 650; letter-spacing: -.2px; }
.intro p { margin: 6px 0 0; color: #59636e; font-size: 15px; }
.count { color: #59636e; font-size: 14px; white-space: nowrap; }
.cards { list-style: none; margin: 0; padding: 0; display: grid; gap: 18px;
         grid-template-columns: repeat(auto-fill, minmax(330px, 1fr)); }
.card { display: flex; flex-direction: column; gap: 12px; height: 100%; padding: 20px 22px 18px;
        background: #fff; border: 1px solid #d8dee4; border-radius: 10px; text-decoration: none;
        box-shadow: 0 1px 2px rgba(31, 35, 40, .06); transition: border-color .15s, box-shadow .15s, transform .15s; }
.card:hover, .card:focus-visible { border-color: #1f6fb2; box-shadow: 0 6px 18px rgba(11, 61, 98, .13);
                                   transform: translateY(-1px); outline: none; }
.card-head { display: flex; align-items: center; gap: 14px; }
.tile { flex: none; display: inline-flex; align-items: center; justify-content: center; width: 40px; height: 40px;
        border-radius: 9px; color: #fff; font-weight: 700; font-size: 17px; }
.obslab-index-title { font-size: 17px; font-weight: 650; color: #1f2328; }
.obslab-index-description { flex: 1; margin: 0; color: #4b5561; font-size: 14px; }
.go { color: #0b6bcb; font-size: 13px; font-weight: 600; }
.card:hover .go { text-decoration: underline; }
footer { padding: 18px 32px; border-top: 1px solid #d8dee4; color: #6b7480; font-size: 13px; text-align: center; }
"""


def initials(viewer: ViewingUser) -> str:
    """One or two letters for the viewer's avatar: of the full name's first and last words, else the username."""
    words = viewer.full_name.split() or [viewer.username]
    letters = words[0][:1] + (words[-1][:1] if len(words) > 1 else "")
    return letters.upper() or "?"


def viewer_html(viewer: ViewingUser) -> str:
    """Who is looking, as the dashboards' header says it: name, username and roles, or that they cannot act."""
    roles = "".join(f'<span class="role">{html.escape(role)}</span>' for role in viewer.roles)
    if not viewer.known:
        roles = '<span class="notice">not an obslab user: read-only</span>'
    elif not viewer.roles:
        roles = '<span class="role">no roles</span>'
    return (
        f'<span class="viewer obslab-index-viewer"><span class="avatar" aria-hidden="true">'
        f'{html.escape(initials(viewer))}</span><span class="who">{html.escape(viewer.label)}</span>{roles}</span>'
    )


def tile_html(entry: DashboardEntry, colour: str) -> str:
    """The coloured square beside a dashboard's title: its icon, or its initial."""
    icon = ICONS.get(entry.slug)
    inside = (
        '<svg viewBox="0 0 24 24" width="22" height="22" fill="none" stroke="#fff" stroke-width="2" '
        f'stroke-linecap="round" stroke-linejoin="round">{icon}</svg>'
        if icon
        else html.escape(entry.title[:1])
    )
    return f'<span class="tile" style="background:{colour}" aria-hidden="true">{inside}</span>'


def card_html(entry: DashboardEntry, href: str, colour: str) -> str:
    """One dashboard's card: a link holding its title and one-line description."""
    title = html.escape(entry.title)
    return (
        f'<li><a class="card obslab-index-card" href="{html.escape(href)}" data-slug="{html.escape(entry.slug)}">'
        f'<span class="card-head">{tile_html(entry, colour)}<span class="obslab-index-title">{title}</span></span>'
        f'<p class="obslab-index-description">{html.escape(entry.description)}</p>'
        f'<span class="go" aria-hidden="true">Open dashboard &rarr;</span></a></li>'
    )


def index_html(
    *,
    site: str,
    viewer: ViewingUser,
    links: Sequence[tuple[DashboardEntry, str]],
    home: str,
    served_by: str,
) -> str:
    """The whole index page: every dashboard in ``links`` (entry, href), the site and the viewer.

    Nothing on it is fetched from anywhere: the style is inline, the fonts are the system's and the
    logo (also the tab's icon, as a data URL) is inline SVG.  Every piece of text is escaped.
    """
    cards = "".join(
        card_html(entry, href, TILE_COLOURS[n % len(TILE_COLOURS)]) for n, (entry, href) in enumerate(links)
    )
    count = f"{len(links)} dashboard{'s' if len(links) != 1 else ''}"
    # An SVG image (unlike SVG inline in HTML) needs its namespace; the quoted "http://" is a name, not a request.
    icon = "data:image/svg+xml," + quote(LOGO_SVG.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>obslab &middot; {html.escape(site)}</title>"
        f'<link rel="icon" href="{html.escape(icon)}"><style>{STYLE}</style></head>'
        '<body class="obslab-index">'
        f'<header class="bar"><a class="brand" href="{html.escape(home)}">{LOGO_SVG}<span>obslab</span></a>'
        f'<span class="site obslab-index-site">{html.escape(site)}</span>{viewer_html(viewer)}</header>'
        '<main><div class="intro"><div><h1>Dashboards</h1>'
        f"<p>Observatory operations at {html.escape(site)}.</p>"
        f'</div><span class="count">{count}</span></div><ul class="cards">{cards}</ul></main>'
        f"<footer>obslab {html.escape(__version__)} &middot; served by {html.escape(served_by)} &middot; "
        "everything on this page comes from this server</footer></body></html>"
    )


def current_index(hrefs: Sequence[str], *, home: str, served_by: str, signed_in_as: str | None = None) -> str:
    """The index for this process's site and viewer (looked up now, so a change of roles shows at once).

    ``signed_in_as``: the viewer a login named (the hub service's), instead of the process's identity.
    """
    context = default_context()
    with context.sessions() as session:
        if signed_in_as is None:
            viewer = viewing_user(session, context.viewer.username)
        else:
            viewer = viewing_user(session, signed_in_as, signed_in=True)
    return index_html(
        site=context.settings.site.name,
        viewer=viewer,
        links=list(zip(DASHBOARDS, hrefs, strict=True)),
        home=home,
        served_by=served_by,
    )


class PanelIndexHandler(tornado.web.RequestHandler):
    """``/`` of `panel serve`: obslab's index instead of Panel's (which loads Google Fonts and thumbnails)."""

    def get(self) -> None:
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.write(current_index([entry.slug for entry in DASHBOARDS], home="./", served_by="Panel"))
