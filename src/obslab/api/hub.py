"""Hub tokens: under JupyterHub, a Bearer token that is no obslab API key is checked with the hub and names its owner.

JupyterHub sets ``JUPYTERHUB_API_TOKEN``, ``JUPYTERHUB_API_URL`` and ``JUPYTERHUB_SERVICE_NAME`` in a managed
service's environment (an external service's operator sets them alike); with all three the API asks the hub, through
JupyterHub's own ``HubAuth``, whom a token belongs to and which scopes it carries. Only a person's token that carries
``access:services!service=<this service>`` is taken, and obslab acts as the obslab user of the owner's hub name.
Without the three variables nothing here runs and JupyterHub need not be installed.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Receive, Scope, Send

from obslab.access import find_user
from obslab.errors import ObslabError, PermissionDeniedError, SettingsError

log = logging.getLogger("obslab.api")

#: What JupyterHub gives a managed service: the hub's API, the service's own token, and the service's name.
HUB_VARIABLES = ("JUPYTERHUB_API_URL", "JUPYTERHUB_API_TOKEN", "JUPYTERHUB_SERVICE_NAME")
#: Seconds the hub's answer about a token is kept (HubAuth's cache, which keeps "unknown" too): a script's requests
#: are not a hub round trip each, and a token revoked at the hub stops working here within a minute.
CACHE_SECONDS = 60


class HubUnavailableError(ObslabError):
    """The hub did not answer whether a token is valid: the deployment's problem, not the caller's."""

    code = "hub_unavailable"


class HubTokenRefusedError(PermissionDeniedError):
    """A token the hub knows but that may not be used here: a service's, or one without access to this service."""

    code = "hub_token_refused"


class NotAnObslabUserError(PermissionDeniedError):
    """The token's owner is a hub user obslab does not know."""

    code = "not_an_obslab_user"


@dataclass(frozen=True)
class TokenOwner:
    """Whom the hub says a token belongs to: a user or a service, by name, and the scopes the token carries."""

    kind: str
    name: str
    scopes: frozenset[str]

    @property
    def identity(self) -> str:
        """The name a refusal is audited under: a person's hub name, or ``service:<name>``."""
        return self.name if self.kind == "user" else f"{self.kind}:{self.name}"


@dataclass(frozen=True)
class HubTokens:
    """The hub's answers about tokens, through one ``HubAuth`` (cached, its requests on a thread of its own)."""

    auth: Any  # jupyterhub.services.auth.HubAuth, imported only when the API runs as a hub service
    service: str

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> HubTokens | None:
        """The hub of a managed service's environment; None (API keys only) unless all three variables are set."""
        environ = os.environ if environ is None else environ
        url, token, service = (environ.get(name, "").strip() for name in HUB_VARIABLES)
        if not (url and token and service):
            return None
        return cls.connect(url, token, service)

    @classmethod
    def connect(cls, api_url: str, api_token: str, service: str, *, cache_seconds: int = CACHE_SECONDS) -> HubTokens:
        try:
            from jupyterhub.services.auth import HubAuth
        except ImportError:
            raise SettingsError(
                f"the API runs as the JupyterHub service {service!r} (JUPYTERHUB_SERVICE_NAME is set) but JupyterHub "
                "is not installed here: install obslab[hub]"
            ) from None
        auth = HubAuth(
            api_url=api_url, api_token=api_token, cache_max_age=cache_seconds, access_scopes={access_scope(service)}
        )
        return cls(auth, service)

    def owner(self, token: str) -> TokenOwner | None:
        """Whom ``token`` belongs to, or None when the hub does not know it (or it expired or was revoked)."""
        try:
            model = self.auth.user_for_token(token)
        except Exception as error:  # HubAuth raises tornado's HTTPError for an unreachable or failing hub
            log.error("the hub at %s did not check a token: %s", self.auth.api_url, error)
            raise HubUnavailableError(
                "JupyterHub did not answer whether this token is valid; try again later, or ask the operator to "
                "check the hub (the API asks it at JUPYTERHUB_API_URL)"
            ) from None
        if not model:
            return None
        return TokenOwner(str(model.get("kind", "user")), str(model["name"]), frozenset(model.get("scopes") or ()))

    def require_access(self, owner: TokenOwner) -> None:
        """Refuse a service's token (obslab acts as people) and a person's token without access to this service."""
        if owner.kind != "user":
            raise HubTokenRefusedError(
                f"this token belongs to the hub {owner.kind} {owner.name!r}, not to a person: obslab's API acts as a "
                "person; send a user's hub token or an obslab API key ('obslab users apikey NAME')"
            )
        if not self.auth.check_scopes(self.auth.access_scopes, {"scopes": owner.scopes}):
            raise HubTokenRefusedError(
                f"{owner.name}'s hub token does not give access to obslab's API: it needs the scope "
                f"{access_scope(self.service)!r}, which the hub's admin grants (deploy/jupyterhub/README.md)"
            )

    def obslab_user(self, session: Session, owner: TokenOwner) -> str:
        """The obslab user of the owner's hub name; unknown or deactivated ones are refused saying who can help."""
        user = find_user(session, owner.name)
        if user is None:
            raise NotAnObslabUserError(
                f"hub user {owner.name!r} is not an obslab user: an obslab admin can add them "
                f"('obslab users add {owner.name} --role ...')",
                username=owner.name,
            )
        if not user.is_active:
            raise PermissionDeniedError(
                f"hub user {owner.name!r} is a deactivated obslab user: an obslab admin can reactivate the account",
                username=owner.name,
            )
        return user.username


def access_scope(service: str) -> str:
    """The scope a token needs to be used with this API (what JupyterHub requires to reach the service)."""
    return f"access:services!service={service}"


class ServicePrefix:
    """Serve the routes under the hub's prefix too (``/services/<name>/``): the hub's proxy passes paths whole.

    A request under the prefix gets it as its ``root_path`` (so routing and the docs' links see through it); a
    request straight to the API's own port is served as before.
    """

    def __init__(self, app: ASGIApp, prefix: str) -> None:
        self.app = app
        self.prefix = "/" + prefix.strip("/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] in ("http", "websocket") and (path == self.prefix or path.startswith(self.prefix + "/")):
            scope = {**scope, "root_path": scope.get("root_path", "") + self.prefix}
        await self.app(scope, receive, send)
