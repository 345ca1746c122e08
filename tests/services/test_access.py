"""Users, roles and API keys: validation that names the field, hashed keys, audit events."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from obslab.access import ApiKey, User, authenticate_api_key, full_names, get_user, hash_api_key
from obslab.audit import AuditEvent
from obslab.errors import ConflictError, InvalidInputError, NotFoundError
from obslab.users import add_user, issue_api_key
from tests.helpers.support import fixed_clock, table_counts


def test_add_user_grants_roles_and_records_an_audit_event(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, session.begin():
        add_user(session, "vega", ["usint", "acis"], email="vega@obslab.example", full_name="V. Ega", now=fixed_clock)
    with sessions() as session:
        user = get_user(session, "vega")
        assert user.role_names == ["acis", "usint"]
        assert user.has_role("acis") and not user.has_role("hrc")
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "user.created")).one()
        assert (event.entity_id, event.actor_name, event.after["roles"]) == ("vega", "system", ["usint", "acis"])


def test_admin_holds_every_role(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, session.begin():
        admin = add_user(session, "root-admin", ["admin"])
        assert admin.has_role("hrc") and admin.has_role("scheduler")


@pytest.mark.parametrize(
    ("username", "roles", "email", "field", "value"),
    [
        ("Bad Name", ["usint"], None, "username", "Bad Name"),
        ("altair", ["astronaut"], None, "role", "astronaut"),
        ("altair", [], None, "role", "[]"),
        ("altair", ["usint"], "not-an-address", "email", "not-an-address"),
    ],
)
def test_bad_user_input_names_field_and_value_and_writes_nothing(
    sessions: sessionmaker[Session], username: str, roles: list[str], email: str | None, field: str, value: str
) -> None:
    with sessions() as session:
        before = table_counts(session)
    with pytest.raises(InvalidInputError) as refused:
        with sessions() as session, session.begin():
            add_user(session, username, roles, email=email)
    assert refused.value.details["field"] == field
    assert str(refused.value).startswith(f"{field}: ")
    assert value in str(refused.value)
    with sessions() as session:
        assert table_counts(session) == before


def test_unknown_role_error_lists_the_allowed_roles(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(
        InvalidInputError,
        match="expected one of acis, admin, arcops, hrc, mp, pipeline, scheduler, staff, telescope, usint",
    ):
        with sessions() as session, session.begin():
            add_user(session, "altair", ["astronaut"])


def test_duplicate_user_is_refused(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, session.begin():
        add_user(session, "deneb", ["staff"])
    with pytest.raises(ConflictError, match="'deneb' already exists"):
        with sessions() as session, session.begin():
            add_user(session, "deneb", ["usint"])


def test_api_key_is_stored_only_as_a_hash_and_authenticates(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, session.begin():
        add_user(session, "tcs", ["telescope"])
        key = issue_api_key(session, "tcs", label="nightly fplane push", now=fixed_clock)
    assert len(key) == 48 and int(key, 16) >= 0
    with sessions() as session:
        stored = session.scalars(select(ApiKey)).one()
        assert stored.key_hash == hash_api_key(key) != key
        assert key not in (stored.prefix, stored.label, stored.key_hash)
        assert stored.prefix == key[:8]
    with sessions() as session, session.begin():
        user = authenticate_api_key(session, key, now=fixed_clock)
        assert user is not None and user.username == "tcs"
        assert authenticate_api_key(session, key[:-1] + ("0" if key[-1] != "0" else "1")) is None
    with sessions() as session:
        assert session.scalars(select(ApiKey.last_used_at)).one() is not None


def test_inactive_users_keys_do_not_authenticate(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, session.begin():
        add_user(session, "old-script", ["telescope"])
        key = issue_api_key(session, "old-script")
    with sessions() as session, session.begin():
        get_user(session, "old-script").is_active = False
    with sessions() as session, session.begin():
        assert authenticate_api_key(session, key) is None


def test_api_key_for_unknown_user_is_refused(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(NotFoundError, match="user 'nobody' does not exist"):
        with sessions() as session, session.begin():
            issue_api_key(session, "nobody")
    with sessions() as session:
        assert session.scalars(select(User)).all() == []


def test_full_names_of_known_users_only(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, session.begin():
        add_user(session, "vega", ["usint"], full_name="V. Ega", now=fixed_clock)
        add_user(session, "deneb", ["usint"], now=fixed_clock)
    with sessions() as session:
        assert full_names(session, ["vega", "deneb", "nobody"]) == {"vega": "V. Ega", "deneb": ""}
        assert full_names(session, []) == {}
