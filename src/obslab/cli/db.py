"""``obslab db``: create, upgrade, downgrade and check the database schema."""

from __future__ import annotations

import os
from pathlib import Path

import click

from obslab.cli._app import App, reports_errors


@click.group()
def db() -> None:
    """Create, upgrade and check the database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Migration to upgrade to.")
@click.pass_obj
@reports_errors
def db_upgrade(app: App, revision: str) -> None:
    """Apply migrations up to REVISION (an empty database gets every table)."""
    from obslab import schema

    schema.upgrade(app.database_url, revision)
    click.echo(f"database at {schema.current_revision(app.engine)} ({app.where})")


@db.command("downgrade")
@click.argument("revision")
@click.pass_obj
@reports_errors
def db_downgrade(app: App, revision: str) -> None:
    """Revert migrations down to REVISION ('base' removes every obslab table and its data)."""
    from obslab import schema

    schema.downgrade(app.database_url, revision)
    click.echo(f"database at {schema.current_revision(app.engine) or 'base (empty)'}")


@db.command("check")
@click.pass_obj
@reports_errors
def db_check(app: App) -> None:
    """Exit non-zero unless the database is at the newest migration and the models match the migrations."""
    from obslab import schema

    schema.check(app.database_url)
    click.echo(f"ok: database at {schema.head_revision()}, models and migrations agree")


@db.command("current")
@click.pass_obj
@reports_errors
def db_current(app: App) -> None:
    """Print the migration the database is at, and the newest one available."""
    from obslab import schema

    current = schema.current_revision(app.engine)
    click.echo(f"current: {current or 'none (empty database)'}")
    click.echo(f"head:    {schema.head_revision()}")


@db.command("reader")
@click.option("--role", default="obslab_reader", show_default=True, help="PostgreSQL role to create or update.")
@click.option(
    "--password-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="File whose first line is the role's password (else OBSLAB_READER_PASSWORD).",
)
@click.option("--print-url", is_flag=True, help="Print only the reader's URL, password included (the rest: stderr).")
@click.pass_obj
@reports_errors
def db_reader(app: App, role: str, password_file: Path | None, print_url: bool) -> None:
    """Set up read-only access for people's own notebooks: on PostgreSQL a login role that may only SELECT (now
    and after later upgrades; running it again updates the password); on SQLite a read-only URL for the file."""
    from obslab import reader_role
    from obslab.errors import InvalidInputError

    if password_file is not None:
        password = next(iter(password_file.read_text(encoding="utf-8").splitlines()), None)
    else:
        password = os.environ.get("OBSLAB_READER_PASSWORD") or None
    try:
        access = reader_role.ensure_reader(app.engine, reader_role.check_role_name(role), password)
    except InvalidInputError as error:
        if error.details["field"] != "password":
            raise
        where = "password (--password-file FILE, or OBSLAB_READER_PASSWORD)"
        raise InvalidInputError(where, error.details["value"], error.details["allowed"]) from None
    shown = access.url.render_as_string(hide_password=True)
    if access.role is None:
        summary = [f"read-only URL for {app.where} ({access.tables} tables): {shown}", reader_role.SQLITE_CAVEAT]
    else:
        summary = [
            f"role {access.role} may connect to {access.url.database} and SELECT from its {access.tables} tables, "
            "and from those later upgrades add; it may not write or create anything",
            f"url: {shown}" + ("" if print_url else " (--print-url shows it with the password)"),
        ]
    for line in summary:
        click.echo(line, err=print_url)
    if print_url:
        click.echo(access.url.render_as_string(hide_password=False))
