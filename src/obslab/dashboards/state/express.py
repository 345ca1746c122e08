"""State of express approval: a pasted obsid list, each obsid's status, and approving the approvable ones; no Panel."""

from __future__ import annotations

from typing import Any

import pandas as pd
import param

from obslab.catalog.express import express_approve, express_check
from obslab.dashboards.context import DashboardContext, default_context
from obslab.db import Clock, transaction, utcnow
from obslab.errors import ObslabError

COLUMNS = ["obsid", "status", "detail"]


class ExpressState(param.Parameterized):
    """Check a list (ranges, commas, semicolons, spaces), then approve what can be approved in one transaction."""

    obsids = param.String(default="", doc="Obsids or ranges, e.g. 20001-20050, 20077")
    rows = param.DataFrame(default=None, precedence=-1)
    approvable = param.Integer(default=0, precedence=-1)
    error = param.String(default="", precedence=-1)
    message = param.String(default="", precedence=-1)

    def __init__(self, context: DashboardContext | None = None, *, now: Clock = utcnow, **params: Any) -> None:
        self.context = context or default_context()
        self.now = now
        super().__init__(**params)
        self.rows = pd.DataFrame(columns=COLUMNS)
        self._checked = ""

    @param.depends("obsids", watch=True)
    def _list_changed(self) -> None:
        # A changed list must be checked again before anything is approved.
        self._checked, self.approvable, self.message = "", 0, ""

    def check(self) -> None:
        """Show each listed obsid's status; nothing is written."""
        try:
            with self.context.sessions() as session:
                viewer = self.context.acting_user(session)
                rows = express_check(session, viewer, self.obsids)
        except ObslabError as exc:
            self.error = str(exc)
            return
        self.error, self.message = "", ""
        self.rows = pd.DataFrame(
            [{"obsid": r.obsid, "status": r.status.value, "detail": r.detail} for r in rows], columns=COLUMNS
        )
        self.approvable = sum(row.approvable for row in rows)
        self._checked = self.obsids

    def approve(self) -> bool:
        """Approve the approvable obsids of the checked list; the statuses are read again inside the transaction."""
        if not self._checked or self._checked != self.obsids:
            self.error = "check the list first: approval acts on the list as last checked"
            return False
        try:
            with transaction(self.context.sessions) as session:
                result = express_approve(session, self.context.acting_user(session), self.obsids, now=self.now)
        except ObslabError as exc:
            self.error = str(exc)
            return False
        self.check()
        self.message = (
            f"approved {len(result.approved)}: {', '.join(result.approved)}"
            if result.approved
            else "nothing to approve"
        )
        return True
