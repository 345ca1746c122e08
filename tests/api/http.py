"""Running the API under uvicorn on a free loopback port, in a thread, and calling it with the standard library only."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn

from obslab.api.app import create_app
from obslab.api.hub import HubTokens
from obslab.context import ObslabContext
from tests.helpers.served import free_port


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()

    def json(self) -> Any:
        return json.loads(self.body)


@contextmanager
def running_api(context: ObslabContext, *, hub_tokens: HubTokens | None = None) -> Iterator[str]:
    """The API over ``context`` (and ``hub_tokens``), served by uvicorn on 127.0.0.1; yields the base URL."""
    port = free_port()
    app = create_app(context, hub_tokens=hub_tokens)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"api-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the API did not start on port {port}")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def call(
    base: str,
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    body: Any = None,
    raw: bytes | None = None,
) -> Reply:
    """One request; an HTTP error status is a Reply too (never an exception)."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(base + path, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return Reply(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        with error:
            return Reply(error.code, dict(error.headers), error.read())


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def fps_api(key: str) -> dict[str, str]:
    return {"Authorization": f"FPS_API APIKEY={key}"}
