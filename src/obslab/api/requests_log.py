"""One log line per request to the ``obslab.api`` logger: client, method, path, status and time in milliseconds."""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("obslab.api")


class RequestLog:
    """ASGI middleware (not Starlette's BaseHTTPMiddleware, which buffers bodies and hides errors' status)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the server answers when the app raises before starting a response
        logged = False

        def write() -> None:
            nonlocal logged
            logged = True
            elapsed_ms = (time.perf_counter() - started) * 1000
            log.info("%s", line(scope, status, elapsed_ms), extra=fields(scope, status, elapsed_ms))

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                write()  # before the last byte leaves, so the line exists once the client has its answer
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            if not logged:
                write()


def client(scope: Scope) -> str:
    host_port = scope.get("client")
    return f"{host_port[0]}:{host_port[1]}" if host_port else "-"


def line(scope: Scope, status: int, elapsed_ms: float) -> str:
    query = scope.get("query_string", b"").decode("latin-1")
    path = scope["path"] + (f"?{query}" if query else "")
    return f"{client(scope)} {scope['method']} {path} {status} {elapsed_ms:.1f} ms"


def fields(scope: Scope, status: int, elapsed_ms: float) -> dict[str, Any]:
    """The same facts as record attributes, for a log handler that writes JSON."""
    return {
        "client": client(scope),
        "method": scope["method"],
        "path": scope["path"],
        "status": status,
        "elapsed_ms": round(elapsed_ms, 1),
    }
