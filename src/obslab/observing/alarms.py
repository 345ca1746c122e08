"""Alarms on metrics: rules evaluated as the pipeline writes a metric, recorded once, announced once, acknowledged.

``raise_alarms`` runs in the writer's transaction: it reads the metric's series in the rule's scope (time order,
the new value last), and for each rule that fires records an alarm with those values and puts one message in
the outbox. The unique (rule, metric) key means a metric written again never raises its alarm twice.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime

from sqlalchemy import Select, and_, select, true
from sqlalchemy.orm import Session

from obslab.access import Role, User, require_active, user_roles
from obslab.audit import record_event
from obslab.configs.models import InstrumentConfiguration
from obslab.db import Clock, utcnow
from obslab.errors import ConflictError, NotFoundError
from obslab.notify import enqueue
from obslab.observing.alarm_rules import AlarmRule, AlarmRules
from obslab.observing.models import Alarm, Exposure, Metric, Night
from obslab.observing.programs import sees_all, visible_exposures


def _facts(session: Session, exposure: Exposure | None) -> dict[str, str]:
    if exposure is None:
        return {}
    instrument = (
        session.scalar(
            select(InstrumentConfiguration.instrument).where(InstrumentConfiguration.id == exposure.configuration_id)
        )
        if exposure.configuration_id is not None
        else None
    )
    facts = {"filter": exposure.filter_name, "camera_mode": exposure.camera_mode}
    return facts | ({"instrument": instrument} if instrument else {})


def _series(session: Session, rule: AlarmRule, metric: Metric, exposure: Exposure | None) -> list[float]:
    """The metric's last values in the rule's scope up to this one, oldest first (this one last)."""
    query: Select[tuple[float]] = select(Metric.value).where(
        Metric.name == metric.name, Metric.measured_at <= metric.measured_at
    )
    if exposure is None:
        query = query.where(Metric.exposure_id.is_(None))
    else:
        query = query.join(Exposure, Exposure.id == Metric.exposure_id)
        if "filter" in rule.scope:
            query = query.where(Exposure.filter_name == rule.scope["filter"])
        if "camera_mode" in rule.scope:
            query = query.where(Exposure.camera_mode == rule.scope["camera_mode"])
        if "instrument" in rule.scope:
            query = query.join(InstrumentConfiguration, InstrumentConfiguration.id == Exposure.configuration_id).where(
                InstrumentConfiguration.instrument == rule.scope["instrument"]
            )
    # The new metric is always the last value, whatever else shares its time.
    others = query.where(Metric.id != metric.id).order_by(Metric.measured_at.desc(), Metric.id.desc())
    earlier = list(session.scalars(others.limit(rule.needs - 1))) if rule.needs > 1 else []
    return [*reversed(earlier), metric.value]


def _recipients(session: Session, names: tuple[str, ...]) -> list[str]:
    by_role = (
        select(User.email).join(user_roles, user_roles.c.user_id == User.id).join(Role, Role.id == user_roles.c.role_id)
    )
    by_role = by_role.where(Role.name.in_(names))
    by_name = select(User.email).where(User.username.in_(names))
    found = session.scalars(by_role.union(by_name)).all()
    return sorted({email for email in found if email})


def raise_alarms(session: Session, metric: Metric, rules: AlarmRules, *, now: Clock = utcnow) -> list[Alarm]:
    """Evaluate every rule for ``metric`` (already flushed); record and announce each that fires, once."""
    exposure = session.get(Exposure, metric.exposure_id) if metric.exposure_id is not None else None
    raised = []
    for rule in rules.for_metric(metric.name, _facts(session, exposure)):
        fired, values = rule.evaluate(_series(session, rule, metric, exposure))
        if not fired or session.scalar(select(Alarm.id).where(Alarm.rule == rule.name, Alarm.metric_id == metric.id)):
            continue
        where = exposure.name if exposure is not None else f"night {metric.night_id}"
        alarm = Alarm(
            rule=rule.name,
            metric_id=metric.id,
            metric_name=metric.name,
            night_id=metric.night_id,
            exposure_id=metric.exposure_id,
            raised_at=now(),
            measured_at=metric.measured_at,
            values=[round(v, 6) for v in values],
            message=rule.message,
        )
        session.add(alarm)
        recipients = _recipients(session, rule.notify)
        if recipients:
            shown = ", ".join(f"{v:g}" for v in values)
            enqueue(
                session,
                kind="alarm",
                recipients=recipients,
                subject=f"[obslab] alarm {rule.name}: {metric.name} of {where}",
                body=f"{rule.message}\n\n{metric.name} of {where}, measured {metric.measured_at:%Y-%m-%d %H:%M} UTC.\n"
                f"Values the rule decided on (oldest first): {shown}.\n",
                dedupe_key=f"alarm:{rule.name}:{metric.id}",
                now=now,
            )
        raised.append(alarm)
    session.flush()
    return raised


@dataclass(frozen=True)
class AlarmView:
    id: int
    rule: str
    metric: str
    exposure: str | None
    night: str
    measured_at: datetime
    raised_at: datetime
    values: list[float]
    message: str
    acknowledged_at: datetime | None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _visible(viewer: User) -> object:
    """Alarms of exposures the viewer may see; a night's own alarms for staff and admins."""
    if sees_all(viewer):
        return true()
    return and_(
        Alarm.exposure_id.is_not(None), Alarm.exposure_id.in_(select(Exposure.id).where(visible_exposures(viewer)))
    )


def _newest_first() -> Select[tuple[Alarm, str | None, date]]:
    return (
        select(Alarm, Exposure.name, Night.night_date)
        .outerjoin(Exposure, Exposure.id == Alarm.exposure_id)
        .join(Night, Night.id == Alarm.night_id)
        .order_by(Alarm.raised_at.desc(), Alarm.id.desc())
    )


def list_alarms(session: Session, viewer: User, *, open_only: bool = True, limit: int = 200) -> list[AlarmView]:
    query = _newest_first().where(_visible(viewer)).limit(limit)
    if open_only:
        query = query.where(Alarm.acknowledged_at.is_(None))
    return _views(session, query)


def exposure_alarms(session: Session, exposure_id: int) -> list[AlarmView]:
    """Every alarm raised on one exposure's metrics, acknowledged or not, newest first.

    For read models that have already found the exposure as their viewer may see it.
    """
    return _views(session, _newest_first().where(Alarm.exposure_id == exposure_id))


def _views(session: Session, query: Select[tuple[Alarm, str | None, date]]) -> list[AlarmView]:
    return [
        AlarmView(
            a.id,
            a.rule,
            a.metric_name,
            name,
            f"{night:%Y%m%d}",
            a.measured_at,
            a.raised_at,
            list(a.values),
            a.message,
            a.acknowledged_at,
        )
        for a, name, night in session.execute(query)
    ]


def acknowledge(session: Session, actor: User, alarm_id: int, *, now: Clock = utcnow) -> Alarm:
    """Mark an alarm seen (anyone who may see it); audited; a second acknowledgement is refused naming the first."""
    require_active(actor, "acknowledge alarms")
    alarm = session.scalar(select(Alarm).where(Alarm.id == alarm_id, _visible(actor)).with_for_update())
    if alarm is None:
        raise NotFoundError(f"no alarm {alarm_id} that you may see")
    if alarm.acknowledged_at is not None:
        by = session.get(User, alarm.acknowledged_by_id) if alarm.acknowledged_by_id else None
        who = by.username if by else "someone"
        raise ConflictError(f"alarm {alarm_id} was acknowledged by {who} at {alarm.acknowledged_at:%Y-%m-%d %H:%M} UTC")
    alarm.acknowledged_at, alarm.acknowledged_by_id = now(), actor.id
    record_event(
        session,
        actor=actor,
        action="alarm.acknowledged",
        entity_type="alarm",
        entity_id=alarm_id,
        after={"rule": alarm.rule, "metric": alarm.metric_name},
        now=now,
    )
    return alarm


__all__ = ["AlarmView", "acknowledge", "exposure_alarms", "list_alarms", "raise_alarms"]
