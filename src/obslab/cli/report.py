"""``obslab report``: run a report template (papermill, then self-contained HTML, archived), list the archive."""

from __future__ import annotations

import sys
from datetime import date

import click

from obslab.cli._app import App, actor, emit_json, json_option, night_date, reports_errors
from obslab.formatting import utc


@click.group("report")
def report() -> None:
    """Nightly summaries and other reports: parameterised notebooks, executed, kept as HTML in the archive."""


def _parameter(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    given = {}
    for text in values:
        name, sep, value = text.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"{text!r} is not allowed; expected NAME=VALUE")
        given[name.strip()] = value
    return given


@report.command("run")
@click.argument("template")
@click.option("--night", "night", callback=night_date, help="The night, YYYYMMDD (the local date it began).")
@click.option("--last-night", is_flag=True, help="The most recent night that is over (for the morning's run).")
@click.option("--param", "given", multiple=True, callback=_parameter, help="NAME=VALUE for a template parameter.")
@click.option("--force", is_flag=True, help="Execute even when the archive holds a report of the same data.")
@json_option("Print the outcome as JSON: id, state, cached, html, notebook, duration_s, error.")
@click.pass_obj
@reports_errors
def report_run(
    app: App,
    template: str,
    night: date | None,
    last_night: bool,
    given: dict[str, str],
    force: bool,
    as_json: bool,
) -> None:
    """Run TEMPLATE (e.g. nightly) and archive its notebook and HTML; the same data again reuses the archived one."""
    from obslab.reports import runner

    if last_night:
        if night is not None:
            raise click.BadParameter("give --night or --last-night, not both", param_hint="--last-night")
        night = runner.last_night(app.settings, app.context.now())
    if night is not None:
        given = {**given, "night": f"{night:%Y%m%d}"}

    def progress(done: int, total: int) -> None:
        if not as_json and sys.stderr.isatty():
            click.echo(f"\rcell {done} of {total}", nl=False, err=True)

    with app.sessions() as session:
        who = actor(app, session)
    outcome = runner.run_report(
        app.sessions, app.settings, who, template, given, force=force, now=app.context.now, on_cell=progress
    )
    if as_json:
        emit_json(outcome.as_dict())
        return
    how = "from the archive (same template, parameters and data)" if outcome.cached else f"in {outcome.duration_s} s"
    click.echo(f"report {outcome.report_id} {outcome.state} {how}: {outcome.html_path}")


@report.command("list")
@click.option("--template", default="", help="Only this template's reports.")
@click.option("--night", "night", callback=night_date, help="Only this night's, YYYYMMDD.")
@click.option("--state", type=click.Choice(["running", "done", "failed"]), default=None, help="Only in this state.")
@json_option("Print the reports as JSON.")
@click.pass_obj
@reports_errors
def report_list(app: App, template: str, night: date | None, state: str | None, as_json: bool) -> None:
    """The report archive, newest first."""
    from obslab.reports.types import ReportState
    from obslab.reports.views import list_reports

    with app.sessions() as session:
        rows = list_reports(session, template=template, night=night, state=ReportState(state) if state else None)
    if as_json:
        emit_json([r.as_dict() for r in rows])
        return
    for r in rows:
        where = r.html_path if r.state == "done" else (f"cell {r.failed_cell}: {r.error}" if r.error else "")
        night_text = f"{r.night:%Y%m%d}" if r.night else "-"
        click.echo(f"{r.id:>5}  {r.template:<12} {night_text:<9} {r.state:<8} {utc(r.started_at)}  {where}")
    click.echo(f"{len(rows)} report{'' if len(rows) == 1 else 's'}")


@report.command("templates")
@json_option("Print the templates as JSON, with their parameters.")
@click.pass_obj
@reports_errors
def report_templates(app: App, as_json: bool) -> None:
    """The templates there are (packaged, and the deployment's own folder), each with its parameters."""
    from obslab.reports.templates import load_template, template_paths

    templates = [load_template(path) for path in template_paths(app.settings.report_templates_dir).values()]
    if as_json:
        emit_json([t.as_dict() for t in templates])
        return
    for t in templates:
        click.echo(f"{t.name} ({t.version}): {t.description}")
        for p in t.parameters:
            click.echo(f"  {p.name}: {p.type_name} = {p.default!r}  {p.help}")


@report.command("schedule")
@click.option("--at", "at", default="12:30", show_default=True, help="Local time at the site, HH:MM, after noon.")
@click.option("--user", "user", default="", help="Who the run acts as (a staff or pipeline user); default: you.")
@click.pass_obj
@reports_errors
def report_schedule(app: App, at: str, user: str) -> None:
    """Print a crontab line and a systemd timer that run last night's nightly report every day."""
    import getpass
    from pathlib import Path

    from obslab.reports.schedule import cron_line, systemd_units

    settings = app.settings
    who = user or settings.acting_user or getpass.getuser()
    command = f"{Path(sys.executable).parent / 'obslab'} report run nightly --last-night"
    click.echo(cron_line(command, at, settings.site_timezone, who))
    click.echo()
    click.echo(systemd_units(command, at, settings.site_timezone, who))
