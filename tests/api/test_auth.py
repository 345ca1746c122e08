"""API keys: both header forms, wrong, malformed, revoked and deactivated keys refused with 401, last use recorded."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from obslab.access import ApiKey, get_user
from obslab.audit import AuditEvent
from obslab.cli import main
from obslab.context import ObslabContext
from obslab.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from obslab.users import revoke_api_key
from tests.api.http import bearer, call, fps_api
from tests.helpers.support import FIXED_NOW, fixed_clock, table_counts


@pytest.mark.parametrize("form", [bearer, fps_api], ids=["Bearer", "FPS_API"])
def test_both_header_forms_name_the_keys_owner(
    api: str, keys: dict[str, str], form: Callable[[str], dict[str, str]]
) -> None:
    reply = call(api, "GET", "/api/v1/me", headers=form(keys["tcs"]))
    assert reply.status == 200, reply.text
    assert reply.json() == {"username": "tcs", "full_name": "", "roles": ["telescope"]}


@pytest.mark.parametrize(
    "header",
    ["bearer {key}", "BEARER  {key}", "fps_api apikey={key}", "  Bearer {key}  "],
)
def test_scheme_names_are_case_insensitive(api: str, keys: dict[str, str], header: str) -> None:
    assert call(api, "GET", "/api/v1/me", headers={"Authorization": header.format(key=keys["ada"])}).status == 200


@pytest.mark.parametrize(
    ("header", "words"),
    [
        (None, "this needs an API key"),
        ("", "this needs an API key"),
        ("Basic dGNzOnNlY3JldA==", "must read 'Bearer <key>' or 'FPS_API APIKEY=<key>'"),
        ("FPS_API {key}", "must read"),
        ("Bearer", "must read"),
        ("Bearer {key} extra", "must read"),
        ("{key}", "must read"),
    ],
)
def test_missing_or_malformed_headers_are_refused_with_401(
    api: str, keys: dict[str, str], header: str | None, words: str
) -> None:
    headers = {} if header is None else {"Authorization": header.format(key=keys["tcs"])}
    reply = call(api, "GET", "/api/v1/me", headers=headers)
    assert reply.status == 401 and reply.json()["code"] == "unauthenticated"
    assert words in reply.json()["message"]
    assert reply.headers["www-authenticate"].startswith("Bearer")


def test_a_wrong_key_is_refused_and_names_no_user(api: str, keys: dict[str, str]) -> None:
    wrong = keys["tcs"][:-1] + ("0" if keys["tcs"][-1] != "0" else "1")
    for form in (bearer, fps_api):
        reply = call(api, "GET", "/api/v1/me", headers=form(wrong))
        assert reply.status == 401 and "not valid" in reply.json()["message"] and "tcs" not in reply.text


def test_a_revoked_key_is_refused_and_the_others_still_work(
    api: str, api_context: ObslabContext, keys: dict[str, str]
) -> None:
    assert call(api, "GET", "/api/v1/me", headers=bearer(keys["tcs"])).status == 200
    result = CliRunner().invoke(
        main,
        ["users", "apikey", "tcs", "--revoke", keys["tcs"][:8]],
        env={"OBSLAB_DATABASE_URL": str(api_context.engine.url.render_as_string(hide_password=False))},
    )
    assert result.exit_code == 0 and f"revoked tcs's API key {keys['tcs'][:8]} (tests)" in result.output
    for form in (bearer, fps_api):
        assert call(api, "GET", "/api/v1/me", headers=form(keys["tcs"])).status == 401
    assert call(api, "GET", "/api/v1/me", headers=bearer(keys["ada"])).status == 200


def test_a_deactivated_users_key_is_refused(api: str, api_context: ObslabContext, keys: dict[str, str]) -> None:
    with api_context.transaction() as session:
        get_user(session, "tcs").is_active = False
    assert call(api, "GET", "/api/v1/me", headers=bearer(keys["tcs"])).status == 401


def test_the_keys_last_use_is_recorded(api: str, api_context: ObslabContext, keys: dict[str, str]) -> None:
    def last_used() -> dict[str, object]:
        with api_context.sessions() as session:
            return {key.user.username: key.last_used_at for key in session.scalars(select(ApiKey))}

    assert set(last_used().values()) == {None}
    call(api, "GET", "/api/v1/me", headers=fps_api(keys["tcs"]))
    call(api, "GET", "/api/v1/me", headers=bearer(keys["tcs"][:-1] + "x"))  # a wrong key touches nothing
    assert last_used() == {"tcs": FIXED_NOW, "ada": None, "una": None}


def test_revoking_is_for_the_owner_or_an_admin_and_is_audited(api_context: ObslabContext, keys: dict[str, str]) -> None:
    with api_context.transaction() as session:
        before = table_counts(session)
    with pytest.raises(PermissionDeniedError, match="una may not revoke API keys of tcs"):
        with api_context.transaction() as session:
            revoke_api_key(session, "tcs", keys["tcs"][:8], actor=get_user(session, "una"), now=fixed_clock)
    with api_context.transaction() as session:
        assert table_counts(session) == before
    with api_context.transaction() as session:  # the owner, by the whole key
        revoke_api_key(session, "una", keys["una"], actor=get_user(session, "una"), now=fixed_clock)
    with api_context.transaction() as session:  # an admin, by the prefix
        revoke_api_key(session, "tcs", keys["tcs"][:8], actor=get_user(session, "ada"), now=fixed_clock)
    with api_context.sessions() as session:
        revoked = {key.user.username: key.revoked_at for key in session.scalars(select(ApiKey))}
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "apikey.revoked")).all()
    assert revoked == {"tcs": FIXED_NOW, "ada": None, "una": FIXED_NOW}
    assert [(e.actor_name, e.entity_id, e.after["prefix"]) for e in events] == [
        ("una", "una", keys["una"][:8]),
        ("ada", "tcs", keys["tcs"][:8]),
    ]


@pytest.mark.parametrize(
    ("user", "key", "error", "words"),
    [
        ("tcs", "deadbeef", NotFoundError, "tcs has no API key 'deadbeef'"),
        ("tcs", "{ada}", NotFoundError, "tcs has no API key"),  # another user's key is not theirs to name
        ("tcs", "dead", InvalidInputError, "the key's first 8 characters or the whole key"),
        ("nobody", "deadbeef", NotFoundError, "user 'nobody' does not exist"),
    ],
)
def test_revoking_a_key_that_is_not_there_is_refused(
    api_context: ObslabContext, keys: dict[str, str], user: str, key: str, error: type, words: str
) -> None:
    with pytest.raises(error, match=words), api_context.transaction() as session:
        revoke_api_key(session, user, key.format(**keys), now=fixed_clock)


def test_revoking_twice_is_refused(api_context: ObslabContext, keys: dict[str, str]) -> None:
    with api_context.transaction() as session:
        revoke_api_key(session, "tcs", keys["tcs"][:8], now=fixed_clock)
    with pytest.raises(ConflictError, match="was revoked already"), api_context.transaction() as session:
        revoke_api_key(session, "tcs", keys["tcs"][:8], now=fixed_clock)
