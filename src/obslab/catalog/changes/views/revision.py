"""One revision as every face shows it, with people by name: the one serialiser of a revision."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from obslab.access import usernames
from obslab.catalog.models import Revision
from obslab.catalog.types import SignOffState


@dataclass(frozen=True)
class ValueChange:
    """One parameter the revision changes: the value at submission and the one asked for."""

    name: str
    rank: int
    original: Any
    requested: Any

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "rank": self.rank, "original": self.original, "requested": self.requested}


@dataclass(frozen=True)
class SignOffView:
    """One area of one revision: its state, who acted and when, and the version an action must state."""

    area: str
    position: int
    state: SignOffState
    by: str | None
    at: datetime | None
    version: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "area": self.area,
            "state": self.state.value,
            "version": self.version,
            "by": self.by,
            "at": self.at and self.at.isoformat(),
        }


@dataclass(frozen=True)
class RevisionView:
    """A revision as read: what it asks, who asked, its one-word status and every sign-off in working order."""

    label: str
    obsid: int
    kind: str
    status: str
    version: int
    submitted_by: str | None
    submitted_at: datetime
    comment: str
    closed_at: datetime | None
    withdrawn_at: datetime | None
    superseded: bool
    notes: Mapping[str, Any]
    changes: tuple[ValueChange, ...]
    signoffs: tuple[SignOffView, ...]

    def as_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``, the audit log and the API."""
        return {
            "revision": self.label,
            "obsid": self.obsid,
            "kind": self.kind,
            "status": self.status,
            "version": self.version,
            "submitted_by": self.submitted_by,
            "submitted_at": self.submitted_at.isoformat(),
            "comment": self.comment,
            "closed_at": self.closed_at and self.closed_at.isoformat(),
            "withdrawn_at": self.withdrawn_at and self.withdrawn_at.isoformat(),
            "notes": dict(self.notes),
            "superseded": self.superseded,
            "changes": [change.as_dict() for change in self.changes],
            "signoffs": [signoff.as_dict() for signoff in self.signoffs],
        }


def revision_status(revision: Revision) -> str:
    """A one-word status derived from the revision's sign-offs, as the history shows it."""
    states = [s.state for s in revision.signoffs]
    if revision.superseded_by_id is not None:
        return "superseded"
    if SignOffState.DISCARDED in states:
        return "discarded"
    if states and all(s in (SignOffState.SIGNED, SignOffState.NOT_REQUIRED) for s in states):
        return "complete"
    return "closed" if revision.closed_at is not None else "open"


def revision_view(revision: Revision, names: Mapping[int, str]) -> RevisionView:
    """The view of a loaded revision; ``names`` maps user ids to usernames (see ``revision_views``)."""
    changes = tuple(
        ValueChange(v.name, v.rank, v.original, v.requested)
        for v in sorted(revision.values, key=lambda v: (v.name, v.rank))
        if v.changed
    )
    signoffs = tuple(
        SignOffView(s.area, s.position, s.state, names.get(s.actor_id) if s.actor_id else None, s.acted_at, s.version)
        for s in sorted(revision.signoffs, key=lambda s: s.position)
    )
    return RevisionView(
        label=revision.label,
        obsid=revision.obsid,
        kind=revision.kind.value,
        status=revision_status(revision),
        version=revision.version,
        submitted_by=names.get(revision.submitted_by_id) if revision.submitted_by_id else None,
        submitted_at=revision.submitted_at,
        comment=revision.comment,
        closed_at=revision.closed_at,
        withdrawn_at=revision.withdrawn_at,
        superseded=revision.superseded_by_id is not None,
        notes=dict(revision.notes or {}),
        changes=changes,
        signoffs=signoffs,
    )


def revision_views(session: Session, revisions: Sequence[Revision]) -> list[RevisionView]:
    """Views of loaded revisions, with everyone they name looked up in one query."""
    names = usernames(
        session, [*(r.submitted_by_id for r in revisions), *(s.actor_id for r in revisions for s in r.signoffs)]
    )
    return [revision_view(revision, names) for revision in revisions]
