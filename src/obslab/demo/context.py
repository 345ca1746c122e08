"""Shared state of one demo load: the session, the clock's instant, seeded random streams and insert counts."""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from random import Random
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, insert, select
from sqlalchemy.orm import Session

from obslab.access import User
from obslab.db import Base, Clock
from obslab.errors import NaiveDatetimeError
from obslab.settings import Site

#: The domain of every demo e-mail address (reserved by RFC 2606, so nothing is ever delivered).
EMAIL_DOMAIN = "obslab.example"

# IN lists stay well below every backend's bound-parameter limit.
_IN_CHUNK = 500


@dataclass
class DemoContext:
    """Everything the demo parts share.

    ``moment`` is read from the clock once, so one load stamps one instant.  Generated content is
    anchored at ``anchor`` (midnight UTC of that day) so the same seed on the same UTC date gives the
    same rows whatever the time of day.
    """

    session: Session
    site: Site
    seed: int
    clock: Clock
    moment: datetime
    inserted: Counter[str] = field(default_factory=Counter)
    users: dict[str, User] = field(default_factory=dict)

    @classmethod
    def start(cls, session: Session, site: Site, seed: int, clock: Clock) -> DemoContext:
        moment = clock()
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise NaiveDatetimeError(f"the demo clock returned a naive datetime {moment.isoformat()}")
        return cls(session=session, site=site, seed=seed, clock=clock, moment=moment.astimezone(UTC))

    @property
    def today(self) -> date:
        """The UTC date of the load."""
        return self.moment.date()

    @property
    def anchor(self) -> datetime:
        """Midnight UTC at the start of ``today``: never later than ``moment``."""
        return datetime.combine(self.today, time(0), tzinfo=UTC)

    @property
    def local_today(self) -> date:
        """The site's local date at the moment of the load."""
        return self.moment.astimezone(self.site.zone).date()

    def rng(self, *part: object) -> Random:
        """A random stream for one part of the demo; string seeds are hashed stably by ``random``."""
        return Random(":".join(str(p) for p in (self.seed, *part)))

    def np_rng(self, *part: object) -> np.random.Generator:
        """A numpy stream for one part of the demo."""
        return np.random.default_rng([self.seed, zlib.crc32(":".join(map(str, part)).encode())])

    def days(self, offset: float) -> datetime:
        """``anchor`` shifted by a (fractional) number of days."""
        return self.anchor + timedelta(days=offset)

    def user_id(self, username: str) -> int:
        return self.users[username].id

    def add_all(self, objects: Sequence[Base]) -> None:
        """Add ORM rows, flush them (so ids exist) and count them by table."""
        if not objects:
            return
        self.session.add_all(objects)
        self.session.flush()
        for obj in objects:
            self.inserted[obj.__tablename__] += 1

    def bulk_insert(self, model: type[Base], rows: list[dict[str, Any]]) -> None:
        """Insert many plain rows in one executemany (no ORM objects, no per-row events)."""
        if rows:
            self.session.execute(insert(model), rows)
            self.inserted[model.__tablename__] += len(rows)

    def existing(self, column: ColumnElement[Any], values: Iterable[Any]) -> set[Any]:
        """Which of ``values`` already occur in ``column``."""
        found: set[Any] = set()
        ordered = sorted(set(values))
        for start in range(0, len(ordered), _IN_CHUNK):
            chunk = ordered[start : start + _IN_CHUNK]
            found.update(self.session.scalars(select(column).where(column.in_(chunk))))
        return found


def iso(moment: datetime | None) -> str | None:
    """An Ocat-style parameter timestamp ``YYYY-MM-DDTHH:MM:SS`` (UTC), or None."""
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
