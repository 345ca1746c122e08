"""The sign-off board: open revisions (and recently closed ones) with badges, and the actions the viewer may take."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from obslab.access import User
from obslab.catalog.change_rules import VERIFICATION, ChangeRules, default_change_rules
from obslab.catalog.models import Observation, Revision, SignOff, SignOffState
from obslab.db import Clock, utcnow
from obslab.errors import InvalidInputError

SORTS = ("newest", "obsid", "mine")
#: Closed revisions stay on the board this long, so people see their work land (Ocat v2: 36 h).
RECENT = timedelta(hours=36)


@dataclass(frozen=True)
class AreaCell:
    """One area of one revision as the board shows it."""

    area: str
    state: str
    by: str | None
    at: datetime | None
    version: int


@dataclass(frozen=True)
class BoardRow:
    """One revision on the board."""

    label: str
    obsid: int
    target: str
    instrument: str
    kind: str
    submitted_by: str | None
    submitted_at: datetime
    comment: str
    version: int
    open: bool
    cells: tuple[AreaCell, ...]
    badges: tuple[str, ...]
    actions: tuple[str, ...] = field(default=())  # "sign:<area>", "verify", "approve", "discard"


def _badges(revision: Revision, open_per_obsid: Counter[int]) -> tuple[str, ...]:
    notes = revision.notes or {}
    badges = []
    if notes.get("comment_change"):
        badges.append("new comment")
    if notes.get("large_coordinate_change"):
        badges.append("large coordinate shift")
    if revision.closed_at is None and open_per_obsid[revision.obsid] > 1:
        badges.append("several revisions open")
    if revision.superseded_by_id is not None:
        badges.append("superseded")
    return tuple(badges)


def _actions(viewer: User | None, rules: ChangeRules, revision: Revision, cells: list[AreaCell]) -> tuple[str, ...]:
    if viewer is None or revision.closed_at is not None:
        return ()
    actions = [f"sign:{c.area}" for c in cells if c.area != VERIFICATION and c.state == SignOffState.PENDING.value
               and viewer.has_role(rules.area(c.area).role)]  # fmt: skip
    if viewer.has_role(rules.verification.role):
        edits_done = all(c.state != SignOffState.PENDING.value for c in cells if c.area != VERIFICATION)
        actions += ["verify", "approve"] if edits_done else ["discard"]
    return tuple(actions)


def board(session: Session, viewer: User | None, *, sort: str = "newest", pending_area: str | None = None,
          obsid: int | None = None, submitter: str | None = None, text: str = "", rules: ChangeRules | None = None,
          now: Clock = utcnow) -> list[BoardRow]:  # fmt: skip
    """Every open revision and those closed in the last 36 hours, filtered and sorted, with badges and the viewer's actions."""
    rules = rules or default_change_rules()
    if sort not in SORTS:
        raise InvalidInputError("sort", sort, "one of " + ", ".join(SORTS))
    if pending_area is not None and pending_area not in [a.key for a in rules.areas]:
        raise InvalidInputError("pending_area", pending_area, "one of " + ", ".join(a.key for a in rules.areas))
    query = (select(Revision, Observation.target_name, Observation.instrument).join(Observation, Observation.id == Revision.observation_id)
             .where(Revision.withdrawn_at.is_(None), or_(Revision.closed_at.is_(None), Revision.closed_at >= now() - RECENT)))  # fmt: skip
    if obsid is not None:
        query = query.where(Revision.obsid == obsid)
    if text.strip():
        pattern = f"%{text.strip().lower()}%"
        query = query.where(or_(Observation.target_name.ilike(pattern), Revision.comment.ilike(pattern)))
    found = session.execute(query).all()
    ids = [revision.id for revision, _t, _i in found]
    signoffs: dict[int, list[SignOff]] = {}
    for start in range(0, len(ids), 5_000):  # PostgreSQL caps bound parameters per statement
        for signoff in session.scalars(select(SignOff).where(SignOff.revision_id.in_(ids[start : start + 5_000]))):
            signoffs.setdefault(signoff.revision_id, []).append(signoff)
    people = dict(session.execute(select(User.id, User.username)).all())
    open_per_obsid = Counter(revision.obsid for revision, _t, _i in found if revision.closed_at is None)
    rows = []
    for revision, target, instrument in found:
        cells = [AreaCell(s.area, s.state.value, people.get(s.actor_id), s.acted_at, s.version)
                 for s in sorted(signoffs.get(revision.id, []), key=lambda s: s.position)]  # fmt: skip
        if pending_area is not None and not any(c.area == pending_area and c.state == SignOffState.PENDING.value for c in cells):
            continue
        who = people.get(revision.submitted_by_id)
        if submitter is not None and who != submitter:
            continue
        rows.append(BoardRow(revision.label, revision.obsid, target, instrument, revision.kind.value, who, revision.submitted_at,
                             revision.comment, revision.version, revision.closed_at is None, tuple(cells),
                             _badges(revision, open_per_obsid), _actions(viewer, rules, revision, cells)))  # fmt: skip
    if sort == "obsid":
        rows.sort(key=lambda r: (r.obsid, -int(r.label.split(".")[1])))
    else:
        rows.sort(key=lambda r: r.submitted_at, reverse=True)
        if sort == "mine" and viewer is not None:
            rows.sort(key=lambda r: r.submitted_by != viewer.username)
    return rows


def as_dict(row: BoardRow) -> dict[str, Any]:
    """A board row as plain data (JSON, tables)."""
    return {"revision": row.label, "obsid": row.obsid, "target": row.target, "instrument": row.instrument, "kind": row.kind,
            "submitted_by": row.submitted_by, "submitted_at": row.submitted_at.isoformat(), "comment": row.comment,
            "version": row.version, "open": row.open, "badges": list(row.badges), "actions": list(row.actions),
            "areas": {c.area: {"state": c.state, "by": c.by, "at": c.at and c.at.isoformat(), "version": c.version}
                      for c in row.cells}}  # fmt: skip
