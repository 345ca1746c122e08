"""``obslab notify``: write the daily reminders, deliver the outbox over SMTP, and look at what is waiting."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from sqlalchemy import func, select

from obslab.cli._app import App, emit_json, json_option, reports_errors


@click.group()
def notify() -> None:
    """Deliver and inspect notifications (written to the outbox with the change they report)."""


@notify.command("send")
@click.option("--retry-failed", is_flag=True, help="Also retry messages that failed before (at most 5 attempts each).")
@click.option(
    "--limit",
    type=click.IntRange(1, 100_000),
    default=500,
    show_default=True,
    help="Most messages to send in this run.",
)
@json_option()
@click.pass_obj
@reports_errors
def notify_send(app: App, retry_failed: bool, limit: int, as_json: bool) -> None:
    """Send waiting messages over SMTP (OBSLAB_SMTP_HOST, _PORT, _USERNAME, _PASSWORD, _STARTTLS, _SENDER)."""
    from obslab.mail import deliver_pending

    report = deliver_pending(app.sessions, app.settings, retry_failed=retry_failed, limit=limit)
    if as_json:
        emit_json({"sent": report.sent, "failed": report.failed, "errors": list(report.errors)})
    else:
        click.echo(f"sent {report.sent}, failed {report.failed}")
        for error in report.errors:
            click.echo(f"  {error}", err=True)
    if report.failed:
        raise SystemExit(1)


@notify.command("reminders")
@click.option(
    "--date",
    "day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The day (UTC) to remind for; default today.",
)
@click.pass_obj
@reports_errors
def notify_reminders(app: App, day: datetime | None) -> None:
    """Write today's reminders to the outbox (sign-offs in working order, duty, roster); running twice adds nothing."""
    from obslab.catalog.changes.reminders import build_reminders

    today = day.date() if day is not None else datetime.now(UTC).date()
    with app.transaction() as session:
        written = build_reminders(session, today, rules=app.context.catalog_policy.rules)
    click.echo(f"{len(written)} reminder(s) written for {today:%Y-%m-%d}; 'obslab notify send' delivers them")
    for key in written:
        click.echo(f"  {key}")


@notify.command("status")
@json_option()
@click.pass_obj
@reports_errors
def notify_status(app: App, as_json: bool) -> None:
    """Count the outbox's messages by delivery state."""
    from obslab.notify import Notification

    with app.sessions() as session:
        counts = {
            status.value: count
            for status, count in session.execute(
                select(Notification.status, func.count()).group_by(Notification.status)
            ).all()
        }
    if as_json:
        emit_json(counts)
    else:
        click.echo(", ".join(f"{state} {counts.get(state, 0)}" for state in ("pending", "sent", "failed")))
