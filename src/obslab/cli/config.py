"""``obslab config``: fetch the fplane in force at a date (kept for when the server is down), record, read, compare."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from obslab.cli._app import App, actor, emit_json, json_option, reports_errors
from obslab.configs.fplane import FPLANE_INSTRUMENT
from obslab.configs.text_input import ISO_ALLOWED
from obslab.errors import InvalidInputError, NotFoundError
from obslab.formatting import shown, utc

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from obslab.configs.types import ConfigDiff

SOURCE_ALLOWED = "an fplane file, a JSON file of items, '-' (standard input) or a JSON object of items"


@click.group("config")
def config() -> None:
    """Instrument configurations: the fplane in force at a date, new versions, history and differences."""


@config.command("get")
@click.argument("datestr", default="")
@click.option("-o", "--output", help="File to write; '-': standard output. Default: the server's fplaneYYYYMMDD.txt.")
@click.option("-s", "--short", is_flag=True, help="Active VIRUS IFUs only (full_fplane=0); default: the full file.")
@click.option("-p", "--actual", is_flag=True, help="Measured IFU positions (actual_pos=1); default: nominal ones.")
@click.option("--url", help="Base URL of the deployment's obslab API. Default: OBSLAB_API_URL.")
@click.option("--timeout", type=click.FloatRange(0.1, 600), default=10.0, show_default=True, help="Seconds to wait.")
@click.pass_obj
@reports_errors
def config_get(
    app: App, datestr: str, output: str | None, short: bool, actual: bool, url: str | None, timeout: float
) -> None:
    """Fetch the fplane file in force at DATESTR (default: now) from the obslab API, as get_fplane.sh did.

    DATESTR: empty, latest or current (now), YYYYMMDD (the night starting that local day), or a FITS DATE-OBS
    (YYYY-MM-DDThh:mm:ss, UTC). Every file fetched is kept in the data directory (fplane-cache/); when the
    server cannot be reached, the kept file of the same night and flags fetched for a moment at or before
    DATESTR's stands in, and standard error says which.
    """
    from obslab.configs.fplane_client import FOLDER, api_base, get_fplane

    settings = app.settings
    base = api_base(url if url is not None else settings.api_url, "--url" if url is not None else "OBSLAB_API_URL")
    got = get_fplane(
        base,
        datestr,
        full=not short,
        actual=actual,
        folder=settings.data_dir / FOLDER,
        now=app.context.now(),
        zone=settings.site.zone,
        timeout=timeout,
    )
    target = output or got.file_name
    if got.stand_in is not None:
        copy = got.stand_in
        click.echo(
            f"obslab: {got.unreachable}; using the kept copy {copy.path.name}, fetched for "
            f"{utc(copy.at, seconds=True)} (night of {copy.night}), in {copy.path.parent}",
            err=True,
        )
    with click.open_file(target, "wb") as out:  # '-' is standard output
        out.write(got.body)
    if got.stand_in is None:
        what = f"{FPLANE_INSTRUMENT} version {got.version}" if got.version else "the fplane"
        click.echo(f"{target}: {what} at {utc(got.moment.at, seconds=True)} from {base}", err=target == "-")


@config.command("put")
@click.argument("source")
@click.option("--from", "from_text", required=True, help=f"When it became so: {ISO_ALLOWED}.")
@click.option("--instrument", default=FPLANE_INSTRUMENT, show_default=True, help="Whose configuration it is.")
@click.option(
    "--seen-version",
    type=click.IntRange(min=0),
    default=None,
    help="The instrument's newest version you looked at (0: none); refused if someone recorded a newer one. "
    "Default: the newest now.",
)
@click.option("--comment", default="", help="Why, for the history.")
@click.option("--dry-run", is_flag=True, help="Check and show the change from the version in force; record nothing.")
@json_option("Print the outcome as JSON.")
@click.pass_obj
@reports_errors
def config_put(
    app: App,
    source: str,
    from_text: str,
    instrument: str,
    seen_version: int | None,
    comment: str,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Record SOURCE as the instrument's configuration from --from on; the version in force then ends there.

    SOURCE: an fplane text file, a JSON file of items ({"013": {"x_fp": -400.0, ...}, ...}), '-' to read
    either from standard input, or the JSON itself. Needs the telescope or admin role.
    """
    from obslab.access import require_role
    from obslab.configs.service import WRITER_ROLES, latest_version_number, record_configuration, valid_at
    from obslab.configs.text_input import iso_moment
    from obslab.configs.types import diff_items

    valid_from, items = iso_moment(from_text, "--from"), read_source(source, instrument)
    with unit_of_work(app, commit=not dry_run) as session:
        who = actor(app, session)
        username = who.username  # read now: a dry run's rollback expires the user
        require_role(who, WRITER_ROLES, f"record configurations of {instrument}")
        seen = latest_version_number(session, instrument) if seen_version is None else seen_version
        before = valid_at(session, instrument, valid_from)
        diff = diff_items(before.items if before is not None else {}, items)
        number = None
        # As the telescope's reports: a version says the hardware changed, so the same items again record nothing.
        if before is None or before.valid_to is not None or not diff.empty:
            number = record_configuration(
                session,
                who,
                instrument,
                items,
                valid_from=valid_from,
                seen_version=seen,
                comment=comment,
                now=app.context.now,
            ).version_number
    previous = before.version_number if before is not None else None
    if as_json:
        emit_json(
            {"instrument": instrument, "version_number": number, "previous_version": previous, "dry_run": dry_run}
            | {"recorded": number is not None and not dry_run, "valid_from": valid_from.isoformat()}
            | {"diff": diff.as_dict()}
        )
        return
    ends = f" (version {previous} ends then)" if previous is not None else ""
    if number is None:
        click.echo(f"{instrument}: no change from version {previous}, in force at {utc(valid_from)}; nothing recorded")
    elif dry_run:
        click.echo(
            f"dry run: {instrument} version {number} would be in force from {utc(valid_from)}{ends}; nothing recorded"
        )
    else:
        click.echo(f"{instrument} version {number} recorded by {username}, in force from {utc(valid_from)}{ends}")
    if previous is not None and number is not None:
        show_diff(f"changes from version {previous}", diff)


@contextmanager
def unit_of_work(app: App, *, commit: bool) -> Iterator[Session]:
    """A transaction that commits, or (a dry run) one that rolls back, so both make the same checks."""
    if commit:
        with app.transaction() as session:
            yield session
        return
    with app.sessions() as session:
        try:
            yield session
        finally:
            session.rollback()


def read_source(source: str, instrument: str) -> dict[str, dict[str, Any]]:
    """The items SOURCE holds: read from a file, standard input ('-') or the argument itself (JSON)."""
    from obslab.configs.text_input import items_from_text, looks_like_json

    if source == "-":
        with click.open_file("-", encoding="utf-8") as stdin:
            text = stdin.read()
    elif looks_like_json(source):
        text = source
    else:
        try:
            text = Path(source).read_text(encoding="utf-8")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError, UnicodeDecodeError):
            raise InvalidInputError("source", source, SOURCE_ALLOWED) from None
    return items_from_text(text, instrument)


def unknown(session: Session, instrument: str) -> NotFoundError:
    from obslab.configs.service import instruments

    names = ", ".join(instruments(session)) or "none yet"
    return NotFoundError(f"no instrument {instrument!r} has a recorded configuration (known: {names})")


def show_diff(head: str, diff: ConfigDiff) -> None:
    changed = len({change.key for change in diff.changed})
    click.echo(f"{head}: {len(diff.added)} added, {len(diff.removed)} removed, {changed} changed")
    for key in diff.added:
        click.echo(f"  added    {key}")
    for key in diff.removed:
        click.echo(f"  removed  {key}")
    for change in diff.changed:
        click.echo(f"  changed  {change.key} {change.attribute}: {shown(change.before)} -> {shown(change.after)}")


@config.command("history")
@click.argument("instrument")
@json_option("Print every record as JSON (with its items).")
@click.pass_obj
@reports_errors
def config_history(app: App, instrument: str, as_json: bool) -> None:
    """Every record of INSTRUMENT in version order; those a correction superseded are marked."""
    from obslab.configs.service import history

    with app.sessions() as session:
        versions = history(session, instrument)
        if not versions:
            raise unknown(session, instrument)
    if as_json:
        emit_json([version.as_dict() | {"current": version.current} for version in versions])
        return
    superseded = sum(not version.current for version in versions)
    marked = f", {superseded} superseded by a correction (marked SUPERSEDED)" if superseded else ""
    click.echo(f"{instrument}: {len(versions)} versions{marked}")
    for version in versions:
        until = utc(version.valid_to) if version.valid_to is not None else "now"
        mark = f"  SUPERSEDED {utc(version.superseded_at)}" if version.superseded_at is not None else ""
        click.echo(
            f"  version {version.version_number:<3} in force {utc(version.valid_from)} to {until}, "
            f"{len(version.items)} items{mark}"
        )
        who = version.recorded_by or "system"
        comment = f": {version.comment}" if version.comment else ""
        click.echo(f"              recorded {utc(version.recorded_at)} by {who} ({version.source}){comment}")


@config.command("diff")
@click.argument("instrument")
@click.argument("first", type=click.IntRange(min=1))
@click.argument("second", type=click.IntRange(min=1))
@json_option("Print the difference as JSON.")
@click.pass_obj
@reports_errors
def config_diff(app: App, instrument: str, first: int, second: int, as_json: bool) -> None:
    """What changed from version FIRST to version SECOND of INSTRUMENT: items added, removed, changed."""
    from obslab.configs.service import diff_versions

    with app.sessions() as session:
        diff = diff_versions(session, instrument, first, second)
    if as_json:
        emit_json({"instrument": instrument, "from": first, "to": second} | diff.as_dict())
        return
    if diff.empty:
        click.echo(f"{instrument} versions {first} and {second} hold the same items")
        return
    show_diff(f"{instrument} version {first} to version {second}", diff)


@config.command("show")
@click.argument("instrument")
@click.option("--at", "at_text", default="", help="Telescope time: when it was in force (default: now).")
@click.option("--known-at", "known_text", help="Record time: what obslab believed then (default: as known now).")
@json_option("Print the version as JSON (with its items).")
@click.pass_obj
@reports_errors
def config_show(app: App, instrument: str, at_text: str, known_text: str | None, as_json: bool) -> None:
    """The configuration of INSTRUMENT in force at --at, as known now or, with --known-at, as recorded then.

    Times: YYYYMMDD (local midnight of the night starting that day), a FITS DATE-OBS, latest, or ISO 8601 (UTC).
    """
    from obslab.configs.service import as_recorded_at, instruments, valid_at
    from obslab.configs.text_input import moment_from_text

    clock = {"now": app.context.now(), "zone": app.settings.site.zone}
    moment = moment_from_text(at_text, "--at", **clock)
    then = moment_from_text(known_text, "--known-at", **clock) if known_text is not None else None
    with app.sessions() as session:
        found = (
            valid_at(session, instrument, moment) if then is None else as_recorded_at(session, instrument, moment, then)
        )
        if found is None and instrument not in instruments(session):
            raise unknown(session, instrument)
    known = f"as recorded at {utc(then, seconds=True)}" if then is not None else "as known now"
    if found is None:
        raise NotFoundError(f"{instrument} has no configuration recorded for {utc(moment, seconds=True)} ({known})")
    if as_json:
        emit_json(found.as_dict() | {"at": moment.isoformat(), "known_at": then.isoformat() if then else None})
        return
    newest = f"the newest version {'then' if then is not None else 'now'}"
    until = f"to {utc(found.valid_to)}" if found.valid_to is not None else f"on ({newest})"
    click.echo(
        f"{instrument} version {found.version_number} at {utc(moment, seconds=True)} {known}: "
        f"in force from {utc(found.valid_from)} {until}"
    )
    if found.superseded_at is not None:
        click.echo(f"superseded {utc(found.superseded_at)} by a correction ('obslab config history {instrument}')")
    comment = f": {found.comment}" if found.comment else ""
    click.echo(f"recorded {utc(found.recorded_at)} by {found.recorded_by or 'system'} ({found.source}){comment}")
    click.echo(f"{len(found.items)} items:")
    for key, attributes in sorted(found.items.items()):
        click.echo(f"  {key}  " + "  ".join(f"{name}={shown(value)}" for name, value in attributes.items()))
