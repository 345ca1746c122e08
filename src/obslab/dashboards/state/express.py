"""State of express approval: a pasted obsid list, each obsid's status, and approving the approvable ones; no Panel."""

from __future__ import annotations

from typing import Any

import pandas as pd
import param

from obslab.catalog.changes.express import ExpressResult, ExpressRow, express_approve, express_check
from obslab.dashboards.context import DashboardContext
from obslab.dashboards.state.base import DashboardState
from obslab.db import Clock, utcnow

COLUMNS = ["obsid", "status", "detail"]


class ExpressState(DashboardState):
    """Check a list (ranges, commas, semicolons, spaces), then approve what can be approved in one transaction.

    The rows are always those of the list as typed: a changed or refused list clears them until it is checked.
    """

    EMPTY = {"rows": "Paste obsids above and press Check to see whether each can be approved."}

    obsids = param.String(default="", doc="Obsids or ranges, e.g. 20001-20050, 20077")
    rows = param.DataFrame(default=None, precedence=-1)
    approvable = param.Integer(default=0, precedence=-1)

    def __init__(self, context: DashboardContext | None = None, *, now: Clock = utcnow, **params: Any) -> None:
        super().__init__(context, now=now, **params)
        self._unchecked()

    @param.depends("obsids", watch=True)
    def _list_changed(self) -> None:
        # A changed list must be checked again before anything is approved; the old rows, confirmation and
        # refusal are not about it.
        self._unchecked()
        self.error = self.message = ""

    def _unchecked(self) -> None:
        self._checked = ""
        self.param.update(rows=pd.DataFrame(columns=COLUMNS), approvable=0)

    def check(self) -> None:
        """Show each listed obsid's status; nothing is written."""
        obsids = self.obsids
        self.run(
            lambda session: express_check(session, self.context.actor(session), obsids),
            write=False,
            then=lambda rows: self._checked_rows(rows, obsids),
            refused=lambda _refusal: self._unchecked(),
        )

    def _checked_rows(self, rows: list[ExpressRow], obsids: str) -> None:
        self.message = ""
        self.rows = pd.DataFrame(
            [{"obsid": r.obsid, "status": r.status.value, "detail": r.detail} for r in rows], columns=COLUMNS
        )
        self.approvable = sum(row.approvable for row in rows)
        self._checked = obsids

    def approve(self) -> bool:
        """Approve the approvable obsids of the checked list; the statuses are read again inside the transaction."""
        if not self._checked or self._checked != self.obsids:
            self.error, self.message = "check the list first: approval acts on the list as last checked", ""
            return False
        return self.run(
            lambda session: express_approve(session, self.context.actor(session), self.obsids, now=self.now),
            then=self._approved,
        )

    def _approved(self, result: ExpressResult) -> None:
        self.check()
        self.message = (
            f"approved {len(result.approved)}: {', '.join(result.approved)}"
            if result.approved
            else "nothing to approve"
        )
