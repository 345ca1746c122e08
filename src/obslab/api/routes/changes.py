"""``GET /api/v1/changes/{label}`` (a change request as read) and ``POST .../signoffs/{area}`` (sign one area)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from obslab.access import get_user
from obslab.api.auth import ApiUser
from obslab.api.deps import context_of
from obslab.api.errors import error_responses
from obslab.catalog.changes.guards import find_revision
from obslab.catalog.changes.signoff import sign_off
from obslab.catalog.changes.views.revision import revision_views

router = APIRouter(prefix="/api/v1/changes", tags=["changes"])
Label = Annotated[str, Path(max_length=16, description="A revision: `<obsid>.<number>`.", examples=["30001.001"])]
Area = Annotated[str, Path(max_length=64, description="An edit area, as the revision's `signoffs` name it.")]


class SignOffRequest(BaseModel):
    """What signing states: the version of the area's sign-off the caller read."""

    model_config = ConfigDict(extra="forbid")

    seen_version: int = Field(
        ge=0,
        le=2**31 - 1,
        description="The `version` of this area in the revision's `signoffs`, as `GET /api/v1/changes/{label}` "
        "answered it: refused (409) if the sign-off changed since.",
    )


@router.get("/{label}", responses=error_responses(400, 401, 403, 404, 503))
def get_change(request: Request, username: ApiUser, label: Label) -> dict[str, Any]:
    """One change request: what it asks, its status and each sign-off with the version an action must state."""
    with context_of(request).sessions() as session:
        return revision_views(session, [find_revision(session, label)])[0].as_dict()


@router.post("/{label}/signoffs/{area}", responses=error_responses(400, 401, 403, 404, 409, 503))
def post_signoff(
    request: Request, username: ApiUser, label: Label, area: Area, body: Annotated[SignOffRequest, Body()]
) -> dict[str, Any]:
    """Sign `area` of revision `label` as the caller; needs the area's role. Answers the revision as signed."""
    context = context_of(request)
    with context.transaction() as session:
        revision = sign_off(
            session,
            get_user(session, username),
            label,
            area,
            seen_version=body.seen_version,
            policy=context.catalog_policy,
            now=context.now,
        )
        return revision_views(session, [revision])[0].as_dict()
