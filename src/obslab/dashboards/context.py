"""What every dashboard needs: the process's ObslabContext and who is looking."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sqlalchemy.orm import Session

from obslab.access import User, find_user
from obslab.context import ObslabContext
from obslab.db import make_engine, make_session_factory
from obslab.errors import PermissionDeniedError
from obslab.settings import Settings, load_settings


@dataclass(frozen=True)
class ViewingUser:
    """The person looking at a dashboard, as the header shows them."""

    username: str
    full_name: str
    roles: tuple[str, ...]
    known: bool

    @property
    def display_name(self) -> str:
        return self.full_name or self.username


@dataclass(frozen=True)
class DashboardContext(ObslabContext):
    """The ObslabContext of one server process, with the viewer the pages show and act as."""

    viewer: ViewingUser

    @classmethod
    def from_settings(cls, settings: Settings | None = None, *, username: str | None = None) -> DashboardContext:
        """Connect to the configured database and look up the viewer (default: the context's identity rule)."""
        settings = settings if settings is not None else load_settings()
        sessions = make_session_factory(make_engine(settings.resolved_database_url))
        base = ObslabContext(settings, sessions)
        name = username or base.identity
        with sessions() as session:
            user = find_user(session, name)
            viewer = (
                ViewingUser(user.username, user.full_name, tuple(user.role_names), True)
                if user is not None and user.is_active
                else ViewingUser(name, "", (), False)
            )
        return cls(settings, sessions, viewer)

    @property
    def identity(self) -> str:
        return self.viewer.username

    def acting_user(self, session: Session) -> User:
        """The viewer as the services' actor; someone obslab does not know may look but not act."""
        user = find_user(session, self.viewer.username)
        if user is None:
            raise PermissionDeniedError(f"{self.viewer.username} is not a known user and may not act")
        return user


@cache
def default_context() -> DashboardContext:
    """One context per process (one engine and connection pool), built on first use."""
    return DashboardContext.from_settings(load_settings())
