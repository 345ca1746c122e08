"""Programs and their members, and who may see which program's exposures, products and metrics.

Admins and staff see every program; anyone else sees the programs they are a member of. Access is decided by
``program_members`` rows joined on ``exposures.program_id``, never by comparing program strings. Calibration
and auxiliary exposures (no program) are seen by staff, and by a member of any program observed that night.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true
from sqlalchemy.orm import Session, aliased

from obslab.access import User, find_user, require_role
from obslab.audit import record_event
from obslab.db import Clock, utcnow
from obslab.errors import ConflictError, InvalidInputError, NotFoundError
from obslab.observing.models import Exposure, Program, ProgramMember

#: Roles that see every program (admin holds every role).
SEE_ALL = ("staff",)


def program_id_for(session: Session, code: str, *, at: datetime) -> int:
    """The program with ``code``, made (with no members) the first time a file names it: ingest's lookup."""
    found = session.scalar(select(Program.id).where(Program.code == code))
    if found is not None:
        return found
    program = Program(code=code, created_at=at)
    session.add(program)
    session.flush()
    return program.id


def _program(session: Session, code: str) -> Program:
    program = session.scalar(select(Program).where(Program.code == code))
    if program is None:
        known = ", ".join(session.scalars(select(Program.code).order_by(Program.code).limit(20))) or "none yet"
        raise NotFoundError(f"program {code!r} is not known (known: {known})")
    return program


def add_member(session: Session, actor: User, code: str, username: str, *, now: Clock = utcnow) -> None:
    """Make ``username`` a member of program ``code``; needs admin; audited."""
    require_role(actor, "admin", "change program members")
    program, user = _program(session, code), find_user(session, username)
    if user is None:
        raise InvalidInputError("user", username, "a user obslab knows (obslab users list)")
    if session.get(ProgramMember, (program.id, user.id)) is not None:
        raise ConflictError(f"{username} is already a member of program {code}")
    session.add(ProgramMember(program_id=program.id, user_id=user.id, added_at=now()))
    record_event(
        session,
        actor=actor,
        action="program.member_added",
        entity_type="program",
        entity_id=code,
        after={"user": username},
        now=now,
    )


def remove_member(session: Session, actor: User, code: str, username: str, *, now: Clock = utcnow) -> None:
    """End ``username``'s membership of program ``code``; needs admin; audited."""
    require_role(actor, "admin", "change program members")
    program, user = _program(session, code), find_user(session, username)
    membership = session.get(ProgramMember, (program.id, user.id)) if user is not None else None
    if membership is None:
        raise NotFoundError(f"{username} is not a member of program {code}")
    session.delete(membership)
    record_event(
        session,
        actor=actor,
        action="program.member_removed",
        entity_type="program",
        entity_id=code,
        before={"user": username},
        now=now,
    )


def sees_all(viewer: User) -> bool:
    return viewer.is_active and viewer.has_role(*SEE_ALL)


def visible_exposures(viewer: User, *, in_time_order: bool = False) -> ColumnElement[bool]:
    """A WHERE clause on ``Exposure`` for what ``viewer`` may see: the one rule every read model applies.

    ``in_time_order``: for a page of exposures sorted by start time, test the rule row by row along the start-time
    index rather than collect every visible exposure through the program index and sort them all (at 100,000
    exposures a member's first page takes 1 ms instead of 45 ms in SQLite).
    """
    if not viewer.is_active:
        return false()  # a deactivated account sees no data
    if sees_all(viewer):
        return true()
    own = select(ProgramMember.program_id).where(ProgramMember.user_id == viewer.id)
    other = aliased(Exposure)
    night_has_mine = exists().where(other.night_id == Exposure.night_id, other.program_id.in_(own))
    # "+ 0" keeps the planner off the program index (SQLite and PostgreSQL alike); the value is the same.
    program = Exposure.program_id + 0 if in_time_order else Exposure.program_id
    return or_(program.in_(own), and_(program.is_(None), night_has_mine))
