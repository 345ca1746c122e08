"""The reports dashboard: a thin view over ReportsState (the archive filtered, one report shown, run now)."""

from __future__ import annotations

from typing import Any

import panel as pn
import param

from obslab.dashboards.base import PageViewer
from obslab.dashboards.context import DashboardContext
from obslab.dashboards.hosting import wait_for_a_viewer
from obslab.dashboards.shell import error_alert, message_line, shell
from obslab.dashboards.state.reports import ReportsState
from obslab.dashboards.widgets import guarded

TITLES = {
    "id": "Report",
    "template": "Template",
    "night": "Night",
    "state": "State",
    "started": "Started",
    "duration": "Took",
    "run_by": "Run by",
    "cell": "Failed cell",
    "error": "Error",
}
PAGE_CSS = """
.obslab-report-failure { border: 1px solid #cf222e; border-radius: 6px; padding: 8px 12px; background: #fff5f5; }
.obslab-report-failure pre { white-space: pre-wrap; margin: 6px 0 0; font-size: 13px; }
.obslab-report-progress { color: #57606a; font-size: 13px; }
.obslab-report-hint { color: #57606a; font-size: 13px; font-style: italic; }
"""


class ReportsView(PageViewer):
    """Run now on top; the archive with its filters; the report picked below, whole, or its failure."""

    state = param.ClassSelector(class_=ReportsState)

    def __init__(self, context: DashboardContext | None = None, **params: Any) -> None:
        super().__init__(context, **params)
        self.table = self.table_of(
            "rows",
            selected="selected_row",
            titles=TITLES,
            height=230,
            css_classes=["obslab-reports-table"],
            widths={"id": 80, "template": 110, "night": 110, "state": 90, "started": 160, "duration": 80, "cell": 110},
            wrap={"run_by": 1, "error": 4},
        )
        self.table.on_click(self._row_clicked)
        self.go = pn.widgets.Button(label="Run now", color="primary", width=110, css_classes=["obslab-reports-run"])
        self.go.on_click(self._run_clicked)
        self.state.param.watch(lambda event: setattr(self.go, "disabled", event.new), "running")
        self.state.keep_a_kernel_warm(when=wait_for_a_viewer)

    def _row_clicked(self, event: Any) -> None:
        self.state.select(int(self.table.value.iloc[event.row]["id"]))

    async def _run_clicked(self, _event: Any) -> None:
        await self.state.run_now()

    @staticmethod
    def _progress_text(running: bool, done: int, total: int) -> str:
        if not running:
            return ""
        where = f"cell {done} of {total}" if total else "starting the kernel"
        return f'<span class="obslab-report-progress">Running: {where}</span>'

    def _run_row(self) -> pn.Column:
        s = self.state.param
        progress = pn.indicators.Progress(
            value=pn.bind(lambda done: done, s.cells_done),
            max=pn.bind(lambda total: max(total, 1), s.cells_total),
            visible=s.running,
            width=300,
            css_classes=["obslab-reports-progress"],
        )
        status = pn.pane.HTML(
            pn.bind(self._progress_text, s.running, s.cells_done, s.cells_total),
            stylesheets=[PAGE_CSS],
            css_classes=["obslab-reports-status"],
        )
        return pn.Column(
            "#### Run a report",
            pn.Row(
                pn.widgets.Select.from_param(s.run_template, width=160, css_classes=["obslab-reports-run-template"]),
                pn.widgets.TextInput.from_param(
                    s.run_night, placeholder="YYYYMMDD", width=140, css_classes=["obslab-reports-run-night"]
                ),
                pn.widgets.Checkbox.from_param(s.force, margin=(32, 10, 10, 10)),
            ),
            pn.Row(guarded(self.go, self.state.run_refusal), progress, status),
            sizing_mode="stretch_width",
        )

    def __panel__(self) -> pn.viewable.Viewable:
        s = self.state
        filters = pn.Row(
            pn.widgets.Select.from_param(s.param.template, width=160),
            pn.widgets.TextInput.from_param(s.param.night, placeholder="YYYYMMDD", width=140),
            pn.widgets.Select.from_param(s.param.state, width=130),
            css_classes=["obslab-reports-filters"],
        )
        hint = pn.pane.HTML(
            pn.bind(
                lambda chosen: (
                    ""
                    if chosen is not None
                    else '<span class="obslab-report-hint">Click a report to '
                    "read it here; a failed one shows its cell and error.</span>"
                ),
                s.param.selected_id,
            ),
            stylesheets=[PAGE_CSS],
        )
        shown = pn.pane.HTML(
            s.param.shown, sizing_mode="stretch_width", stylesheets=[PAGE_CSS], css_classes=["obslab-reports-shown"]
        )
        body = pn.Column(
            "### Reports",
            self._run_row(),
            error_alert(s),
            message_line(s),
            "#### The archive",
            filters,
            self.table,
            hint,
            shown,
            sizing_mode="stretch_width",
        )
        return shell(s.context, "reports", body)
