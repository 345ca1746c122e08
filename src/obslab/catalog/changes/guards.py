"""Checks every change-request action makes first: the revision by its label, and the undo window."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from obslab.catalog.models import Revision
from obslab.errors import ConflictError, InvalidInputError, NotFoundError

REVISION_LABEL = re.compile(r"^\s*(\d{1,8})\.(\d{1,3})\s*$")


def parse_revision_label(label: str) -> tuple[int, int]:
    """``"20134.002"`` -> (20134, 2); anything else is refused naming the field."""
    match = REVISION_LABEL.match(label) if isinstance(label, str) else None
    if match is None:
        raise InvalidInputError("revision", label, "<obsid>.<number>, e.g. 20134.002")
    return int(match[1]), int(match[2])


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


def require_recent(acted_at: datetime | None, now: datetime, hours: float, what: str) -> None:
    """Refuse to undo something done longer ago than the undo window."""
    if acted_at is None or now - acted_at > timedelta(hours=hours):
        raise ConflictError(f"{what} can only be undone within {hours:g} hours of it", within_hours=hours)
