"""One person's recent change-request actions, each with whether it can still be undone and how."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from obslab.access import User
from obslab.catalog.changes.change_rules import VERIFICATION, ChangeRules, default_change_rules
from obslab.catalog.changes.eligibility import withdraw_blockers
from obslab.catalog.models import Revision, SignOff
from obslab.catalog.types import APPROVAL_KINDS, RevisionKind, SignOffState
from obslab.db import Clock, utcnow


@dataclass(frozen=True)
class RecentAction:
    """Something the person did within the undo window, and the undo the services would accept (or why not)."""

    label: str
    what: str  # "submitted norm", "signed acis", "verified", "approved"...
    at: datetime
    undo: str | None  # "withdraw", "undo_sign_off:<area>", "undo_verification", or None
    why_not: str = ""
    version: int = 0  # the version the undo must state (the revision's or the sign-off's)


def recent_actions(
    session: Session, user: User, *, rules: ChangeRules | None = None, now: Clock = utcnow
) -> list[RecentAction]:
    """The user's submissions, sign-offs and verifications of the undo window, newest first."""
    rules = rules or default_change_rules()
    at = now()
    since = at - timedelta(hours=rules.undo_within_hours)
    actions: list[RecentAction] = []
    submitted = session.scalars(
        select(Revision)
        .where(Revision.submitted_by_id == user.id, Revision.submitted_at >= since, Revision.withdrawn_at.is_(None))
        .options(selectinload(Revision.signoffs))
    )
    for revision in submitted:
        acted = withdraw_blockers(revision.kind, revision.signoffs)
        what = "approved" if revision.kind is RevisionKind.APPROVE_AS_IS else f"submitted {revision.kind.value}"
        actions.append(
            RecentAction(
                revision.label,
                what,
                revision.submitted_at,
                None if acted else "withdraw",
                f"{', '.join(acted)} already acted on it" if acted else "",
                revision.version,
            )
        )
    signed = session.execute(
        select(SignOff, Revision)
        .join(Revision, Revision.id == SignOff.revision_id)
        .where(
            SignOff.actor_id == user.id,
            SignOff.state == SignOffState.SIGNED,
            SignOff.acted_at >= since,
            Revision.kind.not_in(APPROVAL_KINDS),
            Revision.withdrawn_at.is_(None),
        )
    ).all()
    for signoff, revision in signed:
        if signoff.area == VERIFICATION:
            actions.append(
                RecentAction(revision.label, "verified", signoff.acted_at, "undo_verification", "", revision.version)
            )
        elif revision.closed_at is not None:
            actions.append(
                RecentAction(
                    revision.label,
                    f"signed {signoff.area}",
                    signoff.acted_at,
                    None,
                    "the revision is closed",
                    signoff.version,
                )
            )
        else:
            actions.append(
                RecentAction(
                    revision.label,
                    f"signed {signoff.area}",
                    signoff.acted_at,
                    f"undo_sign_off:{signoff.area}",
                    "",
                    signoff.version,
                )
            )
    return sorted(actions, key=lambda action: action.at, reverse=True)
