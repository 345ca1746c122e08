"""Serving the API with uvicorn: one process over the caller's context, or several workers each building their own."""

from __future__ import annotations

from typing import Any

from obslab.context import ObslabContext

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
        uvicorn.run("obslab.api.app:app_from_environment", factory=True, workers=workers, **options)
    else:
        uvicorn.run(create_app(context), **options)
