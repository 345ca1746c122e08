"""User administration: adding users, issuing and revoking API keys, audited, by an admin (or at bootstrap)."""

from __future__ import annotations

import re
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from obslab.access import USERNAME_PATTERN, ApiKey, User, get_user, hash_api_key, require_role, roles_by_name
from obslab.audit import record_event
from obslab.db import Clock, utcnow
from obslab.errors import ConflictError, InvalidInputError, NotFoundError
from obslab.roles import ADMIN_ROLE

#: Random bytes in an API key (the seed's 24, shown as 48 hex characters), and the characters kept in the clear.
KEY_BYTES = 24
KEY_LENGTH = 2 * KEY_BYTES
PREFIX_LENGTH = 8


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
    key = secrets.token_hex(KEY_BYTES)
    prefix = key[:PREFIX_LENGTH]
    session.add(ApiKey(user_id=user.id, key_hash=hash_api_key(key), prefix=prefix, label=label, created_at=now()))
    record_event(
        session,
        actor=actor,
        action="apikey.issued",
        entity_type="user",
        entity_id=username,
        after={"prefix": prefix, "label": label},
        now=now,
    )
    return key


def revoke_api_key(
    session: Session, username: str, key: str, *, actor: User | None = None, now: Clock = utcnow
) -> ApiKey:
    """Revoke ``username``'s API key named by ``key``: the whole key, or its first 8 characters (its prefix).

    ``actor`` must be the key's owner or hold the admin role; None is the bootstrap, as for ``add_user``. A
    revoked key authenticates no more; the row stays, so the audit trail and ``last_used_at`` keep their meaning.
    """
    if actor is not None and actor.username != username:
        require_role(actor, ADMIN_ROLE, f"revoke API keys of {username}")
    user = get_user(session, username)
    query = select(ApiKey).where(ApiKey.user_id == user.id)
    if len(key) == PREFIX_LENGTH:
        query = query.where(ApiKey.prefix == key)
    elif len(key) == KEY_LENGTH:
        query = query.where(ApiKey.key_hash == hash_api_key(key))
    else:
        raise InvalidInputError("key", key, f"the key's first {PREFIX_LENGTH} characters or the whole key")
    found = list(session.scalars(query.with_for_update()))
    if not found:
        raise NotFoundError(f"{username} has no API key {key!r}", username=username, prefix=key[:PREFIX_LENGTH])
    if len(found) > 1:  # two keys sharing 32 random bits: possible, so say what settles it
        raise ConflictError(f"{username} has {len(found)} keys starting {key!r}: give the whole key", username=username)
    api_key = found[0]
    if api_key.revoked_at is not None:
        raise ConflictError(f"{username}'s API key {api_key.prefix} was revoked already", username=username)
    api_key.revoked_at = now()
    session.flush()
    record_event(
        session,
        actor=actor,
        action="apikey.revoked",
        entity_type="user",
        entity_id=username,
        before={"prefix": api_key.prefix, "label": api_key.label, "revoked_at": None},
        after={"prefix": api_key.prefix, "label": api_key.label, "revoked_at": api_key.revoked_at.isoformat()},
        now=now,
    )
    return api_key
