"""The scheduling dashboard: a thin view over ScheduleState (night chart, sky map, reasons, re-plan, alerts)."""

from __future__ import annotations

import html
from typing import Any

import panel as pn
import param
from bokeh.models.widgets.tables import DateFormatter

from obslab.dashboards.base import PageViewer
from obslab.dashboards.context import DashboardContext
from obslab.dashboards.shell import error_alert, message_line, shell
from obslab.dashboards.state.schedule import ScheduleState
from obslab.dashboards.widgets import guarded
from obslab.plots.schedule import night_chart
from obslab.scheduling.service import SCHEDULER_ROLE
from obslab.scheduling.views import SkyMapAlert

MINUTE = DateFormatter(format="%Y-%m-%d %H:%M")
BLOCK_TITLES = {
    "request": "Id",
    "name": "Request",
    "target": "Target",
    "start": "Start (UTC)",
    "end": "End (UTC)",
    "local": "Site clock",
    "priority": "Priority",
    "slew_s": "Slew (s)",
}
LEFT_TITLES = {
    "request": "Id",
    "name": "Request",
    "target": "Target",
    "priority": "Priority",
    "reason": "Reason",
    "detail": "Why",
}
ALERT_TITLES = {
    "received": "Received (UTC)",
    "stream": "Stream",
    "key": "Notice",
    "status": "Status",
    "decision": "Decision",
}


class NightSchedule(PageViewer):
    """Night, From and Lost on top; the night chart; the unscheduled with reasons; the blocks; the alert feed."""

    state = param.ClassSelector(class_=ScheduleState)

    def __init__(self, context: DashboardContext | None = None, **params: Any) -> None:
        super().__init__(context, **params)
        self.blocks = self.table_of(
            "blocks",
            titles=BLOCK_TITLES,
            height=260,
            css_classes=["obslab-schedule-blocks"],
            widths={"request": 60, "name": 110, "start": 150, "end": 150, "local": 130, "priority": 95, "slew_s": 95},
            wrap={"target": 1},
            formatters={"start": MINUTE, "end": MINUTE},
        )
        # The reason is a code; the detail ("Why") says it in words, so it gets the width and wraps.
        self.left = self.table_of(
            "unscheduled",
            titles=LEFT_TITLES,
            height=300,
            css_classes=["obslab-schedule-left"],
            widths={"request": 60, "name": 110, "priority": 95, "reason": 190},
            wrap={"target": 1, "detail": 4},
        )
        self._map_read: tuple[int | None, Any] = (None, None)
        self.alerts = self.table_of(
            "alerts",
            titles=ALERT_TITLES,
            height=220,
            css_classes=["obslab-schedule-alerts"],
            widths={"received": 160, "status": 110},
            wrap={"stream": 2, "key": 3, "decision": 3},
            formatters={"received": MINUTE},
        )

    def __panel__(self) -> pn.viewable.Viewable:
        s = self.state
        controls = pn.Row(
            pn.widgets.TextInput.from_param(s.param.night, width=130),
            pn.widgets.TextInput.from_param(s.param.planned_from, placeholder="06:30", width=110),
            pn.widgets.TextInput.from_param(s.param.lost, placeholder="07:10-08:30", width=180),
            pn.widgets.FloatInput.from_param(s.param.search_seconds, placeholder="default", width=90),
            self._button("What if", "obslab-schedule-whatif", s.what_if),
            guarded(
                self._button("Re-plan and store", "obslab-schedule-replan", s.replan, color="primary"),
                s.refusal(SCHEDULER_ROLE, "store night plans"),
            ),
            self._button("Refresh", "obslab-schedule-refresh", s.refresh),
            css_classes=["obslab-schedule-controls"],
        )
        head = pn.pane.HTML(
            pn.bind(
                lambda summary, version: (
                    f"<div class='obslab-schedule-summary'><b>{html.escape(version)}</b> · {html.escape(summary)}</div>"
                ),
                s.param.summary,
                s.param.version,
            ),
            sizing_mode="stretch_width",
        )
        # One pane for both figures: a HoloViews layout shares their time axis, so they pan and zoom together.
        chart = pn.pane.HoloViews(
            pn.bind(night_chart, s.param.chart),
            sizing_mode="stretch_width",
            css_classes=["obslab-schedule-chart"],
        )
        # Only a night whose requests were tiled from a gravitational-wave map has the map; others show nothing.
        skymap = pn.panel(pn.bind(self._skymap, s.param.skymap, s.param.skymap_tiles), sizing_mode="stretch_width")
        body = pn.Column(
            "### Night schedule",
            controls,
            error_alert(s),
            message_line(s),
            head,
            chart,
            skymap,
            "#### Left out, and why",
            self.left,
            "#### Blocks",
            self.blocks,
            "#### Alerts",
            self.alerts,
            sizing_mode="stretch_width",
        )
        return shell(s.context, "schedule", body)

    def _skymap(self, alert: SkyMapAlert | None, tiles: Any) -> pn.viewable.Viewable:
        if alert is None:
            return pn.Column(sizing_mode="stretch_width")
        from obslab.plots.skymap import skymap_plot
        from obslab.scheduling.skymaps import read_skymap

        # Read once per alert: the page refreshes often, the map of an alert never changes.
        if self._map_read[0] != alert.alert_id:
            self._map_read = (alert.alert_id, read_skymap(alert.fits))
        planned = int(tiles["planned"].sum()) if tiles is not None else 0
        title = f"{alert.title}: {planned} of {len(alert.tiles)} tiles in this plan"
        return pn.Column(
            f"#### Sky map of {html.escape(alert.event_id)} (received {alert.received:%Y-%m-%d %H:%M} UTC)",
            pn.pane.HoloViews(
                skymap_plot(self._map_read[1], tiles, fov_deg=alert.fov_deg, title=title),
                css_classes=["obslab-schedule-skymap"],
            ),
            sizing_mode="stretch_width",
        )

    @staticmethod
    def _button(label: str, css: str, action: Any, color: str = "default") -> pn.widgets.Button:
        button = pn.widgets.Button(label=label, color=color, css_classes=[css], align="end")
        button.on_click(lambda _event: action())
        return button
