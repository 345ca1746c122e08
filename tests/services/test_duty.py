"""The duty roster: weeks added without gaps, sign up, unlock, split, delete by merging; refusals change nothing."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from obslab.access import find_user
from obslab.audit import AuditEvent
from obslab.catalog.changes.duty import delete, extend, on_duty, roster, sign_up, split, unlock
from obslab.errors import ConflictError, InvalidInputError, PermissionDeniedError, StaleError
from tests.helpers.catalog_world import World, build_world
from tests.helpers.support import fixed_clock, table_counts

# FIXED_NOW is Saturday 2026-11-21, so the roster starts on Monday 2026-11-16.
WEEKS = [date(2026, 11, 16), date(2026, 11, 23), date(2026, 11, 30), date(2026, 12, 7)]


@pytest.fixture
def world(sessions: sessionmaker[Session]) -> Iterator[tuple[Session, World]]:
    with sessions() as session:
        with session.begin():
            built = build_world(session)
            extend(session, built.users["pat"], date(2026, 12, 13), now=fixed_clock)
        yield session, built


def slots(session: Session) -> list[tuple[str, str, str | None]]:
    return [
        (s.starts_on.isoformat(), s.ends_on.isoformat(), s.person)
        for s in roster(session, date(2026, 1, 1), date(2027, 12, 31))
    ]


def version(session: Session, starts_on: date) -> int:
    return next(s.version for s in roster(session, starts_on, starts_on) if s.starts_on == starts_on)


def act(session: Session, action, *args, **kwargs):  # type: ignore[no-untyped-def]
    seen = version(session, args[1])
    session.commit()
    with session.begin():
        return action(session, *args, seen_version=seen, now=fixed_clock, **kwargs)


def test_extend_adds_monday_to_sunday_weeks_without_gaps(world: tuple[Session, World]) -> None:
    session, w = world
    assert slots(session) == [(monday.isoformat(), (monday + timedelta(days=6)).isoformat(), None) for monday in WEEKS]
    assert [s.standard for s in roster(session, WEEKS[0], WEEKS[-1])] == [True] * 4
    session.commit()
    with session.begin():
        assert extend(session, w.users["quinn"], date(2026, 12, 13), now=fixed_clock) == []  # nothing missing
    with pytest.raises(PermissionDeniedError, match="ops may not extend the duty roster"), session.begin():
        extend(session, w.users["ops"], date(2027, 1, 31), now=fixed_clock)


def test_sign_up_unlock_and_who_is_on_duty(world: tuple[Session, World]) -> None:
    session, w = world
    slot = act(session, sign_up, w.users["pat"], WEEKS[1], "quinn")
    assert (slot.person, slot.assigned_by) == ("quinn", "pat")
    assert on_duty(session, date(2026, 11, 29)).username == "quinn" and on_duty(session, date(2026, 11, 30)) is None
    with pytest.raises(ConflictError, match="already taken"):
        act(session, sign_up, w.users["pat"], WEEKS[1], "pat")
    with pytest.raises(
        InvalidInputError, match="person: 'ops' is not allowed; expected an active user with the role 'usint'"
    ):
        act(session, sign_up, w.users["pat"], WEEKS[2], "ops")
    act(session, unlock, w.users["quinn"], WEEKS[1])
    assert on_duty(session, date(2026, 11, 29)) is None
    actions = session.scalars(
        select(AuditEvent.action).where(AuditEvent.entity_type == "duty_shift").order_by(AuditEvent.id)
    ).all()
    assert actions == ["duty.signed_up", "duty.unlocked"]


def test_split_and_delete_keep_the_roster_contiguous(world: tuple[Session, World]) -> None:
    session, w = world
    first, second = act(session, split, w.users["pat"], WEEKS[2])
    assert (first.starts_on, first.ends_on, second.starts_on, second.ends_on) == (
        date(2026, 11, 30),
        date(2026, 12, 2),
        date(2026, 12, 3),
        date(2026, 12, 6),
    )
    # Deleting the short first part merges it into its shorter open neighbour: the 4-day second part.
    merged = act(session, delete, w.users["pat"], WEEKS[2])
    assert (merged.starts_on, merged.ends_on) == (date(2026, 11, 30), date(2026, 12, 6))
    assert [s[0] for s in slots(session)] == [d.isoformat() for d in WEEKS]
    # Both neighbours filled: the open week in between cannot go.
    act(session, sign_up, w.users["pat"], WEEKS[1], "pat")
    act(session, sign_up, w.users["pat"], WEEKS[3], "quinn")
    before = table_counts(session)
    with pytest.raises(ConflictError, match="no open slot next to it"):
        act(session, delete, w.users["pat"], WEEKS[2])
    assert table_counts(session) == before
    three_days, _four_days = act(session, split, w.users["pat"], WEEKS[2])
    one_day, two_days = act(session, split, w.users["pat"], three_days.starts_on)
    assert (one_day.ends_on - one_day.starts_on).days + 1 == 1 and (two_days.ends_on - two_days.starts_on).days + 1 == 2
    with pytest.raises(ConflictError, match="2 days long; only slots longer than two days split"):
        act(session, split, w.users["pat"], two_days.starts_on)
    with pytest.raises(ConflictError, match="is taken; unlock it before splitting"):
        act(session, split, w.users["pat"], WEEKS[1])


def test_two_people_extending_at_once_one_is_refused_as_stale(
    sessions: sessionmaker[Session], world: tuple[Session, World]
) -> None:
    """No row lock covers weeks that do not exist yet: the second extender must get a stale refusal, not a raw error."""
    first, second = sessions(), sessions()
    started, outcome = threading.Event(), {}

    def other() -> None:
        try:
            with second.begin():
                quinn = find_user(second, "quinn")  # the transaction (and on SQLite its snapshot) begins here
                started.set()
                extend(second, quinn, date(2027, 1, 10), now=fixed_clock)
            outcome["done"] = True
        except Exception as error:  # noqa: BLE001 - the test asserts which
            outcome["error"] = error

    try:
        with first.begin():
            extend(first, find_user(first, "pat"), date(2027, 1, 10), now=fixed_clock)
            thread = threading.Thread(target=other)
            thread.start()
            assert started.wait(30)
            time.sleep(0.5)  # let the other reach its insert and wait on this transaction
        thread.join(60)
    finally:
        first.close()
        second.close()
    assert isinstance(outcome.get("error"), StaleError), outcome
    assert "reload and try again" in str(outcome["error"])
    session, _w = world
    session.commit()
    assert slots(session)[-1][:2] == ("2027-01-04", "2027-01-10")
    assert len({s[0] for s in slots(session)}) == len(slots(session))
