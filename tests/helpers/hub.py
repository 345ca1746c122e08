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


def run_in_server(base: str, username: str, token: str, code: str, *, timeout: float = 120) -> str:
    """Run ``code`` in a new kernel of ``username``'s own JupyterLab, reached through the proxy with ``token``.

    What a person typing into a notebook in their server does: the kernel is the server's (its environment, its
    database URL), started with Jupyter's REST API and spoken to over its websocket. Returns what it printed.
    """
    import asyncio
    import json
    import uuid
    from concurrent.futures import ThreadPoolExecutor

    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    server = f"{base}user/{username}/api/"
    headers = {"Authorization": f"token {token}"}
    kernel = requests.post(server + "kernels", json={"name": "python3"}, headers=headers, timeout=60)
    kernel.raise_for_status()
    kernel_id = kernel.json()["id"]
    session = uuid.uuid4().hex
    message_id = uuid.uuid4().hex
    request = {
        "header": {
            "msg_id": message_id,
            "msg_type": "execute_request",
            "session": session,
            "username": username,
            "version": "5.3",
        },
        "parent_header": {},
        "metadata": {},
        "channel": "shell",
        "buffers": [],
        "content": {
            "code": code,
            "silent": False,
            "store_history": False,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": True,
        },
    }

    async def talk() -> str:
        url = f"{server}kernels/{kernel_id}/channels?session_id={session}".replace("http://", "ws://", 1)
        socket = await websocket_connect(HTTPRequest(url, headers=headers))
        await socket.write_message(json.dumps(request))
        printed = []
        while True:
            raw = await socket.read_message()
            if raw is None:
                raise AssertionError("the kernel's websocket closed before the code finished")
            message = json.loads(raw)
            if message.get("parent_header", {}).get("msg_id") != message_id:
                continue
            kind, content = message["msg_type"], message["content"]
            if kind == "stream":
                printed.append(content["text"])
            elif kind == "error":
                printed.append(f"{content['ename']}: {content['evalue']}\n")
            elif kind == "status" and content["execution_state"] == "idle":
                socket.close()
                return "".join(printed)

    # A thread of its own: the caller's thread may be running an event loop already (Playwright's sync API does).
    try:
        with ThreadPoolExecutor(1) as thread:
            return thread.submit(lambda: asyncio.run(asyncio.wait_for(talk(), timeout))).result()
    finally:
        requests.delete(server + f"kernels/{kernel_id}", headers=headers, timeout=60)
