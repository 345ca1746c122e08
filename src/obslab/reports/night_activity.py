"""What happened around a night besides observing, within its window (local noon to local noon): the alerts
received and what became of them, the sign-off activity on change requests, and the configuration changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from obslab.access import User
from obslab.catalog.models import Revision, SignOff
from obslab.catalog.types import SignOffState
from obslab.configs.models import InstrumentConfiguration
from obslab.observing.models import Exposure
from obslab.scheduling.models import Alert, ObservingRequest, Schedule, ScheduledBlock


@dataclass(frozen=True)
class AlertFate:
    received_at: datetime
    stream: str
    key: str  # the notice's identity: a VOEvent's IVORN, else topic#event/type/record
    status: str  # accepted, rejected, duplicate, superseded, retracted, received
    decision: str
    request: str  # the request it became ("" when none)
    fate: str  # the request's end: observed, planned (not observed), not planned, cancelled, ...


@dataclass(frozen=True)
class SignOffActivity:
    acted_at: datetime
    revision: str  # <obsid>.<rev>
    area: str
    state: str
    actor: str


@dataclass(frozen=True)
class ConfigurationChange:
    instrument: str
    version: int
    valid_from: datetime
    recorded_at: datetime
    what: str  # "recorded" (a new version written in the window) or "in force" (one taking effect in it)
    comment: str
    superseded: bool  # a later correction replaced this record


def alerts_received(session: Session, start: datetime, end: datetime) -> list[AlertFate]:
    """Every alert received in ``start``..``end``, with the request it made and whether that was observed."""
    rows = session.execute(
        select(Alert, ObservingRequest)
        .outerjoin(ObservingRequest, ObservingRequest.alert_id == Alert.id)
        .where(Alert.received_at >= start, Alert.received_at < end)
        .order_by(Alert.received_at, Alert.id)
    ).all()
    return [
        AlertFate(
            received_at=alert.received_at,
            stream=alert.stream,
            key=alert.key,
            status=alert.status.value,
            decision=alert.decision,
            request=request.name if request else "",
            fate=_request_fate(session, request) if request else "no request made",
        )
        for alert, request in rows
    ]


def _request_fate(session: Session, request: ObservingRequest) -> str:
    if session.scalar(select(Exposure.id).where(Exposure.request_id == request.id).limit(1)) is not None:
        return "observed"
    planned = session.scalar(
        select(Schedule.version_number)
        .join(ScheduledBlock, ScheduledBlock.schedule_id == Schedule.id)
        .where(ScheduledBlock.request_id == request.id)
        .order_by(Schedule.version_number.desc())
        .limit(1)
    )
    if request.status.value in ("cancelled", "expired"):
        return request.status.value
    if planned is not None:
        return f"planned (plan version {planned}), no exposure recorded"
    return f"{request.status.value}, not planned"


def signoff_activity(session: Session, start: datetime, end: datetime) -> list[SignOffActivity]:
    """The sign-offs given (or areas discarded) in ``start``..``end``, and who acted."""
    actor = aliased(User)
    rows = session.execute(
        select(SignOff, Revision.obsid, Revision.number, actor.username)
        .join(Revision, Revision.id == SignOff.revision_id)
        .outerjoin(actor, actor.id == SignOff.actor_id)
        .where(
            SignOff.acted_at >= start,
            SignOff.acted_at < end,
            SignOff.state.in_([SignOffState.SIGNED, SignOffState.DISCARDED]),
        )
        .order_by(SignOff.acted_at, SignOff.id)
    ).all()
    return [
        SignOffActivity(
            acted_at=signoff.acted_at,  # type: ignore[arg-type] (the WHERE clause keeps only acted ones)
            revision=f"{obsid}.{number:03d}",
            area=signoff.area,
            state=signoff.state.value,
            actor=username or "(removed user)",
        )
        for signoff, obsid, number, username in rows
    ]


def revisions_submitted(session: Session, start: datetime, end: datetime) -> int:
    """How many change requests were submitted in ``start``..``end``."""
    counted = select(func.count()).where(Revision.submitted_at >= start, Revision.submitted_at < end)
    return session.scalar(counted) or 0


def configuration_changes(session: Session, start: datetime, end: datetime) -> list[ConfigurationChange]:
    """Configuration records written in ``start``..``end``, and versions that came into force in it."""
    rows = session.scalars(
        select(InstrumentConfiguration)
        .where(
            or_(
                and_(InstrumentConfiguration.recorded_at >= start, InstrumentConfiguration.recorded_at < end),
                and_(InstrumentConfiguration.valid_from >= start, InstrumentConfiguration.valid_from < end),
            )
        )
        .order_by(InstrumentConfiguration.instrument, InstrumentConfiguration.version_number)
    ).all()
    return [
        ConfigurationChange(
            instrument=c.instrument,
            version=c.version_number,
            valid_from=c.valid_from,
            recorded_at=c.recorded_at,
            what="recorded" if start <= c.recorded_at < end else "in force",
            comment=c.comment,
            superseded=c.superseded_at is not None,
        )
        for c in rows
    ]


__all__ = [
    "AlertFate",
    "ConfigurationChange",
    "SignOffActivity",
    "alerts_received",
    "configuration_changes",
    "revisions_submitted",
    "signoff_activity",
]
