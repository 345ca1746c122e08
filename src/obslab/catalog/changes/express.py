"""Express approval: a pasted list of obsids, a status for each, and the approvable ones approved in one transaction."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from obslab.access import User
from obslab.catalog.changes.policy import Policy
from obslab.catalog.changes.submit import require_submitter, submit_change
from obslab.catalog.models import EDITABLE_STATUSES, Observation, Revision
from obslab.catalog.obsids import parse_obsid_list
from obslab.db import Clock, utcnow
from obslab.errors import InvalidInputError
from obslab.notify import enqueue


class ExpressStatus(enum.StrEnum):
    APPROVABLE = "approvable"
    OTHER_SUBMITTER = "last submitted by someone else"  # still approvable, but flagged (Ocat status "<poc>")
    ALREADY_APPROVED = "already approved"
    UNKNOWN = "unknown obsid"
    NOT_EDITABLE = "not editable"
    MISSING_SI_MODE = "no SI mode"


APPROVABLE = (ExpressStatus.APPROVABLE, ExpressStatus.OTHER_SUBMITTER)
CHUNK = 5_000


@dataclass(frozen=True)
class ExpressRow:
    """One obsid of the list: what express approval would do with it, and why."""

    obsid: int
    status: ExpressStatus
    detail: str = ""
    version: int | None = None

    @property
    def approvable(self) -> bool:
        return self.status in APPROVABLE


@dataclass(frozen=True)
class ExpressResult:
    """What express approval did: the approval revisions made, and every obsid left alone with its reason."""

    approved: tuple[str, ...]
    skipped: tuple[ExpressRow, ...]


def _obsids(obsids: str | Iterable[int]) -> list[int]:
    if isinstance(obsids, str):
        return parse_obsid_list(obsids)
    listed = list(obsids)
    if not all(isinstance(obsid, int) and not isinstance(obsid, bool) for obsid in listed):
        raise InvalidInputError("obsids", listed, "whole numbers")
    return list(dict.fromkeys(listed))


def express_check(
    session: Session, actor: User, obsids: str | Iterable[int], *, lock: bool = False
) -> list[ExpressRow]:
    """The status of every listed obsid, in list order (ranges, commas, semicolons and spaces are accepted)."""
    wanted = _obsids(obsids)
    if not wanted:
        raise InvalidInputError("obsids", obsids, "at least one obsid, e.g. 20001-20050, 20077")
    found: dict[int, Observation] = {}
    last_submitter: dict[int, str] = {}
    # In chunks: PostgreSQL takes at most 65,535 bound parameters per statement.
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        query = select(Observation).where(Observation.obsid.in_(chunk)).order_by(Observation.obsid)
        found.update((o.obsid, o) for o in session.scalars(query.with_for_update() if lock else query))
        # Ordered by number, so the dict keeps each obsid's latest submitter.
        last_submitter.update(
            session.execute(
                select(Revision.obsid, User.username)
                .join(User, User.id == Revision.submitted_by_id)
                .where(Revision.obsid.in_(chunk), Revision.withdrawn_at.is_(None))
                .order_by(Revision.obsid, Revision.number)
            ).all()
        )
    rows = []
    for obsid in wanted:
        observation = found.get(obsid)
        if observation is None:
            rows.append(ExpressRow(obsid, ExpressStatus.UNKNOWN, "not in the catalog"))
        elif observation.status not in EDITABLE_STATUSES:
            rows.append(ExpressRow(obsid, ExpressStatus.NOT_EDITABLE, observation.status.value, observation.version))
        elif observation.approved:
            rows.append(ExpressRow(obsid, ExpressStatus.ALREADY_APPROVED, "", observation.version))
        elif not observation.si_mode:
            rows.append(
                ExpressRow(
                    obsid, ExpressStatus.MISSING_SI_MODE, "an SI mode must be assigned first", observation.version
                )
            )
        elif (who := last_submitter.get(obsid)) is not None and who != actor.username:
            rows.append(
                ExpressRow(obsid, ExpressStatus.OTHER_SUBMITTER, f"last revision by {who}", observation.version)
            )
        else:
            rows.append(ExpressRow(obsid, ExpressStatus.APPROVABLE, "", observation.version))
    return rows


def express_approve(
    session: Session, actor: User, obsids: str | Iterable[int], *, policy: Policy | None = None, now: Clock = utcnow
) -> ExpressResult:
    """Approve every approvable obsid of the list in the caller's transaction (all or none), one mail for the lot."""
    policy = policy or Policy.default()
    at = now()
    require_submitter(actor, policy.rules)
    rows = express_check(session, actor, obsids, lock=True)
    approved = []
    for row in rows:
        if row.approvable:
            assert row.version is not None
            revision, _check = submit_change(
                session,
                actor,
                row.obsid,
                seen_version=row.version,
                kind="asis",
                comment="express approval",
                policy=policy,
                now=lambda: at,
                notify=False,
            )
            approved.append(revision.label)
    skipped = tuple(row for row in rows if not row.approvable)
    if approved and actor.email:
        lines = [f"Approved for flight ({len(approved)}):", *(f"  {label}" for label in approved)]
        if skipped:
            lines += [
                "",
                f"Left alone ({len(skipped)}):",
                *(f"  {row.obsid}: {row.status.value} {row.detail}".rstrip() for row in skipped),
            ]
        enqueue(
            session,
            kind="revision.express",
            recipients=[actor.email],
            subject=f"Express approval: {len(approved)} approved",
            body="\n".join(lines) + "\n",
            now=lambda: at,
        )
    return ExpressResult(tuple(approved), skipped)
