"""The duty roster: Monday-to-Sunday slots, filled, unlocked, split and merged without ever leaving a gap."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from obslab.access import User, find_user, require_role, usernames
from obslab.audit import record_event
from obslab.catalog.models import DutyShift
from obslab.db import Clock, utcnow
from obslab.errors import ConflictError, InvalidInputError, NotFoundError
from obslab.locking import flush, require_version

#: The role that keeps the roster and is put on duty (the Ocat's USINT POCs).
ROSTER_ROLE = "usint"
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Slot:
    """One roster slot as people see it."""

    starts_on: date
    ends_on: date
    person: str | None
    assigned_by: str | None
    version: int

    @property
    def open(self) -> bool:
        return self.person is None

    @property
    def standard(self) -> bool:
        """A Monday-to-Sunday week, as the roster is meant to be."""
        return self.starts_on.weekday() == 0 and self.ends_on - self.starts_on == timedelta(days=6)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _all(session: Session) -> list[DutyShift]:
    return list(session.scalars(select(DutyShift).order_by(DutyShift.starts_on).with_for_update()))


def _find(shifts: list[DutyShift], starts_on: date) -> int:
    for index, shift in enumerate(shifts):
        if shift.starts_on == starts_on:
            return index
    covering = next((s for s in shifts if s.starts_on <= starts_on <= s.ends_on), None)
    hint = (
        f"the slot covering it starts on {covering.starts_on:%Y-%m-%d}"
        if covering is not None
        else "give the first day of a slot, as 'obslab duty show' lists them"
    )
    raise NotFoundError(f"no duty slot starts on {starts_on:%Y-%m-%d}: {hint}", starts_on=starts_on.isoformat())


def _require_contiguous(shifts: list[DutyShift]) -> None:
    for before, after in zip(shifts, shifts[1:], strict=False):
        if after.starts_on != before.ends_on + DAY:
            problem = "leaves a gap" if after.starts_on > before.ends_on + DAY else "overlaps"
            raise ConflictError(
                f"the roster change {problem} between {before.ends_on:%Y-%m-%d} and {after.starts_on:%Y-%m-%d}; "
                "nothing was changed"
            )


def _for_change(session: Session, actor: User, starts_on: date, seen_version: int) -> tuple[list[DutyShift], int]:
    """Every slot (locked) and the index of the one to change, after the role and seen-version checks."""
    require_role(actor, ROSTER_ROLE, "change the duty roster")
    shifts = _all(session)
    index = _find(shifts, starts_on)
    require_version(session, shifts[index], seen_version, f"the duty slot of {starts_on:%Y-%m-%d}")
    return shifts, index


def roster(session: Session, start: date, end: date) -> list[Slot]:
    """The slots overlapping ``start``..``end``, in order, with who is on duty and who put them there."""
    names = usernames(session)
    shifts = session.scalars(
        select(DutyShift).where(DutyShift.ends_on >= start, DutyShift.starts_on <= end).order_by(DutyShift.starts_on)
    )
    return [Slot(s.starts_on, s.ends_on, names.get(s.user_id), names.get(s.assigned_by_id), s.version) for s in shifts]


def on_duty(session: Session, day: date) -> User | None:
    """Who is on duty on ``day``, if anyone."""
    shift = session.scalar(select(DutyShift).where(DutyShift.starts_on <= day, DutyShift.ends_on >= day))
    return session.get(User, shift.user_id) if shift is not None and shift.user_id is not None else None


def extend(session: Session, actor: User, through: date, *, now: Clock = utcnow) -> list[Slot]:
    """Add open Monday-to-Sunday slots after the last one (from this week if there is none) up to ``through``."""
    require_role(actor, ROSTER_ROLE, "extend the duty roster")
    at = now()
    shifts = _all(session)
    start = shifts[-1].ends_on + DAY if shifts else monday_of(at.date())
    added = []
    while start <= through:
        # The first slot after a non-standard one runs to the next Sunday, so the weeks line up again.
        end = start + timedelta(days=6 - start.weekday())
        shift = DutyShift(starts_on=start, ends_on=end, updated_by_id=actor.id, updated_at=at)
        session.add(shift)
        added.append(shift)
        start = end + DAY
    # Two people extending at once both read the same last week; the row lock cannot cover rows that do
    # not exist yet, so the unique start date is what stops the second, and flush turns that into StaleError.
    flush(session, "the duty roster")
    if added:
        record_event(
            session,
            actor=actor,
            action="duty.extended",
            entity_type="duty_roster",
            entity_id=added[0].starts_on.isoformat(),
            after={"through": added[-1].ends_on.isoformat(), "slots": len(added)},
            now=lambda: at,
        )
    return [Slot(s.starts_on, s.ends_on, None, None, s.version) for s in added]


def sign_up(
    session: Session, actor: User, starts_on: date, person: str, *, seen_version: int, now: Clock = utcnow
) -> Slot:
    """Put ``person`` (an active member of the roster role) on duty in the open slot starting ``starts_on``."""
    at = now()
    shifts, index = _for_change(session, actor, starts_on, seen_version)
    shift = shifts[index]
    if shift.user_id is not None:
        raise ConflictError(f"the duty slot of {starts_on:%Y-%m-%d} is already taken; unlock it first")
    user = find_user(session, person)
    if user is None or not user.is_active or not user.has_role(ROSTER_ROLE):
        raise InvalidInputError("person", person, f"an active user with the role {ROSTER_ROLE!r}")
    shift.user_id, shift.assigned_by_id, shift.updated_by_id, shift.updated_at = user.id, actor.id, actor.id, at
    flush(session, f"the duty slot of {starts_on:%Y-%m-%d}")
    record_event(
        session,
        actor=actor,
        action="duty.signed_up",
        entity_type="duty_shift",
        entity_id=starts_on.isoformat(),
        before={"person": None},
        after={"person": person, "ends_on": shift.ends_on.isoformat()},
        now=lambda: at,
    )
    return Slot(shift.starts_on, shift.ends_on, person, actor.username, shift.version)


def unlock(session: Session, actor: User, starts_on: date, *, seen_version: int, now: Clock = utcnow) -> Slot:
    """Reopen a filled slot (the person is taken off duty)."""
    at = now()
    shifts, index = _for_change(session, actor, starts_on, seen_version)
    shift = shifts[index]
    if shift.user_id is None:
        raise ConflictError(f"the duty slot of {starts_on:%Y-%m-%d} is already open")
    person = session.get(User, shift.user_id)
    shift.user_id, shift.assigned_by_id, shift.updated_by_id, shift.updated_at = None, None, actor.id, at
    flush(session, f"the duty slot of {starts_on:%Y-%m-%d}")
    record_event(
        session,
        actor=actor,
        action="duty.unlocked",
        entity_type="duty_shift",
        entity_id=starts_on.isoformat(),
        before={"person": person.username if person else None},
        after={"person": None},
        now=lambda: at,
    )
    return Slot(shift.starts_on, shift.ends_on, None, None, shift.version)


def split(
    session: Session, actor: User, starts_on: date, *, seen_version: int, now: Clock = utcnow
) -> tuple[Slot, Slot]:
    """Split an open slot longer than two days at its midpoint; the second part starts the next day."""
    at = now()
    shifts, index = _for_change(session, actor, starts_on, seen_version)
    shift = shifts[index]
    if shift.user_id is not None:
        raise ConflictError(f"the duty slot of {starts_on:%Y-%m-%d} is taken; unlock it before splitting")
    days = (shift.ends_on - shift.starts_on).days + 1
    if days <= 2:
        raise ConflictError(
            f"the duty slot of {starts_on:%Y-%m-%d} is {days} days long; only slots longer than two days split"
        )
    first_end = shift.starts_on + timedelta(days=days // 2 - 1)
    second = DutyShift(starts_on=first_end + DAY, ends_on=shift.ends_on, updated_by_id=actor.id, updated_at=at)
    shift.ends_on, shift.updated_by_id, shift.updated_at = first_end, actor.id, at
    session.add(second)
    flush(session, f"the duty slot of {starts_on:%Y-%m-%d}")
    _require_contiguous(_all(session))
    record_event(
        session,
        actor=actor,
        action="duty.split",
        entity_type="duty_shift",
        entity_id=starts_on.isoformat(),
        after={
            "first": [shift.starts_on.isoformat(), shift.ends_on.isoformat()],
            "second": [second.starts_on.isoformat(), second.ends_on.isoformat()],
        },
        now=lambda: at,
    )
    return (
        Slot(shift.starts_on, shift.ends_on, None, None, shift.version),
        Slot(second.starts_on, second.ends_on, None, None, second.version),
    )


def delete(session: Session, actor: User, starts_on: date, *, seen_version: int, now: Clock = utcnow) -> Slot:
    """Remove an open slot by merging it into its shorter open neighbour; refused when both neighbours are filled."""
    at = now()
    shifts, index = _for_change(session, actor, starts_on, seen_version)
    shift = shifts[index]
    if shift.user_id is not None:
        raise ConflictError(f"the duty slot of {starts_on:%Y-%m-%d} is taken; unlock it before deleting")
    neighbours = [
        n
        for n in (shifts[index - 1] if index > 0 else None, shifts[index + 1] if index + 1 < len(shifts) else None)
        if n is not None and n.user_id is None
    ]
    if not neighbours:
        raise ConflictError(
            f"the duty slot of {starts_on:%Y-%m-%d} cannot be deleted: no open slot next to it takes its days"
        )
    into = min(neighbours, key=lambda n: (n.ends_on - n.starts_on, n.starts_on))
    before = [into.starts_on.isoformat(), into.ends_on.isoformat()]
    session.delete(shift)
    flush(session, f"the duty slot of {starts_on:%Y-%m-%d}")
    if into.starts_on > shift.starts_on:
        into.starts_on = shift.starts_on
    else:
        into.ends_on = shift.ends_on
    into.updated_by_id, into.updated_at = actor.id, at
    flush(session, "the duty roster")
    _require_contiguous(_all(session))
    record_event(
        session,
        actor=actor,
        action="duty.deleted",
        entity_type="duty_shift",
        entity_id=starts_on.isoformat(),
        before={"merged_into": before},
        after={"merged_into": [into.starts_on.isoformat(), into.ends_on.isoformat()]},
        now=lambda: at,
    )
    return Slot(into.starts_on, into.ends_on, None, None, into.version)
