"""The composition root: settings, sessions, site, policies, clock and who is acting, built once per process.

Every face builds on it: the command line (``cli/_app.py``), the dashboards (``dashboards/context.py``), the
demo, the notebooks, and next the API and the report runner. Services keep their keyword arguments; faces
pass them from here, so a deployment's own policy files reach every call.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

# The whole model registry, wherever a session is made: a foreign key to a table whose module this process
# never imported fails at the first flush, after the work is done (a ToO was lost that way).
import obslab.models  # noqa: F401
from obslab.access import User, find_user
from obslab.catalog.changes.policy import Policy
from obslab.db import Clock, make_engine, make_session_factory, transaction, utcnow
from obslab.errors import NotFoundError, ObslabError, PermissionDeniedError
from obslab.observing.alarm_rules import AlarmRules, default_alarm_rules, load_alarm_rules
from obslab.scheduling.alert_policies import AlertPolicies, default_alert_policies, load_alert_policies
from obslab.settings import Settings, Site, load_settings

#: Set by JupyterHub in every server it spawns and every service it runs: the hub user, whom nobody else can be.
HUB_USER_VARIABLE = "JUPYTERHUB_USER"


def identity(settings: Settings, environ: Mapping[str, str] | None = None) -> str:
    """Who is acting: the hub user inside JupyterHub, else ``OBSLAB_ACTING_USER``, else the login name.

    Inside a hub ``OBSLAB_ACTING_USER`` is ignored: anyone can set a variable in their own kernel, and under
    a container spawner every login name is the same (``jovyan``).
    """
    environ = os.environ if environ is None else environ
    return environ.get(HUB_USER_VARIABLE) or settings.acting_user or getpass.getuser()


@dataclass(frozen=True)
class ObslabContext:
    """What every face needs, made once per process from Settings (never at import)."""

    settings: Settings
    sessions: sessionmaker[Session]
    now: Clock = field(default=utcnow, kw_only=True)

    @classmethod
    def from_settings(cls, settings: Settings | None = None, *, now: Clock = utcnow) -> ObslabContext:
        """Connect to the configured database (no connection is opened until first use)."""
        settings = settings if settings is not None else load_settings()
        return cls(settings, make_session_factory(make_engine(settings.resolved_database_url)), now=now)

    @property
    def engine(self) -> Engine:
        return self.sessions.kw["bind"]

    @property
    def site(self) -> Site:
        return self.settings.site

    @cached_property
    def catalog_policy(self) -> Policy:
        """The parameter schema and change rules: the deployment's files when the settings name them."""
        return Policy.from_files(self.settings.parameter_schema_file, self.settings.change_rules_file)

    @cached_property
    def alert_policies(self) -> AlertPolicies:
        """Which alerts become requests: the deployment's file when the settings name one."""
        path = self.settings.alert_policies_file
        return load_alert_policies(path) if path is not None else default_alert_policies()

    @cached_property
    def alarm_rules(self) -> AlarmRules:
        """The alarm rules on pipeline metrics: the deployment's file when the settings name one."""
        path = self.settings.alarm_rules_file
        return load_alarm_rules(path) if path is not None else default_alarm_rules()

    @property
    def identity(self) -> str:
        """The user name this process acts as (see ``identity``)."""
        return identity(self.settings)

    def actor(self, session: Session) -> User:
        """The acting user as the services' actor; someone obslab does not know, or deactivated, may not act."""
        user = find_user(session, self.identity)
        if user is None:
            raise self.unknown_actor(self.identity)
        if not user.is_active:
            raise PermissionDeniedError(f"{user.username}'s account is deactivated", username=user.username)
        return user

    def unknown_actor(self, name: str) -> ObslabError:
        """The refusal for someone obslab does not know, saying what this face's user can do about it."""
        return NotFoundError(
            f"user {name!r} is not known to obslab; set OBSLAB_ACTING_USER or add them with 'obslab users add'",
            username=name,
        )

    def bootstrap_actor(self, session: Session) -> User | None:
        """The acting user, or None when obslab knows nobody by that name: only for adding the first users."""
        return find_user(session, self.identity)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One all-or-nothing unit of work (the caller's: services never commit)."""
        with transaction(self.sessions) as session:
            yield session

    def close(self) -> None:
        """Return pooled connections."""
        self.engine.dispose()
