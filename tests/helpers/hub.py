"""`obslab hub` for tests: started on free loopback ports with the try-out login; its login form and REST API."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from tests.helpers.served import BIN, Server, free_port, obslab_env, server

USER_PASSWORD = "try-out-password"
ADMIN_PASSWORD = "an-admin-password-of-32-characters-or-more"
#: The try-out login's passwords, mgarcia as the hub's admin, and a culler timeout the test can recognise.
HUB_SETTINGS = {
    "OBSLAB_HUB_PASSWORD": USER_PASSWORD,
    "OBSLAB_HUB_ADMIN_USERS": "mgarcia",
    "OBSLAB_HUB_ADMIN_PASSWORD": ADMIN_PASSWORD,
    "OBSLAB_HUB_CULL_TIMEOUT": "900",
}


@contextmanager
def running_hub(
    database_url: str, data_dir: Path, *, config: Path | None = None, settings: dict[str, str] | None = None
) -> Iterator[Server]:
    """`obslab hub` (with ``--config`` when given) on a free port over ``database_url``, until it answers."""
    port = free_port()
    env = obslab_env(database_url, data_dir, "nobody") | HUB_SETTINGS | (settings or {})
    command = [str(BIN / "obslab"), "hub", "--port", str(port), *(["--config", str(config)] if config else [])]
    with server("obslab-hub", command, env, port=port, directory=data_dir) as run:
        yield run


def log_in(base: str, username: str, password: str) -> tuple[requests.Session, requests.Response]:
    """The hub's login form as a browser posts it: the _xsrf cookie from the form's page sent back with it."""
    session = requests.Session()
    session.get(f"{base}hub/login", timeout=30).raise_for_status()
    xsrf = session.cookies["_xsrf"]
    session.headers["X-XSRFToken"] = xsrf  # what the hub's own pages send with cookie-authenticated API calls
    reply = session.post(
        f"{base}hub/login",
        data={"username": username, "password": password, "_xsrf": xsrf},
        allow_redirects=False,  # the next page would start the user's JupyterLab, which this test leaves alone
        timeout=30,
    )
    return session, reply


def hub_api(session: requests.Session, base: str, path: str, method: str = "GET", body: Any = None) -> Any:
    """One call to the hub's REST API (``/hub/api/<path>``) in ``session``; its JSON answer (None when empty)."""
    reply = session.request(method, f"{base}hub/api/{path}", json=body, timeout=30)
    reply.raise_for_status()
    return reply.json() if reply.content else None
