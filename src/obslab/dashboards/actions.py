"""My recent actions: a thin Panel view over ActionsState, with an undo button for the selected action."""

from __future__ import annotations

import html
from typing import Any

import panel as pn
import param

from obslab.dashboards.base import PageViewer
from obslab.dashboards.context import DashboardContext
from obslab.dashboards.shell import error_alert, message_line, shell
from obslab.dashboards.state.actions import ActionsState

TITLES = {"revision": "Revision", "what": "What", "at": "At (UTC)", "undo": "Undo", "until": "Window"}


class MyActions(PageViewer):
    """The viewer's submissions, sign-offs and verifications of the undo window; click one, then undo it."""

    state = param.ClassSelector(class_=ActionsState)

    def __init__(self, context: DashboardContext | None = None, **params: Any) -> None:
        super().__init__(context, **params)
        self.table = self.table_of(
            "rows",
            titles=TITLES,
            height=360,
            css_classes=["obslab-actions-table"],
            selected="selected_row",
            widths={"revision": 110, "at": 150},
            wrap={"what": 2, "undo": 3, "until": 4},
        )
        self.table.on_click(self._row_clicked)
        self.undo_button = pn.widgets.Button(
            label="Undo", color="warning", disabled=True, css_classes=["obslab-actions-undo"]
        )
        self.undo_button.on_click(self._undo_clicked)
        self.state.param.watch(lambda _event: self._selection_changed(), "selected")
        self._selection_changed()

    def _row_clicked(self, event: Any) -> None:
        row = self.table.value.iloc[event.row]
        self.state.select(str(row["revision"]), str(row["what"]))

    def _undo_clicked(self, _event: Any) -> None:
        action = self.state.selected
        if action is not None:
            self.state.undo(action.label, action.what)

    def _selection_changed(self) -> None:
        # The button names what it will undo, and is off unless the selected action can be undone.
        action = self.state.selected
        undoable = action is not None and action.undo is not None
        self.undo_button.param.update(
            label=self.state.describe(action) if undoable else "Undo",
            disabled=not undoable,
            color="danger" if undoable and action.undo == "withdraw" else "warning",
        )

    def _selected(self, action: Any, _rows: Any) -> pn.pane.HTML:
        if action is None:
            text = "<p><i>Click an action to see whether it can still be undone.</i></p>"
        elif action.undo is None:
            text = (
                f"<p><b>{html.escape(action.label)}</b> · {html.escape(action.what)} "
                f"at {action.at:%Y-%m-%d %H:%M} UTC: "
                f"cannot be undone ({html.escape(action.why_not or 'no undo applies')})</p>"
            )
        else:
            text = (
                f"<p><b>{html.escape(action.label)}</b> · {html.escape(action.what)} "
                f"at {action.at:%Y-%m-%d %H:%M} UTC: "
                f"{html.escape(self.state.window(action))}</p>"
            )
        return pn.pane.HTML(text, css_classes=["obslab-actions-selected"], sizing_mode="stretch_width")

    def __panel__(self) -> pn.viewable.Viewable:
        s = self.state
        refresh = pn.widgets.Button(label="Refresh", color="default", css_classes=["obslab-actions-refresh"])
        refresh.on_click(lambda _event: s.refresh())
        intro = pn.pane.Markdown(
            f"### My recent actions\nWhat you did in the last {s.rules.undo_within_hours:g} hours; "
            "select one to undo it while nobody else has acted on it."
        )
        body = pn.Column(
            intro,
            error_alert(s),
            message_line(s),
            self.table,
            pn.Column(pn.bind(self._selected, s.param.selected, s.param.rows), sizing_mode="stretch_width"),
            pn.Row(self.undo_button, refresh),
            sizing_mode="stretch_width",
        )
        return shell(s.context, "mine", body)
