"""Database base layer: declarative Base, UTC datetimes, optimistic-lock mixin, engines and sessions."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, DateTime, Engine, Enum, ForeignKey, Integer, MetaData, create_engine, event
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, declared_attr, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

from obslab.errors import NaiveDatetimeError, NotFoundError

# Stable constraint names, so Alembic can alter constraints on SQLite (batch mode) and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The default clock: the current time as an aware UTC datetime."""
    return datetime.now(UTC)


Clock = Callable[[], datetime]


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and always read back as an aware UTC datetime.

    PostgreSQL keeps ``timestamptz`` and returns aware values in the session's zone;
    SQLite has no time zones and returns naive values.  Normalising both here means
    values compare equal across backends.  Naive input is refused rather than guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}: {value!r}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise NaiveDatetimeError(
                f"naive datetime {value.isoformat()} refused: obslab stores UTC; attach a time zone first"
            )
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def str_enum(enum_class: type[enum.Enum], length: int = 24) -> Enum:
    """A portable enum column: a VARCHAR holding the members' values (no native PG enum to migrate)."""
    return Enum(
        enum_class,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


@compiles(JSON, "sqlite")
def _json_is_text_on_sqlite(type_: JSON, compiler: Any, **kwargs: Any) -> str:
    # SQLite gives a column declared JSON numeric affinity, which rewrites stored JSON text that
    # looks like a number ('0.0' comes back as the integer 0, long decimals get rounded).
    # TEXT affinity keeps the JSON text exactly as written.
    return "TEXT"


def json_value() -> JSON:
    """A JSON column for one parameter value, where Python ``None`` is stored as SQL NULL."""
    return JSON(none_as_null=True)


class Base(DeclarativeBase):
    """Declarative base of every obslab table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}


class Versioned:
    """Optimistic locking for rows that people edit.

    ``version`` is SQLAlchemy's version counter: an UPDATE whose WHERE clause names a
    version someone else already replaced matches no row and raises StaleDataError.
    ``updated_at``/``updated_by_id`` say who changed the row last, for the refusal message.
    """

    version: Mapped[int] = mapped_column(Integer, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}


def _enable_sqlite_integrity(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # SQLite ignores foreign keys unless asked, per connection; WAL lets readers run beside a writer.
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
    # Python's sqlite3 starts a transaction only at the first write, so the reads before it see
    # other writers' commits: read-then-write races go unnoticed.  Take transaction control here
    # and begin explicitly (below), so a transaction reads one snapshot and a conflicting write fails.
    dbapi_connection.isolation_level = None


def _begin_sqlite_transaction(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; a SQLite file's folder must exist (SQLite would only fail at first use, unclearly)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        # A SQLite URI (file:...?mode=ro, from 'obslab db reader') names its file in its own syntax.
        if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
            folder = Path(parsed.database).expanduser().parent
            if not folder.is_dir():
                raise NotFoundError(f"the folder {folder} for the SQLite database does not exist: create it first")
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _enable_sqlite_integrity)
        event.listen(engine, "begin", _begin_sqlite_transaction)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose objects stay readable after commit (dashboards show what was just saved)."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One all-or-nothing unit of work, owned by the caller (a CLI command, a dashboard callback)."""
    with factory() as session, session.begin():
        yield session
