"""State of the duty roster: the weeks from this Monday, who is on duty now, and changing slots as the viewer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
import param
from sqlalchemy.orm import Session

from obslab.access import User, find_user, full_names
from obslab.catalog.changes import duty as service
from obslab.catalog.changes.duty import ROSTER_ROLE, Slot, monday_of
from obslab.dashboards.context import DashboardContext
from obslab.dashboards.state.base import DashboardState, row_position
from obslab.db import Clock, utcnow
from obslab.errors import InvalidInputError

COLUMNS = [
    "starts_on",
    "ends_on",
    "days",
    "person",
    "name",
    "assigned_by",
    "status",
    "note",
    "actions",
    "version",
    "current",
]
NOT_STANDARD = "not a Monday-to-Sunday week"
DAY = timedelta(days=1)


class DutyState(DashboardState):
    """The roster from the Monday of this week for ``weeks`` weeks; actions go through the duty service as the viewer.

    Each action sends the version of the slot as this roster showed it, so a change someone else made since is
    refused by the service (saying who and when) instead of being overwritten.  Refusals land in ``error`` as the
    service words them and write nothing; what an action did lands in ``message``.
    """

    EMPTY = {"rows": "The roster has no weeks in this range yet."}

    weeks = param.Integer(default=12, bounds=(1, 104), doc="How many weeks to show, from the Monday of this week")

    rows = param.DataFrame(default=None, precedence=-1)
    selected = param.String(default="", precedence=-1, doc="First day (YYYY-MM-DD) of the selected slot")
    selected_row = param.Integer(default=None, allow_None=True, precedence=-1, doc="Where the selected slot is in rows")
    on_duty = param.String(default="", precedence=-1, doc="User name of whoever is on duty now; empty when nobody is")
    may_change = param.Boolean(default=False, precedence=-1, doc="Whether the viewer holds the roster role")

    def __init__(self, context: DashboardContext | None = None, *, now: Clock = utcnow, **params: Any) -> None:
        super().__init__(context, now=now, **params)
        self.rows = pd.DataFrame(columns=COLUMNS)
        self._slots: list[Slot] = []
        self._names: dict[str, str] = {}
        self._actions_by_start: dict[str, str] = {}
        self._load()

    # Reading

    @property
    def today(self) -> date:
        """The day (UTC, as the duty service counts days) that decides who is on duty now."""
        return self.now().date()

    @property
    def first_day(self) -> date:
        return monday_of(self.today)

    @property
    def last_day(self) -> date:
        return self.first_day + timedelta(days=7 * self.weeks - 1)

    @param.depends("weeks", watch=True)
    def _weeks_changed(self) -> None:
        self._load()

    def refresh(self) -> None:
        """Re-read the roster, clearing the last confirmation (and, once read, the last error)."""
        self.message = ""
        self._load()

    def _load(self) -> bool:
        today = self.today  # once: the clock must not move between the rows of one reading
        first = monday_of(today)
        last = first + timedelta(days=7 * self.weeks - 1)

        def read(session: Session) -> tuple[User | None, list[Slot], dict[str, str]]:
            viewer = find_user(session, self.context.viewer.username)
            # One day either side, so the first and last slots shown know their neighbours (for delete).
            slots = service.roster(session, first - DAY, last + DAY)
            return viewer, slots, full_names(session, {slot.person for slot in slots if slot.person})

        return self.run(
            read,
            write=False,
            then=lambda found: self._show(*found, first, last, today),
            refused=lambda _refusal: self._show(None, [], {}, first, last, today),
        )

    def _show(
        self, viewer: User | None, slots: list[Slot], names: dict[str, str], first: date, last: date, today: date
    ) -> None:
        self._names = names
        may_change = viewer is not None and viewer.is_active and viewer.has_role(ROSTER_ROLE)
        shown = [(index, slot) for index, slot in enumerate(slots) if slot.ends_on >= first and slot.starts_on <= last]
        records = [self._table_row(slot, self._actions(slots, index, may_change), today) for index, slot in shown]
        self._slots = [slot for _index, slot in shown]
        self._actions_by_start = {record["starts_on"]: record["actions"] for record in records}
        current = next((slot for slot in self._slots if slot.starts_on <= today <= slot.ends_on), None)
        frame = pd.DataFrame(records, columns=COLUMNS)
        # The selection stays while its slot is shown, and its row is highlighted wherever it went.
        selected = self.selected if self.slot(self.selected) is not None else ""
        self.param.update(
            rows=frame,
            may_change=may_change,
            on_duty=(current.person or "") if current is not None else "",
            selected=selected,
            selected_row=row_position(frame, "starts_on", selected),
        )

    @staticmethod
    def _actions(slots: list[Slot], index: int, may_change: bool) -> list[str]:
        """What the viewer may do on ``slots[index]``, as a hint for the buttons; the service decides."""
        slot = slots[index]
        if not may_change:
            return []
        if not slot.open:
            return ["unlock"]
        actions = ["sign up"]
        if (slot.ends_on - slot.starts_on).days + 1 > 2:
            actions.append("split")
        neighbours = [slots[i] for i in (index - 1, index + 1) if 0 <= i < len(slots)]
        if any(n.open and (n.ends_on + DAY == slot.starts_on or slot.ends_on + DAY == n.starts_on) for n in neighbours):
            actions.append("delete")
        return actions

    def _table_row(self, slot: Slot, actions: list[str], today: date) -> dict[str, Any]:
        current = slot.starts_on <= today <= slot.ends_on
        status = "open" if slot.open else "on duty now" if current else "filled"
        return {
            "starts_on": slot.starts_on.isoformat(),
            "ends_on": slot.ends_on.isoformat(),
            "days": (slot.ends_on - slot.starts_on).days + 1,
            "person": slot.person or "",
            "name": self._names.get(slot.person or "", ""),
            "assigned_by": slot.assigned_by or "",
            "status": status,
            "note": "" if slot.standard else NOT_STANDARD,
            "actions": ", ".join(actions),
            "version": slot.version,
            "current": current,
        }

    def slot(self, starts_on: date | str) -> Slot | None:
        """The slot shown starting ``starts_on``, or None."""
        day = _maybe_day(starts_on)
        return next((slot for slot in self._slots if slot.starts_on == day), None)

    def actions(self, starts_on: date | str) -> list[str]:
        """The actions offered to the viewer on the slot shown starting ``starts_on`` (the service still checks)."""
        day = _maybe_day(starts_on)
        text = self._actions_by_start.get(day.isoformat(), "") if day is not None else ""
        return text.split(", ") if text else []

    def full_name(self, username: str) -> str:
        """The full name of someone on the roster shown, or ""."""
        return self._names.get(username, "")

    def select(self, starts_on: date | str) -> None:
        slot = self.slot(starts_on)
        selected = slot.starts_on.isoformat() if slot is not None else ""
        self.param.update(selected=selected, selected_row=row_position(self.rows, "starts_on", selected))

    # Acting

    def sign_up(self, starts_on: date | str, person: str | None = None) -> bool:
        """Put ``person`` (default: the viewer) on duty in the open slot shown starting ``starts_on``."""
        who = (person or "").strip() or self.context.viewer.username
        return self._on_slot(
            starts_on,
            lambda session, viewer, slot: service.sign_up(
                session, viewer, slot.starts_on, who, seen_version=slot.version, now=self.now
            ),
            lambda result: f"{result.person} is on duty {_span(result)}",
        )

    def unlock(self, starts_on: date | str) -> bool:
        """Reopen the filled slot shown starting ``starts_on``."""
        return self._on_slot(
            starts_on,
            lambda session, viewer, slot: service.unlock(
                session, viewer, slot.starts_on, seen_version=slot.version, now=self.now
            ),
            lambda result: f"{_span(result)} is open again",
        )

    def split(self, starts_on: date | str) -> bool:
        """Split the open slot shown starting ``starts_on`` at its midpoint."""
        return self._on_slot(
            starts_on,
            lambda session, viewer, slot: service.split(
                session, viewer, slot.starts_on, seen_version=slot.version, now=self.now
            ),
            lambda result: f"split into {_span(result[0])} and {_span(result[1])}",
        )

    def delete(self, starts_on: date | str) -> bool:
        """Delete the open slot shown starting ``starts_on``, merging its days into its shorter open neighbour."""
        return self._on_slot(
            starts_on,
            lambda session, viewer, slot: service.delete(
                session, viewer, slot.starts_on, seen_version=slot.version, now=self.now
            ),
            lambda result: f"deleted the slot of {_day(starts_on)}; its days are now in {_span(result)}",
        )

    def extend(self, through: date | str) -> bool:
        """Add open Monday-to-Sunday slots after the last one, up to ``through``."""

        def write(session: Session) -> tuple[date, list[Slot]]:
            day = _as_day(through, field="through")
            return day, service.extend(session, self.context.actor(session), day, now=self.now)

        def done(result: tuple[date, list[Slot]]) -> str:
            day, added = result
            if added:
                return f"added {len(added)} open slot(s) through {added[-1].ends_on:%Y-%m-%d}"
            return f"nothing to add: the roster already runs through {day:%Y-%m-%d}"

        return self._reloading(write, done)

    def _on_slot(
        self, starts_on: date | str, action: Callable[[Session, User, Slot], Any], done: Callable[[Any], str]
    ) -> bool:

        def write(session: Session) -> Any:
            slot = self.slot(_as_day(starts_on))
            if slot is None:
                raise InvalidInputError("starts_on", _day(starts_on), "the first day of a slot shown on the roster")
            return action(session, self.context.actor(session), slot)

        return self._reloading(write, done)

    def _reloading(self, write: Callable[[Session], Any], done: Callable[[Any], str]) -> bool:
        # Either way, show what is there now, e.g. the change that made this one stale.
        return self.run(write, done, then=lambda _done: self._load(), refused=lambda _refusal: self._load())


def _as_day(value: date | str, *, field: str = "starts_on") -> date:
    """A date from a date or a YYYY-MM-DD string, else InvalidInputError naming ``field``."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidInputError(field, value, "a day as YYYY-MM-DD") from None


def _maybe_day(value: date | str) -> date | None:
    try:
        return _as_day(value)
    except InvalidInputError:
        return None


def _day(value: date | str) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def _span(slot: Slot) -> str:
    return f"{slot.starts_on:%Y-%m-%d} .. {slot.ends_on:%Y-%m-%d}"
