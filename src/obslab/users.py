"""User administration: adding users and issuing API keys, audited, by an admin (or at bootstrap)."""

from __future__ import annotations

import re
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from obslab.access import USERNAME_PATTERN, ApiKey, User, get_user, hash_api_key, require_role, roles_by_name
from obslab.audit import record_event
from obslab.db import Clock, utcnow
from obslab.errors import ConflictError, InvalidInputError
from obslab.roles import ADMIN_ROLE


def add_user(
    session: Session,
    username: str,
    roles: list[str],
    *,
    email: str | None = None,
    full_name: str = "",
    actor: User | None = None,
    now: Clock = utcnow,
) -> User:
    """Create a user with ``roles``; refuses bad names, unknown roles and duplicates, writing nothing.

    ``actor`` must hold the admin role; None is the bootstrap (the first admin, the demo, the command line
    of someone obslab does not know yet), recorded as "system".
    """
    if actor is not None:
        require_role(actor, ADMIN_ROLE, "add users")
    if not USERNAME_PATTERN.match(username):
        raise InvalidInputError(
            "username", username, "2-64 characters: a lower-case letter, then lower-case letters, digits, '_', '.', '-'"
        )
    if not roles:
        raise InvalidInputError("role", roles, "at least one role")
    if email is not None and not re.match(r"^[^@\s]+@[^@\s]+$", email):
        raise InvalidInputError("email", email, "an address of the form name@host")
    role_rows = roles_by_name(session, roles)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise ConflictError(f"user {username!r} already exists", username=username)
    user = User(username=username, email=email, full_name=full_name, roles=role_rows, created_at=now())
    session.add(user)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="user.created",
        entity_type="user",
        entity_id=username,
        after={"roles": [role.name for role in role_rows], "email": email, "full_name": full_name},
        now=now,
    )
    return user


def issue_api_key(
    session: Session, username: str, *, label: str = "", actor: User | None = None, now: Clock = utcnow
) -> str:
    """Create a new API key for ``username`` and return it; it is never stored or shown again.

    ``actor`` must hold the admin role unless the key is their own; None is the bootstrap, as for ``add_user``.
    """
    if actor is not None and actor.username != username:
        require_role(actor, ADMIN_ROLE, f"issue API keys for {username}")
    user = get_user(session, username)
    key = secrets.token_hex(24)
    session.add(ApiKey(user_id=user.id, key_hash=hash_api_key(key), prefix=key[:8], label=label, created_at=now()))
    record_event(
        session,
        actor=actor,
        action="apikey.issued",
        entity_type="user",
        entity_id=username,
        after={"prefix": key[:8], "label": label},
        now=now,
    )
    return key
