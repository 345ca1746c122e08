"""Deliver the notification outbox over SMTP, one committed message at a time, retrying failures a few times."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from obslab.db import Clock, utcnow
from obslab.errors import SettingsError
from obslab.notify import DeliveryStatus, Notification
from obslab.settings import Settings

#: A message that failed this many times stays failed until someone looks (``obslab notify send --retry-failed``).
MAX_ATTEMPTS = 5
SMTP_TIMEOUT_S = 30


@dataclass(frozen=True)
class DeliveryReport:
    """How one run of the outbox went."""

    sent: int
    failed: int
    errors: tuple[str, ...] = ()


def build_message(notification: Notification, sender: str) -> EmailMessage:
    """The e-mail for one outbox row: plain text, UTC date, a unique Message-ID."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(notification.recipients)
    if notification.cc:
        message["Cc"] = ", ".join(notification.cc)
    message["Subject"] = notification.subject
    message["Date"] = format_datetime(notification.created_at)
    message["Message-ID"] = make_msgid(
        idstring=f"obslab-{notification.id}", domain=sender.rpartition("@")[2] or "localhost"
    )
    message.set_content(notification.body)
    return message


def _connect(settings: Settings) -> smtplib.SMTP:
    if not settings.smtp_host:
        raise SettingsError("OBSLAB_SMTP_HOST is not set, so notifications stay in the outbox; set it to deliver them")
    smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_S)
    if settings.smtp_starttls:
        smtp.starttls(context=ssl.create_default_context())
    if settings.smtp_username:
        smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
    return smtp


def deliver_pending(
    sessions: sessionmaker[Session],
    settings: Settings,
    *,
    retry_failed: bool = False,
    limit: int = 500,
    now: Clock = utcnow,
) -> DeliveryReport:
    """Send pending messages (and, with ``retry_failed``, failed ones under MAX_ATTEMPTS), oldest first.

    Each message is claimed, sent and marked in its own transaction, so a crash never loses a sent mark
    for more than the message in flight (delivery is at least once).  Rows other senders hold are skipped.
    """
    states = [DeliveryStatus.PENDING, *([DeliveryStatus.FAILED] if retry_failed else [])]
    sent = failed = 0
    errors: list[str] = []
    tried: list[int] = []
    smtp: smtplib.SMTP | None = None
    try:
        for _ in range(limit):
            with sessions() as session, session.begin():
                notification = session.scalar(
                    select(Notification)
                    .where(
                        Notification.status.in_(states),
                        Notification.attempts < MAX_ATTEMPTS,
                        Notification.id.not_in(tried),
                    )
                    .order_by(Notification.id)
                    .limit(1)
                    .with_for_update(skip_locked=True)
                )
                if notification is None:
                    break
                tried.append(notification.id)  # once per run: a failing message waits for the next run
                notification.attempts += 1
                try:
                    if smtp is None:
                        smtp = _connect(settings)
                    smtp.send_message(build_message(notification, settings.smtp_sender))
                except SettingsError:
                    raise
                except (OSError, smtplib.SMTPException) as error:
                    notification.status, notification.last_error = (
                        DeliveryStatus.FAILED,
                        f"{type(error).__name__}: {error}",
                    )
                    failed += 1
                    errors.append(f"notification {notification.id}: {notification.last_error}")
                    smtp = None
                    continue
                notification.status, notification.sent_at, notification.last_error = DeliveryStatus.SENT, now(), None
                sent += 1
    finally:
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                pass
    return DeliveryReport(sent, failed, tuple(errors))
