"""Who is calling: an API key in ``Authorization: FPS_API APIKEY=<key>`` (the fplane clients') or ``Bearer <key>``,
or, when the API runs as a JupyterHub service, a hub token in ``Bearer <token>`` (``hub.py``), acting as its owner.

Keys are compared by looking up the SHA-256 of the key sent (``access.authenticate_api_key``), never by comparing
the key with a stored one: what a timing side channel could leak is how much of that hash matches a stored hash,
and since nobody can choose a key whose hash starts a certain way, that brings no guess closer to a 192-bit key.
So the lookup is as safe as ``hmac.compare_digest``, and it stays one indexed query however many keys exist.

The API key is tried first; only a Bearer token that is no key goes to the hub. The identity found is kept on the
request (``request.state.identity``, ``.via``) for the audit of a refusal (errors.py): always the key's or the
token's owner, never a name the request carries.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader

from obslab.access import authenticate_api_key
from obslab.api.hub import HubTokens
from obslab.errors import ObslabError

#: The two header forms; the scheme names are case-insensitive, as HTTP's are.
FPS_API = re.compile(r"^FPS_API\s+APIKEY=(\S+)$", re.IGNORECASE)
BEARER = re.compile(r"^Bearer\s+(\S+)$", re.IGNORECASE)
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="obslab"'}

api_key_header = APIKeyHeader(
    name="Authorization",
    auto_error=False,
    scheme_name="api_key",
    description="`Bearer <key>` or, as the fplane clients send it, `FPS_API APIKEY=<key>`. "
    "Keys come from `obslab users apikey NAME`.",
)


class AuthenticationError(ObslabError):
    """No usable API key came with a request that needs one."""

    code = "unauthenticated"
    headers = CHALLENGE


def key_from_header(value: str | None) -> str:
    """The key in an Authorization header of either form, or AuthenticationError saying what was expected."""
    if not value:
        raise AuthenticationError("this needs an API key: send 'Authorization: Bearer <key>'")
    match = FPS_API.match(value.strip()) or BEARER.match(value.strip())
    if match is None:
        raise AuthenticationError("the Authorization header must read 'Bearer <key>' or 'FPS_API APIKEY=<key>'")
    return match.group(1)


def api_user(request: Request, authorization: Annotated[str | None, Depends(api_key_header)]) -> str:
    """The user name behind the request's API key (its last use recorded, committed at once) or hub token."""
    key = key_from_header(authorization)
    context = request.app.state.context
    with context.transaction() as session:
        user = authenticate_api_key(session, key, now=context.now)
        if user is not None:
            return authenticated(request, user.username, "api key")
    hub: HubTokens | None = getattr(request.app.state, "hub_tokens", None)
    if hub is None or not BEARER.match((authorization or "").strip()):
        raise AuthenticationError("the API key is not valid: unknown, revoked, or its user deactivated")
    owner = hub.owner(key)
    if owner is None:
        raise AuthenticationError(
            "the token is neither a valid obslab API key nor a JupyterHub token the hub knows (unknown, expired or "
            "revoked)"
        )
    authenticated(request, owner.identity, "hub token")
    hub.require_access(owner)
    with context.sessions() as session:
        return hub.obslab_user(session, owner)


def authenticated(request: Request, identity: str, via: str) -> str:
    """Keep who the request proved to be (and how) for the audit of a refusal; returns ``identity``."""
    request.state.identity, request.state.via = identity, via
    return identity


#: A route's parameter for the acting user's name: ``actor: ApiUser``.
ApiUser = Annotated[str, Depends(api_user)]
