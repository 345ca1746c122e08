"""Refused attempts audited in a transaction of their own, under the identity that tried."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from obslab.audit import AuditEvent
from obslab.errors import PermissionDeniedError
from obslab.refusals import REFUSED_ACTION, record_refusal
from obslab.users import add_user
from tests.helpers.support import fixed_clock


def refusals(sessions: sessionmaker[Session]) -> list[AuditEvent]:
    with sessions() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == REFUSED_ACTION)))


def test_a_refusal_is_kept_though_the_refused_transaction_rolls_back(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, session.begin():
        add_user(session, "vega", ["usint"])
    try:
        with sessions() as session, session.begin():
            add_user(session, "altair", ["usint"])  # rolled back with the refusal below
            raise PermissionDeniedError("vega may not sign the HRC area")
    except PermissionDeniedError as refused:
        record_refusal(sessions, username="vega", attempt="sign hrc", reason=str(refused), where="api", now=fixed_clock)
    (event,) = refusals(sessions)
    with sessions() as session:
        assert session.scalar(select(AuditEvent.id).where(AuditEvent.entity_id == "altair")) is None
        assert (event.actor_name, event.entity_type, event.entity_id) == ("vega", "user", "vega")
        assert event.actor_id is not None and event.occurred_at == fixed_clock()
        assert event.after == {"attempt": "sign hrc", "reason": "vega may not sign the HRC area", "where": "api"}


def test_an_unknown_name_is_kept_as_text(sessions: sessionmaker[Session]) -> None:
    record_refusal(sessions, username="mallory", attempt="sign", reason="not known", where="dashboard:signoff")
    (event,) = refusals(sessions)
    assert (event.actor_id, event.actor_name, event.after["where"]) == (None, "mallory", "dashboard:signoff")
