"""The obslab command: help everywhere, the installed entry point, database and user commands."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from obslab import schema
from obslab.access import ApiKey, authenticate_api_key, hash_api_key
from obslab.audit import AuditEvent
from obslab.cli import main
from obslab.db import make_engine, make_session_factory


def _all_commands(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [path]
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += _all_commands(command, (*path, name))
        else:
            found.append((*path, name))
    return found


def run(url: str, *args: str) -> click.testing.Result:
    return CliRunner().invoke(main, list(args), env={"OBSLAB_DATABASE_URL": url}, catch_exceptions=False)


def test_every_command_has_help() -> None:
    commands = _all_commands(main)
    expected = {
        ("db", "upgrade"),
        ("db", "check"),
        ("db", "current"),
        ("demo",),
        ("users", "add"),
        ("users", "list"),
        ("users", "apikey"),
    }
    assert expected <= set(commands)
    for path in commands:
        result = CliRunner().invoke(main, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert result.output.startswith("Usage: "), path
        assert len(result.output.splitlines()) > 2, path


def test_console_script_is_installed_and_runs() -> None:
    (script,) = entry_points(group="console_scripts", name="obslab")
    assert script.load() is main
    executable = shutil.which("obslab", path=str(Path(sys.executable).parent))
    assert executable is not None
    result = subprocess.run([executable, "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert "db" in result.stdout and "users" in result.stdout and "demo" in result.stdout


def test_db_commands_on_a_new_database(database_url: str) -> None:
    assert "none (empty database)" in run(database_url, "db", "current").output
    refused = CliRunner().invoke(main, ["db", "check"], env={"OBSLAB_DATABASE_URL": database_url})
    assert refused.exit_code == 1 and "run 'obslab db upgrade'" in refused.output
    assert run(database_url, "db", "upgrade").exit_code == 0
    current = run(database_url, "db", "current").output
    assert current.count(schema.head_revision()) == 2
    checked = run(database_url, "db", "check")
    assert checked.exit_code == 0 and checked.output.startswith("ok:")


def test_users_add_list_and_apikey(migrated_url: str) -> None:
    added = run(
        migrated_url,
        "users",
        "add",
        "polaris",
        "--role",
        "usint",
        "--role",
        "arcops",
        "--email",
        "polaris@obslab.example",
    )
    assert added.exit_code == 0 and "added polaris (arcops, usint)" in added.output
    listed = json.loads(run(migrated_url, "users", "list", "--json").output)
    assert listed == [
        {
            "username": "polaris",
            "full_name": "",
            "email": "polaris@obslab.example",
            "roles": ["arcops", "usint"],
            "active": True,
        }
    ]
    assert "polaris" in run(migrated_url, "users", "list").output

    issued = run(migrated_url, "users", "apikey", "polaris", "--label", "cron")
    key = issued.stdout.strip()
    assert len(key) == 48
    assert "only its hash" in issued.stderr
    engine = make_engine(migrated_url)
    with make_session_factory(engine)() as session, session.begin():
        assert session.scalars(select(ApiKey.key_hash)).all() == [hash_api_key(key)]
        user = authenticate_api_key(session, key)
        assert user is not None and user.username == "polaris"
        actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    engine.dispose()
    assert actions == ["user.created", "apikey.issued"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("users", "add", "sirius", "--role", "astronaut"),
            "role: 'astronaut' is not allowed; expected one of acis, admin",
        ),
        (("users", "add", "Sirius B", "--role", "usint"), "username: 'Sirius B' is not allowed"),
        (("users", "apikey", "nobody"), "user 'nobody' does not exist"),
    ],
)
def test_refused_commands_say_why_and_exit_1(migrated_url: str, args: tuple[str, ...], message: str) -> None:
    result = CliRunner().invoke(main, list(args), env={"OBSLAB_DATABASE_URL": migrated_url})
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert json.loads(run(migrated_url, "users", "list", "--json").output) == []


def test_duplicate_user_is_refused_by_the_cli(migrated_url: str) -> None:
    run(migrated_url, "users", "add", "rigel", "--role", "staff")
    result = CliRunner().invoke(
        main, ["users", "add", "rigel", "--role", "admin"], env={"OBSLAB_DATABASE_URL": migrated_url}
    )
    assert result.exit_code == 1 and "'rigel' already exists" in result.output
    assert [u["roles"] for u in json.loads(run(migrated_url, "users", "list", "--json").output)] == [["staff"]]


def test_bad_settings_are_reported_without_traceback(migrated_url: str) -> None:
    result = CliRunner().invoke(
        main, ["users", "list"], env={"OBSLAB_DATABASE_URL": migrated_url, "OBSLAB_SMTP_PORT": "0"}
    )
    assert result.exit_code == 1
    assert "OBSLAB_SMTP_PORT='0'" in result.output
