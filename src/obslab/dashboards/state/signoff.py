"""State of the sign-off board: filters, rows with badges and the viewer's actions, and acting on them; no Panel."""

from __future__ import annotations

from typing import Any

import pandas as pd
import param
from sqlalchemy.orm import Session

from obslab.access import find_user
from obslab.catalog.changes.change_rules import VERIFICATION
from obslab.catalog.changes.signoff import discard, sign_off, verify
from obslab.catalog.changes.views.board import SORTS, BoardRow, board
from obslab.catalog.changes.views.side_by_side import ValueRow, side_by_side
from obslab.catalog.types import SignOffState
from obslab.dashboards.context import DashboardContext, default_context
from obslab.dashboards.state.base import DashboardState, row_position
from obslab.db import Clock, utcnow
from obslab.errors import InvalidInputError, ObslabError

ANY = ""
#: How people read the actions that are not a sign-off.
ACTION_LABELS = {"verify": "Verify", "approve": "Verify and approve", "discard": "Discard"}
COLUMNS = ["revision", "target", "instrument", "kind", "submitted_by", "submitted_at", "badges", "actions"]
_FILTERS = ("sort", "pending_area", "submitter", "text")


class SignoffState(DashboardState):
    """Filters in; board rows out; actions run through the services as the viewer, refusals shown as they are."""

    EMPTY = {"rows": "No revisions match these filters."}

    sort = param.Selector(default="newest", objects=list(SORTS))
    pending_area = param.Selector(default=ANY, objects=[ANY], label="Waiting for")
    submitter = param.String(default="", doc="User name of the submitter")
    text = param.String(default="", doc="Part of the target name or comment")

    rows = param.DataFrame(default=None, precedence=-1)
    selected = param.String(default="", precedence=-1, doc="Label of the selected revision")
    selected_row = param.Integer(
        default=None, allow_None=True, precedence=-1, doc="Where the selected revision is in rows"
    )

    def __init__(self, context: DashboardContext | None = None, *, now: Clock = utcnow, **params: Any) -> None:
        context = context or default_context()
        self.rules = context.catalog_policy.rules
        super().__init__(context, now=now, **params)
        self.param.pending_area.objects = {"any area": ANY} | {area.label: area.key for area in self.rules.areas}
        self._board: list[BoardRow] = []
        self.refresh()

    @param.depends(*_FILTERS, watch=True)
    def _filters_changed(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Re-read the board for the current filters; a refused read leaves no rows that are not theirs."""
        self.run(self._read, write=False, then=self._show, refused=lambda _refusal: self._show([]))

    def _read(self, session: Session) -> list[BoardRow]:
        return board(
            session,
            find_user(session, self.context.viewer.username),
            sort=self.sort,
            pending_area=self.pending_area or None,
            submitter=self.submitter.strip() or None,
            text=self.text,
            rules=self.rules,
            now=self.now,
        )

    def _show(self, rows: list[BoardRow]) -> None:
        self._board = rows
        frame = pd.DataFrame([self._table_row(row) for row in self._board], columns=self.columns())
        # The selection stays while its revision is on the board, and its row is highlighted wherever it went.
        selected = self.selected if self.row(self.selected) is not None else ""
        self.param.update(rows=frame, selected=selected, selected_row=row_position(frame, "revision", selected))

    def columns(self) -> list[str]:
        return COLUMNS[:6] + [area.key for area in self.rules.areas] + COLUMNS[6:]

    def _table_row(self, row: BoardRow) -> dict[str, Any]:
        cells = {c.area: c.state.replace("_", " ") + (f" ({c.by})" if c.by else "") for c in row.cells}
        return {
            "revision": row.label,
            "target": row.target,
            "instrument": row.instrument,
            "kind": row.kind,
            "submitted_by": row.submitted_by or "",
            "submitted_at": f"{row.submitted_at:%Y-%m-%d %H:%M}",
            **cells,
            "badges": ", ".join(row.badges),
            "actions": ", ".join(self.action_label(action) for action in row.actions),
        }

    def action_label(self, action: str) -> str:
        """How people read an action code: "sign:acis_si" reads "Sign ACIS SI mode" (the title in the rules)."""
        if action.startswith("sign:"):
            return f"Sign {self.rules.area(action.partition(':')[2]).label}"
        return ACTION_LABELS.get(action, action)

    def blocked_actions(self, row: BoardRow) -> list[tuple[str, str]]:
        """(label, why not) of the steps still open on ``row`` that the viewer may not take, for disabled buttons.

        A sign-off waiting for an area the viewer has no role in, and verification while it is not theirs or
        while sign-offs are still pending; the services refuse all of these anyway.
        """
        if not row.open:
            return []
        pending = [c for c in row.cells if c.state == SignOffState.PENDING.value]
        blocked = [
            (self.action_label(f"sign:{c.area}"), self.refusal(self.rules.area(c.area).role, f"sign {label}"))
            for c in pending
            if c.area != VERIFICATION and f"sign:{c.area}" not in row.actions
            for label in [self.rules.area(c.area).label]
        ]
        if "approve" not in row.actions:
            waiting = [self.rules.area(c.area).label for c in pending if c.area != VERIFICATION]
            why = self.refusal(self.rules.verification.role, "verify and approve") or (
                f"verification comes after the other sign-offs; still waiting for {', '.join(waiting)}"
            )
            blocked.append((ACTION_LABELS["approve"], why))
        return [(label, why) for label, why in blocked if why]

    def row(self, label: str) -> BoardRow | None:
        return next((row for row in self._board if row.label == label), None)

    def select(self, label: str) -> None:
        selected = label if self.row(label) is not None else ""
        self.param.update(selected=selected, selected_row=row_position(self.rows, "revision", selected))

    def values(self, label: str) -> list[ValueRow]:
        """The revision's values side by side: original at submission, requested, and the catalog's current value."""
        # Read to draw the selected revision, not an action: success must not clear the error of the last action.
        try:
            with self.context.sessions() as session:
                return side_by_side(session, label)
        except ObslabError as exc:
            self.error = str(exc)
            return []

    def act(self, label: str, action: str) -> bool:
        """Do ``action`` ("sign:<area>", "verify", "approve", "discard") on revision ``label`` as the viewer.

        The versions sent are the ones this board showed, so a change made by someone else since is refused
        by the service (with who and when) rather than overwritten.  Returns whether it was done.
        """
        row = self.row(label)
        if row is None:
            self.error, self.message = str(InvalidInputError("revision", label, "a revision shown on the board")), ""
            return False
        if action not in row.actions:
            # The service would refuse too; this only says so in the board's words first.
            allowed = ", ".join(self.action_label(a) for a in row.actions) or "nothing"
            self.error, self.message = f"{action!r} is not open to you on {label}; you may: {allowed}", ""
            self.audit_refusal(f"{action} {label}", self.error)
            return False

        def write(session: Session) -> None:
            viewer = self.context.actor(session)
            if action.startswith("sign:"):
                area = action.partition(":")[2]
                cell = next(c for c in row.cells if c.area == area)
                sign_off(session, viewer, label, area, seen_version=cell.version, now=self.now)
            elif action in ("verify", "approve"):
                verify(session, viewer, label, seen_version=row.version, approve=action == "approve", now=self.now)
            elif action == "discard":
                discard(session, viewer, label, seen_version=row.version, now=self.now)

        # Either way, show what is there now, e.g. the change that made this one stale.
        return self.run(
            write,
            f"{label}: {self.action_label(action).lower()} done",
            then=lambda _done: self.refresh(),
            refused=lambda _refusal: self.refresh(),
        )
