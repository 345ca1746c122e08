"""A read-only way into the database for people's own notebooks: a SELECT-only PostgreSQL role or SQLite URL."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from obslab import schema
from obslab.errors import ConflictError, InvalidInputError, PermissionDeniedError

DEFAULT_ROLE = "obslab_reader"
ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
ROLE_NAME_RULE = (
    "1 to 63 lower-case letters, digits and underscores, starting with a letter or underscore, "
    "not starting with pg_ and not public (e.g. obslab_reader)"
)
PASSWORD = re.compile(r"[!-~]{16,200}")
PASSWORD_RULE = (
    "16 to 200 printable ASCII characters, no spaces (make one with "
    "python -c 'import secrets; print(secrets.token_urlsafe(32))')"
)
#: Said wherever a SQLite reader URL is handed out.
SQLITE_CAVEAT = (
    "SQLite has no database roles: this URL only stops accidental writes, since anyone whose operating-system "
    "account may write the file can open it writable; a shared deployment uses PostgreSQL"
)
#: Privileges a reader must never hold; checked after granting, so a PUBLIC grant cannot slip through either.
WRITES = ("INSERT", "UPDATE", "DELETE", "TRUNCATE")
#: What makes an existing role more than a reader, in the order _refuse_unsuitable asks.
POWERS = (
    "superuser",
    "may create roles",
    "may create databases",
    "replication",
    "bypasses row security",
    "member of other roles",
    "owns obslab objects",
)


@dataclass(frozen=True)
class ReaderAccess:
    """What a reader may now use: its URL (password included on PostgreSQL), its role, the tables it reads."""

    url: URL
    role: str | None  # None on SQLite, which has no roles
    tables: int


def check_role_name(role: str) -> str:
    """The role name, or InvalidInputError naming it and what is allowed."""
    if not ROLE_NAME.fullmatch(role) or role.startswith("pg_") or role in ("public", "none"):
        raise InvalidInputError("role", role, ROLE_NAME_RULE)
    return role


def check_password(password: str | None) -> str:
    """The password, or InvalidInputError saying what is allowed (never showing the password itself)."""
    if password is None or not PASSWORD.fullmatch(password):
        shown = "(none given)" if not password else f"({len(password)} characters, not shown)"
        raise InvalidInputError("password", shown, PASSWORD_RULE)
    return password


def ensure_reader(engine: Engine, role: str = DEFAULT_ROLE, password: str | None = None) -> ReaderAccess:
    """Create or update the read-only way in for the database ``engine`` reaches; running it again is harmless.

    PostgreSQL: a LOGIN role with ``password`` that may CONNECT, use the schema and SELECT every table and
    sequence in it, now and (through default privileges of the current user, who migrates) those later
    migrations create; any other privilege it held on them is revoked. ``engine`` must connect as the role that
    owns the tables, with CREATEROLE.

    SQLite has no roles: this returns a ``mode=ro`` URL for the same file, which only stops accidental writes,
    since anyone whose operating-system account may write the file can open it writable (SQLITE_CAVEAT says so
    to people); a shared deployment uses PostgreSQL.
    """
    if schema.current_revision(engine) is None:
        where = engine.url.render_as_string(hide_password=True)
        raise schema.SchemaMismatchError(f"the database at {where} has no obslab tables yet: run 'obslab db upgrade'")
    if engine.dialect.name == "sqlite":
        return _sqlite_reader(engine)
    return _postgresql_reader(engine, check_role_name(role), check_password(password))


def _sqlite_reader(engine: Engine) -> ReaderAccess:
    database = engine.url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        raise InvalidInputError("database_url", engine.url.render_as_string(), "a SQLite file (sqlite:///PATH)")
    path = Path(database).expanduser().resolve()
    # The path is a SQLite URI (percent-encoded); SQLAlchemy encodes it once more inside its own URL.
    url = engine.url.set(database=f"file:{quote(str(path))}", query={"mode": "ro", "uri": "true"})
    with engine.connect() as connection:
        tables = connection.scalar(text("SELECT count(*) FROM sqlite_master WHERE type = 'table'"))
    return ReaderAccess(url=url, role=None, tables=int(tables or 0))


def _postgresql_reader(engine: Engine, role: str, password: str) -> ReaderAccess:
    from psycopg import sql

    try:
        with engine.begin() as connection:
            raw = connection.connection.driver_connection
            me, database, namespace = connection.execute(
                text("SELECT current_user, current_database(), current_schema()")
            ).one()
            _refuse_unsuitable(connection, me, role, database, namespace)
            # libpq hashes it here (as the server's password_encryption says): its statement log never sees it.
            verifier = raw.pgconn.encrypt_password(password.encode(), role.encode()).decode()
            exists = connection.scalar(text("SELECT count(*) FROM pg_roles WHERE rolname = :r"), {"r": role})
            names = {"role": sql.Identifier(role), "db": sql.Identifier(database), "schema": sql.Identifier(namespace)}
            statements = [
                ("ALTER" if exists else "CREATE") + " ROLE {role} WITH LOGIN PASSWORD {password}",
                "REVOKE CREATE, TEMPORARY ON DATABASE {db} FROM {role}",
                "GRANT CONNECT ON DATABASE {db} TO {role}",
                "REVOKE CREATE ON SCHEMA {schema} FROM {role}",
                "GRANT USAGE ON SCHEMA {schema} TO {role}",
            ]
            for kind in ("TABLES", "SEQUENCES"):
                statements += [
                    f"REVOKE ALL ON ALL {kind} IN SCHEMA {{schema}} FROM {{role}}",
                    f"GRANT SELECT ON ALL {kind} IN SCHEMA {{schema}} TO {{role}}",
                    f"ALTER DEFAULT PRIVILEGES FOR ROLE {{me}} IN SCHEMA {{schema}} REVOKE ALL ON {kind} FROM {{role}}",
                    f"ALTER DEFAULT PRIVILEGES FOR ROLE {{me}} IN SCHEMA {{schema}} GRANT SELECT ON {kind} TO {{role}}",
                ]
            with raw.cursor() as cursor:
                for statement in statements:
                    cursor.execute(
                        sql.SQL(statement).format(**names, me=sql.Identifier(me), password=sql.Literal(verifier))
                    )
            _refuse_any_write(connection, role, database, namespace)
            tables = connection.scalar(text("SELECT count(*) FROM pg_tables WHERE schemaname = :s"), {"s": namespace})
    except DBAPIError as error:
        if getattr(error.orig, "sqlstate", None) != "42501":  # insufficient privilege
            raise
        reason = str(error.orig).strip().splitlines()[0]
        raise PermissionDeniedError(
            f"the database account may not set up the reader role {role!r} ({reason}): run this as the role that "
            "owns obslab's tables (the one 'obslab db upgrade' runs as), with CREATEROLE"
        ) from None
    return ReaderAccess(url=engine.url.set(username=role, password=password), role=role, tables=int(tables or 0))


def _refuse_unsuitable(connection: Any, me: str, role: str, database: str, namespace: str) -> None:
    """Refuse a role that is, or could be, more than a reader: nothing has been changed yet."""
    if role == me:
        raise InvalidInputError("role", role, f"a role other than {me!r}, the one obslab connects and migrates as")
    found = connection.execute(
        text(
            """SELECT r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolreplication, r.rolbypassrls,
                      EXISTS (SELECT 1 FROM pg_auth_members m WHERE m.member = r.oid),
                      EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                              WHERE c.relowner = r.oid AND n.nspname = :schema)
                      OR EXISTS (SELECT 1 FROM pg_namespace n WHERE n.nspowner = r.oid AND n.nspname = :schema)
                      OR EXISTS (SELECT 1 FROM pg_database d WHERE d.datdba = r.oid AND d.datname = :db)
               FROM pg_roles r WHERE r.rolname = :role"""
        ),
        {"role": role, "schema": namespace, "db": database},
    ).one_or_none()
    if found is not None:
        powers = [power for power, has in zip(POWERS, found, strict=True) if has]
        if powers:
            raise ConflictError(
                f"the role {role!r} already exists and is more than a reader ({', '.join(powers)}): "
                "name another with --role, or drop that role first",
                role=role,
            )


def _refuse_any_write(connection: Any, role: str, database: str, namespace: str) -> None:
    """Check what the role may do now, whoever granted it (PUBLIC included); any write rolls everything back."""
    found = connection.scalars(
        text(
            """SELECT format('%s on %I', p.privilege, c.relname)
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               CROSS JOIN unnest(CAST(:writes AS text[])) AS p(privilege)
               WHERE n.nspname = :schema AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
                 AND has_table_privilege(:role, c.oid, p.privilege)
               UNION ALL SELECT 'CREATE in schema ' || :schema WHERE has_schema_privilege(:role, :schema, 'CREATE')
               UNION ALL SELECT 'CREATE in database ' || :db WHERE has_database_privilege(:role, :db, 'CREATE')"""
        ),
        {"role": role, "schema": namespace, "db": database, "writes": list(WRITES)},
    ).all()
    if found:
        raise ConflictError(
            f"the role {role!r} could still write ({', '.join(found[:5])}{', ...' if len(found) > 5 else ''}), "
            "through grants to PUBLIC or to a group: revoke those (e.g. REVOKE CREATE ON SCHEMA "
            f"{namespace} FROM PUBLIC) and run this again; nothing was changed",
            role=role,
        )
