"""What every dashboard state holds (context, clock, error, message) and runs its reads and actions through."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import param
from sqlalchemy.orm import Session

from obslab.dashboards.context import DashboardContext, default_context
from obslab.db import Clock, transaction, utcnow
from obslab.errors import ObslabError

T = TypeVar("T")


class DashboardState(param.Parameterized):
    """A page's state: inputs are params with ``doc=``, outputs have ``precedence=-1``; refusals land in ``error``."""

    error = param.String(default="", precedence=-1, doc="The last refused input or action, as people read it")
    message = param.String(default="", precedence=-1, doc="What the last action did")

    def __init__(self, context: DashboardContext | None = None, *, now: Clock = utcnow, **params: Any) -> None:
        self.context = context or default_context()
        self.now = now
        super().__init__(**params)

    def run(
        self,
        action: Callable[[Session], T],
        success_message: str | Callable[[T], str] | None = None,
        *,
        write: bool = True,
        then: Callable[[T], Any] | None = None,
    ) -> bool:
        """Call ``action(session)`` in one transaction (``write=False``: a read-only session); say whether it was done.

        Parameters
        ----------
        action
            Does the work; its result goes to ``then`` and ``success_message``.
        success_message
            What the action did (text, or made from the result). When given, success clears ``error`` and sets
            ``message``, and a refusal clears ``message`` too, so the page never shows an old confirmation
            beside a new refusal.
        write
            Whether the action writes: ``transaction(sessions)`` then, else a plain session that commits nothing.
        then
            Called with the result once the transaction is over, before the message is set (to refresh the page).

        An ``ObslabError`` (a refusal: bad input, no permission, a stale version) becomes ``error`` and nothing
        is written; anything else is a bug and propagates.
        """
        try:
            with transaction(self.context.sessions) if write else self.context.sessions() as session:
                result = action(session)
        except ObslabError as exc:
            self.error = str(exc)
            if success_message is not None:
                self.message = ""
            return False
        if then is not None:
            then(result)
        if success_message is not None:
            text = success_message(result) if callable(success_message) else success_message
            self.error, self.message = "", text
        return True
