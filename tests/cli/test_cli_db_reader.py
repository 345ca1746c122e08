"""`obslab db reader`: a PostgreSQL role that may only read, now and after later migrations; SQLite's read-only URL."""

from __future__ import annotations

import base64
import hashlib
import hmac
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from obslab.cli import main
from obslab.db import make_engine
from tests.cli.test_cli_errors import assert_one_line_refusal
from tests.conftest import BACKEND

PASSWORD = "first-password-0123456789"
on_postgresql = pytest.mark.skipif(BACKEND != "postgresql", reason="roles exist on PostgreSQL only")
on_sqlite = pytest.mark.skipif(BACKEND != "sqlite", reason="the read-only URL is SQLite's")


def reader(url: str, *args: str, password: str | None = PASSWORD) -> Result:
    env = {"OBSLAB_DATABASE_URL": url, "OBSLAB_READER_PASSWORD": password}
    return CliRunner().invoke(main, ["db", "reader", *args], env=env)


def reader_url(url: str, *args: str, password: str | None = PASSWORD) -> str:
    result = reader(url, "--print-url", *args, password=password)
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def add_root(url: str) -> None:
    added = CliRunner().invoke(main, ["users", "add", "root", "--role", "admin"], env={"OBSLAB_DATABASE_URL": url})
    assert added.exit_code == 0, added.output


def obslab_reads_but_may_not_write(url: str, reason: str) -> None:
    """obslab itself accepts the reader's URL; a write through it ends in one line saying the account is read-only."""
    listed = CliRunner().invoke(main, ["users", "list"], env={"OBSLAB_DATABASE_URL": url})
    assert listed.exit_code == 0 and "root" in listed.output, listed.output
    env = {"OBSLAB_DATABASE_URL": url, "OBSLAB_ACTING_USER": "root"}
    added = CliRunner().invoke(main, ["users", "add", "vega", "--role", "usint"], env=env)
    assert_one_line_refusal(added, reason, "read-only account")
    assert PASSWORD not in added.output


def refused_by_the_database(engine: Engine, statement: str) -> BaseException:
    """The driver's error for ``statement``, run in a transaction of its own."""
    with pytest.raises(DBAPIError) as caught, engine.begin() as connection:
        connection.execute(text(statement))
    return caught.value.orig  # type: ignore[return-value]


def test_a_bad_role_name_is_refused_naming_it(migrated_url: str) -> None:
    result = reader(migrated_url, "--role", "x'; DROP TABLE users; --")
    assert_one_line_refusal(result, 'role: "x\'; DROP TABLE users; --" is not allowed', "lower-case letters")


def test_a_database_never_upgraded_is_refused(database_url: str) -> None:
    assert_one_line_refusal(reader(database_url), "has no obslab tables yet", "obslab db upgrade")


@on_sqlite
def test_sqlite_gives_a_read_only_url_that_reads_and_refuses_writes(migrated_url: str, tmp_path: Path) -> None:
    # A folder name SQLite's URI syntax would misread unless the path is percent-encoded.
    folder = tmp_path / "odd ?#% name"
    folder.mkdir()
    database = folder / "obslab.sqlite3"
    shutil.copyfile(make_url(migrated_url).database or "", database)
    url = URL.create("sqlite", database=str(database)).render_as_string()
    add_root(url)

    told = reader(url, password=None)
    assert told.exit_code == 0, told.output
    assert "only stops accidental writes" in told.output and "PostgreSQL" in told.output

    read_only = reader_url(url)
    assert "mode=ro" in read_only
    engine = make_engine(read_only)
    try:
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT username FROM users WHERE username = 'root'")) == "root"
        with pytest.raises(OperationalError, match="readonly database"), engine.begin() as connection:
            connection.execute(text("UPDATE users SET full_name = 'changed'"))
    finally:
        engine.dispose()
    obslab_reads_but_may_not_write(read_only, "attempt to write a readonly database")


# --- PostgreSQL: a real role, real grants, refused by the server itself ---


@pytest.fixture
def role(migrated_url: str) -> Iterator[str]:
    """A role name of this test's own (roles are cluster-wide), dropped with every privilege it was given."""
    name = f"obslab_reader_{uuid.uuid4().hex[:8]}"
    yield name
    admin = create_engine(migrated_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        if connection.scalar(text("SELECT count(*) FROM pg_roles WHERE rolname = :r"), {"r": name}):
            connection.execute(text(f'DROP OWNED BY "{name}"'))
            connection.execute(text(f'DROP ROLE "{name}"'))
    admin.dispose()


@pytest.fixture
def admin(migrated_url: str) -> Iterator[Engine]:
    engine = make_engine(migrated_url)
    yield engine
    engine.dispose()


def scram_matches(verifier: str, password: str) -> bool:
    """Whether a stored SCRAM-SHA-256 verifier was made from ``password`` (RFC 5802, as PostgreSQL stores it)."""
    method, rest = verifier.split("$", 1)
    iterations_salt, keys = rest.split("$")
    iterations, salt = iterations_salt.split(":")
    stored_key = keys.split(":")[0]
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt), int(iterations))
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    return method == "SCRAM-SHA-256" and base64.b64encode(hashlib.sha256(client_key).digest()).decode() == stored_key


@on_postgresql
def test_the_reader_selects_and_postgresql_refuses_every_write(migrated_url: str, role: str) -> None:
    add_root(migrated_url)
    told = reader(migrated_url, "--role", role)
    assert told.exit_code == 0, told.output
    assert f"role {role} may connect" in told.output and "***" in told.output and PASSWORD not in told.output
    url = reader_url(migrated_url, "--role", role)
    assert make_url(url).username == role and make_url(url).password == PASSWORD

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT current_user")) == role
            assert connection.scalar(text("SELECT username FROM users WHERE username = 'root'")) == "root"
            assert connection.scalar(text("SELECT version_num FROM alembic_version"))
        for statement in (
            "INSERT INTO users (username) VALUES ('mallory')",
            "UPDATE users SET full_name = 'changed'",
            "DELETE FROM users",
            "TRUNCATE audit_events",
            "CREATE TABLE mine (x integer)",
        ):
            error = refused_by_the_database(engine, statement)
            assert type(error).__name__ == "InsufficientPrivilege", (statement, error)
    finally:
        engine.dispose()
    obslab_reads_but_may_not_write(url, "permission denied for table users")


@on_postgresql
def test_tables_a_later_migration_creates_are_readable_too(migrated_url: str, role: str, admin: Engine) -> None:
    url = reader_url(migrated_url, "--role", role)
    with admin.begin() as connection:  # what a later 'obslab db upgrade' does, as the same account
        connection.execute(text("CREATE TABLE later_table (id serial PRIMARY KEY, note text)"))
        connection.execute(text("INSERT INTO later_table (note) VALUES ('added later')"))
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT note FROM later_table")) == "added later"
            assert connection.scalar(text("SELECT last_value FROM later_table_id_seq")) == 1
        error = refused_by_the_database(engine, "INSERT INTO later_table (note) VALUES ('mine')")
        assert type(error).__name__ == "InsufficientPrivilege"
        error = refused_by_the_database(engine, "SELECT nextval('later_table_id_seq')")
        assert type(error).__name__ == "InsufficientPrivilege"
    finally:
        engine.dispose()


@on_postgresql
def test_running_it_again_updates_the_password_and_takes_back_any_write(
    migrated_url: str, role: str, admin: Engine, tmp_path: Path
) -> None:
    reader_url(migrated_url, "--role", role)
    with admin.begin() as connection:  # someone granted more by hand in between
        connection.execute(text(f'GRANT INSERT, UPDATE ON users TO "{role}"'))
    second = "second-password-9876543210"
    (tmp_path / "password").write_text(f"{second}\n")
    again = reader_url(migrated_url, "--role", role, "--password-file", str(tmp_path / "password"), password=None)
    assert make_url(again).password == second
    with admin.connect() as connection:
        stored = connection.scalar(text("SELECT rolpassword FROM pg_authid WHERE rolname = :r"), {"r": role})
        assert scram_matches(stored, second) and not scram_matches(stored, PASSWORD)
        assert not connection.scalar(text("SELECT has_table_privilege(:r, 'users', 'INSERT')"), {"r": role})
        assert not connection.scalar(text("SELECT has_table_privilege(:r, 'users', 'UPDATE')"), {"r": role})
        assert connection.scalar(text("SELECT has_table_privilege(:r, 'users', 'SELECT')"), {"r": role})


@on_postgresql
def test_a_missing_or_short_password_is_refused_without_showing_it(migrated_url: str, role: str) -> None:
    assert_one_line_refusal(reader(migrated_url, "--role", role, password=None), "password", "(none given)")
    short = reader(migrated_url, "--role", role, password="tooshort")
    assert_one_line_refusal(short, "OBSLAB_READER_PASSWORD", "(8 characters, not shown)", "16 to 200")
    assert "tooshort" not in short.output


@on_postgresql
def test_a_role_that_is_more_than_a_reader_is_left_alone(migrated_url: str, role: str, admin: Engine) -> None:
    me = make_url(migrated_url).username or ""
    assert_one_line_refusal(reader(migrated_url, "--role", me), f"a role other than {me!r}")
    with admin.begin() as connection:
        connection.execute(text(f'CREATE ROLE "{role}" CREATEDB'))
    assert_one_line_refusal(reader(migrated_url, "--role", role), "is more than a reader (may create databases)")
    with admin.connect() as connection:
        assert not connection.scalar(text("SELECT rolcanlogin FROM pg_roles WHERE rolname = :r"), {"r": role})
        assert not connection.scalar(text("SELECT has_table_privilege(:r, 'users', 'SELECT')"), {"r": role})


@on_postgresql
def test_a_write_granted_to_public_stops_it_and_nothing_is_made(migrated_url: str, role: str, admin: Engine) -> None:
    with admin.begin() as connection:
        connection.execute(text("GRANT CREATE ON SCHEMA public TO PUBLIC"))
    refused = reader(migrated_url, "--role", role)
    assert_one_line_refusal(refused, f"the role '{role}' could still write (CREATE in schema public)", "nothing")
    with admin.connect() as connection:
        assert not connection.scalar(text("SELECT count(*) FROM pg_roles WHERE rolname = :r"), {"r": role})


def test_the_commands_default_role_is_the_modules() -> None:
    from obslab.cli.db import db_reader
    from obslab.reader_role import DEFAULT_ROLE

    assert next(option.default for option in db_reader.params if option.name == "role") == DEFAULT_ROLE
