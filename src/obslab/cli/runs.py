"""``obslab runs`` (exposures you may see, filtered and paged; one exposure whole) and ``obslab programs`` (members)."""

from __future__ import annotations

from datetime import date
from typing import Any

import click

from obslab.cli._app import App, actor, emit_json, json_option, night_date, reports_errors
from obslab.formatting import number, utc


@click.group("runs")
def runs() -> None:
    """Observing runs (exposures) of the programs you belong to: list, filter, show."""


def _range(_ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    from obslab.observing.views import Range

    if value is None:
        return Range()
    try:
        low, _, high = value.partition(":")
        if not _:
            raise ValueError
        return Range(float(low) if low else None, float(high) if high else None)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a range: expected MIN:MAX, MIN: or :MAX, e.g. 5:20") from None


def _cone(_ctx: click.Context, _param: click.Parameter, value: str | None) -> tuple[float, float, float] | None:
    if value is None:
        return None
    try:
        ra, dec, radius = (float(part) for part in value.split(","))
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a cone: expected RA,DEC,RADIUS (degrees, degrees, arcsec)"
        ) from None
    return ra, dec, radius


@runs.command("nights")
@click.option("--from", "first", callback=night_date, help="The first night, YYYYMMDD.")
@click.option("--to", "last", callback=night_date, help="The last night, YYYYMMDD.")
@json_option("Print the nights as JSON: exposures, science by program, seeing median, calibration, stage states.")
@click.pass_obj
@reports_errors
def runs_nights(app: App, first: date | None, last: date | None, as_json: bool) -> None:
    """The nights with exposures you may see, newest first, with what was reduced."""
    from obslab.observing.views import night_overview

    with app.sessions() as session:
        nights = night_overview(session, actor(app, session), first=first, last=last)
    if as_json:
        emit_json([night.as_dict() for night in nights])
        return
    for night in nights:
        programs = ", ".join(f"{code} {count}" for code, count in night.by_program.items()) or "no science"
        seeing = f'{night.seeing_median_arcsec:.2f}"' if night.seeing_median_arcsec is not None else "-"
        states = ", ".join(f"{count} {state}" for state, count in sorted(night.stages.items())) or "no stages"
        click.echo(
            f"{night.night:%Y%m%d}  {night.exposures} exposures ({programs}); seeing {seeing}; "
            f"calibration {night.calibration}; stages: {states}"
        )
    if not nights:
        click.echo("no nights with exposures you may see")


@runs.command("list")
@click.option("--night", "first", callback=night_date, help="One night, YYYYMMDD (or the first night, with --to).")
@click.option("--to", "last", callback=night_date, help="The last night of a range, YYYYMMDD.")
@click.option("--target", default="", help="Target name, exact, or with * for any characters (e.g. 'HD*').")
@click.option("--program", default="", help="Program code, exact or with *.")
@click.option("--filter", "filter_name", default="", help="Filter (Sg, Sr, Si, Sz, lp600, c).")
@click.option("--mode", "camera_mode", default="", help="Camera mode.")
@click.option("--kind", type=click.Choice(["science", "bias", "dark", "flat", "seeing", "pointing"]))
@click.option("--cone", callback=_cone, help="RA,DEC,RADIUS: degrees, degrees, arcseconds.")
@click.option("--exposure-time", "exposure_s", callback=_range, help="Seconds, MIN:MAX.")
@click.option("--strehl", "strehl_percent", callback=_range, help="Strehl ratio in percent, MIN:MAX.")
@click.option("--fwhm", "fwhm_arcsec", callback=_range, help="FWHM of the best stack in arcsec, MIN:MAX.")
@click.option("--seeing", "seeing_median_arcsec", callback=_range, help="The night's median seeing, MIN:MAX.")
@click.option(
    "--seeing-nearest", "seeing_nearest_arcsec", callback=_range, help="The seeing measured nearest in time, MIN:MAX."
)
@click.option("--magnitude", callback=_range, help="Instrumental magnitude (smaller is brighter), MIN:MAX, e.g. 8:12.")
@click.option("--stages", "stage_state", type=click.Choice(["done", "failed", "pending"]), help="Pipeline state.")
@click.option("--quality", type=click.Choice(["ok", "bad"]), help="The Strehl stage's quality flag.")
@click.option("--sort", default="started_at", show_default=True, help="Column to sort by.")
@click.option("--ascending", is_flag=True, help="Oldest (smallest) first.")
@click.option("--page", default=1, show_default=True, type=int)
@click.option("--per-page", default=50, show_default=True, type=int)
@json_option("Print the page as JSON: total, page, per_page and the rows with their metrics.")
@click.pass_obj
@reports_errors
def runs_list(
    app: App,
    first: date | None,
    last: date | None,
    quality: str | None,
    ascending: bool,
    as_json: bool,
    kind: str | None,
    **fields: Any,
) -> None:
    """Exposures of your programs (all, for staff and admins), newest first; a page at a time."""
    from obslab.observing.types import ExposureKind
    from obslab.observing.views import ExposureQuery, list_exposures

    query = ExposureQuery(
        nights=(first, last if last else first if first and not last else None),
        kind=ExposureKind(kind) if kind else None,
        quality_ok=None if quality is None else quality == "ok",
        descending=not ascending,
        **fields,
    )
    with app.sessions() as session:
        page = list_exposures(session, actor(app, session), query)
    if as_json:
        emit_json(page.as_dict())
        return
    for row in page.rows:
        strehl = f"{number(round(row.strehl_percent, 1))}%" if row.strehl_percent is not None else "-"
        click.echo(
            f"{utc(row.started_at)}  {row.name}  {row.kind}  {row.filter_name}  Strehl {strehl}"
            + (f"  mag {row.magnitude:.2f}" if row.magnitude is not None else "")
            + ("  MISSING" if row.missing else "")
        )
    shown_to = (page.page - 1) * page.per_page + len(page.rows)
    click.echo(f"{len(page.rows)} of {page.total} exposures shown ({shown_to} so far; page {page.page})")


@runs.command("show")
@click.argument("name")
@json_option("Print the exposure as JSON: fields, header, files, stages with products and provenance, metrics, alarms.")
@click.pass_obj
@reports_errors
def runs_show(app: App, name: str, as_json: bool) -> None:
    """One exposure: its files, every pipeline stage with state and products, its metrics and their alarms."""
    from obslab.observing.views import exposure_detail

    with app.sessions() as session:
        detail = exposure_detail(session, actor(app, session), name)
    if as_json:
        emit_json(detail.as_dict())
        return
    row = detail.row
    click.echo(
        f"{row.name}: {row.kind}, program {row.program or '-'}, {row.target_name or '-'}, "
        f"{row.filter_name}, mode {row.camera_mode}, {number(round(row.exposure_s, 1))} s from {utc(row.started_at)}"
    )
    for file in detail.files:
        click.echo(f"  file {file['path']} ({file['frames']} frames, sha256 {file['sha256'][:12]})")
    for stage in detail.stages:
        extra = f": {stage.error}" if stage.error else ""
        click.echo(f"  {stage.stage:<8} {stage.state} (tries {stage.retries}){extra}")
        for product in stage.products:
            click.echo(f"           {product['kind']}: {product['path']}")
    for metric, value in sorted(detail.metrics.items()):
        click.echo(f"  {metric} = {number(round(value, 4))}")
    for alarm in detail.alarms:
        seen = f"acknowledged {utc(alarm.acknowledged_at)}" if alarm.acknowledged_at else "open"
        values = ", ".join(f"{v:g}" for v in alarm.values)
        click.echo(f"  alarm {alarm.id} {alarm.rule} on {alarm.metric} ({values}), {seen}: {alarm.message}")


@runs.command("redo")
@click.argument("name")
@click.argument("stage", type=click.Choice(["stack", "strehl", "preview"]))
@click.pass_obj
@reports_errors
def runs_redo(app: App, name: str, stage: str) -> None:
    """Mark STAGE of exposure NAME to run again at the next `obslab pipeline run` (program members and admins)."""
    from obslab.observing.redo import force_redo

    with app.transaction() as session:
        force_redo(session, actor(app, session), name, stage, now=app.context.now)
    click.echo(f"{stage} of {name} will run again at the next 'obslab pipeline run'")


@runs.command("download")
@click.option("--night", "night_date", required=True, callback=night_date, help="The night, YYYYMMDD.")
@click.option("--program", default="", help="Only this program's exposures (default: all you may see).")
@click.option(
    "-o", "--output", type=click.Path(file_okay=False), default=".", show_default=True, help="Folder to copy into."
)
@json_option("Print what was copied as JSON: each product's id, exposure, kind, source and copy.")
@click.pass_obj
@reports_errors
def runs_download(app: App, night_date: date, program: str, output: str, as_json: bool) -> None:
    """Copy a night's products you may see into OUTPUT/YYYYMMDD/<exposure>/ (checked against their SHA-256)."""
    import hashlib
    import shutil
    from pathlib import Path

    from obslab.observing.views import night_products

    with app.sessions() as session:
        products = night_products(session, actor(app, session), night_date, program)
    if not products:
        raise click.ClickException(
            f"no products of night {night_date:%Y%m%d}"
            + (f" in program {program}" if program else "")
            + " that you may download (ask an admin to add you to the program)"
        )
    copied, problems = [], []
    for product in products:
        source, key = Path(product.path), f"{night_date:%Y%m%d}"
        # The archive's own layout below the night's folder (calib/, summary/, <exposure>/preview/, ...).
        inside = source.parts[len(source.parts) - source.parts[::-1].index(key) :] if key in source.parts else None
        target = Path(output, key, *(inside or (product.exposure or "night", source.name)))
        if not source.is_file():
            problems.append(f"{product.kind} of {product.exposure or 'the night'}: {source} is gone")
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        if hashlib.sha256(target.read_bytes()).hexdigest() != product.sha256:
            problems.append(f"{target}: its SHA-256 differs from the recorded one (changed since it was made)")
        copied.append(
            {
                "id": product.id,
                "exposure": product.exposure,
                "kind": product.kind,
                "source": str(source),
                "copy": str(target),
            }
        )
    if as_json:
        emit_json({"copied": copied, "problems": problems})
    else:
        for problem in problems:
            click.echo(f"problem: {problem}")
        click.echo(f"{len(copied)} products copied into {Path(output) / f'{night_date:%Y%m%d}'}")
    if problems:
        raise SystemExit(1)


@click.group("programs")
def programs() -> None:
    """Science programs and their members (who sees which exposures and products)."""


@programs.command("add-member")
@click.argument("code")
@click.argument("username")
@click.pass_obj
@reports_errors
def programs_add_member(app: App, code: str, username: str) -> None:
    """Let USERNAME see program CODE's exposures and products (admin only)."""
    from obslab.observing.programs import add_member

    with app.transaction() as session:
        add_member(session, actor(app, session), code, username, now=app.context.now)
    click.echo(f"{username} is now a member of program {code}")


@programs.command("remove-member")
@click.argument("code")
@click.argument("username")
@click.pass_obj
@reports_errors
def programs_remove_member(app: App, code: str, username: str) -> None:
    """End USERNAME's membership of program CODE (admin only)."""
    from obslab.observing.programs import remove_member

    with app.transaction() as session:
        remove_member(session, actor(app, session), code, username, now=app.context.now)
    click.echo(f"{username} is no longer a member of program {code}")
