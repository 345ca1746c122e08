"""``obslab observe``: ingest a night folder of raw FITS files (exposures, checksums, the configuration in force)."""

from __future__ import annotations

from datetime import date

import click

from obslab.cli._app import App, actor, emit_json, json_option, night_date, reports_errors
from obslab.configs.text_input import ISO_ALLOWED
from obslab.formatting import utc

#: Exit status when every FITS file of the folder was refused (nothing ingested, nothing there before).
ALL_REFUSED = 2


@click.group("observe")
def observe() -> None:
    """Observing nights: ingest raw files."""


@observe.command("ingest")
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
@click.option(
    "--night", callback=night_date, help="The night (YYYYMMDD) the files belong to. Default: the folder's name."
)
@json_option("Print the report as JSON: exposures added, updated, unchanged, missing; files refused and ignored.")
@click.pass_obj
@reports_errors
def observe_ingest(app: App, directory: str, night: date | None, as_json: bool) -> None:
    """Ingest DIRECTORY, a night folder YYYYMMDD of raw .fits / .fits.bz2 files named as the archiver names them.

    Each exposure (all its parts) is recorded whole or not at all; a bad file is refused by name and the rest
    go on. Running it again over unchanged files records nothing; a changed file updates its exposure and sets
    the stages it feeds back to pending; a file gone from the folder marks its exposure missing. Exits 2 when
    every file was refused.
    """
    from obslab.observing.ingest import ingest_night

    with app.transaction() as session:
        report = ingest_night(
            session,
            directory,
            night_date=night,
            site_name=app.context.site.name,
            now=app.context.now,
            actor=actor(app, session),
        )
    if as_json:
        emit_json(report.as_dict())
    else:
        for refusal in report.refused:
            click.echo(f"refused {refusal.file}: {refusal.reason}")
        for missing in report.missing:
            click.echo(f"missing {', '.join(missing.files)} of {missing.exposure} (since {utc(missing.since)})")
        for reset in report.reset:
            where = reset.exposure or f"the night of {report.night:%Y%m%d}"
            click.echo(f"reset {reset.stage} of {where} to pending: {reset.because} changed")
        if report.ignored:
            click.echo(f"ignored (not .fits or .fits.bz2): {', '.join(report.ignored)}")
        click.echo(report.summary())
    if report.all_refused:
        raise SystemExit(ALL_REFUSED)


@observe.command("loss")
@click.argument("night", callback=night_date, metavar="YYYYMMDD")
@click.option("--from", "from_text", required=True, help=f"When the time began to be lost: {ISO_ALLOWED}.")
@click.option("--to", "to_text", required=True, help="When observing could go on again (same form).")
@click.option("--cause", required=True, help="weather, technical or other.")
@click.option("--note", default="", help="What happened, for the night log and the nightly report.")
@click.pass_obj
@reports_errors
def observe_loss(app: App, night: date, from_text: str, to_text: str, cause: str, note: str) -> None:
    """Log that part of the night of NIGHT was lost (the night operator's night log); needs the scheduler role.

    The nightly report totals the losses by cause and names the one that kept a planned block from being observed.
    """
    from obslab.configs.text_input import iso_moment
    from obslab.observing.losses import record_loss

    start, end = iso_moment(from_text, "--from"), iso_moment(to_text, "--to")
    with app.transaction() as session:
        loss = record_loss(
            session, actor(app, session), app.context.site, night, start, end, cause, note, now=app.context.now
        )
        minutes = (loss.end - loss.start).total_seconds() / 60
        click.echo(f"logged {minutes:.0f} min lost to {loss.cause.value} on the night of {night:%Y%m%d}")


@observe.command("losses")
@click.argument("night", callback=night_date, metavar="YYYYMMDD")
@json_option("Print the losses as JSON.")
@click.pass_obj
@reports_errors
def observe_losses(app: App, night: date, as_json: bool) -> None:
    """The time lost in the night of NIGHT, as the night log has it."""
    from obslab.observing.losses import losses_of

    with app.sessions() as session:
        rows = [
            {"start": loss.start, "end": loss.end, "cause": loss.cause.value, "note": loss.note}
            for loss in losses_of(session, night)
        ]
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        click.echo(f"{utc(row['start'])} - {utc(row['end'])}  {row['cause']:<9}  {row['note']}")
    click.echo(f"{len(rows)} loss(es) logged for the night of {night:%Y%m%d}")
