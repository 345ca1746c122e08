"""The night log's lost time: record a span lost to weather or a failure, and read a night's losses back.

The nightly report totals these by cause and uses them to say why a planned block was not observed, so a span
must lie inside its night (local noon to local noon) and two spans of one night never overlap.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from obslab.access import User, require_role
from obslab.audit import record_event
from obslab.db import Clock, utcnow
from obslab.errors import ConflictError, InvalidInputError
from obslab.observing.models import Night, NightLoss
from obslab.observing.types import LossCause
from obslab.scheduling.night import night_window
from obslab.settings import Site

#: Who keeps the night log: the night operator (admin holds every role).
LOG_ROLES = ("scheduler",)


def record_loss(
    session: Session,
    actor: User,
    site: Site,
    night_date: date,
    start: datetime,
    end: datetime,
    cause: str,
    note: str = "",
    *,
    now: Clock = utcnow,
) -> NightLoss:
    """Record that ``start``..``end`` (UTC) of the night of ``night_date`` was lost to ``cause``; audited.

    The night's row is made when the log names a night no exposure has reached (one lost whole to weather).
    """
    require_role(actor, LOG_ROLES, "record lost time")
    try:
        loss_cause = LossCause(cause)
    except ValueError:
        raise InvalidInputError("cause", cause, "one of " + ", ".join(c.value for c in LossCause)) from None
    opens, closes = night_window(site, night_date)
    if not opens <= start < closes:
        raise InvalidInputError("start", f"{start:%Y-%m-%d %H:%M}", f"a time of that night ({_span(opens, closes)})")
    if not start < end <= closes:
        raise InvalidInputError("end", f"{end:%Y-%m-%d %H:%M}", f"after the start and by {closes:%Y-%m-%d %H:%M} UTC")
    night = session.scalar(select(Night).where(Night.night_date == night_date))
    if night is None:
        night = Night(night_date=night_date, site_name=site.name, created_at=now())
        session.add(night)
        session.flush()
    overlapping = session.scalar(
        select(NightLoss).where(NightLoss.night_id == night.id, NightLoss.start < end, NightLoss.end > start)
    )
    if overlapping is not None:
        raise ConflictError(
            f"{_span(start, end)} overlaps the loss already logged for {_span(overlapping.start, overlapping.end)} "
            f"({overlapping.cause.value}): log only the part not covered"
        )
    loss = NightLoss(
        night_id=night.id,
        start=start,
        end=end,
        cause=loss_cause,
        note=note.strip(),
        recorded_by_id=actor.id,
        recorded_at=now(),
    )
    session.add(loss)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="night.loss_recorded",
        entity_type="night",
        entity_id=f"{night_date:%Y%m%d}",
        after={"start": start.isoformat(), "end": end.isoformat(), "cause": loss_cause.value, "note": loss.note},
        now=now,
    )
    return loss


def losses_of(session: Session, night_date: date) -> list[NightLoss]:
    """The night's logged losses in time order."""
    return list(
        session.scalars(select(NightLoss).join(Night).where(Night.night_date == night_date).order_by(NightLoss.start))
    )


def _span(start: datetime, end: datetime) -> str:
    return f"{start:%Y-%m-%d %H:%M}-{end:%H:%M} UTC"


__all__ = ["LOG_ROLES", "losses_of", "record_loss"]
