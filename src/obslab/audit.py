"""Append-only audit events: who did what to which record, when, with the values before and after."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from obslab.db import Base, Clock, utcnow
from obslab.errors import AuditImmutableError

if TYPE_CHECKING:
    from obslab.access import User


class AuditEvent(Base):
    """One state change.  Rows are only ever inserted (enforced at flush, see below)."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_entity", "entity_type", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The name is kept as text too, so the record still says who acted if the account goes.
    actor_name: Mapped[str] = mapped_column(String(64), default="system")
    action: Mapped[str] = mapped_column(String(64), index=True)
    entity_type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]


def record_event(
    session: Session,
    *,
    actor: User | None,
    action: str,
    entity_type: str,
    entity_id: str | int,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    now: Clock = utcnow,
) -> AuditEvent:
    """Add an audit event to the caller's transaction: it commits, or vanishes, with the change it records."""
    audit_event = AuditEvent(
        occurred_at=now(),
        actor_id=actor.id if actor is not None else None,
        actor_name=actor.username if actor is not None else "system",
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        before=before,
        after=after,
    )
    session.add(audit_event)
    return audit_event


@event.listens_for(Session, "before_flush")
def _refuse_audit_changes(session: Session, _context: Any, _instances: Any) -> None:
    for instance in (*session.dirty, *session.deleted):
        if isinstance(instance, AuditEvent) and (instance in session.deleted or session.is_modified(instance)):
            raise AuditImmutableError(f"audit event {instance.id} is append-only and cannot be changed or deleted")
