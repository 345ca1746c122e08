"""The frame around every dashboard: site, viewer and roles, navigation, and one place for errors."""

from __future__ import annotations

import html
from typing import Any

import panel as pn
import param

from obslab.dashboards.context import DashboardContext
from obslab.dashboards.registry import DASHBOARDS, link_to
from obslab.dashboards.widgets import BADGE_CSS, badge

HEADER_CSS = """
.obslab-header { display: flex; flex-wrap: wrap; align-items: center; gap: 18px; width: 100%;
                 padding: 8px 14px; background: #0b3d62; color: #fff; border-radius: 4px; font-size: 14px; }
.obslab-header a { color: #cfe6ff; text-decoration: none; }
.obslab-header a.current { color: #fff; font-weight: 700; border-bottom: 2px solid #fff; }
.obslab-brand { font-weight: 700; font-size: 16px; }
.obslab-viewer { margin-left: auto; }
"""


def header_html(context: DashboardContext, current: str) -> str:
    """The header bar as escaped HTML."""
    site = context.settings.site
    nav = []
    for entry in DASHBOARDS:
        href = link_to(entry.slug)
        title = html.escape(entry.title)
        css = ' class="current"' if entry.slug == current else ""
        nav.append(f'<a href="{html.escape(href)}"{css}>{title}</a>' if href else f"<span{css}>{title}</span>")
    index = link_to(None)
    brand = f'<a href="{html.escape(index)}">obslab</a>' if index else "obslab"
    viewer = context.viewer
    roles = " ".join(badge("role", role) for role in viewer.roles) or badge("none", "no roles")
    who = html.escape(viewer.label)
    if not viewer.known:  # say why every action is off, and the two ways to fix it
        fix = f"read-only: not an obslab user; {viewer.how_to_act}"
        who += f' &middot; <span class="obslab-unknown-viewer" title="{html.escape(fix)}">{html.escape(fix)}</span>'
    return (
        f'<div class="obslab-header"><span class="obslab-brand">{brand}</span>'
        f'<span class="obslab-site">{html.escape(site.name)}</span>'
        f"<nav>{' &middot; '.join(nav)}</nav>"
        f'<span class="obslab-viewer">{who} {roles}</span></div>'
    )


def error_alert(state: param.Parameterized, name: str = "error") -> pn.pane.Alert:
    """A red alert showing ``state.<name>`` (the service's message), hidden while it is empty."""
    message = state.param[name]
    return pn.pane.Alert(
        pn.bind(lambda text: f'<div class="obslab-error">{html.escape(text)}</div>', message),
        alert_type="danger",
        visible=pn.bind(bool, message),
        sizing_mode="stretch_width",
    )


def message_line(state: param.Parameterized, name: str = "message") -> pn.pane.HTML:
    """A one-line confirmation showing ``state.<name>`` (what an action did), escaped, empty when there is none."""
    return pn.pane.HTML(
        pn.bind(
            lambda text: f'<span class="obslab-message">{html.escape(text)}</span>' if text else "", state.param[name]
        )
    )


def shell(context: DashboardContext, current: str, *body: Any) -> pn.Column:
    """Lay out a dashboard: header, then the body, stretched to the page width."""
    header = pn.pane.HTML(
        header_html(context, current),
        sizing_mode="stretch_width",
        stylesheets=[HEADER_CSS, BADGE_CSS],
        css_classes=["obslab-shell-header"],
    )
    return pn.Column(header, *body, sizing_mode="stretch_width", stylesheets=[BADGE_CSS])
