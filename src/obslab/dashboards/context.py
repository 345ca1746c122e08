"""What every dashboard needs: the process's ObslabContext and who is looking."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sqlalchemy.orm import Session

from obslab.access import find_user
from obslab.context import ObslabContext, identity
from obslab.db import make_engine, make_session_factory
from obslab.errors import ObslabError, PermissionDeniedError
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

    @property
    def label(self) -> str:
        """How pages name the viewer: "Full Name (username)", or the username alone."""
        return f"{self.full_name} ({self.username})" if self.full_name else self.username


def viewing_user(session: Session, name: str) -> ViewingUser:
    """The viewer called ``name`` as obslab knows them now; unknown or deactivated people have no roles."""
    user = find_user(session, name)
    if user is None or not user.is_active:
        return ViewingUser(name, "", (), False)
    return ViewingUser(user.username, user.full_name, tuple(user.role_names), True)


@dataclass(frozen=True)
class DashboardContext(ObslabContext):
    """The ObslabContext of one server process, with the viewer the pages show and act as."""

    viewer: ViewingUser

    @classmethod
    def from_settings(cls, settings: Settings | None = None, *, username: str | None = None) -> DashboardContext:
        """Connect to the configured database and look up the viewer (default: the context's identity rule)."""
        settings = settings if settings is not None else load_settings()
        sessions = make_session_factory(make_engine(settings.resolved_database_url))
        name = username or identity(settings)
        with sessions() as session:
            viewer = viewing_user(session, name)
        return cls(settings, sessions, viewer)

    @property
    def identity(self) -> str:
        return self.viewer.username

    def unknown_actor(self, name: str) -> ObslabError:
        """Someone obslab does not know may look at the pages but not act."""
        return PermissionDeniedError(f"{name} is not a known user and may not act", username=name)


@cache
def default_context() -> DashboardContext:
    """One context per process (one engine and connection pool), built on first use."""
    return DashboardContext.from_settings(load_settings())
