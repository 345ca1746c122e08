"""JupyterHub for a small obslab site: the hub, its proxy and the idle culler on one machine, loopback by default.

``obslab hub`` runs it for a try-out (state under obslab's data directory); a site runs it as
``jupyterhub -f jupyterhub_config.py`` from its state folder (e.g. /srv/jupyterhub). Everything a site changes
comes from the environment (the variables below; README.md beside this file lists them). Two parts are for the
try-out only and are marked TRY-OUT: the spawner and the authenticator.
"""

import json
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

c = get_config()  # noqa: F821 (jupyterhub defines get_config when it loads this file)


def setting(name: str, default: str = "") -> str:
    """One environment variable, blank meaning unset."""
    return os.environ.get(name, "").strip() or default


def names(variable: str) -> set[str]:
    """A comma-separated list of user names from the environment."""
    return {name.strip() for name in setting(variable).split(",") if name.strip()}


def secret_file(path: Path) -> str:
    """A random token kept in ``path`` (owner-only), made on first use, so it survives a restart of the hub."""
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_hex(32))
    return path.read_text().strip()


# Where the hub keeps its state: cookie secret, the try-out's SQLite database, pid files, the proxy's token,
# the try-out users' home folders. `obslab hub` points it at <obslab data dir>/hub.
STATE = Path(setting("OBSLAB_HUB_STATE_DIR", os.getcwd())).resolve()
STATE.mkdir(parents=True, exist_ok=True, mode=0o700)
BIN = Path(sys.executable).parent  # the environment obslab is installed in
OBSLAB = str(BIN / "obslab")

# --- Addresses. Only the proxy faces people; the hub's API and the proxy's API stay on loopback. -----------------
# Outside loopback, put TLS in front (a reverse proxy, or JupyterHub.ssl_cert/ssl_key) and replace the TRY-OUT
# authenticator first: the try-out sends passwords over plain HTTP.
c.JupyterHub.bind_url = f"http://{setting('OBSLAB_HUB_IP', '127.0.0.1')}:{setting('OBSLAB_HUB_PORT', '8000')}"
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{setting('OBSLAB_HUB_API_PORT', '8081')}"
c.JupyterHub.pid_file = str(STATE / "jupyterhub.pid")
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")

# --- The hub's own database: PostgreSQL at a real site, e.g.
# OBSLAB_HUB_DB_URL=postgresql+psycopg://jupyterhub:PASSWORD@db.example/jupyterhub (a database of its own, beside
# obslab's; psycopg comes with obslab[postgres]). Unset: a SQLite file in the state folder (try-out).
c.JupyterHub.db_url = setting("OBSLAB_HUB_DB_URL", f"sqlite:///{STATE / 'jupyterhub.sqlite'}")

# --- configurable-http-proxy, started and stopped by the hub. scripts/bootstrap installs it beside this Python
# (npm, into .venv); OBSLAB_HUB_PROXY_COMMAND names another. Its API token: CONFIGPROXY_AUTH_TOKEN, else one kept
# in the state folder, so a proxy left running across a hub restart is still the hub's to drive.
proxy = setting("OBSLAB_HUB_PROXY_COMMAND") or shutil.which("configurable-http-proxy", path=str(BIN))
proxy = proxy or shutil.which("configurable-http-proxy")
if not proxy:
    raise SystemExit(
        "configurable-http-proxy is not installed: run scripts/bootstrap (it installs it into .venv with npm), "
        "or name it in OBSLAB_HUB_PROXY_COMMAND"
    )
c.ConfigurableHTTPProxy.command = [proxy]
c.ConfigurableHTTPProxy.should_start = True
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{setting('OBSLAB_HUB_PROXY_API_PORT', '8001')}"
c.ConfigurableHTTPProxy.pid_file = str(STATE / "jupyterhub-proxy.pid")
c.ConfigurableHTTPProxy.auth_token = setting("CONFIGPROXY_AUTH_TOKEN") or secret_file(STATE / "proxy-auth-token")

# --- TRY-OUT spawner: SimpleLocalProcessSpawner runs every user's JupyterLab as the hub's own OS user, in a home
# folder per user under the state folder; users are not isolated from each other or from the hub. A real site uses
# LocalProcessSpawner with a system account per user (the hub then runs as root, or through sudospawner), or
# KubeSpawner (README.md: the zero-to-jupyterhub chart).
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = str(STATE / "users" / "{username}")
c.Spawner.cmd = [str(BIN / "jupyterhub-singleuser")]
# obslab's notebooks (catalog, scheduling, trends, the demo tour), copied into a new user's home on their first start
# and never again, so a user's edits stay theirs. An image for KubeSpawner holds them instead.
NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def give_notebooks(spawner: object) -> None:
    home = Path(c.SimpleLocalProcessSpawner.home_dir_template.format(username=spawner.user.name))  # type: ignore[attr-defined]
    target = home / "obslab-notebooks"
    if NOTEBOOKS.is_dir() and not target.exists():
        home.mkdir(parents=True, exist_ok=True)
        shutil.copytree(NOTEBOOKS, target, ignore=shutil.ignore_patterns(".*"))


c.Spawner.pre_spawn_hook = give_notebooks
c.Spawner.default_url = "/lab"
if os.geteuid() == 0:  # the try-out's servers run as the hub's user: as root, Jupyter needs to be told it may
    c.Spawner.args = ["--ServerApp.allow_root=True"]
# The user servers' obslab database: the read-only role's URL (`obslab db reader` makes the role on PostgreSQL and
# prints it), never the writer's. They act through the API with the hub token JupyterHub gives each server.
if setting("OBSLAB_READER_DATABASE_URL"):
    c.Spawner.environment = {"OBSLAB_DATABASE_URL": setting("OBSLAB_READER_DATABASE_URL")}

# --- TRY-OUT authenticator: one shared password (OBSLAB_HUB_PASSWORD, 8 characters or more) for everyone, any user
# name unless OBSLAB_HUB_USERS lists the allowed ones. OBSLAB_HUB_ADMIN_USERS log in with OBSLAB_HUB_ADMIN_PASSWORD
# (32 characters or more) and are the hub's admins. A site replaces this with its own login: PAM
# (c.JupyterHub.authenticator_class = "pam", system accounts) or OAuthenticator (GitHub, an OIDC provider).
# obslab's own users and roles stay the source of truth for what a hub user may do in obslab.
if not setting("OBSLAB_HUB_PASSWORD"):
    raise SystemExit("set OBSLAB_HUB_PASSWORD: the try-out's shared password (8 characters or more)")
c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = setting("OBSLAB_HUB_PASSWORD")
c.Authenticator.allowed_users = names("OBSLAB_HUB_USERS")
c.Authenticator.allow_all = not names("OBSLAB_HUB_USERS")  # said outright: JupyterHub 5+ lets nobody in otherwise


# --- Hub admins: only those the site names. OBSLAB_HUB_ADMIN_USERS lists them; with OBSLAB_HUB_ADMINS_FROM_OBSLAB=1
# obslab's active admins (`obslab users`) are the hub's admins too, read when the hub starts (JupyterHub never takes
# admin away from a user it has made one: demote at the hub as well). obslab's admin role gives nothing at the hub
# otherwise, and hub admin gives nothing in obslab.
def obslab_admins() -> set[str]:
    """obslab's active admins, through `obslab users list` (this file imports no obslab)."""
    listed = subprocess.run([OBSLAB, "users", "list", "--json"], capture_output=True, text=True, check=False)
    if listed.returncode != 0:
        raise SystemExit(f"OBSLAB_HUB_ADMINS_FROM_OBSLAB: cannot list obslab's users: {listed.stderr.strip()}")
    return {user["username"] for user in json.loads(listed.stdout) if user["active"] and "admin" in user["roles"]}


admins = names("OBSLAB_HUB_ADMIN_USERS")
if setting("OBSLAB_HUB_ADMINS_FROM_OBSLAB").lower() in ("1", "true", "yes"):
    admins |= obslab_admins()
if admins:
    c.Authenticator.admin_users = admins
    c.SharedPasswordAuthenticator.admin_password = setting("OBSLAB_HUB_ADMIN_PASSWORD")  # the try-out's admin login

# --- obslab's services. Only these two hold the database URL that can write (OBSLAB_DATABASE_URL).
# obslab-dashboards: every dashboard in one Panel server the hub starts, stops and proxies at
# /services/obslab-dashboards/; a viewer logs in through the hub's OAuth and is that hub user, whatever they set.
# obslab-api: the REST API at /services/obslab-api/, taking obslab API keys (the telescope's, the fplane clients')
# and the hub tokens of users' servers; the acting user is the key's or the token's owner.
# Where browsers reach the hub (host:port as their Origin header says it), for the dashboards' websocket check:
# OBSLAB_HUB_PUBLIC_ORIGINS at a site behind a reverse proxy (e.g. hub.example.org), else the proxy's own address.
BOUND = c.JupyterHub.bind_url.split("://", 1)[1].rstrip("/")
PUBLIC_ORIGINS = setting("OBSLAB_HUB_PUBLIC_ORIGINS", f"{BOUND},localhost:{BOUND.rsplit(':', 1)[1]}")
WRITER = {"OBSLAB_DATABASE_URL": setting("OBSLAB_DATABASE_URL")} if setting("OBSLAB_DATABASE_URL") else {}
DASHBOARDS_PORT = setting("OBSLAB_HUB_DASHBOARDS_PORT", "8866")
API_PORT = setting("OBSLAB_HUB_SERVICE_API_PORT", "8867")
obslab_services = [
    {
        "name": "obslab-dashboards",
        "url": f"http://127.0.0.1:{DASHBOARDS_PORT}",
        "command": [OBSLAB, "serve", "--hub-service"],
        "environment": WRITER | {"OBSLAB_HUB_ORIGINS": PUBLIC_ORIGINS},
        "oauth_no_confirm": True,  # the site's own service: no "authorize this application?" page
        "display": True,
    },
    {
        "name": "obslab-api",
        "url": f"http://127.0.0.1:{API_PORT}",
        "command": [OBSLAB, "api", "--host", "127.0.0.1", "--port", API_PORT],
        "environment": WRITER,
        "display": False,
    },
]
# Every hub user may open the dashboards and call the API (what they may do there is obslab's roles' business); a
# user server's token carries access to the API, so a notebook acts as its owner with it.
c.JupyterHub.extra_user_scopes = {f"access:services!service={service['name']}" for service in obslab_services}
# The alert takers act as a service user of their own (OBSLAB_HUB_ALERTS_USER, default "alerts", an obslab user with
# the scheduler role), never as a person, with the site's alert settings (a hub service gets none of the hub's
# environment it is not given). No url: nobody reaches them through the proxy. The pipeline runner and the nightly
# report are timers beside the hub (README.md: obslab's services and who acts).
ALERT_SETTINGS = ("OBSLAB_ALERT_POLICIES_FILE", "OBSLAB_TELESCOPE_FOV_DEG", "OBSLAB_CONFIG_FILE", "OBSLAB_SITE_")
alerts_environment = (
    WRITER
    | {"OBSLAB_ACTING_USER": setting("OBSLAB_HUB_ALERTS_USER", "alerts")}
    | {name: value for name, value in os.environ.items() if name.startswith(ALERT_SETTINGS) and value.strip()}
)
# The folder watcher, when OBSLAB_HUB_ALERTS_DIR names the folder notices (*.xml, *.json) arrive in.
if setting("OBSLAB_HUB_ALERTS_DIR"):
    obslab_services.append(
        {
            "name": "obslab-alerts",
            "command": [OBSLAB, "alerts", "watch", setting("OBSLAB_HUB_ALERTS_DIR")],
            "environment": alerts_environment,
        }
    )
# The GCN Kafka listener, when OBSLAB_HUB_ALERTS_KAFKA=1: topics, group and credentials from OBSLAB_KAFKA_* (the
# secret reaches the service's environment only); its health is kept in the state folder for a monitor to read.
if setting("OBSLAB_HUB_ALERTS_KAFKA") == "1":
    kafka = {name: value for name, value in os.environ.items() if name.startswith("OBSLAB_KAFKA_") and value.strip()}
    obslab_services.append(
        {
            "name": "obslab-alerts-kafka",
            "command": [OBSLAB, "alerts", "listen", "--health-file", str(STATE / "alerts-kafka-health.json")],
            "environment": alerts_environment | kafka,
        }
    )
c.Spawner.server_token_scopes = ["users:activity!user", "access:servers!server", "access:services!service=obslab-api"]

# --- The idle culler, a service the hub starts and stops: a user's server with no activity for
# OBSLAB_HUB_CULL_TIMEOUT seconds (default 3600, one hour) is stopped; the culler looks every OBSLAB_HUB_CULL_EVERY
# seconds (default 300). The hub learns of activity every 5 minutes (JupyterHub.last_activity_interval), so a timeout
# under about 10 minutes culls servers that are in use. Users are never deleted (no --cull-users).
c.JupyterHub.services = [
    *obslab_services,
    {
        "name": "idle-culler",
        "command": [
            sys.executable,
            "-m",
            "jupyterhub_idle_culler",
            f"--timeout={setting('OBSLAB_HUB_CULL_TIMEOUT', '3600')}",
            f"--cull-every={setting('OBSLAB_HUB_CULL_EVERY', '300')}",
        ],
    },
]
# The culler's token may list users, read their activity and stop their servers: nothing else.
c.JupyterHub.load_roles = [
    {
        "name": "idle-culler",
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
        "services": ["idle-culler"],
    }
]
