"""Users, roles and API keys (stored hashed): who may act, and how scripts prove who they are."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Column, ForeignKey, String, Table, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship, selectinload

from obslab.db import Base, Clock, Versioned, utcnow
from obslab.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from obslab.roles import ADMIN_ROLE

USERNAME_PATTERN = re.compile(r"^[a-z][a-z0-9_.-]{1,63}$")

user_roles = Table(
    "user_roles",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("role_id", ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True),
)


class Role(Base):
    """A named role; permissions and sign-off areas refer to roles by name."""

    __tablename__ = "roles"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")


class User(Versioned, Base):
    """A person or a script account."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(128), default="")
    email: Mapped[str | None] = mapped_column(String(254))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    roles: Mapped[list[Role]] = relationship(secondary=user_roles, order_by=Role.name)

    @property
    def role_names(self) -> list[str]:
        return sorted(role.name for role in self.roles)

    def has_role(self, *names: str) -> bool:
        """True when the user holds any of ``names`` (admin holds every role)."""
        held = set(self.role_names)
        return ADMIN_ROLE in held or bool(held.intersection(names))


class ApiKey(Base):
    """An API key for scripts; only the SHA-256 of the key is kept (keys are random, so no salt is needed)."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(8))
    label: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


def hash_api_key(key: str) -> str:
    """The stored form of an API key."""
    return hashlib.sha256(key.encode()).hexdigest()


def find_user(session: Session, username: str) -> User | None:
    """The user called ``username`` with their roles, or None."""
    return session.scalar(select(User).where(User.username == username).options(selectinload(User.roles)))


def usernames(session: Session, ids: Iterable[int | None] | None = None) -> dict[int, str]:
    """User name by user id: of ``ids`` (None entries ignored), or of every user when ``ids`` is None."""
    query = select(User.id, User.username)
    if ids is not None:
        wanted = {i for i in ids if i is not None}
        if not wanted:
            return {}
        query = query.where(User.id.in_(wanted))
    return dict(session.execute(query).all())


def full_names(session: Session, names: Iterable[str]) -> dict[str, str]:
    """Full name by user name, for those of ``names`` obslab knows."""
    wanted = set(names)
    if not wanted:
        return {}
    return dict(session.execute(select(User.username, User.full_name).where(User.username.in_(wanted))).all())


def get_user(session: Session, username: str) -> User:
    """The user called ``username``, or NotFoundError naming it."""
    user = session.scalar(select(User).where(User.username == username).options(selectinload(User.roles)))
    if user is None:
        raise NotFoundError(f"user {username!r} does not exist", username=username)
    return user


def list_users(session: Session) -> list[User]:
    """Every user with their roles, by user name."""
    return list(session.scalars(select(User).options(selectinload(User.roles)).order_by(User.username)))


def roles_by_name(session: Session, names: list[str]) -> list[Role]:
    known = {role.name: role for role in session.scalars(select(Role))}
    for name in names:
        if name not in known:
            raise InvalidInputError("role", name, "one of " + ", ".join(sorted(known)))
    return [known[name] for name in dict.fromkeys(names)]


def authenticate_api_key(session: Session, key: str, *, now: Clock = utcnow) -> User | None:
    """The active user owning ``key``, or None; records when the key was last used."""
    digest = hash_api_key(key)
    # Looking up the SHA-256 of a 192-bit random key reveals nothing useful through timing.
    api_key = session.scalar(select(ApiKey).where(ApiKey.key_hash == digest, ApiKey.revoked_at.is_(None)))
    if api_key is None or not api_key.user.is_active:
        return None
    api_key.last_used_at = now()
    return api_key.user


def require_active(actor: User, action: str) -> None:
    """Refuse a deactivated account, whatever it holds or once did (its own undo included)."""
    if not actor.is_active:
        raise PermissionDeniedError(
            f"{actor.username} is not an active user and may not {action}", username=actor.username
        )


def require_role(actor: User, roles: str | Iterable[str], action: str) -> None:
    """Refuse unless ``actor`` holds the role, or one of the roles (admin holds every role).

    A hidden button is not security.
    """
    wanted = [roles] if isinstance(roles, str) else sorted(roles)
    require_active(actor, action)
    if not actor.has_role(*wanted):
        held = ", ".join(actor.role_names) or "none"
        if len(wanted) > 1:
            needed = "one of the roles " + ", ".join(map(repr, wanted))
        else:
            needed = f"the role {(wanted or ['admin'])[0]!r}"  # no role listed: only admin may
        raise PermissionDeniedError(
            f"{actor.username} may not {action}: that needs {needed} (roles held: {held})",
            username=actor.username,
            roles=wanted,
        )


def role_addresses(session: Session, roles: Iterable[str]) -> list[str]:
    """E-mail addresses of the active users holding any of ``roles``, sorted, without duplicates."""
    names = sorted(set(roles))
    if not names:
        return []
    rows = session.scalars(
        select(User.email)
        .join(user_roles, user_roles.c.user_id == User.id)
        .join(Role, Role.id == user_roles.c.role_id)
        .where(Role.name.in_(names), User.is_active.is_(True), User.email.is_not(None))
    )
    return sorted(set(rows))
