"""``obslab plan``: plan or re-plan a night, explain a request's place, make requests from catalog observations."""

from __future__ import annotations

from datetime import datetime

import click

from obslab.cli._app import App, actor, emit_json, json_option, reports_errors
from obslab.formatting import clock, number, utc


@click.group(invoke_without_command=True)
@click.option("--night", "night_text", help="The local date the night begins, YYYY-MM-DD.")
@click.option("--from", "from_text", help="Re-plan from this UTC time (HH:MM), keeping the block in progress.")
@click.option("--lost", "lost_texts", multiple=True, help="A UTC range lost to weather, HH:MM-HH:MM (repeatable).")
@click.option(
    "--seen-version",
    type=click.IntRange(min=0),
    default=None,
    help="The plan version you looked at (0: none); refused if someone stored a newer one. Default: the newest now.",
)
@click.option("--dry-run", is_flag=True, help="What-if: plan and show, but store nothing.")
@click.option(
    "--search-seconds",
    type=click.FloatRange(min=0, max=60),
    default=None,
    help="Search about this long for a better plan (default: milliseconds). The plan depends on the number "
    "given, not on how fast the machine is.",
)
@json_option("Print the plan as one JSON object.")
@click.pass_context
@reports_errors
def plan(
    ctx: click.Context,
    night_text: str | None,
    from_text: str | None,
    lost_texts: tuple[str, ...],
    seen_version: int | None,
    dry_run: bool,
    search_seconds: float | None,
    as_json: bool,
) -> None:
    """Plan the night's pending requests (a new version; the last one is kept), or see `obslab plan explain`."""
    if ctx.invoked_subcommand is not None:
        return
    if night_text is None:
        raise click.UsageError("--night YYYY-MM-DD is required")
    from obslab.scheduling.service import (
        lost_ranges,
        moment_in_night,
        parse_night,
        plan_and_save,
        plan_json,
        plan_version,
    )
    from obslab.scheduling.service import plan as make_plan

    app: App = ctx.obj
    site = app.settings.site
    night = parse_night(night_text)
    planned_from = moment_in_night(site, night, from_text, "from") if from_text else None
    lost = lost_ranges(site, night, lost_texts)
    if dry_run:
        with app.sessions() as session:
            result, _kept = make_plan(
                session,
                site,
                night,
                planned_from=planned_from,
                lost=lost,
                search_seconds=search_seconds,
                now=app.context.now,
            )
        version = None
    else:
        with app.transaction() as session:
            seen = plan_version(session, night) if seen_version is None else seen_version
            saved = plan_and_save(
                session,
                actor(app, session),
                site,
                night,
                seen_version=seen,
                planned_from=planned_from,
                lost=lost,
                search_seconds=search_seconds,
            )
            result, version = saved.plan, saved.schedule.version_number
    if as_json:
        emit_json(plan_json(result, site) | {"schedule_version": version})
        return
    zone = site.zone
    where = (
        f"dark {clock(result.night_start)}-{clock(result.night_end)} UTC, "
        f"{clock(result.night_start, zone)} to {clock(result.night_end, zone)} ({result.twilight.dark_time})"
        if result.night_start and result.night_end
        else "no dark time"
    )
    stored = f"stored as version {version}" if version else "what-if: nothing stored"
    change = result.change
    against = (
        f"; against version {change['from']}: {len(change['added'])} added, {len(change['removed'])} removed, "
        f"{len(change['moved'])} moved"
        if change
        else ""
    )
    click.echo(
        f"night {night} at {site.name}: {where}; "
        f"{len(result.blocks)} blocks, {len(result.unscheduled)} unscheduled; {stored}{against}"
    )
    for block in result.blocks:
        request = block.request
        click.echo(
            f"  {clock(block.start)}-{clock(block.end)} UTC ({clock(block.start, zone)})  {request.label:<10} "
            f"{request.target_name[:24]:<24} priority {number(request.priority)}"
        )
    for left in result.unscheduled:
        request = left.request
        click.echo(
            f"  {'--':<25} {request.label:<10} {request.target_name[:24]:<24} {left.reason.value}: {left.detail}"
        )
    for note in result.notes:
        click.echo(f"  note: {note}")


@plan.command("explain")
@click.argument("request")
@click.option("--night", "night_text", help="Look in this night's plan (default: the latest).")
@json_option("Print JSON.")
@click.pass_obj
@reports_errors
def plan_explain(app: App, request: str, night_text: str | None, as_json: bool) -> None:
    """Say where REQUEST (its number or name, e.g. 4 or REQ-0004) stands in the latest plan: its block, or why not."""
    from obslab.scheduling.service import explain, parse_night

    with app.sessions() as session:
        answer = explain(session, request, parse_night(night_text) if night_text else None)
    if as_json:
        emit_json(answer)
        return
    head = (
        f"request {answer['request']} ({answer['name']}), "
        f"plan of {answer['night']} version {answer['schedule_version']}:"
    )
    if answer["scheduled"]:
        start, end = datetime.fromisoformat(answer["start"]), datetime.fromisoformat(answer["end"])
        zone = app.settings.site.zone
        click.echo(f"{head} scheduled {utc(start)} to {clock(end)} UTC ({clock(start, zone)} to {clock(end, zone)})")
    else:
        reason = f"{answer['reason']}: " if answer.get("reason") else ""
        click.echo(f"{head} not scheduled: {reason}{answer['detail']}")


@plan.command("from-catalog")
@click.argument("obsids")
@json_option("Print JSON.")
@click.pass_obj
@reports_errors
def plan_from_catalog(app: App, obsids: str, as_json: bool) -> None:
    """Make requests from approved catalog observations (OBSIDS: lists and ranges, e.g. 20001-20050,20077)."""
    from obslab.scheduling.from_catalog import requests_from_catalog

    with app.transaction() as session:
        outcomes = requests_from_catalog(session, actor(app, session), obsids)
    if as_json:
        emit_json([{"obsid": o.obsid, "request": o.request, "detail": o.detail} for o in outcomes])
        return
    for outcome in outcomes:
        click.echo(f"{outcome.obsid}: {outcome.detail}")
