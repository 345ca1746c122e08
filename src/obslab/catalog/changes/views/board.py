"""The sign-off board: open revisions (and recently closed ones) with badges, and the actions the viewer may take."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from obslab.access import User, usernames
from obslab.catalog.changes.change_rules import VERIFICATION, ChangeRules, default_change_rules
from obslab.catalog.changes.views.revision import SignOffView
from obslab.catalog.models import Observation, Revision, SignOff
from obslab.catalog.types import SignOffState
from obslab.db import Clock, utcnow
from obslab.errors import InvalidInputError

SORTS = ("newest", "obsid", "mine")
#: Closed revisions stay on the board this long, so people see their work land (Ocat v2: 36 h).
RECENT = timedelta(hours=36)


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
    cells: tuple[SignOffView, ...]
    badges: tuple[str, ...]
    actions: tuple[str, ...] = field(default=())  # "sign:<area>", "verify", "approve", "discard"

    def as_dict(self) -> dict[str, Any]:
        """A board row as plain data (JSON, the API)."""
        return {
            "revision": self.label,
            "obsid": self.obsid,
            "target": self.target,
            "instrument": self.instrument,
            "kind": self.kind,
            "submitted_by": self.submitted_by,
            "submitted_at": self.submitted_at.isoformat(),
            "comment": self.comment,
            "version": self.version,
            "open": self.open,
            "badges": list(self.badges),
            "actions": list(self.actions),
            "signoffs": [cell.as_dict() for cell in self.cells],
        }


def _badges(notes: dict[str, Any], several_open: bool, superseded: bool) -> tuple[str, ...]:
    badges = []
    if notes.get("comment_change"):
        badges.append("new comment")
    if notes.get("large_coordinate_change"):
        badges.append("large coordinate shift")
    if several_open:
        badges.append("several revisions open")
    if superseded:
        badges.append("superseded")
    return tuple(badges)


def _actions(may_sign: frozenset[str], may_verify: bool, is_open: bool, cells: list[SignOffView]) -> tuple[str, ...]:
    if not is_open:
        return ()
    actions = [f"sign:{c.area}" for c in cells if c.area in may_sign and c.state == SignOffState.PENDING.value]
    if may_verify:
        edits_done = all(c.state != SignOffState.PENDING.value for c in cells if c.area != VERIFICATION)
        actions += ["verify", "approve"] if edits_done else ["discard"]
    return tuple(actions)


def board(
    session: Session,
    viewer: User | None,
    *,
    sort: str = "newest",
    pending_area: str | None = None,
    obsid: int | None = None,
    submitter: str | None = None,
    text: str = "",
    rules: ChangeRules | None = None,
    now: Clock = utcnow,
) -> list[BoardRow]:
    """Every open revision and those closed in the last 36 hours, filtered and sorted.

    Each row carries its badges and the viewer's actions.
    """
    rules = rules or default_change_rules()
    if sort not in SORTS:
        raise InvalidInputError("sort", sort, "one of " + ", ".join(SORTS))
    if pending_area is not None and pending_area not in [a.key for a in rules.areas]:
        raise InvalidInputError("pending_area", pending_area, "one of " + ", ".join(a.key for a in rules.areas))
    # Plain columns, not ORM objects: the board may hold thousands of revisions and five times as many sign-offs.
    shown = (
        Revision.withdrawn_at.is_(None),
        or_(Revision.closed_at.is_(None), Revision.closed_at >= now() - RECENT),
        *(() if obsid is None else (Revision.obsid == obsid,)),
    )
    query = (
        select(
            Revision.id,
            Revision.obsid,
            Revision.number,
            Revision.kind,
            Revision.submitted_by_id,
            Revision.submitted_at,
            Revision.comment,
            Revision.version,
            Revision.closed_at,
            Revision.superseded_by_id,
            Revision.notes,
            Observation.target_name,
            Observation.instrument,
        )
        .join(Observation, Observation.id == Revision.observation_id)
        .where(*shown)
    )
    if text.strip():
        pattern = f"%{text.strip().lower()}%"
        query = query.where(or_(Observation.target_name.ilike(pattern), Revision.comment.ilike(pattern)))
    found = session.execute(query).all()
    cells_of: dict[int, list[SignOffView]] = {}
    people = usernames(session)
    signoff_rows = session.execute(
        select(
            SignOff.revision_id,
            SignOff.position,
            SignOff.area,
            SignOff.state,
            SignOff.actor_id,
            SignOff.acted_at,
            SignOff.version,
        )
        .join(Revision, Revision.id == SignOff.revision_id)
        .where(*shown)
    )
    for revision_id, position, area, state, actor_id, acted_at, version in signoff_rows:
        cells_of.setdefault(revision_id, []).append(
            SignOffView(area, position, state, people.get(actor_id), acted_at, version)
        )
    open_per_obsid = Counter(r.obsid for r in found if r.closed_at is None)
    # What the viewer may do, worked out once rather than per row.
    may_sign = frozenset(a.key for a in rules.edit_areas if viewer is not None and viewer.has_role(a.role))
    may_verify = viewer is not None and viewer.has_role(rules.verification.role)
    rows = []
    for r in found:
        cells = sorted(cells_of.get(r.id, []), key=lambda cell: cell.position)
        if pending_area is not None and not any(
            c.area == pending_area and c.state == SignOffState.PENDING.value for c in cells
        ):
            continue
        who = people.get(r.submitted_by_id)
        if submitter is not None and who != submitter:
            continue
        is_open = r.closed_at is None
        rows.append(
            BoardRow(
                f"{r.obsid}.{r.number:03d}",
                r.obsid,
                r.target_name,
                r.instrument,
                r.kind.value,
                who,
                r.submitted_at,
                r.comment,
                r.version,
                is_open,
                tuple(cells),
                _badges(r.notes or {}, is_open and open_per_obsid[r.obsid] > 1, r.superseded_by_id is not None),
                _actions(may_sign, may_verify, is_open, cells),
            )
        )
    if sort == "obsid":
        rows.sort(key=lambda r: (r.obsid, -int(r.label.split(".")[1])))
    else:
        rows.sort(key=lambda r: r.submitted_at, reverse=True)
        if sort == "mine" and viewer is not None:
            rows.sort(key=lambda r: r.submitted_by != viewer.username)
    return rows
