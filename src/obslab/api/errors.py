"""The API's one error shape, ``{"message", "code"}``, and the one table from obslab's error codes to HTTP statuses."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.routing import Match

from obslab.errors import ObslabError
from obslab.refusals import record_refusal

log = logging.getLogger("obslab.api")

#: Every ObslabError code and its status; a subclass whose code is missing takes its parent's (a test lists them all).
STATUS: dict[str, int] = {
    "obslab_error": 400,
    "invalid_input": 400,
    "invalid_fplane": 400,
    # A raw file refused at ingest: what an upload route would answer for a file that is not FITS or lacks keywords.
    "bad_raw_file": 400,
    "bad_header": 400,
    "unauthenticated": 401,
    "permission_denied": 403,
    # A hub token the hub knows that may not be used here (a service's, or without access), and its owner unknown.
    "hub_token_refused": 403,
    "not_an_obslab_user": 403,
    "not_found": 404,
    "conflict": 409,
    "stale": 409,
    "no_change": 409,
    "change_refused": 422,
    # The deployment's fault, not the caller's: say so, and what the operator must do.
    "schema_mismatch": 503,
    "hub_unavailable": 503,
    # The fplane client's own refusals (another obslab API it fetched from); a gateway's statuses, should a
    # route ever pass one on.
    "server_unreachable": 502,
    "server_refused": 502,
    "invalid_settings": 500,
    "invalid_change_rules": 500,
    "invalid_parameter_schema": 500,
    "invalid_alert_policies": 500,
    "invalid_alarm_rules": 500,
    "naive_datetime": 500,
    "audit_immutable": 500,
    # A report template that cannot be read, a kernel never registered, a template that failed as it ran.
    "invalid_template": 500,
    "kernel_missing": 500,
    "report_failed": 500,
}
HTTP_CODES = {401: "unauthenticated", 403: "permission_denied", 404: "not_found", 405: "method_not_allowed"}


class Problem(BaseModel):
    field: str
    message: str


class ErrorBody(BaseModel):
    """What every refusal answers: a sentence for people and a stable code for programs (plus the field, if one)."""

    message: str
    code: str
    field: str | None = None
    problems: list[Problem] | None = None


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` entry documenting the error body for each of ``statuses``."""
    return {status: {"model": ErrorBody, "description": "refused; see message"} for status in statuses}


def status_for(error: ObslabError) -> int:
    """The status of ``error``: its own code's, else the nearest parent's (so a new subclass is never a 500)."""
    for cls in type(error).__mro__:
        code = getattr(cls, "code", None)
        if code in STATUS:
            return STATUS[code]
    return 400


def refusal(status: int, message: str, code: str, headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    return JSONResponse({"message": message, "code": code, **extra}, status_code=status, headers=headers)


async def obslab_refused(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ObslabError)
    status = status_for(error)
    if status == 403:
        await run_in_threadpool(audit_refusal, request, error)
    field = error.details.get("field")
    headers = getattr(error, "headers", None)
    return refusal(status, error.message, error.code, headers, **({"field": field} if field else {}))


def audit_refusal(request: Request, error: ObslabError) -> None:
    """Record a permission refusal under the identity the request proved (auth.py), never a name it carries.

    Without a proven identity there is nobody to record it under (the log has it); a failure to record is logged
    and the caller still gets the refusal.
    """
    identity = getattr(request.state, "identity", None)
    attempt = f"{request.method} {request.url.path}"
    if identity is None:
        log.warning("refused %s without an authenticated identity: %s", attempt, error.message)
        return
    context = request.app.state.context
    try:
        record_refusal(
            context.sessions,
            username=identity,
            attempt=attempt,
            reason=error.message,
            where="api",
            detail={"code": error.code, "via": getattr(request.state, "via", None)},
            now=context.now,
        )
    except Exception as failure:  # the refusal stands whatever happens to its record
        log.error("could not audit the refusal of %s to %s: %r", attempt, identity, failure)


async def request_invalid(request: Request, error: Exception) -> JSONResponse:
    """FastAPI's own validation, reshaped: the first problem named by its field, every problem listed."""
    assert isinstance(error, RequestValidationError)
    problems = [
        {"field": ".".join(str(part) for part in item["loc"][1:]) or str(item["loc"][0]), "message": item["msg"]}
        for item in error.errors()
    ]
    first = error.errors()[0]
    where = {"body": "the request body", "query": "the query", "path": "the path", "header": "a header"}
    place = where.get(str(first["loc"][0]), str(first["loc"][0]))
    message = f"{problems[0]['field']}: {problems[0]['message']} (in {place})"
    return refusal(422, message, "invalid_request", field=problems[0]["field"], problems=problems)


async def http_refused(request: Request, error: Exception) -> JSONResponse:
    """Starlette's own refusals (an unknown path, a method not allowed) in the same shape."""
    assert isinstance(error, HTTPException)
    code = HTTP_CODES.get(error.status_code, "http_error")
    headers = dict(error.headers or {})
    if error.status_code == 405:
        # Starlette names only the first route matching the path; /fplane has GET and POST in two routes.
        headers["Allow"] = ", ".join(allowed_methods(request))
    return refusal(error.status_code, str(error.detail), code, headers)


def allowed_methods(request: Request) -> list[str]:
    # Asked method by method: included routers answer a full match for the methods their routes take.
    routes = request.app.router.routes
    return [
        method
        for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
        if any(route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes)
    ]


async def database_failed(request: Request, error: Exception) -> JSONResponse:
    # The driver's text can carry SQL and addresses: it goes to the log, the caller gets what to do.
    log.error("database error on %s %s: %s", request.method, request.url.path, error)
    message = "the database did not answer or is not set up for this obslab; try again later or ask the operator"
    return refusal(503, message, "database_unavailable")


async def bug(request: Request, error: Exception) -> JSONResponse:
    # Starlette re-raises it after this answer, so the server logs the traceback once, with its own.
    log.error("internal error on %s %s: %r", request.method, request.url.path, error)
    return refusal(500, "internal error, please report it (the traceback is in the server log)", "internal_error")


def install_error_handlers(app: FastAPI) -> None:
    """Route every failure through the handlers above: nothing reaches a client as a traceback."""
    app.add_exception_handler(ObslabError, obslab_refused)
    app.add_exception_handler(RequestValidationError, request_invalid)
    app.add_exception_handler(HTTPException, http_refused)
    app.add_exception_handler(DBAPIError, database_failed)
    app.add_exception_handler(Exception, bug)
