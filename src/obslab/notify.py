"""Notification outbox: messages written in the caller's transaction and delivered only after it commits."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from obslab.db import Base, Clock, str_enum, utcnow


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class Notification(Base):
    """One message waiting in, or delivered from, the outbox."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(64))
    recipients: Mapped[list[Any]]
    cc: Mapped[list[Any]] = mapped_column(default=list)
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    # Lets a daily job (reminders) run twice without sending twice.
    dedupe_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    status: Mapped[DeliveryStatus] = mapped_column(str_enum(DeliveryStatus), default=DeliveryStatus.PENDING, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]


def enqueue(
    session: Session,
    *,
    kind: str,
    recipients: list[str],
    subject: str,
    body: str,
    cc: list[str] | None = None,
    dedupe_key: str | None = None,
    now: Clock = utcnow,
) -> Notification:
    """Put a message in the outbox as part of the caller's transaction (never sent before that commits)."""
    notification = Notification(
        created_at=now(),
        kind=kind,
        recipients=list(recipients),
        cc=list(cc or []),
        subject=subject,
        body=body,
        dedupe_key=dedupe_key,
    )
    session.add(notification)
    return notification
