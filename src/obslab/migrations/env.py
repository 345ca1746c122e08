"""Alembic environment: runs migrations on the connection or URL that obslab.schema hands over."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import JSON, DateTime, Text

from obslab.db import UTCDateTime, make_engine
from obslab.models import Base

config = context.config


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    # Migrations must not import application types (they change; migrations must not),
    # so UTCDateTime is written out as the plain column type it stores.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def compare_type(
    context_: Any, inspected_column: Any, metadata_column: Any, inspected_type: Any, metadata_type: Any
) -> bool | None:
    if isinstance(metadata_type, UTCDateTime):
        metadata_type = metadata_type.impl
    if context_.dialect.name == "sqlite" and isinstance(metadata_type, JSON) and isinstance(inspected_type, Text):
        return False  # JSON is stored as TEXT on SQLite on purpose (see obslab.db)
    if isinstance(metadata_type, DateTime) and isinstance(inspected_type, DateTime):
        # SQLite reflects no time-zone flag; PostgreSQL does, and there it must match.
        if context_.dialect.name == "sqlite":
            return False
        return bool(metadata_type.timezone) != bool(inspected_type.timezone)
    return None


def run_migrations(connection: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,
        compare_type=compare_type,
        compare_server_default=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:
    engine = make_engine(config.attributes["database_url"])
    with engine.connect() as new_connection:
        run_migrations(new_connection)
    engine.dispose()
