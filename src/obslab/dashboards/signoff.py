"""The sign-off board: a thin Panel view over SignoffState."""

from __future__ import annotations

import html
from typing import Any

import panel as pn
import param

from obslab.dashboards.base import PageViewer
from obslab.dashboards.context import DashboardContext
from obslab.dashboards.shell import error_alert, message_line, shell
from obslab.dashboards.state.signoff import SignoffState
from obslab.dashboards.widgets import BADGE_CSS, badge, guarded, html_table

#: Column titles; each sign-off area's column is titled with its label from the change rules.
TITLES = {
    "revision": "Revision",
    "target": "Target",
    "instrument": "Instrument",
    "kind": "Kind",
    "submitted_by": "By",
    "submitted_at": "Submitted (UTC)",
    "badges": "Notes",
    "actions": "Yours to do",
}
WIDTHS = {"revision": 85, "instrument": 90, "kind": 60, "submitted_by": 95, "submitted_at": 130}
AREA_WIDTH = 105


def _area_style(cell: str) -> str:
    if cell == "pending":
        return "color: #9a6700; font-weight: 600"
    if cell == "not required":
        return "color: #8c959f"
    return ""


class SignoffBoard(PageViewer):
    """Open revisions with their areas; the selected one's changes and the buttons the viewer's roles allow."""

    state = param.ClassSelector(class_=SignoffState)

    def __init__(self, context: DashboardContext | None = None, **params: Any) -> None:
        super().__init__(context, **params)
        areas = [area.key for area in self.state.rules.areas]
        self.table = self.table_of(
            "rows",
            selected="selected_row",
            titles=TITLES | {area.key: area.label for area in self.state.rules.areas},
            height=420,
            css_classes=["obslab-board-table"],
            # The Sort menu orders the board; a header sort beside it would show another order than it says.
            sortable=False,
            widths=WIDTHS | dict.fromkeys(areas, AREA_WIDTH),
            # An area's "signed (tlindqvist)" wraps at the parenthesis rather than widening every area column.
            wrap={"target": 4, "badges": 3, "actions": 3} | dict.fromkeys(areas, 1),
        )
        self.table.style.map(_area_style, subset=areas)  # what waits stands out; "not required" recedes
        self.table.on_click(self._row_clicked)

    def _row_clicked(self, event: Any) -> None:
        self.state.select(str(self.table.value.iloc[event.row]["revision"]))

    def _filters(self) -> pn.Row:
        s = self.state.param
        # Others sign while the page is open; Refresh shows their work without losing the filters.
        refresh = pn.widgets.Button(label="Refresh", css_classes=["obslab-board-refresh"], align="end")
        refresh.on_click(lambda _event: self.state.refresh())
        return pn.Row(
            pn.widgets.Select.from_param(s.sort, width=120),
            pn.widgets.Select.from_param(s.pending_area, width=160),
            pn.widgets.TextInput.from_param(s.submitter, placeholder="e.g. jchen", width=160),
            pn.widgets.TextInput.from_param(s.text, placeholder="target or comment", width=200),
            refresh,
            css_classes=["obslab-board-filters"],
        )

    def _selected(self, label: str, _rows: Any) -> Any:
        row = self.state.row(label) if label else None
        if row is None:
            return pn.pane.Markdown(
                "*Click a revision to see its changes and what you can do.*", css_classes=["obslab-board-empty"]
            )
        areas = " ".join(f"{html.escape(c.area)} {badge(c.state)}" for c in row.cells)
        notes = "".join(f" {badge('notice', note)}" for note in row.badges)
        head = (
            f"<h3>{html.escape(row.label)} · {html.escape(row.target)}{notes}</h3>"
            f"<p>{html.escape(row.kind)} by {html.escape(row.submitted_by or '?')} "
            f"at {row.submitted_at:%Y-%m-%d %H:%M} UTC</p>"
            f"<p>{areas}</p><p><b>Comment:</b> {html.escape(row.comment) or '—'}</p>"
        )
        buttons: list[Any] = []
        for action in row.actions:
            button = pn.widgets.Button(
                label=self.state.action_label(action),
                color="primary" if action != "discard" else "danger",
                css_classes=[f"obslab-action-{action.replace(':', '-')}"],
            )
            button.on_click(lambda _event, action=action: self.state.act(row.label, action))
            buttons.append(button)
        # The steps still open that are not the viewer's: shown disabled with why, so nobody wonders where they are.
        blocked = [
            guarded(pn.widgets.Button(label=name, css_classes=["obslab-action-blocked"]), why)
            for name, why in self.state.blocked_actions(row)
        ]
        return pn.Column(
            pn.pane.HTML(
                head, css_classes=["obslab-board-selected"], sizing_mode="stretch_width", stylesheets=[BADGE_CSS]
            ),
            pn.Row(*buttons) if buttons else pn.pane.Markdown("*Nothing here is yours to do.*"),
            *blocked,
            *self._values(label),
            sizing_mode="stretch_width",
        )

    def _values(self, label: str) -> list[Any]:
        """The revision detail: changed values side by side, every other stored value in a closed card."""
        rows = self.state.values(label)
        if not rows:
            return []

        def table(chosen: list[Any]) -> str:
            return html_table(
                ("Group", "Parameter", "Original", "Requested", "Current", ""),
                [
                    (
                        r.group,
                        r.label,
                        r.original,
                        r.requested,
                        r.current,
                        badge("done", "applied") if r.applied and r.changed else "",
                    )
                    for r in chosen
                ],
                raw_columns=(5,),
            )

        changed = [row for row in rows if row.changed]
        head = "<h4>Requested changes</h4>" + (
            table(changed) if changed else "<p>No parameter changes (the request is about approval).</p>"
        )
        others = [row for row in rows if not row.changed]
        parts: list[Any] = [
            pn.pane.HTML(
                head, css_classes=["obslab-board-values"], sizing_mode="stretch_width", stylesheets=[BADGE_CSS]
            )
        ]
        if others:
            parts.append(
                pn.Card(
                    pn.pane.HTML(table(others), sizing_mode="stretch_width", stylesheets=[BADGE_CSS]),
                    title=f"Every other value stored with the revision ({len(others)})",
                    collapsed=True,
                    sizing_mode="stretch_width",
                )
            )
        return parts

    def __panel__(self) -> pn.viewable.Viewable:
        s = self.state
        message = message_line(s)
        body = pn.Column(
            self._filters(),
            error_alert(s),
            message,
            self.table,
            pn.Column(pn.bind(self._selected, s.param.selected, s.param.rows), sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )
        return shell(s.context, "signoff", body)
