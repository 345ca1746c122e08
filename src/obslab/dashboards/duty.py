"""The duty roster: a thin Panel view over DutyState."""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Any

import pandas as pd
import panel as pn
import param

from obslab.dashboards.base import PageViewer
from obslab.dashboards.context import DashboardContext
from obslab.dashboards.shell import error_alert, message_line, shell
from obslab.dashboards.state.duty import DutyState
from obslab.dashboards.widgets import BADGE_CSS, badge

TITLES = {
    "starts_on": "From",
    "ends_on": "To",
    "days": "Days",
    "person": "On duty",
    "name": "Name",
    "assigned_by": "Assigned by",
    "status": "Status",
    "note": "Note",
    "actions": "Yours to do",
}
HIDDEN = ["version", "current"]
#: Fits each title and value, in bold too (the week on duty now is bold); names, notes and actions wrap.
WIDTHS = {"starts_on": 115, "ends_on": 115, "days": 80, "person": 120, "assigned_by": 130, "status": 130}
CURRENT_STYLE = "background-color: #dff3e4; font-weight: 600"


def _highlight_current(row: pd.Series) -> list[str]:
    return [CURRENT_STYLE if row.get("current") else "" for _ in row]


class DutyRoster(PageViewer):
    """The roster from this week on, who is on duty now, and the changes the viewer's role allows on a slot."""

    state = param.ClassSelector(class_=DutyState)

    def __init__(self, context: DashboardContext | None = None, **params: Any) -> None:
        super().__init__(context, **params)
        s = self.state
        self.table = self.table_of(
            "rows",
            selected="selected_row",
            titles=TITLES,
            height=420,
            hidden_columns=HIDDEN,
            css_classes=["obslab-duty-table"],
            widths=WIDTHS,
            wrap={"name": 2, "note": 2, "actions": 2},
        )
        self.table.style.apply(_highlight_current, axis=1)  # the slot on duty now stands out
        self.table.on_click(self._row_clicked)

        self.sign_me_up = self._button("Sign me up", "primary", "obslab-duty-signup", lambda: s.sign_up(s.selected))
        self.person = pn.widgets.TextInput(
            label="Someone else", placeholder="user name", width=160, css_classes=["obslab-duty-person"]
        )
        self.sign_up_other = self._button(
            "Sign them up", "default", "obslab-duty-signup-other", lambda: s.sign_up(s.selected, self.person.value)
        )
        self.unlock = self._button("Unlock", "warning", "obslab-duty-unlock", lambda: s.unlock(s.selected))
        self.split = self._button("Split in two", "default", "obslab-duty-split", lambda: s.split(s.selected))
        self.delete = self._button(
            "Delete (merge into neighbour)", "danger", "obslab-duty-delete", lambda: s.delete(s.selected)
        )
        self.through = pn.widgets.DatePicker(
            label="Add open weeks through",
            value=s.last_day + timedelta(days=7),
            width=180,
            css_classes=["obslab-duty-through"],
        )
        self.extend = self._button(
            "Add open weeks", "default", "obslab-duty-extend", lambda: s.extend(self.through.value)
        )
        s.param.watch(lambda _event: self._show_actions(), ["selected", "rows", "may_change"])
        self._show_actions()

    @staticmethod
    def _button(label: str, kind: str, css: str, action: Any) -> pn.widgets.Button:
        # label/color, not name/button_type: Panel 1.9 deprecates those.
        button = pn.widgets.Button(label=label, color=kind, css_classes=[css])
        button.on_click(lambda _event: action())
        return button

    def _row_clicked(self, event: Any) -> None:
        self.state.select(str(self.table.value.iloc[event.row]["starts_on"]))

    def _show_actions(self) -> None:
        """Offer only what the viewer may do on the selected slot; the service checks again either way."""
        actions = set(self.state.actions(self.state.selected)) if self.state.selected else set()
        self.sign_me_up.visible = self.person.visible = self.sign_up_other.visible = "sign up" in actions
        self.unlock.visible, self.split.visible, self.delete.visible = (
            "unlock" in actions,
            "split" in actions,
            "delete" in actions,
        )
        self.through.visible = self.extend.visible = self.state.may_change

    def _person_html(self, username: str) -> str:
        name = self.state.full_name(username)
        return f"<b>{html.escape(name)}</b> ({html.escape(username)})" if name else f"<b>{html.escape(username)}</b>"

    def _now_html(self, on_duty: str, _rows: Any) -> str:
        who = self._person_html(on_duty) if on_duty else "nobody"
        return f'<p class="obslab-duty-now-text">On duty now: {who}</p>'

    def _selected_html(self, starts_on: str, _rows: Any) -> str:
        slot = self.state.slot(starts_on) if starts_on else None
        if slot is None:
            return "<p><i>Click a slot to see what you can do with it.</i></p>"
        if slot.person is None:
            who = badge("open")
        else:
            who = self._person_html(slot.person)
            if slot.starts_on <= self.state.today <= slot.ends_on:
                who += " " + badge("signed", "on duty now")
        by = f" · assigned by {html.escape(slot.assigned_by)}" if slot.assigned_by else ""
        note = "" if slot.standard else f" {badge('notice', 'not a Monday-to-Sunday week')}"
        return (
            f"<h3>{slot.starts_on:%a %Y-%m-%d} .. {slot.ends_on:%a %Y-%m-%d}{note}</h3>"
            f"<p>{who}{by} · version {slot.version}</p>"
        )

    def __panel__(self) -> pn.viewable.Viewable:
        s = self.state
        now = pn.pane.HTML(
            pn.bind(self._now_html, s.param.on_duty, s.param.rows),
            css_classes=["obslab-duty-now"],
            sizing_mode="stretch_width",
            stylesheets=[BADGE_CSS],
        )
        weeks = pn.widgets.IntInput.from_param(
            s.param.weeks, label="Weeks shown", width=110, css_classes=["obslab-duty-weeks"]
        )
        refresh = self._button("Refresh", "default", "obslab-duty-refresh", s.refresh)
        selected = pn.pane.HTML(
            pn.bind(self._selected_html, s.param.selected, s.param.rows),
            css_classes=["obslab-duty-selected"],
            sizing_mode="stretch_width",
            stylesheets=[BADGE_CSS],
        )
        actions = pn.Row(
            self.sign_me_up,
            self.person,
            self.sign_up_other,
            self.unlock,
            self.split,
            self.delete,
            css_classes=["obslab-duty-actions"],
        )
        extend = pn.Row(self.through, self.extend, css_classes=["obslab-duty-extend-row"])
        body = pn.Column(
            "### Duty roster",
            now,
            pn.Row(weeks, refresh),
            error_alert(s),
            message_line(s),
            self.table,
            selected,
            actions,
            extend,
            sizing_mode="stretch_width",
        )
        return shell(s.context, "duty", body)
