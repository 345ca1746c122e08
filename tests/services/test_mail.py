"""`obslab notify send` against a real SMTP server on loopback (aiosmtpd): delivered once, failures kept and retried."""

from __future__ import annotations

import email
from collections.abc import Iterator
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from obslab.cli import main
from obslab.notify import DeliveryStatus, Notification, enqueue
from tests.helpers.served import free_port
from tests.helpers.support import fixed_clock


class Inbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def send(url: str, port: int, *args: str) -> Any:
    env = {
        "OBSLAB_DATABASE_URL": url,
        "OBSLAB_SMTP_HOST": "127.0.0.1",
        "OBSLAB_SMTP_PORT": str(port),
        "OBSLAB_SMTP_SENDER": "obslab@obs.example",
    }
    return CliRunner().invoke(main, ["notify", "send", *args], env=env, catch_exceptions=False)


def test_pending_messages_are_delivered_once(
    migrated_url: str, sessions: sessionmaker[Session], smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    with sessions() as session, session.begin():
        enqueue(
            session,
            kind="revision.norm",
            recipients=["pat@obs.example"],
            cc=["ops@obs.example"],
            subject="Parameter change log: 30001.001",
            body="frame_time: 3.2 -> 2.8\n<script>x</script>\n",
            now=fixed_clock,
        )
        enqueue(
            session,
            kind="revision.signoff_needed",
            recipients=["ops@obs.example", "acisa@obs.example"],
            subject="Sign-off needed: 30001.001",
            body="please sign\n",
            now=fixed_clock,
        )
    result = send(migrated_url, port)
    assert result.exit_code == 0 and "sent 2, failed 0" in result.output
    assert [(rcpt, m["Subject"]) for rcpt, m in inbox.messages] == [
        (["pat@obs.example", "ops@obs.example"], "Parameter change log: 30001.001"),
        (["ops@obs.example", "acisa@obs.example"], "Sign-off needed: 30001.001"),
    ]
    first = inbox.messages[0][1]
    assert first["From"] == "obslab@obs.example" and first["Cc"] == "ops@obs.example"
    assert first.get_content_type() == "text/plain" and "<script>x</script>" in first.get_payload()
    with sessions() as session:
        rows = session.scalars(select(Notification).order_by(Notification.id)).all()
        assert [(n.status, n.attempts) for n in rows] == [(DeliveryStatus.SENT, 1)] * 2 and all(n.sent_at for n in rows)
    again = send(migrated_url, port)
    assert "sent 0, failed 0" in again.output and len(inbox.messages) == 2


def test_an_unreachable_server_marks_messages_failed_and_a_later_run_retries(
    migrated_url: str, sessions: sessionmaker[Session], smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    with sessions() as session, session.begin():
        enqueue(session, kind="test", recipients=["pat@obs.example"], subject="hello", body="hi\n", now=fixed_clock)
    closed = free_port()
    refused = send(migrated_url, closed)
    assert refused.exit_code == 1 and "failed 1" in refused.output
    with sessions() as session:
        row = session.scalars(select(Notification)).one()
        assert (row.status, row.attempts) == (DeliveryStatus.FAILED, 1) and "ConnectionRefusedError" in row.last_error
    assert "sent 0" in send(migrated_url, port).output  # failed messages wait for --retry-failed
    retried = send(migrated_url, port, "--retry-failed")
    assert retried.exit_code == 0 and "sent 1, failed 0" in retried.output and len(inbox.messages) == 1


def test_without_an_smtp_host_nothing_leaves_the_outbox(migrated_url: str, sessions: sessionmaker[Session]) -> None:
    with sessions() as session, session.begin():
        enqueue(session, kind="test", recipients=["pat@obs.example"], subject="hello", body="hi\n", now=fixed_clock)
    result = CliRunner().invoke(
        main, ["notify", "send"], env={"OBSLAB_DATABASE_URL": migrated_url, "OBSLAB_SMTP_HOST": ""}
    )
    assert result.exit_code == 1 and "OBSLAB_SMTP_HOST is not set" in result.output
    with sessions() as session:
        assert session.scalars(select(Notification.attempts)).one() == 0
