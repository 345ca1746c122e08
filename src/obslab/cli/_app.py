"""What every ``obslab`` command shares: the lazily built App, the acting user, error reporting and --json output."""

from __future__ import annotations

import errno
import json
import os
import socket
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from functools import cached_property, wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from obslab.errors import ConflictError, ObslabError

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

    def where_if_known(self) -> str:
        """``where``, or a description when the settings themselves are what failed."""
        try:
            return self.where
        except Exception:
            return "the configured database"

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


#: SQLSTATEs (PostgreSQL) and SQLite messages meaning the schema is missing or older than the code.
MISSING_SCHEMA_STATES = frozenset({"42P01", "42703"})  # undefined table, undefined column
MISSING_SCHEMA_WORDS = ("no such table", "no such column", "has no column named")


class ObslabGroup(click.Group):
    """The main group: every failure ends in one line naming the problem and the fix, never a traceback.

    ``--debug`` (or ``OBSLAB_DEBUG=1``) prints the traceback as well; an unexpected error also writes it to
    the log file the line names, so a bug report can carry it.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort, SystemExit, KeyboardInterrupt):
            raise
        except BrokenPipeError:  # the reader left (`obslab plan | head`): stop quietly, as Unix tools do
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise SystemExit(1) from None
        except Exception as error:
            debug = bool(ctx.params.get("debug")) or os.environ.get("OBSLAB_DEBUG", "") not in ("", "0")
            if debug:
                traceback.print_exc()
            message = explain(error, ctx.obj if isinstance(ctx.obj, App) else None)
            if message is None:
                log = _log_traceback(error)
                message = f"internal error, please report it: {type(error).__name__}: {error}" + (
                    f" (traceback in {log})" if log else ""
                )
            raise click.ClickException(" ".join(message.split())) from None


def explain(error: BaseException, app: App | None) -> str | None:
    """One line for a failure people can repair (naming what and how); None for a bug."""
    from sqlalchemy.exc import DBAPIError, NoSuchModuleError, OperationalError

    where = app.where_if_known() if app is not None else "the configured database"
    if isinstance(error, ObslabError):
        return str(error)
    if isinstance(error, DBAPIError):
        state = getattr(error.orig, "sqlstate", None)
        text = str(error.orig).strip().splitlines()[0] if str(error.orig).strip() else type(error.orig).__name__
        if state in MISSING_SCHEMA_STATES or any(words in text for words in MISSING_SCHEMA_WORDS):
            return f"the database at {where} is not set up for this obslab ({text}): run 'obslab db upgrade'"
        if state == "42501" or "readonly database" in text:  # e.g. the account 'obslab db reader' sets up
            return (
                f"the database at {where} refused this account ({text}): a read-only account (as 'obslab db reader' "
                "sets up) changes nothing; make changes through an obslab connected as the deployment's own account"
            )
        if "locked" in text or "busy" in text:
            return f"the database at {where} is busy ({text}): try again in a moment"
        if isinstance(error, OperationalError) or (state or "").startswith("08"):  # 08: connection exceptions
            return (
                f"cannot use the database at {where}: {text}; "
                "check OBSLAB_DATABASE_URL, that the server is running and that you may connect"
            )
        return None
    if isinstance(error, NoSuchModuleError):
        return f"OBSLAB_DATABASE_URL names a database obslab cannot drive ({error}): use sqlite:/// or postgresql+psycopg://"
    if isinstance(error, OSError) and error.errno == errno.EADDRINUSE:
        return (
            f"the address is already in use ({error.strerror}): pass --port with a free port, or stop the other server"
        )
    if isinstance(error, OSError) and error.strerror:
        return f"{error.strerror}: {error.filename}" if error.filename else error.strerror
    return None


def _log_traceback(error: BaseException) -> Path | None:
    """Append the traceback to the per-user log file; None if even that cannot be written."""
    import platformdirs

    path = platformdirs.user_log_path("obslab") / "cli.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as log:
            log.write(f"--- {datetime.now(UTC).isoformat(timespec='seconds')} obslab {' '.join(sys.argv[1:])}\n")
            log.write("".join(traceback.format_exception(error)))
    except OSError:
        return None
    return path


def reports_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Show an ObslabError as one clear line and exit 1, never as a traceback."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ObslabError as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper


def night_date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    """A ``--night``-style option: YYYYMMDD as a calendar date, refused with the form expected."""
    if value is None:
        return None
    try:
        if len(value) != 8 or not value.isdigit():
            raise ValueError
        return datetime.strptime(value, "%Y%m%d").date()  # noqa: DTZ007 (a calendar date, no time of day)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a night: expected YYYYMMDD, e.g. 20261121") from None


def json_option(help_text: str = "Print JSON instead of text.") -> Callable[[F], F]:
    """The ``--json`` flag (passed to the command as ``as_json``); ``help_text`` says what the JSON holds."""
    return click.option("--json", "as_json", is_flag=True, help=help_text)


def emit_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, sort_keys=True, default=str))


def require_free_port(host: str, port: int) -> None:
    """Refuse up front, naming the address, rather than fail inside the server (or after the demo has loaded)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers bind: TIME_WAIT is no conflict
        try:
            probe.bind((host, port))
        except OSError as error:
            raise ConflictError(
                f"port {port} on {host} is in use or not ours to take ({error.strerror}): pass --port with a free "
                "port, or stop the server using it",
                port=port,
            ) from None
