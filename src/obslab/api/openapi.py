"""The OpenAPI document as the API answers: every refusal documented as a JSON ``ErrorBody``, whatever the route."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from obslab.api.errors import ErrorBody

ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}


def json_refusals(document: dict[str, Any]) -> dict[str, Any]:
    """Point every 4xx and 5xx at ``ErrorBody`` as ``application/json``.

    FastAPI documents a route's extra responses in the route's own media type (``text/plain`` for the fplane
    file), and its own 422 as ``HTTPValidationError``, which errors.py reshapes; both would misdescribe the answer.
    """
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                if status[0] in "45":
                    response["content"] = {"application/json": {"schema": ERROR_REF}}
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    schemas["ErrorBody"] = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    return document


def install_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` (and so /openapi.json) answer the corrected document, built once."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            app.openapi_schema = json_refusals(document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to customise the document
