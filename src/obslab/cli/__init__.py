"""The ``obslab`` command: database, demo observatory, dashboards and user administration (change requests: cli.changes)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cached_property, wraps
from typing import TYPE_CHECKING, Any

import click
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from obslab import __version__
from obslab.errors import ObslabError

if TYPE_CHECKING:
    from obslab.access import User
    from obslab.settings import Settings


class App:
    """What every command needs, built on first use so ``--help`` never touches settings or the database."""

    @cached_property
    def settings(self) -> Settings:
        from obslab.settings import load_settings

        return load_settings()

    @cached_property
    def database_url(self) -> str:
        return self.settings.resolved_database_url

    @cached_property
    def engine(self) -> Engine:
        from obslab.db import make_engine

        return make_engine(self.database_url)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        from obslab.db import make_session_factory

        return make_session_factory(self.engine)

    @property
    def where(self) -> str:
        """The database URL as it may be shown to people (password hidden)."""
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        from obslab.db import transaction

        with transaction(self.sessions) as session:
            yield session

    def close(self) -> None:
        """Return pooled connections when the command ends (only if an engine was ever made)."""
        if "engine" in self.__dict__:
            self.engine.dispose()

    def acting_user(self, session: Session) -> User | None:
        """The user this command acts as (OBSLAB_ACTING_USER, else the login name), or None if unknown.

        The command line is trusted like direct database access: an unknown actor is recorded
        as "system" rather than refused, so a fresh deployment can create its first admin.
        """
        from obslab.access import find_user, local_username

        return find_user(session, local_username(self.settings.acting_user))


def reports_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Show an ObslabError as one clear line and exit 1, never as a traceback."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ObslabError as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper


def emit_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, sort_keys=True, default=str))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="obslab")
@click.pass_context
def main(ctx: click.Context) -> None:
    """obslab: observatory operations — catalog sign-off, configurations, scheduling, runs and reports.

    Settings come from OBSLAB_* environment variables (see the README); with none set,
    obslab uses a SQLite database in your per-user data directory.
    """
    ctx.obj = App()
    ctx.call_on_close(ctx.obj.close)


# --- database --------------------------------------------------------------------------------


@main.group()
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


# --- demo ------------------------------------------------------------------------------------


#: Who `obslab demo` shows as the viewer when OBSLAB_ACTING_USER is not set: a demo USINT
#: scientist with two roles (and an apostrophe in her name, which every page must escape).
DEMO_VIEWER = "sobrien"


def serve_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options `serve` and `demo` share."""
    from obslab.dashboards.serving.serving import DEFAULT_PORT

    options = [
        click.option(
            "--panel", "use_panel", is_flag=True, help="Serve with `panel serve` (Bokeh server) instead of Voila."
        ),
        click.option(
            "--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(1, 65535), help="Port on 127.0.0.1."
        ),
        click.option(
            "--preheat/--no-preheat",
            default=True,
            show_default=True,
            help="Voila only: keep one kernel per dashboard running ahead of the next visitor.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def serve_dashboards(app: App, *, use_panel: bool, port: int, preheat: bool) -> None:
    """Serve every dashboard on loopback until interrupted."""
    from obslab.dashboards.serving import serving

    def announce(url: str) -> None:
        how = "panel serve" if use_panel else "Voila"
        click.echo(f"serving the dashboards with {how}; open {url}  (Ctrl-C stops)")

    # Kernels and sessions read settings themselves: hand them the database this command resolved.
    os.environ["OBSLAB_DATABASE_URL"] = app.database_url
    if use_panel:
        serving.serve_panel(host=serving.DEFAULT_HOST, port=port, announce=announce)
    else:
        directory = app.settings.data_dir / "dashboards"
        serving.serve_voila(directory, host=serving.DEFAULT_HOST, port=port, preheat=preheat, announce=announce)


@main.command()
@serve_options
@click.pass_obj
@reports_errors
def serve(app: App, use_panel: bool, port: int, preheat: bool) -> None:
    """Serve every dashboard on 127.0.0.1, with an index page listing them."""
    from obslab import schema

    schema.check(app.database_url)
    serve_dashboards(app, use_panel=use_panel, port=port, preheat=preheat)


@main.command()
@click.option("--no-serve", is_flag=True, help="Load the demo observatory and exit without serving dashboards.")
@click.option("--seed", default=2026, show_default=True, type=int, help="Seed of the generated demo observatory.")
@serve_options
@click.pass_obj
@reports_errors
def demo(app: App, no_serve: bool, seed: int, use_panel: bool, port: int, preheat: bool) -> None:
    """Load the demo observatory into an empty database (or top up an earlier demo), then serve the dashboards.

    A database that holds anything but the demo is left untouched.
    """
    from obslab import schema
    from obslab.demo import holds_other_data, load_demo
    from obslab.models import Base

    schema.upgrade(app.database_url)
    with app.transaction() as session:
        if holds_other_data(session):
            click.echo(f"{app.where} already holds an observatory that is not the demo: not loading the demo")
            added = None
        else:
            added = load_demo(session, site=app.settings.site, seed=seed).total_inserted
    if added is not None:
        click.echo(f"demo observatory (seed {seed}) in {app.where}")
        click.echo(f"  rows added by this run: {added}")
    shown = (
        "observations",
        "revisions",
        "signoffs",
        "users",
        "instrument_configurations",
        "observing_requests",
        "nights",
        "exposures",
        "metrics",
    )
    with app.sessions() as session:
        for name in shown:
            count = session.scalar(select(func.count()).select_from(Base.metadata.tables[name]))
            click.echo(f"  {name:<26} {count:>7}")
    if not no_serve:
        os.environ.setdefault("OBSLAB_ACTING_USER", app.settings.acting_user or DEMO_VIEWER)
        serve_dashboards(app, use_panel=use_panel, port=port, preheat=preheat)


# --- users -----------------------------------------------------------------------------------


@main.group()
def users() -> None:
    """Manage users, their roles and their API keys."""


@users.command("add")
@click.argument("name")
@click.option("--role", "roles", multiple=True, required=True, help="Role to grant (repeat for several).")
@click.option("--email", default=None, help="E-mail address for notifications.")
@click.option("--full-name", default="", help="Name shown to people.")
@click.pass_obj
@reports_errors
def users_add(app: App, name: str, roles: tuple[str, ...], email: str | None, full_name: str) -> None:
    """Create user NAME with one or more roles."""
    from obslab.access import add_user

    with app.transaction() as session:
        user = add_user(session, name, list(roles), email=email, full_name=full_name, actor=app.acting_user(session))
        click.echo(f"added {user.username} ({', '.join(user.role_names)})")


@users.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
@reports_errors
def users_list(app: App, as_json: bool) -> None:
    """List users with their roles."""
    from obslab.access import list_users

    with app.sessions() as session:
        rows = [
            {
                "username": u.username,
                "full_name": u.full_name,
                "email": u.email,
                "roles": u.role_names,
                "active": u.is_active,
            }
            for u in list_users(session)
        ]
    if as_json:
        emit_json(rows)
        return
    click.echo(f"{'user':<20} {'roles':<28} {'email':<32} name")
    for row in rows:
        click.echo(f"{row['username']:<20} {','.join(row['roles']):<28} {row['email'] or '-':<32} {row['full_name']}")


@users.command("apikey")
@click.argument("name")
@click.option("--label", default="", help="What the key is for (shown in listings, never the key).")
@click.pass_obj
@reports_errors
def users_apikey(app: App, name: str, label: str) -> None:
    """Create a new API key for user NAME and print it once; only its hash is stored."""
    from obslab.access import issue_api_key

    with app.transaction() as session:
        key = issue_api_key(session, name, label=label, actor=app.acting_user(session))
    click.echo(key)
    click.echo("store this key now: obslab keeps only its hash and cannot show it again", err=True)


# Registered last: cli.changes imports App and the helpers above.
from obslab.cli.alerts import alerts  # noqa: E402
from obslab.cli.changes import changes, express  # noqa: E402
from obslab.cli.duty import duty  # noqa: E402
from obslab.cli.notify import notify  # noqa: E402
from obslab.cli.plan import plan  # noqa: E402

main.add_command(changes)
main.add_command(express)
main.add_command(notify)
main.add_command(duty)
main.add_command(plan)
main.add_command(alerts)
