"""Change requests over the API with API keys: read a revision, sign an area as the key's owner; refusals audited."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from obslab.audit import AuditEvent
from obslab.context import ObslabContext
from obslab.refusals import REFUSED_ACTION
from obslab.users import issue_api_key
from tests.api.http import bearer, call, fps_api
from tests.helpers.catalog_world import build_world, submit_frame_time_change
from tests.helpers.support import fixed_clock


@pytest.fixture
def change(api_context: ObslabContext) -> tuple[str, dict[str, str]]:
    """A pending change request's label, and API keys of ops (signs acis), hrch (may not) and acisa (acis_si)."""
    with api_context.transaction() as session:
        world = build_world(session)
        label = submit_frame_time_change(session, world)
        keys = {name: issue_api_key(session, name, label="tests", now=fixed_clock) for name in ("ops", "hrch", "acisa")}
    return label, keys


def events(sessions: sessionmaker[Session], action: str) -> list[AuditEvent]:
    with sessions() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def versions(revision: dict[str, Any]) -> dict[str, int]:
    return {signoff["area"]: signoff["version"] for signoff in revision["signoffs"]}


def test_a_key_reads_a_revision_and_signs_an_area_as_its_owner(
    api: str, api_context: ObslabContext, change: tuple[str, dict[str, str]]
) -> None:
    label, keys = change
    read = call(api, "GET", f"/api/v1/changes/{label}", headers=bearer(keys["ops"]))
    assert read.status == 200, read.text
    revision = read.json()
    assert revision["revision"] == label and revision["submitted_by"] == "pat" and revision["status"] == "open"
    assert revision["changes"] == [{"name": "frame_time", "rank": 0, "original": 3.2, "requested": 2.8}]

    # Another person's name in a header, the query and the path's neighbourhood changes nothing: the key decides.
    signed = call(
        api,
        "POST",
        f"/api/v1/changes/{label}/signoffs/acis?acting_user=acisa&username=acisa",
        headers=fps_api(keys["ops"]) | {"X-Obslab-Acting-User": "acisa", "Remote-User": "acisa"},
        body={"seen_version": versions(revision)["acis"]},
    )
    assert signed.status == 200, signed.text
    acis = next(s for s in signed.json()["signoffs"] if s["area"] == "acis")
    assert acis["state"] == "signed" and acis["by"] == "ops" and acis["version"] > versions(revision)["acis"]
    (event,) = events(api_context.sessions, "signoff.signed")
    assert (event.actor_name, event.entity_id) == ("ops", label)
    assert call(api, "GET", f"/api/v1/changes/{label}", headers=bearer(keys["hrch"])).json() == signed.json()


def test_a_stale_version_is_refused_naming_who_changed_it(api: str, change: tuple[str, dict[str, str]]) -> None:
    label, keys = change
    seen = versions(call(api, "GET", f"/api/v1/changes/{label}", headers=bearer(keys["ops"])).json())["acis"]
    stale = call(
        api,
        "POST",
        f"/api/v1/changes/{label}/signoffs/acis",
        headers=bearer(keys["ops"]),
        body={"seen_version": seen + 1},
    )
    assert stale.status == 409 and stale.json()["code"] == "stale", stale.text
    assert "you saw version" in stale.json()["message"] and "pat" in stale.json()["message"]
    after = call(api, "GET", f"/api/v1/changes/{label}", headers=bearer(keys["ops"])).json()
    assert next(s for s in after["signoffs"] if s["area"] == "acis")["state"] == "pending"


def test_a_permission_refusal_is_audited_under_the_keys_owner(
    api: str, api_context: ObslabContext, change: tuple[str, dict[str, str]]
) -> None:
    label, keys = change
    seen = versions(call(api, "GET", f"/api/v1/changes/{label}", headers=bearer(keys["hrch"])).json())["acis"]
    refused = call(
        api,
        "POST",
        f"/api/v1/changes/{label}/signoffs/acis?acting_user=ops",
        headers=bearer(keys["hrch"]) | {"X-Obslab-Acting-User": "ops"},
        body={"seen_version": seen},
    )
    assert refused.status == 403 and refused.json()["code"] == "permission_denied", refused.text
    assert "hrch may not sign off the acis area" in refused.json()["message"]
    (event,) = events(api_context.sessions, REFUSED_ACTION)
    assert (event.actor_name, event.entity_type, event.entity_id) == ("hrch", "user", "hrch")
    assert event.actor_id is not None and event.occurred_at == fixed_clock()
    assert event.after == {
        "attempt": f"POST /api/v1/changes/{label}/signoffs/acis",
        "reason": refused.json()["message"],
        "where": "api",
        "code": "permission_denied",
        "via": "api key",
    }
    assert events(api_context.sessions, "signoff.signed") == []


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/api/v1/changes/99999.001", 404, "not_found"),
        ("/api/v1/changes/99999.001/signoffs/acis", 404, "not_found"),
        ("/api/v1/changes/nonsense/signoffs/acis", 400, "invalid_input"),
        ("/api/v1/changes/{label}/signoffs/nowhere", 400, "invalid_input"),
        ("/api/v1/changes/{label}/signoffs/verification", 400, "invalid_input"),
    ],
)
def test_unknown_revisions_and_areas_are_refused_by_name_and_not_audited(
    api: str, api_context: ObslabContext, change: tuple[str, dict[str, str]], path: str, status: int, code: str
) -> None:
    label, keys = change
    method, body = ("POST", {"seen_version": 1}) if "signoffs" in path else ("GET", None)
    reply = call(api, method, path.format(label=label), headers=bearer(keys["ops"]), body=body)
    assert reply.status == status and reply.json()["code"] == code, reply.text
    assert events(api_context.sessions, REFUSED_ACTION) == []


def test_without_a_key_nothing_is_read_or_signed_and_nobody_is_audited(
    api: str, api_context: ObslabContext, change: tuple[str, dict[str, str]]
) -> None:
    label, keys = change
    path = f"/api/v1/changes/{label}/signoffs/acis"
    assert call(api, "GET", f"/api/v1/changes/{label}").status == 401
    assert call(api, "POST", path, body={"seen_version": 1}).status == 401
    assert call(api, "POST", path, headers=bearer("0" * 48), body={"seen_version": 1}).status == 401
    # The body says only what was seen: another field (a name, say) is refused, not taken.
    extra = call(api, "POST", path, headers=bearer(keys["ops"]), body={"seen_version": 1, "username": "acisa"})
    assert extra.status == 422 and extra.json()["field"] == "username"
    assert events(api_context.sessions, REFUSED_ACTION) == [] and events(api_context.sessions, "signoff.signed") == []
