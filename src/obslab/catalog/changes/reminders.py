"""Daily reminders: sign-off nags in working order, duty hand-overs, and a roster running short; safe to run twice."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from obslab.access import User, role_addresses
from obslab.catalog.changes.change_rules import VERIFICATION, ChangeRules, default_change_rules
from obslab.catalog.models import DutyShift, Revision, SignOff
from obslab.catalog.types import SignOffState
from obslab.db import Clock, utcnow
from obslab.notify import Notification, enqueue

#: Tell the administrators when the filled roster ends sooner than this.
ROSTER_HORIZON = timedelta(days=90)


def _once(session: Session, key: str) -> bool:
    """True the first time ``key`` is seen: reminders carry a dedupe key, so a second run the same day sends nothing."""
    return session.scalar(select(Notification.id).where(Notification.dedupe_key == key)) is None


def build_reminders(
    session: Session, today: date, *, rules: ChangeRules | None = None, now: Clock = utcnow
) -> list[str]:
    """Write today's reminders to the outbox; returns their dedupe keys (only the new ones)."""
    rules = rules or default_change_rules()
    written: list[str] = []

    def send(key: str, recipients: list[str], subject: str, body: str) -> None:
        if recipients and _once(session, key):
            enqueue(
                session, kind="reminder", recipients=recipients, subject=subject, body=body, dedupe_key=key, now=now
            )
            written.append(key)

    # Sign-off nags, sequential: a revision waits on its first pending area only (general, then ACIS, ...).
    waiting: dict[str, list[str]] = defaultdict(list)
    verify_by_submitter: dict[int, list[str]] = defaultdict(list)
    open_revisions = session.scalars(
        select(Revision)
        .where(Revision.closed_at.is_(None), Revision.withdrawn_at.is_(None))
        .order_by(Revision.obsid, Revision.number)
    )
    signoffs: dict[int, list[SignOff]] = defaultdict(list)
    for signoff in session.scalars(
        select(SignOff).join(Revision).where(Revision.closed_at.is_(None), Revision.withdrawn_at.is_(None))
    ):
        signoffs[signoff.revision_id].append(signoff)
    for revision in open_revisions:
        pending = sorted(
            (s for s in signoffs[revision.id] if s.state is SignOffState.PENDING), key=lambda s: s.position
        )
        if not pending:
            continue
        if pending[0].area == VERIFICATION:
            if revision.submitted_by_id is not None:
                verify_by_submitter[revision.submitted_by_id].append(revision.label)
        else:
            waiting[pending[0].area].append(revision.label)
    for area, labels in sorted(waiting.items()):
        role = rules.area(area).role
        send(
            f"reminder:signoff:{area}:{today.isoformat()}",
            role_addresses(session, [role]),
            f"{len(labels)} revision(s) wait for {rules.area(area).label} sign-off",
            "These revisions wait for your sign-off:\n" + "".join(f"  {label}\n" for label in labels),
        )
    for user_id, labels in sorted(verify_by_submitter.items()):
        submitter = session.get(User, user_id)
        if submitter is not None and submitter.email and submitter.is_active:
            send(
                f"reminder:verify:{submitter.username}:{today.isoformat()}",
                [submitter.email],
                f"{len(labels)} of your revision(s) are ready to verify",
                "Every other area has signed these; please verify:\n" + "".join(f"  {label}\n" for label in labels),
            )

    # Duty: the incoming person two days ahead and on the first day.
    for days, which in ((2, "first"), (0, "second")):
        day = today + timedelta(days=days)
        shift = session.scalar(select(DutyShift).where(DutyShift.starts_on == day))
        person = session.get(User, shift.user_id) if shift is not None and shift.user_id is not None else None
        if person is not None and person.email:
            send(
                f"reminder:duty:{which}:{day.isoformat()}",
                [person.email],
                f"You are on duty from {day:%A %Y-%m-%d}",
                f"Your duty runs {shift.starts_on:%Y-%m-%d} to {shift.ends_on:%Y-%m-%d}.\n",
            )

    # Roster: filled too little ahead (at most weekly), and on Fridays an open slot two ahead.
    admins = role_addresses(session, ["admin"])
    last_filled = session.scalar(
        select(DutyShift.ends_on).where(DutyShift.user_id.is_not(None)).order_by(DutyShift.ends_on.desc()).limit(1)
    )
    if last_filled is None or last_filled < today + ROSTER_HORIZON:
        week = today - timedelta(days=today.weekday())
        until = "nothing is filled" if last_filled is None else f"it is filled only to {last_filled:%Y-%m-%d}"
        send(
            f"reminder:roster-short:{week.isoformat()}",
            admins,
            "The duty roster needs filling",
            f"The duty roster should be filled three months ahead; {until}.\n",
        )
    if today.weekday() == 4:
        upcoming = session.scalars(
            select(DutyShift).where(DutyShift.starts_on > today).order_by(DutyShift.starts_on).limit(2)
        ).all()
        if len(upcoming) == 2 and upcoming[1].user_id is None:
            send(
                f"reminder:roster-open:{upcoming[1].starts_on.isoformat()}",
                admins,
                f"Nobody is on duty from {upcoming[1].starts_on:%Y-%m-%d}",
                f"The slot {upcoming[1].starts_on:%Y-%m-%d} to {upcoming[1].ends_on:%Y-%m-%d} is still open.\n",
            )
    return written
