"""Acting on a revision: sign an area, verify (and approve), discard, and undo one's own recent actions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from obslab.access import User, require_active, require_role
from obslab.audit import record_event
from obslab.catalog.changes.change_rules import VERIFICATION
from obslab.catalog.changes.eligibility import withdraw_blockers
from obslab.catalog.changes.guards import find_revision, require_recent
from obslab.catalog.changes.notices import area_owner_addresses, change_log_body
from obslab.catalog.changes.policy import Policy
from obslab.catalog.changes.submit import submit_change
from obslab.catalog.changes.validation import label as value_label
from obslab.catalog.lookup import current_values
from obslab.catalog.models import Observation, ObservationParameter, Revision, SignOff
from obslab.catalog.types import APPROVAL_KINDS, RevisionKind, SignOffState
from obslab.catalog.values import MIRRORED, same_value
from obslab.db import Clock, utcnow
from obslab.errors import ConflictError, InvalidInputError, PermissionDeniedError
from obslab.locking import flush, require_version, touch
from obslab.notify import enqueue

DONE = (SignOffState.SIGNED, SignOffState.NOT_REQUIRED, SignOffState.DISCARDED)


def _signoff(revision: Revision, area: str) -> SignOff:
    for signoff in revision.signoffs:
        if signoff.area == area:
            return signoff
    raise InvalidInputError("area", area, "one of " + ", ".join(s.area for s in revision.signoffs))


def _require_open(revision: Revision) -> None:
    if revision.withdrawn_at is not None:
        raise ConflictError(f"revision {revision.label} was withdrawn", revision=revision.label)
    if revision.closed_at is not None:
        raise ConflictError(f"revision {revision.label} is closed", revision=revision.label)


def _open_revision_for_verifier(
    session: Session, actor: User, label: str, seen_version: int, policy: Policy, action: str
) -> Revision:
    """The open revision ``label``, locked, once the actor holds the verification role and saw its current version."""
    revision = find_revision(session, label, lock=True)
    require_role(actor, policy.rules.verification.role, action)
    require_version(session, revision, seen_version, f"revision {revision.label}")
    _require_open(revision)
    return revision


def _state(revision: Revision) -> dict[str, Any]:
    return {
        s.area: {"state": s.state.value, "by": s.actor_id, "at": s.acted_at.isoformat() if s.acted_at else None}
        for s in revision.signoffs
    }


def _mark(signoff: SignOff, state: SignOffState, actor: User, at: datetime) -> None:
    """Put a sign-off in ``state``; who and when are kept for signed and discarded, cleared for pending."""
    acted = state is not SignOffState.PENDING
    signoff.state, signoff.actor_id, signoff.acted_at = state, actor.id if acted else None, at if acted else None
    touch(signoff, actor, at)


def _record(
    session: Session,
    actor: User,
    revision: Revision,
    action: str,
    what: str,
    before: dict[str, Any],
    at: datetime,
    **extra: Any,
) -> None:
    """Flush (refusing a lost race) and add the audit event of an action on ``revision``."""
    flush(session, what)
    record_event(
        session,
        actor=actor,
        action=action,
        entity_type="revision",
        entity_id=revision.label,
        before=before,
        after={**_state(revision), **extra},
        now=lambda: at,
    )


def sign_off(
    session: Session,
    actor: User,
    label: str,
    area: str,
    *,
    seen_version: int,
    policy: Policy | None = None,
    now: Clock = utcnow,
) -> Revision:
    """Sign one edit area of an open revision; needs the area's role.  ``seen_version`` is the sign-off row's."""
    policy = policy or Policy.default()
    at = now()
    if area == VERIFICATION:
        raise InvalidInputError("area", area, "an edit area; verification is done with verify")
    revision = find_revision(session, label, lock=True)
    signoff = _signoff(revision, area)
    require_role(actor, policy.rules.area(area).role, f"sign off the {area} area")
    require_version(session, signoff, seen_version, f"the {area} sign-off of {revision.label}")
    _require_open(revision)
    if signoff.state is not SignOffState.PENDING:
        raise ConflictError(
            f"the {area} sign-off of {revision.label} is {signoff.state.value.replace('_', ' ')}, not pending",
            revision=revision.label,
            area=area,
        )
    before = _state(revision)
    _mark(signoff, SignOffState.SIGNED, actor, at)
    _record(session, actor, revision, "signoff.signed", f"the {area} sign-off of {revision.label}", before, at)
    _chase(session, policy, revision, at)
    if all(s.state in DONE for s in revision.signoffs if s.area != VERIFICATION):
        submitter = session.get(User, revision.submitted_by_id) if revision.submitted_by_id else None
        if submitter is not None and submitter.email:
            enqueue(
                session,
                kind="revision.ready_to_verify",
                recipients=[submitter.email],
                subject=f"Ready to verify: {revision.label}",
                body=change_log_body(revision.observation, revision),
                now=lambda: at,
            )
    return revision


def _chase(session: Session, policy: Policy, revision: Revision, at: datetime) -> None:
    """For chained types (ToO, DDT): tell the owners of the next pending edit area it is their turn."""
    if revision.observation.obs_type not in policy.rules.recipients.chained_types:
        return
    waiting = sorted(
        (s for s in revision.signoffs if s.area != VERIFICATION and s.state is SignOffState.PENDING),
        key=lambda s: s.position,
    )
    if waiting and (owners := area_owner_addresses(session, policy.rules, [waiting[0].area])):
        enqueue(
            session,
            kind="revision.chase",
            recipients=owners,
            subject=f"{revision.observation.obs_type} {revision.label}: "
            f"{policy.rules.area(waiting[0].area).label} sign-off is next",
            body=change_log_body(revision.observation, revision),
            now=lambda: at,
        )


def verify(
    session: Session,
    actor: User,
    label: str,
    *,
    seen_version: int,
    approve: bool = False,
    policy: Policy | None = None,
    now: Clock = utcnow,
) -> Revision:
    """Verify a revision once every edit area is done: the catalog takes the requested values.

    With ``approve``, also submit an approve-as-is revision (sign-and-approve).  ``seen_version`` is the
    revision's.  Returns the verified revision (or the approval revision when approving).
    """
    policy = policy or Policy.default()
    at = now()
    revision = _open_revision_for_verifier(session, actor, label, seen_version, policy, "verify change requests")
    waiting = [s.area for s in revision.signoffs if s.area != VERIFICATION and s.state is SignOffState.PENDING]
    if waiting:
        raise ConflictError(
            f"revision {revision.label} cannot be verified yet: waiting for {', '.join(waiting)}",
            revision=revision.label,
            waiting=waiting,
        )
    before = _state(revision)
    verification = _signoff(revision, VERIFICATION)
    _mark(verification, SignOffState.SIGNED, actor, at)
    revision.closed_at = at
    touch(revision, actor, at)
    applied = _apply(session, revision) if revision.kind is RevisionKind.NORMAL else {}
    if applied:
        touch(revision.observation, actor, at)
    _record(session, actor, revision, "revision.verified", f"revision {revision.label}", before, at, applied=applied)
    if not approve:
        return revision
    approval, _check = submit_change(
        session,
        actor,
        revision.obsid,
        seen_version=revision.observation.version,
        kind=RevisionKind.APPROVE_AS_IS,
        comment=f"approved on verifying {revision.label}",
        policy=policy,
        now=lambda: at,
    )
    return approval


def _apply(session: Session, revision: Revision) -> dict[str, Any]:
    """Write the revision's requested values into the catalog; returns name[rank] -> [before, after]."""
    changed = [v for v in revision.values if v.changed]
    return _write(session, revision.observation, [(v.name, v.rank, v.requested) for v in changed])


def _write(session: Session, observation: Observation, values: list[tuple[str, int, Any]]) -> dict[str, Any]:
    """Set parameters (None deletes), keeping the mirrored summary columns in step; name[rank] -> [before, after]."""
    stored = {
        (p.name, p.rank): p
        for p in session.scalars(
            select(ObservationParameter).where(ObservationParameter.observation_id == observation.id)
        )
    }
    written = {}
    for name, rank, value in values:
        row = stored.get((name, rank))
        written[value_label(name, rank)] = [row.value if row is not None else None, value]
        if value is None:
            if row is not None:
                session.delete(row)
        elif row is not None:
            row.value = value
        else:
            session.add(ObservationParameter(observation_id=observation.id, name=name, rank=rank, value=value))
        if rank == 0 and name in MIRRORED and value is not None:
            setattr(observation, MIRRORED[name], value)
    return written


def discard(
    session: Session, actor: User, label: str, *, seen_version: int, policy: Policy | None = None, now: Clock = utcnow
) -> Revision:
    """Abandon an open revision while an edit area is still pending: pending areas become discarded, it closes."""
    policy = policy or Policy.default()
    at = now()
    revision = _open_revision_for_verifier(session, actor, label, seen_version, policy, "discard change requests")
    before = _state(revision)
    for signoff in revision.signoffs:
        if signoff.state is SignOffState.PENDING:
            _mark(signoff, SignOffState.DISCARDED, actor, at)
    revision.closed_at = at
    touch(revision, actor, at)
    _record(session, actor, revision, "revision.discarded", f"revision {revision.label}", before, at)
    return revision


def withdraw(
    session: Session, actor: User, label: str, *, seen_version: int, policy: Policy | None = None, now: Clock = utcnow
) -> Revision:
    """Undo one's own submission within the undo window: a revision nobody has signed yet, or one's own approval.

    The revision keeps its number and record but counts for nothing; undoing an approval (or a removal)
    returns the observation to the approved state the earlier revisions give it.
    """
    policy = policy or Policy.default()
    at = now()
    require_active(actor, f"withdraw {label}")
    revision = find_revision(session, label, lock=True)
    if revision.submitted_by_id != actor.id:
        raise PermissionDeniedError(
            f"{actor.username} may not withdraw {revision.label}: only its submitter may", username=actor.username
        )
    require_version(session, revision, seen_version, f"revision {revision.label}")
    if revision.withdrawn_at is not None:
        raise ConflictError(f"revision {revision.label} was already withdrawn", revision=revision.label)
    require_recent(revision.submitted_at, at, policy.rules.undo_within_hours, f"submitting {revision.label}")
    acted = withdraw_blockers(revision.kind, revision.signoffs)
    auto = revision.kind in APPROVAL_KINDS
    if acted:
        raise ConflictError(
            f"revision {revision.label} cannot be withdrawn: {', '.join(acted)} already acted on it",
            revision=revision.label,
        )
    before = _state(revision)
    revision.withdrawn_at = at
    revision.closed_at = revision.closed_at or at
    touch(revision, actor, at)
    observation = revision.observation
    was_approved = observation.approved
    if auto:
        observation.approved = derived_approval(session, observation, excluding=revision.id)
        touch(observation, actor, at)
    flush(session, f"revision {revision.label}")
    record_event(
        session,
        actor=actor,
        action="revision.withdrawn",
        entity_type="revision",
        entity_id=revision.label,
        before={**before, "approved": was_approved},
        after={"withdrawn": True, "approved": observation.approved},
        now=lambda: at,
    )
    return revision


def undo_sign_off(
    session: Session,
    actor: User,
    label: str,
    area: str,
    *,
    seen_version: int,
    policy: Policy | None = None,
    now: Clock = utcnow,
) -> Revision:
    """Take back one's own sign-off of an edit area while verification is still pending; it is pending again."""
    policy = policy or Policy.default()
    at = now()
    require_active(actor, f"undo a sign-off of {label}")
    revision = find_revision(session, label, lock=True)
    signoff = _signoff(revision, area)
    if area == VERIFICATION:
        raise InvalidInputError("area", area, "an edit area; a verification is undone with undo_verification")
    if signoff.state is SignOffState.SIGNED and signoff.actor_id != actor.id:
        raise PermissionDeniedError(
            f"{actor.username} may not undo the {area} sign-off of {revision.label}: it is not theirs",
            username=actor.username,
        )
    # Version before state: a page that saw the sign-off before it was undone elsewhere hears who did that.
    require_version(session, signoff, seen_version, f"the {area} sign-off of {revision.label}")
    if signoff.state is not SignOffState.SIGNED:
        state = signoff.state.value.replace("_", " ")
        raise ConflictError(
            f"the {area} sign-off of {revision.label} is {state}; there is nothing to undo", revision=revision.label
        )
    _require_open(revision)
    require_recent(signoff.acted_at, at, policy.rules.undo_within_hours, f"the {area} sign-off of {revision.label}")
    before = _state(revision)
    _mark(signoff, SignOffState.PENDING, actor, at)
    _record(session, actor, revision, "signoff.undone", f"the {area} sign-off of {revision.label}", before, at)
    return revision


def undo_verification(
    session: Session, actor: User, label: str, *, seen_version: int, policy: Policy | None = None, now: Clock = utcnow
) -> Revision:
    """Take back one's own verification: the revision reopens and the catalog gets its original values back.

    Refused when a value it applied has changed since (a later revision), so nothing is overwritten blindly.
    """
    policy = policy or Policy.default()
    at = now()
    require_active(actor, f"undo the verification of {label}")
    revision = find_revision(session, label, lock=True)
    verification = _signoff(revision, VERIFICATION)
    auto = revision.kind in APPROVAL_KINDS
    if auto:
        raise ConflictError(
            f"revision {revision.label} verified itself on submission; withdraw it instead", revision=revision.label
        )
    if verification.state is SignOffState.SIGNED and verification.actor_id != actor.id:
        raise PermissionDeniedError(
            f"{actor.username} may not undo the verification of {revision.label}: it is not theirs",
            username=actor.username,
        )
    require_version(session, revision, seen_version, f"revision {revision.label}")
    if verification.state is not SignOffState.SIGNED:
        raise ConflictError(
            f"revision {revision.label} is not verified; there is nothing to undo", revision=revision.label
        )
    require_recent(verification.acted_at, at, policy.rules.undo_within_hours, f"the verification of {revision.label}")
    restored = _restore(session, revision) if revision.kind is RevisionKind.NORMAL else {}
    if restored:
        touch(revision.observation, actor, at)
    before = _state(revision)
    _mark(verification, SignOffState.PENDING, actor, at)
    revision.closed_at = None
    touch(revision, actor, at)
    _record(
        session, actor, revision, "verification.undone", f"revision {revision.label}", before, at, restored=restored
    )
    return revision


def _restore(session: Session, revision: Revision) -> dict[str, Any]:
    """Put back the original values of what the revision applied, unless one has changed since."""
    current = current_values(session, revision.observation)
    changed = [v for v in revision.values if v.changed]
    if moved := [v for v in changed if not same_value(current.get((v.name, v.rank)), v.requested)]:
        names = ", ".join(value_label(v.name, v.rank) for v in moved)
        raise ConflictError(
            f"the verification of {revision.label} cannot be undone: {names} changed since", revision=revision.label
        )
    return _write(session, revision.observation, [(v.name, v.rank, v.original) for v in changed])


def derived_approval(session: Session, observation: Observation, *, excluding: int | None = None) -> bool:
    """Approved or not, from the revision history: the last approve-as-is or remove-approval not withdrawn wins."""
    query = select(Revision.kind).where(
        Revision.observation_id == observation.id, Revision.withdrawn_at.is_(None), Revision.kind.in_(APPROVAL_KINDS)
    )
    if excluding is not None:
        query = query.where(Revision.id != excluding)
    return session.scalar(query.order_by(Revision.number.desc()).limit(1)) is RevisionKind.APPROVE_AS_IS
