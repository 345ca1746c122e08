"""``obslab hub``: the small-site JupyterHub on loopback, answering through its real proxy, and its refusals."""

from __future__ import annotations

import importlib
import os
import re
import signal
import socket
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner, Result

from obslab.cli import main
from tests.helpers.hub import ADMIN_PASSWORD, HUB_SETTINGS, USER_PASSWORD, hub_api, log_in, running_hub
from tests.helpers.served import alive, descendants, free_port

#: The module (obslab.cli's attribute `hub` is the command, not the module).
hub_module = importlib.import_module("obslab.cli.hub")


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def listening_addresses(ports: set[int]) -> set[tuple[str, int]]:
    """(hex address, port) of every listening TCP socket on ``ports``, IPv4 and IPv6, from /proc/net."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, port = fields[1].split(":")
            if fields[3] == "0A" and int(port, 16) in ports:  # 0A: LISTEN
                found.add((address, int(port, 16)))
    return found


@pytest.mark.slow  # JupyterHub, its node proxy and the culler start in a few seconds
def test_the_hub_answers_through_its_proxy_and_stops_everything_it_started(migrated_url: str, tmp_path: Path) -> None:
    import jupyterhub

    with running_hub(migrated_url, tmp_path) as run:
        base = run.base
        port = int(base.rsplit(":", 1)[1].strip("/"))
        assert requests.get(f"{base}hub/api", timeout=30).json() == {"version": jupyterhub.__version__}

        admin, reply = log_in(base, "mgarcia", ADMIN_PASSWORD)
        assert reply.status_code == 302, reply.text
        assert hub_api(admin, base, "user")["name"] == "mgarcia" and hub_api(admin, base, "user")["admin"] is True
        services = hub_api(admin, base, "services")
        assert "idle-culler" in services, services
        assert "--timeout=900" in services["idle-culler"]["command"], services

        user, reply = log_in(base, "sobrien", USER_PASSWORD)
        assert reply.status_code == 302 and hub_api(user, base, "user")["admin"] is False
        _, wrong = log_in(base, "sobrien", "not-the-password")
        assert wrong.status_code == 403 and "jupyterhub-hub-login" not in wrong.cookies
        _, not_admin = log_in(base, "mgarcia", USER_PASSWORD)  # an admin must use the admin password
        assert not_admin.status_code == 403

        below = descendants(run.pid)
        commands = {pid: command_line(pid) for pid in below}
        assert any("configurable-http-proxy" in line for line in commands.values()), commands
        assert any("jupyterhub_idle_culler" in line for line in commands.values()), commands
        announced = run.log_path.read_text()
        hub_port, proxy_api = (
            int(n) for n in re.search(r"hub API 127\.0\.0\.1:(\d+), proxy API 127\.0\.0\.1:(\d+)", announced).groups()
        )
        loopback = {("0100007F", p) for p in (port, hub_port, proxy_api)}  # 127.0.0.1, as /proc/net/tcp writes it
        assert listening_addresses({port, hub_port, proxy_api}) == loopback

        state = tmp_path / "hub"
        for name in ("jupyterhub_cookie_secret", "proxy-auth-token"):
            assert (state / name).stat().st_mode & 0o077 == 0, name
        assert (state / "jupyterhub.sqlite").is_file()

        # A signal to `obslab hub` (it became the hub) stops the hub, which stops its proxy and its culler.
        os.kill(run.pid, signal.SIGTERM)
        run.process.wait(timeout=60)
        deadline = time.monotonic() + 15
        while any(alive(pid) for pid in below) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = {pid: command_line(pid) for pid in below if alive(pid)}
        assert not left, f"still running after the hub stopped: {left}"
        assert not listening_addresses({port, hub_port, proxy_api})  # nothing listens on the hub's ports any more


def invoke(args: list[str], env: dict[str, str]) -> Result:
    return CliRunner().invoke(main, ["hub", *args], env=env)


def assert_refused(result: Result, *words: str) -> None:
    lines = result.output.strip().splitlines()
    assert result.exit_code == 1 and len(lines) == 1 and lines[0].startswith("Error: "), result.output
    for expected in words:
        assert expected in lines[0], lines[0]


@pytest.fixture
def hub_env(migrated_url: str, tmp_path: Path) -> dict[str, str]:
    return {"OBSLAB_DATABASE_URL": migrated_url, "OBSLAB_DATA_DIR": str(tmp_path), **HUB_SETTINGS}


@pytest.fixture
def became(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Instead of becoming the hub, note what `obslab hub` would have run it with."""
    seen: dict[str, Any] = {}
    monkeypatch.setattr(hub_module, "exec_hub", lambda config, env: seen.update(config=config, env=env))
    monkeypatch.chdir(Path.cwd())  # the command moves into the hub's state folder
    return seen


def test_the_hub_runs_on_loopback_with_its_state_in_the_data_directory(
    hub_env: dict[str, str], tmp_path: Path, became: dict[str, Any]
) -> None:
    result = invoke(["--port", "8123"], hub_env)
    assert result.exit_code == 0, result.output
    env = became["env"]
    assert became["config"] == Path(__file__).parents[2] / "deploy" / "jupyterhub" / "jupyterhub_config.py"
    assert (env["OBSLAB_HUB_IP"], env["OBSLAB_HUB_PORT"]) == ("127.0.0.1", "8123")
    assert env["OBSLAB_HUB_STATE_DIR"] == str(tmp_path / "hub") and (tmp_path / "hub").stat().st_mode & 0o077 == 0
    assert env["OBSLAB_DATABASE_URL"] == hub_env["OBSLAB_DATABASE_URL"]
    assert Path(env["OBSLAB_HUB_PROXY_COMMAND"]).name == "configurable-http-proxy"
    assert "http://127.0.0.1:8123/" in result.output
    # Users' servers get the database read-only: on SQLite the same file, opened so; on PostgreSQL the reader's URL
    # a site made with `obslab db reader`, and without one they get none, which the command says. The services get
    # the writer's.
    if hub_env["OBSLAB_DATABASE_URL"].startswith("sqlite"):
        reader = env["OBSLAB_READER_DATABASE_URL"]
        assert "mode=ro" in reader and reader != env["OBSLAB_DATABASE_URL"] and "warning" not in result.output
    else:
        assert "OBSLAB_READER_DATABASE_URL" not in env
        assert "warning: users' servers get no obslab database" in result.output
        given = invoke(["--port", "8123"], hub_env | {"OBSLAB_READER_DATABASE_URL": "postgresql://reader@db/obslab"})
        assert became["env"]["OBSLAB_READER_DATABASE_URL"] == "postgresql://reader@db/obslab"
        assert "warning" not in given.output
    assert {env["OBSLAB_HUB_DASHBOARDS_PORT"], env["OBSLAB_HUB_SERVICE_API_PORT"]}.isdisjoint({"8123"})


def test_beyond_loopback_the_hub_warns(hub_env: dict[str, str], became: dict[str, Any]) -> None:
    result = invoke(["--ip", "0.0.0.0", "--port", str(free_port())], hub_env)
    assert result.exit_code == 0 and "warning: the hub listens on 0.0.0.0" in result.output, result.output


@pytest.mark.parametrize(
    ("missing", "words"),
    [
        ("hub_installed", ("JupyterHub is not installed", "obslab[hub]")),
        ("find_proxy", ("configurable-http-proxy is not installed", "scripts/bootstrap")),
    ],
)
def test_a_missing_installation_is_named(
    missing: str, words: tuple[str, ...], hub_env: dict[str, str], became: dict[str, Any], monkeypatch: Any
) -> None:
    monkeypatch.setattr(hub_module, missing, lambda: None if missing == "find_proxy" else False)
    assert_refused(invoke(["--port", str(free_port())], hub_env), *words)
    assert not became


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ({"OBSLAB_HUB_PASSWORD": ""}, ("set OBSLAB_HUB_PASSWORD", "8 characters")),
        ({"OBSLAB_HUB_PASSWORD": "short"}, ("set OBSLAB_HUB_PASSWORD",)),
        ({"OBSLAB_HUB_ADMIN_PASSWORD": "too short for an admin"}, ("OBSLAB_HUB_ADMIN_PASSWORD", "32 characters")),
        (
            {
                "OBSLAB_HUB_ADMIN_USERS": "",
                "OBSLAB_HUB_ADMINS_FROM_OBSLAB": "yes",
                "OBSLAB_HUB_ADMIN_PASSWORD": "short",
            },
            ("OBSLAB_HUB_ADMINS_FROM_OBSLAB is set", "32 characters"),
        ),
    ],
)
def test_the_try_out_login_needs_its_passwords(
    settings: dict[str, str], words: tuple[str, ...], hub_env: dict[str, str], became: dict[str, Any]
) -> None:
    assert_refused(invoke(["--port", str(free_port())], hub_env | settings), *words)
    assert not became


def test_a_port_in_use_is_refused_before_anything_starts(hub_env: dict[str, str], became: dict[str, Any]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert_refused(invoke(["--port", str(port)], hub_env), f"port {port} on 127.0.0.1 is in use")
    assert not became


@pytest.mark.slow  # a real hub, as above
def test_obslab_admins_are_hub_admins_only_when_the_site_says_so(migrated_url: str, tmp_path: Path) -> None:
    from obslab.db import make_engine, make_session_factory, transaction
    from obslab.users import add_user

    engine = make_engine(migrated_url)
    with transaction(make_session_factory(engine)) as session:
        add_user(session, "ada", ["admin"])
        add_user(session, "vega", ["usint"])
    engine.dispose()
    settings = {"OBSLAB_HUB_ADMIN_USERS": "", "OBSLAB_HUB_ADMINS_FROM_OBSLAB": "1"}
    with running_hub(migrated_url, tmp_path, settings=settings) as run:
        ada, reply = log_in(run.base, "ada", ADMIN_PASSWORD)
        assert reply.status_code == 302 and hub_api(ada, run.base, "user")["admin"] is True
        vega, reply = log_in(run.base, "vega", USER_PASSWORD)
        assert reply.status_code == 302 and hub_api(vega, run.base, "user")["admin"] is False
        _, as_admin = log_in(run.base, "vega", ADMIN_PASSWORD)  # the admin password makes nobody else an admin
        assert as_admin.status_code == 403
    # Without the setting, obslab's admin is an ordinary hub user.
    with running_hub(migrated_url, tmp_path / "plain", settings={"OBSLAB_HUB_ADMIN_USERS": ""}) as run:
        ada, reply = log_in(run.base, "ada", USER_PASSWORD)
        assert reply.status_code == 302 and hub_api(ada, run.base, "user")["admin"] is False
