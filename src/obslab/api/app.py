"""The API's application factory: one FastAPI app over an ObslabContext, its errors, request log, docs and routes."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI
from sqlalchemy.pool import QueuePool

from obslab import __version__
from obslab.api import docs
from obslab.api.errors import install_error_handlers
from obslab.api.hub import HubTokens, ServicePrefix
from obslab.api.openapi import install_openapi
from obslab.api.requests_log import RequestLog
from obslab.api.routes import changes, configs, fplane, health, me, runs
from obslab.context import ObslabContext

DESCRIPTION = """obslab's REST API: focal-plane configurations by date, as the HETDEX fplane clients ask for them,
and every instrument's configuration history. Reading is open; changing needs an API key
(`obslab users apikey NAME`) sent as `Authorization: Bearer <key>` or `Authorization: FPS_API APIKEY=<key>`;
when the API runs as a JupyterHub service, a hub user's token as `Bearer <token>` acts as that user.
Every refusal is JSON: `{"message": ..., "code": ...}`."""


def create_app(context: ObslabContext, *, hub_tokens: HubTokens | None = None) -> FastAPI:
    """The API over ``context`` (settings, sessions, clock): routes read it from ``request.app.state.context``.

    ``hub_tokens``: the hub that checks tokens; by default the one of a JupyterHub service's environment, if any.
    """
    # docs_url/redoc_url None: FastAPI's own pages load Swagger UI and ReDoc from CDNs; docs.py serves /docs offline.
    app = FastAPI(
        title="obslab",
        version=__version__,
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        lifespan=threads_as_connections,
    )
    app.state.context = context
    app.state.hub_tokens = hub_tokens or HubTokens.from_environment()
    install_error_handlers(app)
    app.add_middleware(RequestLog)
    if app.state.hub_tokens is not None and os.environ.get("JUPYTERHUB_SERVICE_PREFIX"):
        app.add_middleware(ServicePrefix, prefix=os.environ["JUPYTERHUB_SERVICE_PREFIX"])
    for module in (docs, health, me, fplane, configs, runs, changes):
        app.include_router(module.router)
    install_openapi(app)
    return app


@asynccontextmanager
async def threads_as_connections(app: FastAPI) -> AsyncIterator[None]:
    """Run the (sync) routes in as many threads as the engine pools connections, not anyio's 40.

    With 40 threads under load the pool kept opening and closing overflow connections (on PostgreSQL a new backend
    every ~10 requests), and threads contending for the GIL answered some requests 5-10 times slower than the
    median; queued in anyio's limiter instead, requests are served in order (benchmarks/config_api.py).
    """
    pool = app.state.context.engine.pool
    if isinstance(pool, QueuePool):
        anyio.to_thread.current_default_thread_limiter().total_tokens = max(1, pool.size())
    yield


def app_from_environment() -> FastAPI:
    """The API over the settings of the environment: what each uvicorn worker builds (``--workers`` > 1)."""
    return create_app(ObslabContext.from_settings())
