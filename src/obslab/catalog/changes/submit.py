"""Submitting change requests: check, number, store original and requested values, open the sign-off areas."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from obslab.access import User, require_role, role_addresses
from obslab.audit import record_event
from obslab.catalog.changes.change_rules import VERIFICATION, Area, ChangeRules
from obslab.catalog.changes.notices import area_owner_addresses, change_log_body
from obslab.catalog.changes.policy import Policy
from obslab.catalog.changes.validation import ChangeCheck, Problem, Schedule, check_change
from obslab.catalog.changes.views.revision import revision_views
from obslab.catalog.lookup import current_values, find_observation
from obslab.catalog.models import EDITABLE_STATUSES, Observation, Revision, RevisionValue, SignOff
from obslab.catalog.types import APPROVAL_KINDS, RevisionKind, SignOffState
from obslab.db import Clock, utcnow
from obslab.errors import ConflictError, InvalidInputError, ObslabError
from obslab.locking import flush, require_version, touch
from obslab.notify import enqueue

MAX_REVISION = 999
#: Warnings that mission planning is told about (seed §1.10: shift, target name, scheduled soon, active list).
MISSION_PLANNING_WARNINGS = frozenset({"large_shift", "mission_planning", "scheduled_soon", "on_active_list"})
#: (name, rank, value): rank 0 for a scalar, 1.. for a row of a ranked table; an empty value clears.
Edit = tuple[str, int, Any]


class ChangeRefusedError(ObslabError):
    """A change request failed its checks.

    ``problems`` lists every error, each naming parameter, value and what is allowed.
    """

    code = "change_refused"

    def __init__(self, check: ChangeCheck, obsid: int | None = None) -> None:
        problems = [problem.as_dict() for problem in check.errors]
        summary = "; ".join(problem.message for problem in check.errors)
        where = f"obsid {obsid}: " if obsid is not None else ""
        super().__init__(f"{where}change refused: {summary}", problems=problems, obsid=obsid)
        self.check = check


class NoChangeError(ConflictError):
    """Every requested value equals the current one, so there is nothing to submit."""

    code = "no_change"


def preview_change(
    session: Session, obsid: int, edits: Iterable[Edit], *, policy: Policy | None = None, now: Clock = utcnow
) -> ChangeCheck:
    """Check ``edits`` against the observation as it is now, writing nothing (the form's confirm step)."""
    policy = policy or Policy.default()
    observation = find_observation(session, obsid)
    check = _check(session, observation, list(edits), policy, now())
    if observation.status in EDITABLE_STATUSES:
        return check
    status = Problem("status", "status", 0, observation.status.value, _not_editable(observation))
    return replace(check, errors=(status, *check.errors))


def _not_editable(observation: Observation) -> str:
    allowed = ", ".join(sorted(EDITABLE_STATUSES))
    return (
        f"obsid {observation.obsid} is {observation.status.value} and cannot be changed; "
        f"only {allowed} observations can"
    )


def _check(
    session: Session, observation: Observation, edits: Sequence[Edit], policy: Policy, at: datetime
) -> ChangeCheck:
    schedule = Schedule(observation.scheduled_at, observation.on_active_list)
    return check_change(
        policy.schema, policy.rules, current_values(session, observation), edits, schedule=schedule, now=at
    )


def require_submitter(actor: User, rules: ChangeRules) -> None:
    """Refuse unless ``actor`` holds a submitter role of the change rules."""
    require_role(actor, rules.submitters, "submit change requests")


def submit_change(
    session: Session,
    actor: User,
    obsid: int,
    *,
    seen_version: int,
    kind: RevisionKind | str = RevisionKind.NORMAL,
    edits: Iterable[Edit] = (),
    comment: str = "",
    policy: Policy | None = None,
    now: Clock = utcnow,
    notify: bool = True,
) -> tuple[Revision, ChangeCheck]:
    """Submit revision ``<obsid>.<next>`` of ``kind`` in the caller's transaction; refusals write nothing.

    A normal change stores every original value and the requested ones, and opens the sign-off areas
    the change-rules file asks for; approve-as-is and remove-approval change only the approved state and
    are verified by the submitter at once; a split opens the areas configured for it.  Raises
    PermissionDeniedError, NotFoundError, InvalidInputError, StaleError (the observation changed since
    ``seen_version``), ConflictError (status not editable, nothing changes, SI mode missing) or
    ChangeRefusedError (with every problem).
    """
    policy = policy or Policy.default()
    at = now()
    kind = _kind(kind)
    if not isinstance(comment, str):
        raise InvalidInputError("comment", comment, "text")
    require_submitter(actor, policy.rules)
    observation = find_observation(session, obsid, lock=True)
    require_version(session, observation, seen_version, f"obsid {obsid}")
    if observation.status not in EDITABLE_STATUSES:
        raise ConflictError(_not_editable(observation), obsid=obsid, status=observation.status.value)
    edits = list(edits)
    if kind is not RevisionKind.NORMAL and edits:
        raise InvalidInputError(
            "edits", f"{len(edits)} edits", f"none for a {kind.value} revision; it changes no parameter"
        )
    if kind is RevisionKind.APPROVE_AS_IS and not observation.si_mode:
        raise ConflictError(f"obsid {obsid} has no SI mode, so it cannot be approved for flight", obsid=obsid)
    # An approval changes no parameter, so there is nothing to check (and express approval does this per obsid).
    check = (
        ChangeCheck({}, {}, (), (), ()) if kind in APPROVAL_KINDS else _check(session, observation, edits, policy, at)
    )
    if check.errors:
        raise ChangeRefusedError(check)
    if kind is RevisionKind.NORMAL and not check.changes:
        raise NoChangeError(
            f"obsid {obsid}: nothing changes; every requested value equals the current one", obsid=obsid
        )
    revision = _new_revision(session, actor, observation, kind, comment.strip(), check, policy, at)
    touch(observation, actor, at)
    was_approved = observation.approved
    if kind in APPROVAL_KINDS:
        observation.approved = kind is RevisionKind.APPROVE_AS_IS
    flush(session, f"obsid {obsid}")
    approval = kind in APPROVAL_KINDS
    record_event(
        session,
        actor=actor,
        action=f"revision.submitted.{kind.value}",
        entity_type="revision",
        entity_id=revision.label,
        before={"approved": was_approved} if approval else None,
        after=revision_views(session, [revision])[0].as_dict()
        | ({"approved": observation.approved} if approval else {}),
        now=lambda: at,
    )
    if notify:  # bulk callers (express approval) send one summary instead
        _notify_submitted(session, actor, observation, revision, check, policy, at)
    return revision, check


def _kind(kind: RevisionKind | str) -> RevisionKind:
    try:
        return RevisionKind(kind)
    except ValueError:
        raise InvalidInputError("kind", kind, "one of " + ", ".join(k.value for k in RevisionKind)) from None


def _new_revision(
    session: Session,
    actor: User,
    observation: Observation,
    kind: RevisionKind,
    comment: str,
    check: ChangeCheck,
    policy: Policy,
    at: datetime,
) -> Revision:
    last = session.scalar(select(func.max(Revision.number)).where(Revision.obsid == observation.obsid)) or 0
    if last >= MAX_REVISION:
        raise ConflictError(
            f"obsid {observation.obsid} already has {MAX_REVISION} revisions, the most a label can number"
        )
    revision = Revision(
        observation_id=observation.id,
        obsid=observation.obsid,
        number=last + 1,
        kind=kind,
        submitted_by_id=actor.id,
        submitted_at=at,
        comment=comment,
        notes=check.notes if kind is RevisionKind.NORMAL else {},
        updated_by_id=actor.id,
        updated_at=at,
    )
    if kind in (RevisionKind.NORMAL, RevisionKind.SPLIT):
        changed = {(c.name, c.rank): c for c in check.changes} if kind is RevisionKind.NORMAL else {}
        keys = set(check.original) | set(changed)
        revision.values = [
            RevisionValue(
                name=name,
                rank=rank,
                original=check.original.get((name, rank)),
                requested=changed[name, rank].requested
                if (name, rank) in changed
                else check.original.get((name, rank)),
                changed=(name, rank) in changed,
            )
            for name, rank in sorted(keys)
        ]
    revision.signoffs = _initial_signoffs(actor, observation, kind, check, policy, at)
    if all(s.state is not SignOffState.PENDING for s in revision.signoffs):
        revision.closed_at = at
    older = (
        []
        if kind is not RevisionKind.NORMAL
        else list(
            session.scalars(
                select(Revision).where(
                    Revision.obsid == observation.obsid,
                    Revision.closed_at.is_(None),
                    Revision.withdrawn_at.is_(None),
                    Revision.superseded_by_id.is_(None),
                )
            )
        )
    )
    session.add(revision)
    flush(session, f"obsid {observation.obsid}")  # the new revision's id, for the older ones to point at
    for old in older:
        old.superseded_by_id = revision.id
        touch(old, actor, at)
    return revision


def areas_needed(observation: Observation, kind: RevisionKind, check: ChangeCheck, policy: Policy) -> list[Area]:
    """The sign-off areas (before verification) a revision of ``kind`` with ``check``'s changes would open."""
    group_of = {name: group.key for group in policy.schema.groups for name in (spec.name for spec in group.parameters)}
    instruments = {
        value
        for value in (
            check.original.get(("instrument", 0)),
            check.requested.get(("instrument", 0)),
            observation.instrument,
        )
        if value
    }
    return [area for area in policy.rules.edit_areas if area.needed(kind, check.changed_names, group_of, instruments)]


def _initial_signoffs(
    actor: User, observation: Observation, kind: RevisionKind, check: ChangeCheck, policy: Policy, at: datetime
) -> list[SignOff]:
    rules = policy.rules
    needed = {area.key for area in areas_needed(observation, kind, check, policy)}
    signoffs = []
    for area in rules.edit_areas:
        signoffs.append(
            SignOff(
                area=area.key,
                position=area.position,
                updated_by_id=actor.id,
                updated_at=at,
                state=SignOffState.PENDING if area.key in needed else SignOffState.NOT_REQUIRED,
            )
        )
    auto = kind in APPROVAL_KINDS
    verification = SignOff(
        area=VERIFICATION,
        position=rules.verification.position,
        state=SignOffState.SIGNED if auto else SignOffState.PENDING,
        actor_id=actor.id if auto else None,
        acted_at=at if auto else None,
        updated_by_id=actor.id,
        updated_at=at,
    )
    return [*signoffs, verification]


def _notify_submitted(
    session: Session,
    actor: User,
    observation: Observation,
    revision: Revision,
    check: ChangeCheck,
    policy: Policy,
    at: datetime,
) -> None:
    subject = {
        RevisionKind.NORMAL: f"Parameter change log: {revision.label}",
        RevisionKind.APPROVE_AS_IS: f"{revision.label} (Approved)",
        RevisionKind.REMOVE_APPROVAL: f"{revision.label} (Remove request)",
        RevisionKind.SPLIT: f"{revision.label} (Split request)",
    }[revision.kind]
    body = change_log_body(observation, revision)
    if actor.email:
        enqueue(
            session,
            kind=f"revision.{revision.kind.value}",
            recipients=[actor.email],
            subject=subject,
            body=body,
            now=lambda: at,
        )
    pending = [s.area for s in revision.signoffs if s.state is SignOffState.PENDING and s.area != VERIFICATION]
    owners = area_owner_addresses(session, policy.rules, pending)
    if owners:
        enqueue(
            session,
            kind="revision.signoff_needed",
            recipients=owners,
            subject=f"Sign-off needed: {revision.label}",
            body=body,
            now=lambda: at,
        )
    planning = [w for w in check.warnings if w.code in MISSION_PLANNING_WARNINGS]
    role = policy.rules.recipients.mission_planning
    if planning and role and (addresses := role_addresses(session, [role])):
        enqueue(
            session,
            kind="revision.mission_planning",
            recipients=addresses,
            cc=[actor.email] if actor.email else [],
            subject=f"Mission planning attention: {revision.label}",
            body="".join(f"- {w.message}\n" for w in planning) + "\n" + body,
            now=lambda: at,
        )
