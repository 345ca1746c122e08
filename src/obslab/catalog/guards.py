"""Checks every change-request action makes first: the row exists, the actor holds the role, the version seen is current."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.exc import StaleDataError

from obslab.access import User
from obslab.catalog.models import Observation, Revision
from obslab.errors import ConflictError, InvalidInputError, NotFoundError

REVISION_LABEL = re.compile(r"^\s*(\d{1,8})\.(\d{1,3})\s*$")


class StaleError(ConflictError):
    """The row changed after the actor loaded it; nothing was written."""

    code = "stale"


def parse_revision_label(label: str) -> tuple[int, int]:
    """``"20134.002"`` -> (20134, 2); anything else is refused naming the field."""
    match = REVISION_LABEL.match(label) if isinstance(label, str) else None
    if match is None:
        raise InvalidInputError("revision", label, "<obsid>.<number>, e.g. 20134.002")
    return int(match[1]), int(match[2])


def find_observation(session: Session, obsid: int, *, lock: bool = False) -> Observation:
    """The observation, or NotFoundError; ``lock`` holds its row until the transaction ends (PostgreSQL;
    SQLite transactions see one snapshot and a conflicting write fails instead)."""
    query = select(Observation).where(Observation.obsid == obsid)
    observation = session.scalar(query.with_for_update() if lock else query)
    if observation is None:
        raise NotFoundError(f"obsid {obsid} is not in the catalog", obsid=obsid)
    return observation


def find_revision(session: Session, label: str, *, lock: bool = False) -> Revision:
    """The revision called ``label`` with its sign-offs, values and observation, or NotFoundError; ``lock`` as above."""
    obsid, number = parse_revision_label(label)
    query = (
        select(Revision)
        .where(Revision.obsid == obsid, Revision.number == number)
        .options(selectinload(Revision.signoffs), selectinload(Revision.values), selectinload(Revision.observation))
    )
    revision = session.scalar(query.with_for_update(of=Revision) if lock else query)
    if revision is None:
        raise NotFoundError(f"revision {obsid}.{number:03d} does not exist", revision=f"{obsid}.{number:03d}")
    return revision


def require_version(session: Session, row: Any, seen: int, what: str) -> None:
    """Refuse when ``row`` is no longer at the version the actor saw, saying who changed it and when."""
    if not isinstance(seen, int) or isinstance(seen, bool):
        raise InvalidInputError("seen_version", seen, "the version number shown with the row")
    if row.version != seen:
        who = session.get(User, row.updated_by_id) if row.updated_by_id is not None else None
        name = who.username if who is not None else "someone"
        raise StaleError(
            f"{what} was changed by {name} at {row.updated_at:%Y-%m-%d %H:%M:%S} UTC after you loaded it "
            f"(you saw version {seen}, it is now {row.version}); reload and try again",
            seen_version=seen,
            current_version=row.version,
            changed_by=name,
        )


def touch(row: Any, actor: User, now: datetime) -> None:
    """Mark ``row`` as changed by ``actor`` (its version goes up at flush, refusing any concurrent writer)."""
    row.updated_by_id = actor.id
    row.updated_at = now


def flush(session: Session, what: str) -> None:
    """Flush, turning a lost race (someone committed the same row first) into a StaleError."""
    try:
        session.flush()
    except StaleDataError:
        raise StaleError(f"{what} was changed by someone else at the same moment; reload and try again") from None
    except OperationalError as error:
        # SQLite: another writer committed after this transaction's snapshot was taken (SQLITE_BUSY_SNAPSHOT).
        if "database is locked" not in str(error.orig):
            raise
        raise StaleError(f"{what} was changed by someone else at the same moment; reload and try again") from None


def require_recent(acted_at: datetime | None, now: datetime, hours: float, what: str) -> None:
    """Refuse to undo something done longer ago than the undo window."""
    if acted_at is None or now - acted_at > timedelta(hours=hours):
        raise ConflictError(f"{what} can only be undone within {hours:g} hours of it", within_hours=hours)
