"""The trending dashboard: a thin view over TrendingState (metrics against time, changes, night medians, alarm log)."""

from __future__ import annotations

import html
from typing import Any

import pandas as pd
import panel as pn
import param

from obslab.dashboards.base import PageViewer
from obslab.dashboards.context import DashboardContext
from obslab.dashboards.shell import error_alert, message_line, shell
from obslab.dashboards.state.trending import TrendingState
from obslab.dashboards.widgets import guarded
from obslab.plots.trending import time_range, trend_figures, trend_plot

NIGHT_HINT = "YYYYMMDD"
ALARM_TITLES = {
    "id": "Alarm",
    "raised": "Raised",
    "metric": "Metric",
    "rule": "Rule",
    "where": "Exposure or night",
    "measured": "Measured",
    "values": "Values",
    "message": "Message",
    "status": "Status",
}
MARKER_TITLES = {"from": "From", "label": "Version", "what": "What changed"}
PAGE_CSS = """
.obslab-trending-summary { color: #57606a; font-size: 13px; }
.obslab-trending-selected { font-size: 14px; }
"""
#: Each metric's figure, pixels: several fit one above the other, and one alone is still readable.
FIGURE_HEIGHT = 320


def figures(points: pd.DataFrame, nights: pd.DataFrame, markers: pd.DataFrame, units: dict[str, str]) -> Any:
    """One figure per metric (in the order picked), one above the other sharing the time axis and its range.

    None when no metric is shown: HoloViews refuses to render an empty layout, and the pane is hidden then anyway.
    """
    if not units:
        return None
    xlim = time_range(points, nights, markers)
    plots = [
        trend_plot(
            points[points["metric"] == metric],
            nights[nights["metric"] == metric],
            markers,
            metric=metric,
            unit=unit,
            height=FIGURE_HEIGHT,
            xlim=xlim,
        )
        for metric, unit in units.items()
    ]
    return trend_figures(plots)


class TrendingView(PageViewer):
    """Metrics, scope and nights on top; the figures; the configuration changes shown; the alarm log and Acknowledge."""

    state = param.ClassSelector(class_=TrendingState)

    def __init__(self, context: DashboardContext | None = None, **params: Any) -> None:
        super().__init__(context, **params)
        self.log = self.table_of(
            "alarm_log",
            selected="selected_row",
            titles=ALARM_TITLES,
            height=300,
            css_classes=["obslab-trending-alarms"],
            widths={"id": 75, "raised": 160, "metric": 130, "rule": 125, "measured": 160},
            wrap={"where": 3, "values": 2, "message": 3, "status": 2},
        )
        self.log.on_click(self._row_clicked)
        self.changes = self.table_of(
            "markers",
            titles=MARKER_TITLES,
            css_classes=["obslab-trending-markers"],
            widths={"from": 160, "label": 120},
            wrap={"what": 1},
            hidden_columns=["time", "instrument", "version"],
        )
        self.acknowledge = pn.widgets.Button(
            label="Acknowledge", color="warning", disabled=True, css_classes=["obslab-trending-acknowledge"]
        )
        self.acknowledge.on_click(lambda _event: self.state.acknowledge())
        self.state.param.watch(lambda _event: self._selection_changed(), "selected_alarm")
        self._selection_changed()

    def _row_clicked(self, event: Any) -> None:
        self.state.select_alarm(int(self.log.value.iloc[event.row]["id"]))

    def _selection_changed(self) -> None:
        chosen = self.state.selected_alarm
        self.acknowledge.param.update(
            label=f"Acknowledge alarm {chosen}" if chosen is not None else "Acknowledge",
            disabled=chosen is None or bool(self.state.acknowledge_refusal),
        )

    def _selected(self, chosen: int | None, log: pd.DataFrame) -> pn.pane.HTML:
        found = log[log["id"] == chosen] if chosen is not None else log.iloc[:0]
        if found.empty:
            text = "<i>Click an alarm to see it whole and acknowledge it.</i>"
        else:
            row = found.iloc[0]
            text = (
                f"<b>Alarm {int(row['id'])}</b> · {html.escape(row['rule'])} on {html.escape(row['metric'])} of "
                f"{html.escape(row['where'])}, measured {html.escape(row['measured'])}: values (oldest first) "
                f"{html.escape(row['values'])}. {html.escape(row['message'])} ({html.escape(row['status'])})"
            )
        return pn.pane.HTML(
            f"<div class='obslab-trending-selected'>{text}</div>", sizing_mode="stretch_width", stylesheets=[PAGE_CSS]
        )

    def __panel__(self) -> pn.viewable.Viewable:
        s = self.state
        controls = pn.Row(
            pn.widgets.MultiChoice.from_param(s.param.metrics, name="Metrics", width=420),
            pn.widgets.Select.from_param(s.param.instrument, width=130),
            pn.widgets.Select.from_param(s.param.filter_name, width=100),
            pn.widgets.Select.from_param(s.param.camera_mode, width=110),
            pn.widgets.TextInput.from_param(s.param.since, placeholder=NIGHT_HINT, width=130),
            pn.widgets.TextInput.from_param(s.param.until, placeholder=NIGHT_HINT, width=130),
            css_classes=["obslab-trending-controls"],
        )
        summary = pn.pane.HTML(
            pn.bind(lambda text: f"<div class='obslab-trending-summary'>{html.escape(text)}</div>", s.param.summary),
            sizing_mode="stretch_width",
            stylesheets=[PAGE_CSS],
        )
        plots = pn.pane.HoloViews(
            pn.bind(figures, s.param.points, s.param.nights, s.param.markers, s.param.units),
            sizing_mode="stretch_width",
            css_classes=["obslab-trending-figures"],
            visible=pn.bind(lambda units: bool(units), s.param.units),
        )
        acknowledging = guarded(self.acknowledge, s.acknowledge_refusal)
        body = pn.Column(
            "### Trending",
            controls,
            error_alert(s),
            message_line(s),
            summary,
            plots,
            "#### Configuration changes shown",
            self.changes,
            "#### Alarms on the values shown",
            pn.Row(
                pn.widgets.Checkbox.from_param(s.param.show_acknowledged),
                css_classes=["obslab-trending-log-options"],
            ),
            self.log,
            pn.Column(pn.bind(self._selected, s.param.selected_alarm, s.param.alarm_log), sizing_mode="stretch_width"),
            acknowledging,
            sizing_mode="stretch_width",
        )
        return shell(s.context, "trends", body)
