"""The night log's losses: recorded by the night operator inside their night, never overlapping, audited; bad
input refused by field with nothing written."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from obslab.access import find_user
from obslab.audit import AuditEvent
from obslab.db import make_engine, make_session_factory
from obslab.errors import ConflictError, InvalidInputError, PermissionDeniedError
from obslab.observing.losses import losses_of, record_loss
from obslab.observing.models import Night, NightLoss
from tests.helpers.support import KITT_PEAK, fixed_clock

#: A night the demo never observed: the log makes its row.
QUIET = date(2026, 10, 2)


@pytest.fixture
def writable(writable_demo_database: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(writable_demo_database)
    yield make_session_factory(engine)
    engine.dispose()


def log(sessions: sessionmaker[Session], who: str, start: datetime, end: datetime, cause: str = "weather") -> None:
    with sessions.begin() as session:
        record_loss(session, find_user(session, who), KITT_PEAK, QUIET, start, end, cause, " Clouds. ", now=fixed_clock)


def at(hour: int, minute: int = 0, day: int = 3) -> datetime:
    return datetime(2026, 10, day, hour, minute, tzinfo=UTC)


def test_the_operator_logs_a_loss_the_night_row_is_made_and_the_entry_audited(writable: sessionmaker[Session]) -> None:
    log(writable, "ayamamoto", at(4), at(5, 30))
    with writable() as session:
        (loss,) = losses_of(session, QUIET)
        assert (loss.start, loss.end, loss.cause.value, loss.note) == (at(4), at(5, 30), "weather", "Clouds.")
        assert session.scalar(select(Night.site_name).where(Night.night_date == QUIET)) == KITT_PEAK.name
        event = session.scalar(
            select(AuditEvent).where(AuditEvent.action == "night.loss_recorded", AuditEvent.entity_id == "20261002")
        )
        assert (
            event.actor_name == "ayamamoto" and event.after["cause"] == "weather" and event.after["note"] == "Clouds."
        )
    log(writable, "ayamamoto", at(5, 30), at(6), "technical")  # touching the first one is not overlapping it
    with writable() as session:
        assert [x.cause.value for x in losses_of(session, QUIET)] == ["weather", "technical"]


@pytest.mark.parametrize(
    ("who", "start", "end", "cause", "refusal"),
    [
        ("jchen", at(4), at(5), "weather", (PermissionDeniedError, "jchen may not record lost time")),
        ("ayamamoto", at(4), at(5), "aliens", (InvalidInputError, "cause: 'aliens'.*weather, technical, other")),
        ("ayamamoto", at(16, day=2), at(17, day=2), "weather", (InvalidInputError, "start: .*a time of that night")),
        ("ayamamoto", at(5), at(4), "weather", (InvalidInputError, "end: .*after the start")),
        ("ayamamoto", at(18, day=3), at(20, day=3), "weather", (InvalidInputError, "end: .*by 2026-10-03 19:00")),
    ],
)
def test_bad_entries_are_refused_by_field_and_write_nothing(
    writable: sessionmaker[Session], who: str, start: datetime, end: datetime, cause: str, refusal: tuple[type, str]
) -> None:
    with writable() as session:
        before = session.scalar(select(func.count()).select_from(NightLoss))
    with pytest.raises(refusal[0], match=refusal[1]):
        log(writable, who, start, end, cause)
    with writable() as session:
        assert session.scalar(select(func.count()).select_from(NightLoss)) == before


def test_an_overlapping_loss_is_refused_naming_the_one_logged(writable: sessionmaker[Session]) -> None:
    log(writable, "ayamamoto", at(2), at(3))
    with pytest.raises(ConflictError, match=r"overlaps the loss already logged for 2026-10-03 02:00-03:00 UTC"):
        log(writable, "bnovak", at(2, 30), at(4), "technical")
