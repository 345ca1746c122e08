"""What every dashboard state holds (context, clock, error, message) and runs its reads and actions through."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar, TypeVar

import pandas as pd
import param
from sqlalchemy.orm import Session

from obslab.dashboards.context import DashboardContext, default_context
from obslab.db import Clock, transaction, utcnow
from obslab.errors import ObslabError, PermissionDeniedError
from obslab.refusals import record_refusal
from obslab.roles import ADMIN_ROLE

T = TypeVar("T")


class DashboardState(param.Parameterized):
    """A page's state: inputs are params with ``doc=``, outputs have ``precedence=-1``; refusals land in ``error``."""

    #: What each table (a DataFrame output) says when it has no rows; a page shows no table without one.
    EMPTY: ClassVar[Mapping[str, str]] = {}

    error = param.String(default="", precedence=-1, doc="The last refused input or action, as people read it")
    message = param.String(default="", precedence=-1, doc="What the last action did")

    def __init__(self, context: DashboardContext | None = None, *, now: Clock = utcnow, **params: Any) -> None:
        self.context = context or default_context()
        self.now = now
        super().__init__(**params)

    def refusal(self, roles: str | Iterable[str], what: str) -> str:
        """Why the viewer may not ``what`` (empty: they may), with the fix, for a page to show beside a disabled button.

        The services check again when the action runs; this only says so before anyone clicks.
        """
        viewer = self.context.viewer
        needed = {roles} if isinstance(roles, str) else set(roles)
        if not viewer.known:
            return f"{viewer.username} is not an obslab user, so this page is read-only: {viewer.how_to_act}"
        if ADMIN_ROLE in viewer.roles or needed & set(viewer.roles):  # admin holds every role, as the services say
            return ""
        return (
            f"to {what} you need the {' or '.join(sorted(needed))} role; you have {', '.join(viewer.roles) or 'none'}"
        )

    def audit_refusal(self, attempt: str, reason: str) -> None:
        """Keep a refused attempt in the audit log under the viewer, the one identity this page acts as."""
        page = type(self).__name__.removesuffix("State").lower()
        record_refusal(
            self.context.sessions,
            username=self.context.viewer.username,
            attempt=attempt,
            reason=reason,
            where=f"dashboard:{page}",
            now=self.now,
        )

    def empty_text(self, name: str) -> str:
        """What the table of the DataFrame param ``name`` says when it has no rows (KeyError for an unknown table)."""
        return self.EMPTY[name]

    def run(
        self,
        action: Callable[[Session], T],
        success_message: str | Callable[[T], str] | None = None,
        *,
        write: bool = True,
        then: Callable[[T], Any] | None = None,
        refused: Callable[[ObslabError], Any] | None = None,
    ) -> bool:
        """Call ``action(session)`` in one transaction (``write=False``: a read-only session); say whether it was done.

        Parameters
        ----------
        action
            Does the work; its result goes to ``then`` and ``success_message``.
        success_message
            What the action did (text, or made from the result), set as ``message``.
        write
            Whether the action writes: ``transaction(sessions)`` then, else a plain session that commits nothing.
        then
            Called with the result once the transaction is over, after ``error`` is cleared and before the
            message is set (to show the result, or re-read the page).
        refused
            Called with the refusal before ``error`` is set: to clear what no longer matches the inputs, or to
            re-read what is there now (say, the change that made this one stale).

        Success clears ``error``: the page never keeps a refusal its user has since put right.  A refusal (an
        ``ObslabError``: bad input, no permission, a stale version) becomes ``error``, clears ``message`` (no old
        confirmation beside a new refusal) and writes nothing; anything else is a bug and propagates.
        """
        try:
            with transaction(self.context.sessions) if write else self.context.sessions() as session:
                result = action(session)
        except ObslabError as exc:
            if isinstance(exc, PermissionDeniedError):
                self.audit_refusal(getattr(action, "__name__", "an action"), str(exc))
            if refused is not None:
                refused(exc)
            self.error, self.message = str(exc), ""
            return False
        self.error = ""
        if then is not None:
            then(result)
        if success_message is not None:
            self.message = success_message(result) if callable(success_message) else success_message
        return True


def row_position(frame: pd.DataFrame | None, column: str, value: Any) -> int | None:
    """The position of the first row of ``frame`` whose ``column`` equals ``value`` (None: no such row, or no value)."""
    if frame is None or value is None or value == "" or column not in frame:
        return None
    found = (frame[column] == value).to_numpy().nonzero()[0]
    return int(found[0]) if len(found) else None
