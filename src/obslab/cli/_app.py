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

from obslab.errors import ObslabError

if TYPE_CHECKING:
    from obslab.access import User
    from obslab.context import ObslabContext
    from obslab.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])


class App:
    """What every command needs, over the process's ObslabContext, built on first use (``--help`` touches nothing)."""

    @cached_property
    def settings(self) -> Settings:
        from obslab.settings import load_settings

        return load_settings()

    @cached_property
    def context(self) -> ObslabContext:
        from obslab.context import ObslabContext

        return ObslabContext.from_settings(self.settings)

    @property
    def database_url(self) -> str:
        return self.settings.resolved_database_url

    @property
    def engine(self) -> Engine:
        return self.context.engine

    @property
    def sessions(self) -> sessionmaker[Session]:
        return self.context.sessions

    @property
    def where(self) -> str:
        """The database URL as it may be shown to people (password hidden)."""
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self.context.transaction() as session:
            yield session

    def close(self) -> None:
        """Return pooled connections when the command ends (only if a context was ever made)."""
        if "context" in self.__dict__:
            self.context.close()

    def acting_user(self, session: Session) -> User | None:
        """The user this command acts as, or None when obslab knows nobody by that name.

        Only user administration takes None (recorded as "system"), so a new deployment can add its first
        admin; everything else acts through ``actor``, which refuses an unknown user.
        """
        return self.context.bootstrap_actor(session)


def actor(app: App, session: Session) -> User:
    """The known, active user this command acts as (the context's one rule); never 'system'."""
    return app.context.actor(session)


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
