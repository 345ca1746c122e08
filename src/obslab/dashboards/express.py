"""Express approval: a thin Panel view over ExpressState."""

from __future__ import annotations

from typing import Any

import panel as pn
import param

from obslab.dashboards.base import PageViewer
from obslab.dashboards.context import DashboardContext
from obslab.dashboards.shell import error_alert, message_line, shell
from obslab.dashboards.state.express import ExpressState
from obslab.dashboards.widgets import guarded

TITLES = {"obsid": "Obsid", "status": "Status", "detail": "Detail"}


class ExpressApproval(PageViewer):
    """Paste obsids, check them, approve the approvable ones."""

    state = param.ClassSelector(class_=ExpressState)

    def __init__(self, context: DashboardContext | None = None, **params: Any) -> None:
        super().__init__(context, **params)
        # Fixed widths: the table is first drawn empty, so fitting columns to their data would make them too narrow.
        self.table = self.table_of(
            "rows",
            titles=TITLES,
            height=360,
            css_classes=["obslab-express-table"],
            widths={"obsid": 100, "status": 240},
            wrap={"detail": 1},
        )

    def __panel__(self) -> pn.viewable.Viewable:
        s = self.state
        listing = pn.widgets.TextAreaInput.from_param(
            s.param.obsids,
            label="Obsids",
            placeholder="20001-20050, 20077; 20101",
            height=90,
            sizing_mode="stretch_width",
        )
        check = pn.widgets.Button(label="Check", color="default", css_classes=["obslab-express-check"])
        check.on_click(lambda _event: s.check())
        approve = pn.widgets.Button(
            label=f"Approve {s.approvable}", color="primary", css_classes=["obslab-express-approve"]
        )
        approve.on_click(lambda _event: s.approve())
        refusal = s.refusal(s.context.catalog_policy.rules.submitters, "approve observations")
        # The button says how many it will approve, and is off until a check found some (or for good, with why).
        s.param.watch(
            lambda event: approve.param.update(label=f"Approve {event.new}", disabled=event.new == 0 or bool(refusal)),
            "approvable",
        )
        approve.disabled = True
        approving = guarded(approve, refusal)
        message = message_line(s)
        body = pn.Column(
            "### Express approval",
            listing,
            pn.Row(check, approving),
            error_alert(s),
            message,
            self.table,
            sizing_mode="stretch_width",
        )
        return shell(s.context, "express", body)
