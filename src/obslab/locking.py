"""Optimistic locking for every domain: the version a person saw, who changed a row, and lost races as StaleError."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from obslab.access import User
from obslab.errors import InvalidInputError, StaleError

# Re-exported: the error belongs with the others in errors.py, the helpers that raise it live here.
__all__ = ["StaleError", "flush", "lost_race", "require_newest", "require_version", "touch", "who_and_when"]

#: Driver messages of a unique-key collision: SQLite's, and PostgreSQL's SQLSTATE 23505 through psycopg.
_UNIQUE_MARKERS = ("UNIQUE constraint failed", "duplicate key value violates unique constraint")


def who_and_when(session: Session, user_id: int | None, at: datetime | None) -> tuple[str, str]:
    """The user name behind ``user_id`` ("someone" when unknown) and ``at`` as people read it."""
    name = session.scalar(select(User.username).where(User.id == user_id)) if user_id is not None else None
    return name or "someone", f"{at:%Y-%m-%d %H:%M:%S} UTC" if at is not None else "an unknown time"


def require_version(session: Session, row: Any, seen: int, what: str) -> None:
    """Refuse when ``row`` is no longer at the version the actor saw, saying who changed it and when."""
    if not isinstance(seen, int) or isinstance(seen, bool):
        raise InvalidInputError("seen_version", seen, "the version number shown with the row")
    if row.version != seen:
        name, when = who_and_when(session, row.updated_by_id, row.updated_at)
        raise StaleError(
            f"{what} was changed by {name} at {when} after you loaded it "
            f"(you saw version {seen}, it is now {row.version}); reload and try again",
            seen_version=seen,
            current_version=row.version,
            changed_by=name,
        )


def touch(row: Any, actor: User, now: datetime) -> None:
    """Mark ``row`` as changed by ``actor`` (its version goes up at flush, refusing any concurrent writer)."""
    row.updated_by_id = actor.id
    row.updated_at = now


def lost_race(error: Exception) -> bool:
    """Whether a database error means another transaction changed the same rows first (and nothing else)."""
    if isinstance(error, StaleDataError):
        return True
    if isinstance(error, OperationalError):
        # SQLite: another writer committed after this transaction's snapshot was taken (SQLITE_BUSY_SNAPSHOT).
        return "database is locked" in str(error.orig)
    if isinstance(error, IntegrityError):
        # Two writers both added the row a unique key allows once (no row lock covers rows not yet written).
        return any(marker in str(error.orig) for marker in _UNIQUE_MARKERS)
    return False


def flush(session: Session, what: str) -> None:
    """Flush, turning a lost race (someone committed the same rows first) into a StaleError naming ``what``."""
    try:
        session.flush()
    except (StaleDataError, OperationalError, IntegrityError) as error:
        if not lost_race(error):
            raise
        raise StaleError(f"{what} was changed by someone else at the same moment; reload and try again") from None


def require_newest(
    session: Session,
    seen: int,
    newest: tuple[int, int | None, datetime | None] | None,
    *,
    what: str,
    done: str,
    allowed_when_empty: str,
    allowed_up_to: str,
    shown: str,
) -> None:
    """Refuse unless the newest numbered version of ``what`` is the one the actor saw (``seen``).

    For things kept as numbered versions (a night's plans, an instrument's configurations) rather than one
    row with a counter. ``newest`` is (number, by whom, when) of the newest version, or None when there is
    none yet; ``shown`` says what a seen version is, for a value that is not one. A number above the newest is
    bad input; a lower one is stale, naming who made the newer one.
    """
    if not isinstance(seen, int) or isinstance(seen, bool) or seen < 0:
        raise InvalidInputError("seen_version", seen, shown)
    current = newest[0] if newest is not None else 0
    if seen == current:
        return
    if seen > current:
        raise InvalidInputError(
            "seen_version", seen, allowed_up_to.format(current=current) if current else allowed_when_empty
        )
    name, when = who_and_when(session, newest[1], newest[2])
    raise StaleError(
        f"{what} was {done} as version {current} by {name} at {when} after you loaded it "
        f"(you saw version {seen}); reload and try again",
        seen_version=seen,
        current_version=current,
        changed_by=name,
    )
