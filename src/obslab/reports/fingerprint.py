"""The data fingerprint of a report: a digest of everything it may show, so a cached report is reused only while
none of it changed (new exposures, a stage run again, a metric rewritten, a new plan, an alarm acknowledged, ...).

Each part is an aggregate that moves when its rows change: counts, the largest id (new rows), the sum of the
optimistic-lock versions (an updated row), sums of values; the night log's losses too. A night's parts are bounded
by its window, local noon to local noon at the site.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from obslab.audit import AuditEvent
from obslab.configs.models import InstrumentConfiguration
from obslab.observing.models import Alarm, Exposure, Metric, Night, NightLoss, PipelineStage
from obslab.scheduling.models import Alert, Schedule
from obslab.scheduling.night import night_window
from obslab.settings import Site


def _summary(session: Session, query: Select[Any]) -> list[Any]:
    return [_plain(value) for value in session.execute(query).one()]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return round(value, 9) if isinstance(value, float) else value


def _parts(session: Session, night_ids: Select[tuple[int]], start: datetime, end: datetime) -> dict[str, list[Any]]:
    def of_night(column: ColumnElement[int]) -> ColumnElement[bool]:
        return column.in_(night_ids)

    return {
        "exposures": _summary(
            session,
            select(
                func.count(), func.max(Exposure.id), func.max(Exposure.missing_at), func.sum(Exposure.version)
            ).where(of_night(Exposure.night_id)),
        ),
        "stages": _summary(
            session,
            select(func.count(), func.max(PipelineStage.id), func.sum(PipelineStage.version)).where(
                of_night(PipelineStage.night_id)
            ),
        ),
        "metrics": _summary(
            session,
            select(func.count(), func.max(Metric.id), func.sum(Metric.value)).where(of_night(Metric.night_id)),
        ),
        "alarms": _summary(
            session,
            select(func.count(), func.max(Alarm.id), func.max(Alarm.acknowledged_at)).where(of_night(Alarm.night_id)),
        ),
        "losses": _summary(  # a loss may be logged the next day, outside the window's audit events
            session,
            select(func.count(), func.max(NightLoss.id), func.max(NightLoss.recorded_at)).where(
                of_night(NightLoss.night_id)
            ),
        ),
        "plans": _summary(
            session,
            select(func.count(), func.max(Schedule.id)).where(Schedule.night_start < end, Schedule.night_end > start),
        ),
        "alerts": _summary(
            session,
            select(func.count(), func.max(Alert.id), func.sum(Alert.version)).where(
                Alert.received_at >= start, Alert.received_at < end
            ),
        ),
        "activity": _summary(
            session,
            select(func.count(), func.max(AuditEvent.id)).where(
                AuditEvent.occurred_at >= start, AuditEvent.occurred_at < end
            ),
        ),
        "configurations": _summary(
            session,
            select(func.count(), func.max(InstrumentConfiguration.id), func.max(InstrumentConfiguration.valid_from)),
        ),
    }


def night_fingerprint(session: Session, site: Site, night: date) -> str:
    """The digest of what a report on ``night`` may show, as the database holds it now."""
    start, end = night_window(site, night)
    night_ids = select(Night.id).where(Night.night_date == night)
    return _digest({"night": night.isoformat(), **_parts(session, night_ids, start, end)})


def everything_fingerprint(session: Session) -> str:
    """The digest for a template with no night: the same parts over all time."""
    return _digest(
        _parts(session, select(Night.id), datetime(1900, 1, 1, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC))
    )


def _digest(parts: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


__all__ = ["everything_fingerprint", "night_fingerprint"]
