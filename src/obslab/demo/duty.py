"""Demo TOO-POC duty roster: contiguous Monday-to-Sunday weeks, filled in the past and near future, open later."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from obslab.catalog.models import DutyShift
from obslab.demo.context import DemoContext
from obslab.demo.people import ADMIN, USINT

WEEKS_BACK = 5
WEEKS_AHEAD = 16
#: Weeks from the current one on that are certainly filled; after them about half are still open.
WEEKS_FILLED_AHEAD = 4


def planned_weeks(ctx: DemoContext) -> list[tuple[date, str | None, str | None]]:
    """(Monday, POC or None, assigned by) for every week of the roster window."""
    this_monday = ctx.today - timedelta(days=ctx.today.weekday())
    weeks = []
    for offset in range(-WEEKS_BACK, WEEKS_AHEAD + 1):
        monday = this_monday + timedelta(weeks=offset)
        # Seeded by the week itself, so a week keeps its POC whichever day the demo is loaded.
        rng = ctx.rng("duty", monday.isoformat())
        filled = offset <= WEEKS_FILLED_AHEAD or rng.random() < 0.5
        poc = USINT[(monday.toordinal() // 7 + ctx.seed) % len(USINT)] if filled else None  # a rotation
        assigner = (ADMIN if rng.random() < 0.4 else rng.choice(USINT)) if filled else None
        weeks.append((monday, poc, assigner))
    return weeks


def ensure_duty_roster(ctx: DemoContext) -> None:
    """Insert the roster weeks that are missing and overlap no existing shift (so the roster never gains overlaps)."""
    weeks = planned_weeks(ctx)
    first, last = weeks[0][0], weeks[-1][0] + timedelta(days=6)
    query = select(DutyShift.starts_on, DutyShift.ends_on).where(
        DutyShift.ends_on >= first, DutyShift.starts_on <= last
    )
    taken = [tuple(row) for row in ctx.session.execute(query)]
    rows = [
        DutyShift(
            starts_on=monday,
            ends_on=monday + timedelta(days=6),
            user_id=ctx.user_id(poc) if poc else None,
            assigned_by_id=ctx.user_id(assigner) if assigner else None,
            updated_at=ctx.moment,
        )
        for monday, poc, assigner in weeks
        if not any(start <= monday + timedelta(days=6) and monday <= end for start, end in taken)
    ]
    ctx.add_all(rows)
