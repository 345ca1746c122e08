"""``obslab users``: add users with their roles, list them, and issue and revoke API keys."""

from __future__ import annotations

import click

from obslab.cli._app import App, emit_json, json_option, reports_errors


@click.group()
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
    from obslab.users import add_user

    with app.transaction() as session:
        user = add_user(session, name, list(roles), email=email, full_name=full_name, actor=app.acting_user(session))
        click.echo(f"added {user.username} ({', '.join(user.role_names)})")


@users.command("list")
@json_option("Print JSON instead of a table.")
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
@click.option(
    "--revoke",
    metavar="KEY",
    default=None,
    help="Revoke NAME's key instead of issuing one: its first 8 characters (as printed at issue) or the whole key.",
)
@click.pass_obj
@reports_errors
def users_apikey(app: App, name: str, label: str, revoke: str | None) -> None:
    """Create a new API key for user NAME and print it once (only its hash is stored), or revoke one with --revoke."""
    from obslab.users import issue_api_key, revoke_api_key

    if revoke is not None:
        with app.transaction() as session:
            revoked = revoke_api_key(session, name, revoke, actor=app.acting_user(session))
            click.echo(f"revoked {name}'s API key {revoked.prefix}{f' ({revoked.label})' if revoked.label else ''}")
        return
    with app.transaction() as session:
        key = issue_api_key(session, name, label=label, actor=app.acting_user(session))
    click.echo(key)
    click.echo("store this key now: obslab keeps only its hash and cannot show it again", err=True)
