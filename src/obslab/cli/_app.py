"""What every ``obslab`` command shares: the lazily built App, the acting user, error reporting and --json output."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cached_property, wraps
from typing import TYPE_CHECKING, Any, TypeVar

import click
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from obslab.errors import NotFoundError, ObslabError

if TYPE_CHECKING:
    from obslab.access import User
    from obslab.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])


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


def actor(app: App, session: Session) -> User:
    """The known user this command acts as; change requests, plans and the roster are never changed by 'system'."""
    from obslab.access import local_username

    user = app.acting_user(session)
    if user is None:
        name = local_username(app.settings.acting_user)
        raise NotFoundError(
            f"user {name!r} is not known to obslab; set OBSLAB_ACTING_USER or add them with 'obslab users add'"
        )
    return user


def reports_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Show an ObslabError as one clear line and exit 1, never as a traceback."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ObslabError as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper


def json_option(help_text: str = "Print JSON instead of text.") -> Callable[[F], F]:
    """The ``--json`` flag (passed to the command as ``as_json``); ``help_text`` says what the JSON holds."""
    return click.option("--json", "as_json", is_flag=True, help=help_text)


def emit_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, sort_keys=True, default=str))
