"""Hub tokens against a stand-in hub: the owner acts, refusals say why and who can help, the hub's answers cached."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from obslab.access import find_user
from obslab.api.hub import HubTokens, ServicePrefix
from obslab.audit import AuditEvent
from obslab.context import ObslabContext
from obslab.refusals import REFUSED_ACTION
from obslab.users import add_user, issue_api_key
from tests.api.http import bearer, call, fps_api, running_api
from tests.helpers.catalog_world import build_world, submit_frame_time_change
from tests.helpers.served import free_port
from tests.helpers.support import fixed_clock

SERVICE = "obslab-api"
ACCESS = f"access:services!service={SERVICE}"
#: What the stand-in hub answers on GET /hub/api/user for each token, as JupyterHub 6 does (scopes expanded).
TOKENS: dict[str, dict[str, Any]] = {
    "ops-token": {"kind": "user", "name": "ops", "scopes": [ACCESS, "users:activity!user=ops"]},
    "hrch-token": {"kind": "user", "name": "hrch", "scopes": [ACCESS]},
    "broad-token": {"kind": "user", "name": "ops", "scopes": ["access:services"]},
    "no-access-token": {"kind": "user", "name": "ops", "scopes": ["access:servers!server=ops/"]},
    "other-service-token": {"kind": "user", "name": "ops", "scopes": ["access:services!service=dashboards"]},
    "stranger-token": {"kind": "user", "name": "mallory", "scopes": [ACCESS]},
    "gone-token": {"kind": "user", "name": "gone", "scopes": [ACCESS]},
    "culler-token": {"kind": "service", "name": "idle-culler", "scopes": [ACCESS, "list:users"]},
}


class StandInHub(BaseHTTPRequestHandler):
    asked: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        token = self.headers.get("Authorization", "").removeprefix("token ")
        type(self).asked.append(token)
        model = TOKENS.get(token) if self.path == "/hub/api/user" else None
        body = json.dumps(model or {"status": 403, "message": "Forbidden"}).encode()
        self.send_response(200 if model else 403)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def hub() -> Iterator[HubTokens]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandInHub)
    StandInHub.asked = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield HubTokens.connect(f"http://127.0.0.1:{server.server_port}/hub/api", "the-services-own", SERVICE)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def label(api_context: ObslabContext) -> str:
    with api_context.transaction() as session:
        world = build_world(session)
        add_user(session, "gone", ["arcops"], now=fixed_clock).is_active = False
        return submit_frame_time_change(session, world)


@pytest.fixture
def hub_api(api_context: ObslabContext, hub: HubTokens, label: str) -> Iterator[str]:
    with running_api(api_context, hub_tokens=hub) as base:
        yield base


def refusals(sessions: sessionmaker[Session]) -> list[AuditEvent]:
    with sessions() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == REFUSED_ACTION)))


def sign(base: str, label: str, token: str, area: str = "acis", **headers: str) -> Any:
    revision = call(base, "GET", f"/api/v1/changes/{label}", headers=bearer(token)).json()
    seen = next(s["version"] for s in revision["signoffs"] if s["area"] == area)
    path = f"/api/v1/changes/{label}/signoffs/{area}"
    return call(base, "POST", path, headers=bearer(token) | headers, body={"seen_version": seen})


@pytest.mark.parametrize("token", ["ops-token", "broad-token"], ids=["this service", "every service"])
def test_a_users_hub_token_acts_as_its_owner(hub_api: str, api_context: ObslabContext, label: str, token: str) -> None:
    me = call(hub_api, "GET", "/api/v1/me", headers=bearer(token))
    assert me.status == 200 and me.json()["username"] == "ops", me.text
    signed = sign(hub_api, label, token, **{"X-Obslab-Acting-User": "acisa"})
    assert signed.status == 200, signed.text
    assert next(s for s in signed.json()["signoffs"] if s["area"] == "acis")["by"] == "ops"
    with api_context.sessions() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "signoff.signed"))
        assert event is not None and event.actor_name == "ops"


def test_the_hubs_answer_is_cached_and_an_api_key_never_goes_to_the_hub(
    hub_api: str, api_context: ObslabContext
) -> None:
    for _ in range(3):
        assert call(hub_api, "GET", "/api/v1/me", headers=bearer("ops-token")).status == 200
    assert StandInHub.asked == ["ops-token"]
    with api_context.transaction() as session:
        key = issue_api_key(session, "hrch", label="tests", now=fixed_clock)
    assert call(hub_api, "GET", "/api/v1/me", headers=bearer(key)).json()["username"] == "hrch"
    assert StandInHub.asked == ["ops-token"]


@pytest.mark.parametrize(
    ("token", "code", "identity", "words"),
    [
        ("culler-token", "hub_token_refused", "service:idle-culler", "belongs to the hub service 'idle-culler'"),
        ("no-access-token", "hub_token_refused", "ops", f"needs the scope '{ACCESS}'"),
        ("other-service-token", "hub_token_refused", "ops", "does not give access to obslab's API"),
        ("stranger-token", "not_an_obslab_user", "mallory", "'mallory' is not an obslab user: an obslab admin can add"),
        ("gone-token", "permission_denied", "gone", "'gone' is a deactivated obslab user: an obslab admin can"),
    ],
)
def test_tokens_the_hub_knows_but_that_may_not_act_are_refused_and_audited(
    hub_api: str, api_context: ObslabContext, token: str, code: str, identity: str, words: str
) -> None:
    reply = call(hub_api, "GET", "/api/v1/me?username=ops", headers=bearer(token) | {"X-Obslab-Acting-User": "ops"})
    assert reply.status == 403 and reply.json()["code"] == code and words in reply.json()["message"], reply.text
    (event,) = refusals(api_context.sessions)
    assert event.actor_name == identity and event.entity_id == identity
    assert event.after["attempt"] == "GET /api/v1/me" and event.after["via"] == "hub token"
    with api_context.sessions() as session:
        known = find_user(session, identity)
    assert event.actor_id == (known.id if known is not None else None)


def test_a_role_refusal_through_a_hub_token_is_audited_under_its_owner(
    hub_api: str, api_context: ObslabContext, label: str
) -> None:
    refused = sign(hub_api, label, "hrch-token", **{"X-Obslab-Acting-User": "ops"})
    assert refused.status == 403 and "hrch may not sign off the acis area" in refused.json()["message"]
    (event,) = refusals(api_context.sessions)
    assert event.actor_name == "hrch" and event.after["via"] == "hub token"


@pytest.mark.parametrize("header", [bearer("unknown-token"), fps_api("ops-token")], ids=["unknown", "FPS_API form"])
def test_a_token_the_hub_does_not_know_is_401_and_audits_nobody(
    hub_api: str, api_context: ObslabContext, header: dict[str, str]
) -> None:
    reply = call(hub_api, "GET", "/api/v1/me", headers=header)
    assert reply.status == 401 and reply.json()["code"] == "unauthenticated", reply.text
    assert refusals(api_context.sessions) == []


def test_an_unreachable_hub_is_503_saying_so_and_api_keys_still_work(
    api_context: ObslabContext, label: str, caplog: pytest.LogCaptureFixture
) -> None:
    nowhere = HubTokens.connect(f"http://127.0.0.1:{free_port()}/hub/api", "the-services-own", SERVICE)
    with api_context.transaction() as session:
        key = issue_api_key(session, "ops", label="tests", now=fixed_clock)
    with running_api(api_context, hub_tokens=nowhere) as base:
        reply = call(base, "GET", "/api/v1/me", headers=bearer("ops-token"))
        assert call(base, "GET", "/api/v1/me", headers=bearer(key)).status == 200
    assert reply.status == 503 and reply.json()["code"] == "hub_unavailable", reply.text
    assert "JupyterHub did not answer" in reply.json()["message"] and "Traceback" not in reply.text
    assert refusals(api_context.sessions) == []


def test_without_the_hubs_variables_tokens_are_not_asked_about(api: str) -> None:
    assert HubTokens.from_environment({}) is None
    partial = {"JUPYTERHUB_API_URL": "http://127.0.0.1:1/hub/api", "JUPYTERHUB_API_TOKEN": "x"}
    assert HubTokens.from_environment(partial) is None  # a user's own server has these two, and no service name
    reply = call(api, "GET", "/api/v1/me", headers=bearer("ops-token"))
    assert reply.status == 401 and "the API key is not valid" in reply.json()["message"]


def test_a_managed_services_environment_connects_to_its_hub() -> None:
    hub = HubTokens.from_environment(
        {
            "JUPYTERHUB_API_URL": "http://127.0.0.1:8081/hub/api",
            "JUPYTERHUB_API_TOKEN": "secret",
            "JUPYTERHUB_SERVICE_NAME": SERVICE,
        }
    )
    assert hub is not None and hub.service == SERVICE and hub.auth.access_scopes == {ACCESS}
    assert hub.auth.api_url == "http://127.0.0.1:8081/hub/api" and 0 < hub.auth.cache_max_age <= 60


def test_the_api_answers_under_the_hubs_service_prefix_too(
    api_context: ObslabContext, hub: HubTokens, label: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", f"/services/{SERVICE}/")
    with running_api(api_context, hub_tokens=hub) as base:
        assert call(base, "GET", f"/services/{SERVICE}/api/v1/me", headers=bearer("ops-token")).status == 200
        assert call(base, "GET", "/api/v1/me", headers=bearer("ops-token")).status == 200
        assert f"'/services/{SERVICE}/openapi.json'" in call(base, "GET", f"/services/{SERVICE}/docs").text
        assert call(base, "GET", f"/services/{SERVICE}x/api/v1/me").status == 404
    assert ServicePrefix(None, "/a/b/").prefix == "/a/b"  # type: ignore[arg-type]
