"""Every command, on a database it cannot use, ends in one line naming the problem and the fix: never a traceback."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from obslab.cli import main
from obslab.cli._app import ObslabGroup
from tests.helpers.served import free_port
from tests.helpers.support import FIXED_NOW
from tests.helpers.voevents import swift_bat_grb

#: Nothing listens on port 1 of the loopback: the connection is refused at once.
UNREACHABLE = "postgresql+psycopg://obslab:secret@127.0.0.1:1/obslab"
#: One IFU in seat 013, as JSON items on the command line.
VIRUS_ITEM = (
    '{"013": {"x_fp": -400.0, "y_fp": -200.0, "specid": 8, "specslot": 1, "ifuid": "021", "ifurot": 0.0, '
    '"platesc": 1.0}}'
)
#: What each command needs to get as far as the database; {packet}, {inbox}, {port}, {item} are filled in per test.
ARGUMENTS: dict[tuple[str, ...], list[str]] = {
    ("alarms", "ack"): ["1"],
    ("alarms", "list"): [],
    ("alerts", "ingest"): ["{packet}"],
    ("alerts", "listen"): ["--max-messages", "1", "--idle-exit", "1"],
    ("alerts", "watch"): ["{inbox}", "--once"],
    ("api",): ["--port", "{port}"],
    ("changes", "discard"): ["20001.001"],
    ("changes", "show"): ["20001"],
    ("changes", "sign"): ["20001.001", "acis"],
    ("changes", "submit"): ["20001", "--set", "frame_time=2.8"],
    ("changes", "verify"): ["20001.001"],
    ("changes", "withdraw"): ["20001.001"],
    ("config", "diff"): ["VIRUS", "1", "2"],
    ("config", "get"): ["20261120", "--url", "http://127.0.0.1:1"],
    ("config", "history"): ["VIRUS"],
    ("config", "put"): ["{item}", "--from", "2026-11-21T18:00"],
    ("config", "show"): ["VIRUS"],
    ("db", "check"): [],
    ("db", "current"): [],
    ("db", "downgrade"): ["base"],
    ("db", "reader"): [],
    ("db", "upgrade"): [],
    ("demo",): ["--no-serve"],
    ("duty", "delete"): ["2026-12-07", "--seen-version", "1"],
    ("duty", "extend"): ["--through", "2027-01-31"],
    ("duty", "show"): [],
    ("duty", "signup"): ["2026-12-07", "pat", "--seen-version", "1"],
    ("duty", "split"): ["2026-12-07", "--seen-version", "1"],
    ("duty", "unlock"): ["2026-12-07", "--seen-version", "1"],
    ("express",): ["20001"],
    ("hub",): ["--port", "{port}"],
    ("notify", "reminders"): [],
    ("observe", "ingest"): ["{inbox}"],
    ("observe", "loss"): ["20261121", "--from", "2026-11-22T03:00", "--to", "2026-11-22T04:00", "--cause", "weather"],
    ("observe", "losses"): ["20261121"],
    ("pipeline", "run"): ["--night", "20261205"],
    ("pipeline", "status"): [],
    ("notify", "send"): [],
    ("notify", "status"): [],
    ("plan",): ["--night", "2026-12-01"],
    ("programs", "add-member"): ["4", "vega"],
    ("programs", "remove-member"): ["4", "vega"],
    ("runs", "download"): ["--night", "20261205", "-o", "{inbox}"],
    ("runs", "list"): [],
    ("runs", "nights"): [],
    ("runs", "redo"): ["4_M31_VIC_Si_o_20261205_030000.000000", "stack"],
    ("runs", "show"): ["4_M31_VIC_Si_o_20261205_030000.000000"],
    ("plan", "explain"): ["1"],
    ("plan", "from-catalog"): ["20001"],
    ("serve",): ["--port", "{port}"],
    ("report", "list"): [],
    ("report", "run"): ["nightly", "--night", "20261119"],
    ("report", "schedule"): [],
    ("report", "templates"): [],
    ("trends", "show"): ["strehl_percent", "--since", "20261118", "--per-night"],
    ("users", "add"): ["vega", "--role", "usint"],
    ("users", "apikey"): ["vega"],
    ("users", "list"): [],
}
#: Commands whose job is to work on a database that was never upgraded.
WORK_ON_AN_EMPTY_DATABASE = {("db", "current"), ("db", "downgrade"), ("db", "upgrade"), ("demo",)}
#: Commands that use no database but a server (the table points them at port 1): they name it instead.
USE_A_SERVER = {("config", "get")}
#: Commands that read only files of the installation (the report templates), so they work with any database.
USE_NO_DATABASE = {("report", "schedule"), ("report", "templates")}


def every_command(group: click.Group = main, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            if command.invoke_without_command:
                yield (*path, name)
            yield from every_command(command, (*path, name))
        else:
            yield (*path, name)


def run(url: str, command: tuple[str, ...], tmp_path: Path) -> Result:
    packet = tmp_path / "bat.xml"
    packet.write_text(swift_bat_grb(1_300_001, FIXED_NOW, 150.0, -20.0))
    inbox = tmp_path / "inbox"
    inbox.mkdir(exist_ok=True)
    (inbox / "bat.xml").write_text(packet.read_text())
    fill = {"packet": str(packet), "inbox": str(inbox), "port": str(free_port()), "item": VIRUS_ITEM}
    args = [*command, *(argument.format(**fill) for argument in ARGUMENTS[command])]
    env = {"OBSLAB_DATABASE_URL": url, "OBSLAB_ACTING_USER": "root", "OBSLAB_DATA_DIR": str(tmp_path / "data")}
    return CliRunner().invoke(main, args, env=env)


def assert_one_line_refusal(result: Result, *expected: str) -> None:
    lines = result.output.strip().splitlines()
    assert result.exit_code != 0, result.output
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit), result.exception  # handled, not escaped
    for words in expected:
        assert words in lines[0], lines[0]


def test_the_table_names_every_command() -> None:
    assert set(every_command()) == set(ARGUMENTS)


#: `obslab demo` really loads the demo on the empty database: raw frames written and reduced, about 15 s, so the
#: fast loop leaves that one case to the slow tier (scripts/test runs it).
NEVER_UPGRADED = [
    pytest.param(command, marks=pytest.mark.slow) if command == ("demo",) else command for command in sorted(ARGUMENTS)
]


@pytest.mark.parametrize("command", NEVER_UPGRADED, ids=" ".join)
def test_every_command_on_a_database_never_upgraded(
    command: tuple[str, ...], database_url: str, tmp_path: Path
) -> None:
    result = run(database_url, command, tmp_path)
    if command in WORK_ON_AN_EMPTY_DATABASE | USE_NO_DATABASE:
        assert result.exit_code == 0, result.output
    elif command in USE_A_SERVER:
        assert_one_line_refusal(result, "http://127.0.0.1:1/", "Connection refused", "OBSLAB_API_URL")
    else:
        assert_one_line_refusal(result, "obslab db upgrade")


@pytest.mark.parametrize("command", sorted(ARGUMENTS), ids=" ".join)
def test_every_command_on_an_unreachable_postgresql(command: tuple[str, ...], tmp_path: Path) -> None:
    result = run(UNREACHABLE, command, tmp_path)
    if command in USE_NO_DATABASE:
        assert result.exit_code == 0, result.output
        return
    assert_one_line_refusal(result, "127.0.0.1:1", "Connection refused")
    assert "secret" not in result.output


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("nonsense", "OBSLAB_DATABASE_URL='nonsense': Value error, not a database URL; expected one like sqlite:"),
        ("mysql://db.example/obslab", "obslab runs on SQLite or PostgreSQL, not 'mysql'"),
        ("sqlite:////no/such/folder/obslab.sqlite3", "the folder /no/such/folder does not exist"),
    ],
)
def test_a_bad_database_url_is_named_and_creates_nothing(url: str, words: str, tmp_path: Path) -> None:
    result = run(url, ("users", "list"), tmp_path)
    assert_one_line_refusal(result, words)
    assert not Path("/no/such/folder").exists()


def test_a_port_in_use_is_named_before_anything_starts(migrated_url: str, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        for command in (["serve"], ["demo"]):
            env = {"OBSLAB_DATABASE_URL": migrated_url, "OBSLAB_DATA_DIR": str(tmp_path)}
            result = CliRunner().invoke(main, [*command, "--port", str(port)], env=env)
            assert_one_line_refusal(result, f"port {port} on 127.0.0.1 is in use", "pass --port")


def test_a_bug_is_one_line_with_its_traceback_logged_and_debug_prints_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))

    @click.group(cls=ObslabGroup)
    @click.option("--debug", is_flag=True)
    def cli(debug: bool) -> None:
        pass

    @cli.command()
    def broken() -> None:
        raise RuntimeError("an unforeseen state")

    quiet = CliRunner().invoke(cli, ["broken"])
    assert_one_line_refusal(quiet, "internal error, please report it: RuntimeError: an unforeseen state")
    (log,) = tmp_path.glob("obslab/log/cli.log")
    assert str(log) in quiet.output and 'raise RuntimeError("an unforeseen state")' in log.read_text()

    loud = CliRunner().invoke(cli, ["--debug", "broken"])
    assert loud.exit_code == 1 and "Traceback (most recent call last)" in loud.output
