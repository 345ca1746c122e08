"""``obslab duty``: the duty roster from the command line (show, extend, sign up, unlock, split, delete)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import click

from obslab.cli._app import App, actor, emit_json, json_option, reports_errors

DAY_FORMAT = click.DateTime(formats=["%Y-%m-%d"])


def _slot_json(slot: Any) -> dict[str, Any]:
    return {
        "starts_on": slot.starts_on.isoformat(),
        "ends_on": slot.ends_on.isoformat(),
        "person": slot.person,
        "assigned_by": slot.assigned_by,
        "version": slot.version,
        "standard": slot.standard,
    }


@click.group()
def duty() -> None:
    """Show and change the duty roster (Monday-to-Sunday slots, never a gap)."""


@duty.command("show")
@click.option("--from", "start", type=DAY_FORMAT, default=None, help="First day shown; default 30 days ago.")
@click.option("--to", "end", type=DAY_FORMAT, default=None, help="Last day shown; default a year ahead.")
@json_option("Print JSON instead of a table.")
@click.pass_obj
@reports_errors
def duty_show(app: App, start: datetime | None, end: datetime | None, as_json: bool) -> None:
    """List the roster's slots with who is on duty and each slot's version."""
    from obslab.catalog.changes.duty import roster

    today = datetime.now(UTC).date()
    first = start.date() if start else today - timedelta(days=30)
    last = end.date() if end else today + timedelta(days=366)
    with app.sessions() as session:
        slots = roster(session, first, last)
    if as_json:
        emit_json([_slot_json(slot) for slot in slots])
        return
    if not slots:
        click.echo(f"no duty slots between {first:%Y-%m-%d} and {last:%Y-%m-%d} (add weeks with 'obslab duty extend')")
    for slot in slots:
        person = slot.person or "open"
        note = "" if slot.standard else "  (not a Monday-to-Sunday week)"
        click.echo(f"{slot.starts_on:%Y-%m-%d} .. {slot.ends_on:%Y-%m-%d}  {person:<16} version {slot.version}{note}")


@duty.command("extend")
@click.option("--through", type=DAY_FORMAT, required=True, help="Add open weeks up to this day.")
@click.pass_obj
@reports_errors
def duty_extend(app: App, through: datetime) -> None:
    """Add open Monday-to-Sunday slots after the last one."""
    from obslab.catalog.changes.duty import extend

    with app.transaction() as session:
        added = extend(session, actor(app, session), through.date())
    click.echo(f"added {len(added)} open slot(s)")


def _slot_action(name: str, function: str, help_text: str, *, with_person: bool = False) -> Any:
    """A command DATE [PERSON] --seen-version N running ``obslab.catalog.duty.<function>`` on the slot starting DATE."""

    @duty.command(name, help=help_text)
    @click.argument("starts_on", type=DAY_FORMAT)
    @click.argument("person") if with_person else (lambda f: f)
    @click.option("--seen-version", type=int, required=True, help="The slot's version from 'duty show'.")
    @click.pass_obj
    @reports_errors
    def command(app: App, starts_on: datetime, seen_version: int, person: str | None = None) -> None:
        from obslab.catalog.changes import duty as roster_service

        action = getattr(roster_service, function)
        extra = (person,) if with_person else ()
        with app.transaction() as session:
            result = action(session, actor(app, session), starts_on.date(), *extra, seen_version=seen_version)
        for slot in result if isinstance(result, tuple) else (result,):
            click.echo(f"{slot.starts_on:%Y-%m-%d} .. {slot.ends_on:%Y-%m-%d}  {slot.person or 'open'}")

    return command


duty_sign_up = _slot_action(
    "signup", "sign_up", "Put PERSON on duty in the open slot starting STARTS_ON.", with_person=True
)
duty_unlock = _slot_action("unlock", "unlock", "Reopen the filled slot starting STARTS_ON.")
duty_split = _slot_action("split", "split", "Split the open slot starting STARTS_ON at its midpoint.")
duty_delete = _slot_action(
    "delete", "delete", "Delete the open slot starting STARTS_ON, merging it into its shorter open neighbour."
)
