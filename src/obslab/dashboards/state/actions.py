"""State of "My recent actions": the viewer's submissions, sign-offs and verifications, and undoing them; no Panel."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pandas as pd
import param
from sqlalchemy.orm import Session

from obslab.access import User, find_user
from obslab.catalog.changes.signoff import undo_sign_off, undo_verification, withdraw
from obslab.catalog.changes.views.my_actions import RecentAction, recent_actions
from obslab.dashboards.context import DashboardContext, default_context
from obslab.dashboards.state.base import DashboardState
from obslab.db import Clock, utcnow
from obslab.errors import InvalidInputError

COLUMNS = ["revision", "what", "at", "undo", "until"]


def undo_label(undo: str | None) -> str:
    """The undo as people read it: "Withdraw", "Undo sign-off (acis)", "Undo verification" ("" for none)."""
    if not undo:
        return ""
    if undo == "withdraw":
        return "Withdraw"
    if undo == "undo_verification":
        return "Undo verification"
    if undo.startswith("undo_sign_off:"):
        return f"Undo sign-off ({undo.partition(':')[2]})"
    return undo


class ActionsState(DashboardState):
    """The viewer's recent actions with the undo each still allows; undos run through the services as the viewer."""

    EMPTY = {"rows": "Nothing of yours to undo: you have not acted in the last {hours:g} hours."}

    rows = param.DataFrame(default=None, precedence=-1)
    selected = param.ClassSelector(
        class_=RecentAction, default=None, allow_None=True, precedence=-1, doc="The selected action, as last read"
    )
    selected_row = param.Integer(
        default=None, allow_None=True, precedence=-1, doc="Where the selected action is in rows"
    )

    def __init__(self, context: DashboardContext | None = None, *, now: Clock = utcnow, **params: Any) -> None:
        context = context or default_context()
        self.policy = context.catalog_policy
        self.rules = self.policy.rules
        super().__init__(context, now=now, **params)
        self._actions: list[RecentAction] = []
        self.refresh()

    def refresh(self) -> None:
        """Re-read the viewer's actions of the undo window (an unknown viewer has none)."""
        at = self.now()

        def read(session: Session) -> list[RecentAction]:
            viewer = find_user(session, self.context.viewer.username)
            return recent_actions(session, viewer, rules=self.rules, now=lambda: at) if viewer is not None else []

        self.run(
            read,
            write=False,
            then=lambda actions: self._show(actions, at),
            refused=lambda _refusal: self._show([], at),
        )

    def empty_text(self, name: str) -> str:
        return super().empty_text(name).format(hours=self.rules.undo_within_hours)

    def _show(self, actions: list[RecentAction], at: datetime) -> None:
        self._actions = actions
        previous = self.selected
        # The selection stays while the action is shown (re-read: its undo may have changed), highlighted where it is.
        selected = self.action(previous.label, previous.what) if previous is not None else None
        self.param.update(
            rows=pd.DataFrame([self._table_row(action, at) for action in actions], columns=COLUMNS),
            selected=selected,
            selected_row=self._position(selected),
        )

    def _position(self, action: RecentAction | None) -> int | None:
        return next((i for i, shown in enumerate(self._actions) if shown is action), None) if action else None

    def _table_row(self, action: RecentAction, at: datetime) -> dict[str, Any]:
        return {
            "revision": action.label,
            "what": action.what,
            "at": f"{action.at:%Y-%m-%d %H:%M}",
            "undo": undo_label(action.undo) if action.undo else action.why_not or "cannot be undone",
            "until": self.window(action, at) if action.undo else "",
        }

    def window(self, action: RecentAction, at: datetime | None = None) -> str:
        """Until when the action can be undone, and the time left.

        For example "undo until 2026-11-23 18:30 UTC (47 h 05 min left)".
        """
        deadline = action.at + timedelta(hours=self.rules.undo_within_hours)
        minutes = int((deadline - (at or self.now())).total_seconds() // 60)
        if minutes < 0:
            return f"undo window closed at {deadline:%Y-%m-%d %H:%M} UTC"
        return f"undo until {deadline:%Y-%m-%d %H:%M} UTC ({minutes // 60} h {minutes % 60:02d} min left)"

    @property
    def actions(self) -> list[RecentAction]:
        """The actions behind ``rows``, in the same order (newest first)."""
        return list(self._actions)

    def action(self, label: str, what_or_undo: str) -> RecentAction | None:
        """The shown action on ``label`` whose ``what`` ("signed acis") or ``undo`` ("undo_sign_off:acis") is given."""
        return next((a for a in self._actions if a.label == label and what_or_undo in (a.what, a.undo)), None)

    def select(self, label: str, what_or_undo: str) -> None:
        selected = self.action(label, what_or_undo)
        self.param.update(selected=selected, selected_row=self._position(selected))

    def describe(self, action: RecentAction) -> str:
        """What undoing ``action`` does, in the words of its button: "Undo sign-off (acis) of 30001.001"."""
        if action.undo == "withdraw":
            return f"Withdraw {action.label}"
        return f"{undo_label(action.undo)} of {action.label}" if action.undo else ""

    def undo(self, label: str, what_or_undo: str) -> bool:
        """Undo the shown action on ``label`` (named by its ``what`` or its ``undo``) as the viewer.

        The version sent is the one read with the action, so anything done to the revision or sign-off since
        is refused by the service (with who and when) and nothing is written.  Returns whether it was undone.
        """
        action = self.action(label, what_or_undo)
        if action is None:
            refused = InvalidInputError("action", f"{label} {what_or_undo}", "one of your recent actions shown")
            self.error, self.message = str(refused), ""
            return False
        if action.undo is None:
            # No service would take it; say why in the words the table shows.
            self.error, self.message = (
                f"{label}: {action.what} cannot be undone: {action.why_not or 'no undo applies'}",
                "",
            )
            return False
        # Either way, show what is there now, e.g. whoever acted on the revision since.
        return self.run(
            lambda session: self._undo(session, self.context.actor(session), action),
            self._done(action),
            then=lambda _done: self.refresh(),
            refused=lambda _refusal: self.refresh(),
        )

    def _undo(self, session: Session, viewer: User, action: RecentAction) -> None:
        undo = action.undo or ""
        if undo == "withdraw":
            withdraw(session, viewer, action.label, seen_version=action.version, policy=self.policy, now=self.now)
        elif undo == "undo_verification":
            undo_verification(
                session, viewer, action.label, seen_version=action.version, policy=self.policy, now=self.now
            )
        elif undo.startswith("undo_sign_off:"):
            undo_sign_off(
                session,
                viewer,
                action.label,
                undo.partition(":")[2],
                seen_version=action.version,
                policy=self.policy,
                now=self.now,
            )
        else:
            raise InvalidInputError("undo", undo, "withdraw, undo_sign_off:<area> or undo_verification")

    @staticmethod
    def _done(action: RecentAction) -> str:
        if action.undo == "withdraw":
            return f"withdrew {action.label} ({action.what})"
        if action.undo == "undo_verification":
            return f"undid your verification of {action.label}: it is open again"
        return f"undid your {(action.undo or '').partition(':')[2]} sign-off of {action.label}: it is pending again"
