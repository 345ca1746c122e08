"""One change request applied to several observations, with the Ocat's rules for what may be copied where."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from obslab.access import User, role_addresses
from obslab.catalog.changes.policy import Policy
from obslab.catalog.changes.submit import (
    ChangeRefusedError,
    Edit,
    NoChangeError,
    require_submitter,
    submit_change,
)
from obslab.catalog.lookup import current_values
from obslab.catalog.models import EDITABLE_STATUSES, Observation
from obslab.catalog.values import family_of
from obslab.db import Clock, utcnow
from obslab.errors import InvalidInputError, NotFoundError
from obslab.notify import enqueue


class Outcome(enum.StrEnum):
    SUBMITTED = "submitted"
    NO_CHANGE = "no change"
    NOT_EDITABLE = "not editable"
    UNKNOWN = "unknown obsid"


@dataclass(frozen=True)
class TargetResult:
    """What happened to one observation of a multi-observation request."""

    obsid: int
    outcome: Outcome
    revision: str | None = None
    left_out: tuple[str, ...] = ()  # edits not copied here, each with the reason


def edits_for(
    policy: Policy,
    source: Mapping[tuple[str, int], object],
    source_instrument: str | None,
    target: Mapping[tuple[str, int], object],
    target_instrument: str | None,
    edits: Iterable[Edit],
) -> tuple[list[Edit], list[str]]:
    """The edits that may be copied to a target, and why the others may not.

    Instrument-family parameters go only to observations of the same family; a ranked table's rows go
    only where the target's table is identical to the source's original table (Ocat rules).
    """
    schema = policy.schema
    families = {group.family for group in schema.groups if group.family}
    same_family = family_of(source_instrument, families) == family_of(target_instrument, families)
    kept, left_out = [], []
    for name, rank, value in edits:
        group = schema.group_of(name)
        if group is not None and group.family and not same_family:
            left_out.append(f"{name}: {group.label} apply to {group.family} only; this is {target_instrument}")
            continue
        if group is not None and group.ranked:
            names = {spec.name for spec in group.parameters}
            ours = {key: value for key, value in source.items() if key[0] in names}
            theirs = {key: value for key, value in target.items() if key[0] in names}
            if ours != theirs:
                left_out.append(
                    f"{name}[{rank}]: the {group.label.lower()} table differs from the source observation's"
                )
                continue
        kept.append((name, rank, value))
    return kept, left_out


def versions_as_read_now(
    session: Session, source_obsid: int, others: Iterable[int], *, source_seen_version: int | None = None
) -> dict[int, int]:
    """A ``seen_versions`` map for ``submit_to_many`` when the caller showed no versions: each one as read now.

    This guards nothing against a change made by someone else before this transaction read the rows; pass
    ``source_seen_version`` to guard the source observation with the version the caller did show. An obsid
    that is not in the catalog maps to 0, so ``submit_to_many`` reports it as unknown.
    """
    others = list(others)
    rows = session.execute(
        select(Observation.obsid, Observation.version).where(Observation.obsid.in_([source_obsid, *others]))
    )
    versions = dict(rows.all())
    if source_seen_version is not None:
        versions[source_obsid] = source_seen_version
    return versions | {obsid: 0 for obsid in others if obsid not in versions}


def submit_to_many(
    session: Session,
    actor: User,
    source_obsid: int,
    others: Iterable[int],
    *,
    seen_versions: Mapping[int, int],
    edits: Iterable[Edit],
    comment: str = "",
    policy: Policy | None = None,
    now: Clock = utcnow,
) -> list[TargetResult]:
    """Submit ``edits`` for the source observation and copy them to ``others``, all in the caller's transaction.

    Observations that cannot change or where nothing would change are reported and skipped; a refusal on
    any observation refuses the whole request (its message names the obsid), so nothing is half-applied.
    """
    policy = policy or Policy.default()
    at = now()
    require_submitter(actor, policy.rules)
    edits = list(edits)
    others = list(dict.fromkeys(obsid for obsid in others if obsid != source_obsid))
    source = session.scalar(select(Observation).where(Observation.obsid == source_obsid))
    if source is None:
        raise NotFoundError(f"obsid {source_obsid} is not in the catalog", obsid=source_obsid)
    source_values = current_values(session, source)
    if missing := [obsid for obsid in [source_obsid, *others] if obsid not in seen_versions]:
        raise InvalidInputError(
            "seen_versions", sorted(seen_versions), f"a version for every obsid; missing {missing[0]}"
        )
    results = []
    targets = {
        o.obsid: o
        for o in session.scalars(select(Observation).where(Observation.obsid.in_(others)).order_by(Observation.obsid))
    }
    for obsid in [source_obsid, *others]:
        observation = source if obsid == source_obsid else targets.get(obsid)
        if observation is None:
            results.append(TargetResult(obsid, Outcome.UNKNOWN))
            continue
        if obsid != source_obsid and observation.status not in EDITABLE_STATUSES:
            results.append(TargetResult(obsid, Outcome.NOT_EDITABLE, left_out=(observation.status.value,)))
            continue
        copied, left_out = (
            (edits, [])
            if obsid == source_obsid
            else edits_for(
                policy,
                source_values,
                source.instrument,
                current_values(session, observation),
                observation.instrument,
                edits,
            )
        )
        try:
            revision, _check = submit_change(
                session,
                actor,
                obsid,
                seen_version=seen_versions[obsid],
                edits=copied,
                comment=comment,
                policy=policy,
                now=lambda: at,
            )
        except ChangeRefusedError as refused:
            raise ChangeRefusedError(refused.check, obsid=obsid) from None
        except NoChangeError:
            if obsid == source_obsid:
                raise
            results.append(TargetResult(obsid, Outcome.NO_CHANGE, left_out=tuple(left_out)))
            continue
        results.append(TargetResult(obsid, Outcome.SUBMITTED, revision.label, tuple(left_out)))
    submitted = [r.revision for r in results if r.outcome is Outcome.SUBMITTED]
    role = policy.rules.recipients.several_observations
    if len(submitted) > 1 and role and (addresses := role_addresses(session, [role])):
        changes = "".join(f"  {name}{f'[{rank}]' if rank else ''} = {value!r}\n" for name, rank, value in edits)
        enqueue(
            session,
            kind="revision.several",
            recipients=addresses,
            subject=f"One change for {len(submitted)} observations",
            body="Revisions: " + ", ".join(str(label) for label in submitted) + "\n\nRequested:\n" + changes,
            now=lambda: at,
        )
    return results
