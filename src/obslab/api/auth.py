"""Who is calling: an API key in ``Authorization: FPS_API APIKEY=<key>`` (the fplane clients') or ``Bearer <key>``.

Keys are compared by looking up the SHA-256 of the key sent (``access.authenticate_api_key``), never by comparing
the key with a stored one: what a timing side channel could leak is how much of that hash matches a stored hash,
and since nobody can choose a key whose hash starts a certain way, that brings no guess closer to a 192-bit key.
So the lookup is as safe as ``hmac.compare_digest``, and it stays one indexed query however many keys exist.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader

from obslab.access import authenticate_api_key
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
    """The user name behind the request's API key; the key's last use is recorded (committed at once)."""
    key = key_from_header(authorization)
    context = request.app.state.context
    with context.transaction() as session:
        user = authenticate_api_key(session, key, now=context.now)
        if user is None:
            raise AuthenticationError("the API key is not valid: unknown, revoked, or its user deactivated")
        return user.username


#: A route's parameter for the acting user's name: ``actor: ApiUser``.
ApiUser = Annotated[str, Depends(api_user)]
