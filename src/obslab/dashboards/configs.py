"""The configurations dashboard: a thin view over ConfigsState (both time axes, as-of, focal plane, diff, items)."""

from __future__ import annotations

import html
from typing import Any

import panel as pn
import param

from obslab.dashboards.base import PageViewer
from obslab.dashboards.context import DashboardContext
from obslab.dashboards.shell import error_alert, shell
from obslab.dashboards.state.configs import ConfigsState
from obslab.plots.configs import PLANE_WIDTH, config_timeline, focal_plane

#: What both time inputs take, in a hint short enough to fit the box.
TIME_HINT = "now, or 2026-06-01 12:00"
ITEM_TITLES = {
    "item": "Item",
    "x_fp": "X (arcsec)",
    "y_fp": "Y (arcsec)",
    "specid": "SPECID",
    "specslot": "SPECSLOT",
    "ifuid": "IFUID",
    "ifurot": "IFUROT (deg)",
    "platesc": "PLATESC",
}
DIFF_TITLES = {"change": "Change", "item": "Item", "attribute": "Attribute", "before": "Before", "after": "After"}
PAGE_CSS = """
.obslab-configs-summary { font-size: 15px; }
.obslab-configs-record, .obslab-configs-not-drawn, .obslab-configs-diff-text { color: #57606a; font-size: 13px; }
"""


class ConfigsView(PageViewer):
    """Instrument and the two times on top; the answer; the records on both axes beside the focal plane (for an
    instrument without positions, the timeline alone); the items of the version shown; the diff."""

    state = param.ClassSelector(class_=ConfigsState)

    def __init__(self, context: DashboardContext | None = None, **params: Any) -> None:
        super().__init__(context, **params)
        self.items = self.table_of(
            "items", titles=ITEM_TITLES, height=320, css_classes=["obslab-configs-items"], widths={"item": 90}
        )
        self.diff = self.table_of(
            "diff",
            titles=DIFF_TITLES,
            height=260,
            css_classes=["obslab-configs-diff"],
            widths={"change": 100, "item": 90, "attribute": 120},
            wrap={"before": 1, "after": 1},
        )

    def __panel__(self) -> pn.viewable.Viewable:
        s = self.state
        controls = pn.Row(
            pn.widgets.Select.from_param(s.param.instrument, width=160),
            pn.widgets.TextInput.from_param(s.param.valid_at, placeholder=TIME_HINT, width=220),
            pn.widgets.TextInput.from_param(s.param.known_at, placeholder=TIME_HINT, width=220),
            pn.widgets.RadioButtonGroup.from_param(
                s.param.positions, name="IFU positions", align="end", visible=s.param.has_plane
            ),
            css_classes=["obslab-configs-controls"],
        )
        answer = pn.pane.HTML(
            pn.bind(
                lambda summary, record: (
                    f"<div class='obslab-configs-summary'><b>{html.escape(summary)}</b></div>"
                    f"<div class='obslab-configs-record'>{html.escape(record)}</div>"
                ),
                s.param.summary,
                s.param.record,
            ),
            sizing_mode="stretch_width",
            stylesheets=[PAGE_CSS],
        )
        timeline = pn.pane.HoloViews(
            pn.bind(
                lambda versions, marker, read_at: config_timeline(versions, read_at or s.now(), at=marker),
                s.param.versions,
                s.param.marker,
                s.param.read_at,
            ),
            sizing_mode="stretch_width",
            css_classes=["obslab-configs-timeline"],
        )
        plane = pn.Column(
            pn.pane.HoloViews(
                pn.bind(lambda rows, title: focal_plane(rows, title=title), s.param.plane, s.param.plane_title),
                css_classes=["obslab-configs-plane"],
            ),
            self._note("obslab-configs-not-drawn", s.param.not_drawn, width=PLANE_WIDTH),
            visible=s.param.has_plane,
            width=PLANE_WIDTH + 20,  # the margins of what it holds
        )
        compare = pn.Row(
            pn.widgets.TextInput.from_param(s.param.compare_from, placeholder="the version before", width=220),
            pn.widgets.TextInput.from_param(s.param.compare_to, placeholder="the version shown", width=220),
            css_classes=["obslab-configs-compare"],
        )
        body = pn.Column(
            "### Configurations",
            controls,
            error_alert(s),
            answer,
            pn.Row(timeline, plane, sizing_mode="stretch_width"),
            "#### Items of the version shown",
            self.items,
            "#### What changed",
            compare,
            self._note("obslab-configs-diff-text", s.param.diff_text),
            self.diff,
            sizing_mode="stretch_width",
        )
        return shell(s.context, "configs", body)

    @staticmethod
    def _note(css: str, text: Any, **options: Any) -> pn.pane.HTML:
        return pn.pane.HTML(
            pn.bind(lambda value: f"<div class='{css}'>{html.escape(value)}</div>", text),
            stylesheets=[PAGE_CSS],
            sizing_mode="stretch_width" if "width" not in options else None,
            **options,
        )
