"""``GET /api/v1/me``: who an API key belongs to and the roles it acts with, so a script can check its key."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel

from obslab.access import get_user
from obslab.api.auth import ApiUser
from obslab.api.errors import error_responses

router = APIRouter(prefix="/api/v1", tags=["users"])


class Me(BaseModel):
    username: str
    full_name: str
    roles: list[str]


@router.get("/me", response_model=Me, responses=error_responses(401))
def me(request: Request, username: ApiUser) -> Me:
    """The user the request's API key belongs to."""
    with request.app.state.context.sessions() as session:
        user = get_user(session, username)
        return Me(username=user.username, full_name=user.full_name, roles=user.role_names)
