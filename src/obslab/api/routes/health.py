"""``GET /health``: 200 when the database answers at the migration this obslab expects, 503 when not."""

from __future__ import annotations

import logging
from functools import cache

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from obslab import schema
from obslab.api.errors import error_responses

log = logging.getLogger("obslab.api")
router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    database: str
    revision: str


@cache
def head_revision() -> str:
    return schema.head_revision()


@router.get("/health", response_model=Health, responses=error_responses(503))
def health(request: Request) -> Health | JSONResponse:
    """Whether the service can work: the database answers and is at this obslab's newest migration."""
    try:
        current = schema.current_revision(request.app.state.context.engine)
    except Exception as error:  # whatever the driver says, a health check answers, and the log keeps the cause
        log.warning("health: the database does not answer: %s", error)
        return JSONResponse({"message": "the database does not answer", "code": "database_unavailable"}, 503)
    if current != head_revision():
        message = f"the database is at migration {current or 'none'}, not {head_revision()}: run 'obslab db upgrade'"
        return JSONResponse({"message": message, "code": "schema_mismatch"}, 503)
    return Health(status="ok", database="answers", revision=current)
