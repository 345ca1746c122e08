"""``obslab db``: create, upgrade, downgrade and check the database schema."""

from __future__ import annotations

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
