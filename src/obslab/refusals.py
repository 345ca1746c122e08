"""Refused attempts in the audit log, each in a transaction of its own: the refused change rolled back with its own."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from obslab.access import find_user
from obslab.audit import AuditEvent, record_event
from obslab.db import Clock, transaction, utcnow

#: The audit action of every refusal; ``after`` says what was tried and why it was refused.
REFUSED_ACTION = "refused"


def record_refusal(
    sessions: sessionmaker[Session],
    *,
    username: str,
    attempt: str,
    reason: str,
    where: str,
    detail: dict[str, Any] | None = None,
    now: Clock = utcnow,
) -> AuditEvent:
    """Record that ``username`` (the authenticated identity, never a name the caller sent) was refused ``attempt``.

    ``where`` names the face (``dashboard:signoff``, ``api``); the event's entity is the user who tried, so an
    admin finds a person's refusals beside their actions. A name obslab does not know is kept as text.
    """
    with transaction(sessions) as session:
        user = find_user(session, username)
        event = record_event(
            session,
            actor=user,
            action=REFUSED_ACTION,
            entity_type="user",
            entity_id=username,
            after={"attempt": attempt, "reason": reason, "where": where, **(detail or {})},
            now=now,
        )
        if user is None:
            event.actor_name = username[:64]
        return event
