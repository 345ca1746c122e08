"""Shared state of one demo load: the session, the clock's instant, seeded random streams and insert counts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from random import Random
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, func, insert, select, update
from sqlalchemy.orm import Session

from obslab.access import User
from obslab.db import Base, Clock
from obslab.demo.targets import Target
from obslab.errors import NaiveDatetimeError
from obslab.notify import DeliveryStatus, Notification
from obslab.observing.types import ExposureKind
from obslab.settings import Site

#: The domain of every demo e-mail address (reserved by RFC 2606, so nothing is ever delivered).
EMAIL_DOMAIN = "obslab.example"

Plan = TypeVar("Plan")

# IN lists stay well below every backend's bound-parameter limit.
_IN_CHUNK = 500


@dataclass
class DemoContext:
    """Everything the demo parts share.

    ``moment`` is read from the clock once, so one load stamps one instant.  Catalog content is
    anchored at ``anchor`` (midnight UTC of that day), so the same seed on the same UTC date gives the
    same rows whatever the time of day; only the recent nights and tonight's request windows follow the
    site's local date, as observers count nights.
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

    def night_middle(self, night: date) -> datetime:
        """Local midnight at the end of local date ``night`` (about the middle of its night), in UTC."""
        return datetime.combine(night + timedelta(days=1), time(0), tzinfo=self.site.zone).astimezone(UTC)

    def rng(self, *part: object) -> Random:
        """A random stream for one part of the demo; string seeds are hashed stably by ``random``."""
        return Random(":".join(str(p) for p in (self.seed, *part)))

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
            # render_nulls keeps rows with and without None in one batch (one executemany, not thousands).
            self.session.execute(insert(model).execution_options(render_nulls=True), rows)
            self.inserted[model.__tablename__] += len(rows)

    def add_with_children(
        self,
        parents: Sequence[tuple[Plan, Base]],
        child_model: type[Base],
        children: Callable[[Plan, int], Iterable[dict[str, Any]]],
    ) -> None:
        """Add parent rows, then bulk-insert the child rows ``children(plan, parent_id)`` of each."""
        self.add_all([row for _, row in parents])
        self.bulk_insert(child_model, [child for plan, row in parents for child in children(plan, row.id)])

    @contextmanager
    def through_services(self, written: Sequence[type[Base]]) -> Iterator[None]:
        """Count by table the rows the services write inside the block (``written``: every table they touch).

        The mail they write belongs to the demo's past, not to a send queue: it is marked sent when written.
        """
        session = self.session

        def count(model: type[Base]) -> int:
            return session.scalar(select(func.count()).select_from(model)) or 0

        before = {model.__tablename__: count(model) for model in written}
        last_mail = session.scalar(select(func.max(Notification.id))) or 0
        yield
        session.execute(
            update(Notification)
            .where(Notification.id > last_mail)
            .values(status=DeliveryStatus.SENT, sent_at=Notification.created_at)
        )
        for model in written:
            self.inserted[model.__tablename__] += count(model) - before[model.__tablename__]

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


@dataclass
class PlannedExposure:
    night: date
    kind: ExposureKind
    filter_name: str
    camera_mode: str
    exposure_s: float
    started_at: datetime
    program: str = ""
    target: Target | None = None
    airmass: float | None = None

    @property
    def ended_at(self) -> datetime:
        return self.started_at + timedelta(seconds=self.exposure_s)
