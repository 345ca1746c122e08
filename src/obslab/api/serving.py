"""Serving the API with uvicorn: one process over the caller's context, or several workers each building their own."""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING, Any

from obslab.context import ObslabContext

if TYPE_CHECKING:
    from fastapi import FastAPI

#: uvicorn's loggers and obslab.api's request lines on stderr, one format; uvicorn's own access log is off, since
#: obslab.api's middleware writes the one line per request (with the time taken).
LOG_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}},
    "loggers": {
        "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "obslab.api": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
    },
}


def serve(context: ObslabContext, *, host: str, port: int, workers: int = 1) -> None:
    """Serve until interrupted. With ``workers`` > 1 each worker process builds its context from the environment."""
    import uvicorn

    from obslab.api.app import create_app

    options: dict[str, Any] = {"host": host, "port": port, "log_config": LOG_CONFIG, "access_log": False}
    if workers > 1:
        # uvicorn starts workers by importing the app, so they read the same OBSLAB_* settings this process did.
        uvicorn.run("obslab.api.serving:worker_app", factory=True, workers=workers, **options)
    else:
        uvicorn.run(frozen(create_app(context)), **options)


def worker_app() -> FastAPI:
    """What each uvicorn worker builds (``--workers`` > 1): the API over the environment's settings."""
    from obslab.api.app import app_from_environment

    return frozen(app_from_environment())


def frozen(app: FastAPI) -> FastAPI:
    """Keep what imports and the app built out of every later garbage collection (``gc.freeze``).

    Otherwise each full collection walks those objects again: under load that paused the server often enough to
    double the p99 latency of ``GET /api/v1/configs`` (benchmarks/config_api.py).
    """
    gc.collect()
    gc.freeze()
    return app
