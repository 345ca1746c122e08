"""The API as a service: health, the error shape for unknown paths and methods, and one log line per request."""

from __future__ import annotations

import importlib
import logging
import pkgutil

import pytest

import obslab
from obslab import schema
from obslab.api.errors import STATUS, status_for
from obslab.context import ObslabContext
from obslab.errors import ConflictError, ObslabError
from tests.api.conftest import context_on
from tests.api.http import call, running_api

#: Nothing listens on port 1 of the loopback: the connection is refused at once.
UNREACHABLE = "postgresql+psycopg://obslab:secret@127.0.0.1:1/obslab"


def test_health_is_200_when_the_database_answers_at_head(api: str) -> None:
    reply = call(api, "GET", "/health")
    assert reply.status == 200
    assert reply.json() == {"status": "ok", "database": "answers", "revision": schema.head_revision()}


def test_health_is_503_when_the_database_does_not_answer(caplog: pytest.LogCaptureFixture) -> None:
    context = context_on(UNREACHABLE)
    with running_api(context) as base, caplog.at_level(logging.INFO, "obslab.api"):
        reply = call(base, "GET", "/health")
    context.close()
    assert reply.status == 503
    assert reply.json() == {"message": "the database does not answer", "code": "database_unavailable"}
    assert "secret" not in reply.text
    assert any("Connection refused" in record.getMessage() for record in caplog.records)


def test_health_is_503_on_a_database_never_upgraded(database_url: str) -> None:
    context = context_on(database_url)
    with running_api(context) as base:
        reply = call(base, "GET", "/health")
    context.close()
    assert reply.status == 503 and reply.json()["code"] == "schema_mismatch"
    assert "run 'obslab db upgrade'" in reply.json()["message"]


def test_a_route_needing_the_database_answers_503_not_500_when_it_is_down() -> None:
    context = context_on(UNREACHABLE)
    with running_api(context) as base:
        reply = call(base, "GET", "/api/v1/me", headers={"Authorization": "Bearer " + "0" * 48})
    context.close()
    assert reply.status == 503 and reply.json()["code"] == "database_unavailable"
    assert "secret" not in reply.text and "127.0.0.1:1" not in reply.text


def test_unknown_paths_and_methods_answer_in_the_one_error_shape(api: str) -> None:
    missing = call(api, "GET", "/no/such/thing")
    assert missing.status == 404 and missing.json() == {"message": "Not Found", "code": "not_found"}
    wrong = call(api, "DELETE", "/health")
    assert wrong.status == 405 and wrong.json()["code"] == "method_not_allowed"
    assert wrong.headers["allow"] == "GET"


def test_every_request_is_logged_with_client_method_path_status_and_time(
    api: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, "obslab.api"):
        call(api, "GET", "/health?verbose=1")
        call(api, "GET", "/nowhere")
    lines = [record for record in caplog.records if record.name == "obslab.api" and hasattr(record, "status")]
    assert [(r.method, r.path, r.status) for r in lines] == [("GET", "/health", 200), ("GET", "/nowhere", 404)]
    for record in lines:
        assert record.client.startswith("127.0.0.1:") and record.elapsed_ms >= 0
        client, method, path, status, elapsed, unit = record.getMessage().split()
        assert (client, method, status, unit) == (record.client, record.method, str(record.status), "ms")
        assert float(elapsed) == record.elapsed_ms
    assert lines[0].getMessage().split()[2] == "/health?verbose=1"


def all_subclasses(cls: type) -> list[type]:
    return [cls] + [sub for child in cls.__subclasses__() for sub in all_subclasses(child)]


def test_every_error_code_obslab_raises_has_its_status_in_the_one_table() -> None:
    # Every module, not the ones this process happens to have loaded: an error class is defined where it is raised.
    for module in pkgutil.walk_packages(obslab.__path__, "obslab."):
        if ".migrations" not in module.name:
            importlib.import_module(module.name)

    codes = {cls.code for cls in all_subclasses(ObslabError)}
    assert codes - set(STATUS) == set(), "add these codes to obslab.api.errors.STATUS"
    assert STATUS["stale"] == STATUS["conflict"] == 409 and STATUS["unauthenticated"] == 401


def test_a_new_error_without_a_code_of_its_own_takes_its_parents_status() -> None:
    class Clash(ConflictError):
        code = "clash_nobody_listed"

    assert status_for(Clash("two of them")) == 409


def test_the_app_is_built_from_the_context(api_context: ObslabContext) -> None:
    from obslab.api.app import create_app

    assert create_app(api_context).state.context is api_context


def test_a_method_not_allowed_names_every_method_the_path_has(api: str) -> None:
    reply = call(api, "DELETE", "/fplane")
    assert reply.status == 405 and reply.headers["allow"] == "GET, POST"


def test_the_document_says_every_refusal_is_the_json_error_body(api: str) -> None:
    document = call(api, "GET", "/openapi.json").json()
    fplane = document["paths"]["/fplane/{datestr}"]["get"]["responses"]
    assert list(fplane["200"]["content"]) == ["text/plain"]
    assert fplane["400"]["content"] == {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    assert "HTTPValidationError" not in document["components"]["schemas"]
    assert document["components"]["schemas"]["ErrorBody"]["required"] == ["message", "code"]
