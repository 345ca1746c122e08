"""``obslab alarms``: the alarms raised on pipeline metrics that you may see, and acknowledging them."""

from __future__ import annotations

import click

from obslab.cli._app import App, actor, emit_json, json_option, reports_errors
from obslab.formatting import utc


@click.group("alarms")
def alarms() -> None:
    """Alarms raised by the alarm rules (OBSLAB_ALARM_RULES_FILE) on pipeline metrics."""


@alarms.command("list")
@click.option("--all", "everything", is_flag=True, help="Acknowledged alarms too.")
@json_option("Print the alarms as JSON: rule, metric, exposure, night, values, times.")
@click.pass_obj
@reports_errors
def alarms_list(app: App, everything: bool, as_json: bool) -> None:
    """Open alarms (newest first) on exposures you may see."""
    from obslab.observing.alarms import list_alarms

    with app.sessions() as session:
        found = list_alarms(session, actor(app, session), open_only=not everything)
    if as_json:
        emit_json([alarm.as_dict() for alarm in found])
        return
    for alarm in found:
        values = ", ".join(f"{v:g}" for v in alarm.values)
        seen = f"  (acknowledged {utc(alarm.acknowledged_at)})" if alarm.acknowledged_at else ""
        click.echo(
            f"{alarm.id}  {utc(alarm.raised_at)}  {alarm.rule}: {alarm.metric} of "
            f"{alarm.exposure or 'night ' + alarm.night} = {values}{seen}"
        )
    click.echo(f"{len(found)} {'alarms' if everything else 'open alarms'}")


@alarms.command("ack")
@click.argument("alarm_id", type=int)
@click.pass_obj
@reports_errors
def alarms_ack(app: App, alarm_id: int) -> None:
    """Acknowledge alarm ALARM_ID (you have looked at it); recorded with your name."""
    from obslab.observing.alarms import acknowledge

    with app.transaction() as session:
        acknowledge(session, actor(app, session), alarm_id, now=app.context.now)
    click.echo(f"alarm {alarm_id} acknowledged")
