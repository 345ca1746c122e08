"""``obslab hub``: run JupyterHub with the small-site configuration of deploy/jupyterhub/, for a loopback try-out."""

from __future__ import annotations

import importlib.util
import ipaddress
import os
import shutil
import socket
import sys
from pathlib import Path
from typing import NoReturn

import click

from obslab.cli._app import App, reports_errors, require_free_port

#: JupyterHub's own default port, where its proxy faces people (the dashboards use 8866, the API 8867).
DEFAULT_PORT = 8000
CONFIG_NAME = "jupyterhub_config.py"
PROXY = "configurable-http-proxy"


def shipped_config() -> Path | None:
    """deploy/jupyterhub/jupyterhub_config.py of this source tree (an editable install), else a wheel's copy."""
    candidates = (
        Path(__file__).resolve().parents[3] / "deploy" / "jupyterhub" / CONFIG_NAME,
        Path(sys.prefix) / "share" / "obslab" / "jupyterhub" / CONFIG_NAME,
    )
    return next((path for path in candidates if path.is_file()), None)


def hub_installed() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in ("jupyterhub", "jupyterhub_idle_culler"))


def find_proxy() -> str | None:
    """configurable-http-proxy beside this Python (where scripts/bootstrap installs it with npm), else on PATH."""
    return shutil.which(PROXY, path=str(Path(sys.executable).parent)) or shutil.which(PROXY)


def free_loopback_port() -> int:
    """A port for the hub's and the proxy's own APIs, which only the hub's processes use."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def is_loopback(ip: str) -> bool:
    """Whether ``ip`` is this machine only; a host name other than localhost counts as beyond it (no look-up)."""
    try:
        return ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return ip == "localhost"


def check_tryout_passwords() -> None:
    """The shipped configuration's try-out login needs its passwords: refuse up front rather than in the hub's log."""
    password = os.environ.get("OBSLAB_HUB_PASSWORD", "")
    if len(password) < 8:
        raise click.ClickException(
            "set OBSLAB_HUB_PASSWORD to the try-out's shared password (8 characters or more); "
            "see deploy/jupyterhub/README.md"
        )
    admins_named = {
        "OBSLAB_HUB_ADMIN_USERS": bool(os.environ.get("OBSLAB_HUB_ADMIN_USERS", "").strip()),
        "OBSLAB_HUB_ADMINS_FROM_OBSLAB": os.environ.get("OBSLAB_HUB_ADMINS_FROM_OBSLAB", "").strip().lower()
        in ("1", "true", "yes"),
    }
    for variable in (name for name, named in admins_named.items() if named):
        admin = os.environ.get("OBSLAB_HUB_ADMIN_PASSWORD", "")
        if len(admin) < 32 or admin == password:
            raise click.ClickException(
                f"{variable} is set: set OBSLAB_HUB_ADMIN_PASSWORD too, 32 characters or more and not "
                "OBSLAB_HUB_PASSWORD"
            )


def tryout_reader_url(app: App) -> str:
    """On SQLite, the same file opened read-only (no password to choose); PostgreSQL needs `obslab db reader` first."""
    from obslab import reader_role

    if app.engine.dialect.name != "sqlite":
        return ""
    return reader_role.ensure_reader(app.engine).url.render_as_string(hide_password=False)


def exec_hub(config: Path, env: dict[str, str]) -> NoReturn:
    """Become JupyterHub (same process, so a signal to `obslab hub` reaches the hub, which stops what it started)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, "-m", "jupyterhub", "-f", str(config)], env)


@click.command("hub")
@click.option("--ip", default="127.0.0.1", show_default=True, help="Address the hub's proxy listens on.")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(1, 65535), help="Its port.")
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A site's own JupyterHub configuration instead of deploy/jupyterhub/jupyterhub_config.py.",
)
@click.pass_obj
@reports_errors
def hub(app: App, ip: str, port: int, config_file: Path | None) -> None:
    """Run JupyterHub (proxy and idle culler included) with obslab's small-site configuration.

    Loopback unless --ip says otherwise. The hub's state (cookie secret, its SQLite database, the proxy's token,
    the try-out users' homes) lives in <data dir>/hub. The try-out login is one shared password,
    OBSLAB_HUB_PASSWORD; deploy/jupyterhub/README.md says what a site changes.
    """
    from obslab import schema

    schema.check(app.database_url)
    require_free_port(ip, port)
    if not hub_installed():
        raise click.ClickException(
            "JupyterHub is not installed in this environment: install obslab[hub] (scripts/bootstrap does)"
        )
    proxy = find_proxy()
    if proxy is None:
        raise click.ClickException(
            f"{PROXY} is not installed (a node program JupyterHub needs): run scripts/bootstrap, which installs it "
            "into .venv with npm"
        )
    config = config_file.resolve() if config_file is not None else shipped_config()
    if config is None:
        raise click.ClickException(f"cannot find obslab's {CONFIG_NAME}: pass --config with a site's own")
    if config_file is None:
        check_tryout_passwords()
    state = app.settings.data_dir / "hub"
    state.mkdir(parents=True, exist_ok=True, mode=0o700)
    env = os.environ | {
        "OBSLAB_DATABASE_URL": app.database_url,
        "OBSLAB_HUB_STATE_DIR": str(state),
        "OBSLAB_HUB_IP": ip,
        "OBSLAB_HUB_PORT": str(port),
        "OBSLAB_HUB_API_PORT": os.environ.get("OBSLAB_HUB_API_PORT") or str(free_loopback_port()),
        "OBSLAB_HUB_PROXY_API_PORT": os.environ.get("OBSLAB_HUB_PROXY_API_PORT") or str(free_loopback_port()),
        "OBSLAB_HUB_PROXY_COMMAND": proxy,
        # obslab's own services behind the hub: the dashboards and the API, on loopback ports of their own.
        "OBSLAB_HUB_DASHBOARDS_PORT": os.environ.get("OBSLAB_HUB_DASHBOARDS_PORT") or str(free_loopback_port()),
        "OBSLAB_HUB_SERVICE_API_PORT": os.environ.get("OBSLAB_HUB_SERVICE_API_PORT") or str(free_loopback_port()),
    }
    reader = os.environ.get("OBSLAB_READER_DATABASE_URL", "").strip() or tryout_reader_url(app)
    if reader:
        env["OBSLAB_READER_DATABASE_URL"] = reader
    else:
        click.echo(
            "warning: users' servers get no obslab database: set OBSLAB_READER_DATABASE_URL to the URL "
            "'obslab db reader --print-url' prints (the writer's URL is for obslab's own services only)",
            err=True,
        )
    if not is_loopback(ip):
        click.echo(
            f"warning: the hub listens on {ip}, beyond this machine, over plain HTTP: put TLS in front and replace "
            "the try-out login first (deploy/jupyterhub/README.md)",
            err=True,
        )
    click.echo(
        f"JupyterHub on http://{ip}:{port}/ (hub API 127.0.0.1:{env['OBSLAB_HUB_API_PORT']}, proxy API "
        f"127.0.0.1:{env['OBSLAB_HUB_PROXY_API_PORT']}), configuration {config}, state in {state}, obslab database "
        f"{app.where}  (Ctrl-C stops)",
        err=True,
    )
    os.chdir(state)  # anything the hub writes beside its configured files lands in its state folder
    exec_hub(config, env)
