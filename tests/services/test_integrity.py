"""Row-level guarantees: optimistic locking on edited rows, append-only audit, outbox in the caller's transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from obslab.access import User
from obslab.audit import AuditEvent, record_event
from obslab.errors import AuditImmutableError
from obslab.notify import DeliveryStatus, Notification, enqueue
from obslab.users import add_user


def test_a_stale_edit_is_refused_and_the_first_one_survives(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, session.begin():
        add_user(session, "mira", ["usint"], full_name="Mira")
    first, second = sessions(), sessions()
    mine = first.scalars(select(User).where(User.username == "mira")).one()
    theirs = second.scalars(select(User).where(User.username == "mira")).one()
    assert mine.version == theirs.version == 1

    mine.full_name = "Mira Ceti"
    first.commit()
    theirs.full_name = "Omicron Ceti"
    # PostgreSQL runs the UPDATE, matches no row at the old version: StaleDataError.  SQLite refuses
    # earlier: the second transaction read a snapshot older than the first's commit, so its write is
    # a busy-snapshot error.  Either way the second edit is refused (services turn both into StaleError).
    expected = OperationalError if second.get_bind().dialect.name == "sqlite" else StaleDataError
    with pytest.raises(expected) as refused:
        second.commit()
    assert expected is StaleDataError or "database is locked" in str(refused.value)
    second.rollback()
    first.close(), second.close()

    with sessions() as session:
        user = session.scalars(select(User).where(User.username == "mira")).one()
        assert (user.full_name, user.version) == ("Mira Ceti", 2)


def test_audit_events_cannot_be_changed(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, session.begin():
        record_event(session, actor=None, action="test.done", entity_type="thing", entity_id=1, after={"x": 1})
    with pytest.raises(AuditImmutableError, match="append-only"):
        with sessions() as session, session.begin():
            session.scalars(select(AuditEvent)).one().action = "test.undone"
    with sessions() as session:
        assert session.scalars(select(AuditEvent.action)).all() == ["test.done"]


def test_audit_events_cannot_be_deleted(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, session.begin():
        record_event(session, actor=None, action="test.done", entity_type="thing", entity_id=1)
    with pytest.raises(AuditImmutableError):
        with sessions() as session, session.begin():
            session.delete(session.scalars(select(AuditEvent)).one())
    with sessions() as session:
        assert len(session.scalars(select(AuditEvent)).all()) == 1


def test_audit_and_outbox_vanish_with_a_rolled_back_transaction(sessions: sessionmaker[Session]) -> None:
    class Abort(Exception):
        pass

    with pytest.raises(Abort):
        with sessions() as session, session.begin():
            record_event(session, actor=None, action="test.done", entity_type="thing", entity_id=1)
            enqueue(session, kind="test", recipients=["a@obslab.example"], subject="s", body="b")
            session.flush()
            raise Abort
    with sessions() as session:
        assert session.scalars(select(AuditEvent)).all() == []
        assert session.scalars(select(Notification)).all() == []


def test_outbox_rows_start_pending(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, session.begin():
        enqueue(session, kind="test", recipients=["a@obslab.example"], subject="s", body="b", dedupe_key="k1")
    with sessions() as session:
        row = session.scalars(select(Notification)).one()
        assert (row.status, row.attempts, row.recipients, row.sent_at) == (
            DeliveryStatus.PENDING,
            0,
            ["a@obslab.example"],
            None,
        )
