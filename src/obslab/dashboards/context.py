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
    #: Whether a login named the viewer (the hub's OAuth): then no variable of anyone's can change who they are.
    signed_in: bool = False

    @property
    def display_name(self) -> str:
        return self.full_name or self.username

    @property
    def label(self) -> str:
        """How pages name the viewer: "Full Name (username)", or the username alone."""
        return f"{self.full_name} ({self.username})" if self.full_name else self.username

    @property
    def how_to_act(self) -> str:
        """For a viewer obslab does not know: how they come to act (a hub login cannot be swapped for a variable)."""
        add = f"an admin adds you with 'obslab users add {self.username} --role ROLE'"
        return add if self.signed_in else f"{add}, or set OBSLAB_ACTING_USER to a user's name"


def viewing_user(session: Session, name: str, *, signed_in: bool = False) -> ViewingUser:
    """The viewer called ``name`` as obslab knows them now; unknown or deactivated people have no roles."""
    user = find_user(session, name)
    if user is None or not user.is_active:
        return ViewingUser(name, "", (), False, signed_in)
    return ViewingUser(user.username, user.full_name, tuple(user.role_names), True, signed_in)


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

    def for_viewer(self, name: str) -> DashboardContext:
        """This process's context (its engine, settings, clock) for a viewer a login named: one page's context."""
        with self.sessions() as session:
            viewer = viewing_user(session, name, signed_in=True)
        return DashboardContext(self.settings, self.sessions, viewer, now=self.now)

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
