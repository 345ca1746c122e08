"""Read models of trending: a metric's points over time as a viewer may see them, per-night medians, alarms, markers.

Every query applies ``programs.visible_exposures(viewer)``: an exposure's metric is seen with its exposure, a
night's own metric (no exposure: the seeing median, a calibration level) by whoever sees any exposure of that
night. The pipeline stamps a night's own metric with the time of the run, so on the time axis such a point sits
at the middle of its night (the span of the night's exposures), where it belongs; ``measured_at`` keeps the stamp.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from obslab.access import User
from obslab.configs.models import InstrumentConfiguration
from obslab.configs.types import ConfigVersion, diff_items
from obslab.configs.views import history
from obslab.errors import InvalidInputError
from obslab.formatting import shown
from obslab.observing.models import Alarm, Exposure, Metric, Night
from obslab.observing.programs import visible_exposures

#: How many attribute changes a configuration marker spells out before it says "and N more".
CHANGES_SPELLED = 4


@dataclass(frozen=True)
class TrendPoint:
    """One metric row: when (``at``, on the time axis), what, of which exposure (None: the night's own), alarms."""

    metric_id: int
    at: datetime
    measured_at: datetime
    value: float
    unit: str
    exposure: str | None
    night: date
    instrument: str | None
    filter_name: str | None
    camera_mode: str | None
    alarm_rules: tuple[str, ...] = ()  # the rules that fired on this row, by name

    @property
    def alarmed(self) -> bool:
        return bool(self.alarm_rules)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"alarm_rules": list(self.alarm_rules), "alarmed": self.alarmed}


@dataclass(frozen=True)
class NightSummary:
    """A night's points of the series: their median, how many, how many alarmed, and where the night sits in time."""

    night: date
    at: datetime
    median: float
    count: int
    alarmed: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TrendAlarm:
    """An alarm raised on a point of the series, with the values that raised it and who acknowledged it."""

    id: int
    rule: str
    metric: str
    metric_id: int
    exposure: str | None
    night: date
    measured_at: datetime
    raised_at: datetime
    values: tuple[float, ...]
    message: str
    acknowledged_at: datetime | None
    acknowledged_by: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"values": list(self.values)}


@dataclass(frozen=True)
class ConfigMarker:
    """A configuration change on the time axis: the version that began, when, and what it changed."""

    instrument: str
    version_number: int
    valid_from: datetime
    comment: str
    what: str

    @property
    def label(self) -> str:
        return f"{self.instrument} v{self.version_number}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"label": self.label}


@dataclass(frozen=True)
class TrendSeries:
    """A metric's points in time order, its per-night summaries, the alarms on its points and its instruments."""

    metric: str
    unit: str
    points: tuple[TrendPoint, ...]
    nights: tuple[NightSummary, ...]
    alarms: tuple[TrendAlarm, ...]
    instruments: tuple[str, ...]

    @property
    def span(self) -> tuple[datetime, datetime] | None:
        """The first and last time of the series (None when it is empty): the range its markers are read for."""
        return (self.points[0].at, self.points[-1].at) if self.points else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "unit": self.unit,
            "instruments": list(self.instruments),
            "points": [p.as_dict() for p in self.points],
            "nights": [n.as_dict() for n in self.nights],
            "alarms": [a.as_dict() for a in self.alarms],
        }


def _seen_nights(viewer: User, *conditions: ColumnElement[bool]) -> Select[tuple[int]]:
    # Not correlated with an exposures table the enclosing query may join: this asks about any exposure of a night.
    return select(Exposure.night_id).where(visible_exposures(viewer), *conditions).correlate(None)


def _visible_metric(viewer: User) -> ColumnElement[bool]:
    """A WHERE clause on ``Metric`` (outer-joined to ``Exposure``): the rows ``viewer`` may see."""
    own = and_(Metric.exposure_id.is_not(None), visible_exposures(viewer))
    nightly = and_(Metric.exposure_id.is_(None), Metric.night_id.in_(_seen_nights(viewer)))
    return or_(own, nightly)


def metric_names(session: Session, viewer: User) -> list[str]:
    """The metrics with any row ``viewer`` may see, by name."""
    query = (
        select(Metric.name)
        .distinct()
        .outerjoin(Exposure, Exposure.id == Metric.exposure_id)
        .where(_visible_metric(viewer))
        .order_by(Metric.name)
    )
    return list(session.scalars(query))


def trend_scopes(session: Session, viewer: User) -> dict[str, list[str]]:
    """The instruments, filters and camera modes of the exposures ``viewer`` may see: what a series can be scoped to."""
    seen = visible_exposures(viewer)
    config = InstrumentConfiguration
    instruments = select(config.instrument).join(Exposure, Exposure.configuration_id == config.id)
    found = {
        "instrument": instruments.where(seen),
        "filter_name": select(Exposure.filter_name).where(seen),
        "camera_mode": select(Exposure.camera_mode).where(seen),
    }
    return {field: sorted(v for v in session.scalars(query.distinct()) if v) for field, query in found.items()}


def _check(
    session: Session, viewer: User, metric: str, since: date | None, until: date | None, scope: dict[str, str]
) -> None:
    names = metric_names(session, viewer)
    if metric not in names:
        raise InvalidInputError("metric", metric, f"one of {', '.join(names)}" if names else "a metric (none yet)")
    if since is not None and until is not None and since > until:
        raise InvalidInputError("since", f"{since:%Y%m%d}", f"a night on or before until ({until:%Y%m%d})")
    choices = trend_scopes(session, viewer)
    for field, value in scope.items():
        if value and value not in choices[field]:
            raise InvalidInputError(field, value, f"one of {', '.join(choices[field]) or '(none yet)'}, or none")


def _night_middles(session: Session, viewer: User, night_ids: set[int]) -> dict[int, datetime]:
    """The middle of each night's exposures the viewer may see: where a night's own value sits in time."""
    if not night_ids:
        return {}
    query = (
        select(Exposure.night_id, func.min(Exposure.started_at), func.max(Exposure.ended_at))
        .where(visible_exposures(viewer), Exposure.night_id.in_(night_ids))
        .group_by(Exposure.night_id)
    )
    return {night_id: first + (last - first) / 2 for night_id, first, last in session.execute(query)}


def _alarms(session: Session, metric: str, point_ids: set[int], nights: Iterable[date]) -> list[TrendAlarm]:
    night_dates = sorted(set(nights))
    if not night_dates:
        return []
    query = (
        select(Alarm, Exposure.name, Night.night_date, User.username)
        .join(Night, Night.id == Alarm.night_id)
        .outerjoin(Exposure, Exposure.id == Alarm.exposure_id)
        .outerjoin(User, User.id == Alarm.acknowledged_by_id)
        .where(Alarm.metric_name == metric, Night.night_date.between(night_dates[0], night_dates[-1]))
        .order_by(Alarm.measured_at, Alarm.id)
    )
    return [
        TrendAlarm(
            a.id,
            a.rule,
            a.metric_name,
            a.metric_id,
            name,
            night,
            a.measured_at,
            a.raised_at,
            tuple(a.values),
            a.message,
            a.acknowledged_at,
            who,
        )
        for a, name, night, who in session.execute(query)
        if a.metric_id in point_ids  # only alarms on the points shown: the same rows, the same visibility
    ]


def per_night(points: Sequence[TrendPoint], middles: dict[date, datetime] | None = None) -> tuple[NightSummary, ...]:
    """Each night's median and count of ``points``; the night sits at ``middles[night]``, else its points' middle."""
    by_night: dict[date, list[TrendPoint]] = {}
    for point in points:
        by_night.setdefault(point.night, []).append(point)
    summaries = []
    for night, found in sorted(by_night.items()):
        first, last = min(p.at for p in found), max(p.at for p in found)
        summaries.append(
            NightSummary(
                night=night,
                at=(middles or {}).get(night, first + (last - first) / 2),
                median=float(statistics.median(p.value for p in found)),
                count=len(found),
                alarmed=sum(1 for p in found if p.alarmed),
            )
        )
    return tuple(summaries)


def metric_series(
    session: Session,
    viewer: User,
    metric: str,
    *,
    since: date | None = None,
    until: date | None = None,
    instrument: str = "",
    filter_name: str = "",
    camera_mode: str = "",
) -> TrendSeries:
    """``metric``'s points that ``viewer`` may see, in time order, with per-night medians and the alarms raised.

    Parameters
    ----------
    since, until
        The first and last night (the local date it began), both included; None: no bound.
    instrument, filter_name, camera_mode
        Scope (empty: any): the exposure's configuration's instrument, its filter and camera mode. A night's own
        metric has no filter or mode, so either leaves it out; it is in an instrument's scope when the night has
        an exposure taken with that instrument.

    Raises InvalidInputError naming the field for a metric the viewer has no rows of, ``since`` after ``until``,
    or a scope value no exposure the viewer may see has.
    """
    scope = {"instrument": instrument, "filter_name": filter_name, "camera_mode": camera_mode}
    _check(session, viewer, metric, since, until, scope)
    config = aliased(InstrumentConfiguration)
    query = (
        select(Metric, Exposure.name, Night.night_date, config.instrument, Exposure.filter_name, Exposure.camera_mode)
        .join(Night, Night.id == Metric.night_id)
        .outerjoin(Exposure, Exposure.id == Metric.exposure_id)
        .outerjoin(config, config.id == Exposure.configuration_id)
        .where(Metric.name == metric, _visible_metric(viewer))
    )
    if since is not None:
        query = query.where(Night.night_date >= since)
    if until is not None:
        query = query.where(Night.night_date <= until)
    if instrument:
        with_instrument = _seen_nights(viewer, Exposure.configuration_id.in_(_configs_of(instrument)))
        query = query.where(
            or_(
                config.instrument == instrument,
                and_(Metric.exposure_id.is_(None), Metric.night_id.in_(with_instrument)),
            )
        )
    if filter_name:
        query = query.where(Exposure.filter_name == filter_name)
    if camera_mode:
        query = query.where(Exposure.camera_mode == camera_mode)
    rows = session.execute(query).all()
    middles = _night_middles(session, viewer, {m.night_id for m, *_ in rows if m.exposure_id is None})
    night_of = {m.night_id: night for m, _name, night, *_ in rows}
    points = [
        TrendPoint(
            metric_id=m.id,
            at=m.measured_at if m.exposure_id is not None else middles.get(m.night_id, m.measured_at),
            measured_at=m.measured_at,
            value=m.value,
            unit=m.unit,
            exposure=name,
            night=night,
            instrument=inst,
            filter_name=filt,
            camera_mode=mode,
        )
        for m, name, night, inst, filt, mode in rows
    ]
    alarms = _alarms(session, metric, {p.metric_id for p in points}, (p.night for p in points))
    rules: dict[int, list[str]] = {}
    for alarm in alarms:
        rules.setdefault(alarm.metric_id, []).append(alarm.rule)
    points = sorted(
        (_with_rules(p, tuple(sorted(rules.get(p.metric_id, ())))) for p in points),
        key=lambda p: (p.at, p.metric_id),
    )
    units = {p.unit for p in points if p.unit}
    return TrendSeries(
        metric=metric,
        unit=units.pop() if len(units) == 1 else "",
        points=tuple(points),
        nights=per_night(points, {night_of[nid]: at for nid, at in middles.items()}),
        alarms=tuple(alarms),
        instruments=(instrument,) if instrument else _instruments(session, viewer, {m.night_id for m, *_ in rows}),
    )


def _with_rules(point: TrendPoint, rules: tuple[str, ...]) -> TrendPoint:
    return point if not rules else TrendPoint(**{**asdict(point), "alarm_rules": rules})


def _configs_of(instrument: str) -> Select[tuple[int]]:
    return select(InstrumentConfiguration.id).where(InstrumentConfiguration.instrument == instrument)


def _instruments(session: Session, viewer: User, night_ids: set[int]) -> tuple[str, ...]:
    """The instruments of the exposures ``viewer`` may see on these nights: whose configuration changes matter."""
    if not night_ids:
        return ()
    query = (
        select(InstrumentConfiguration.instrument)
        .join(Exposure, Exposure.configuration_id == InstrumentConfiguration.id)
        .where(visible_exposures(viewer), Exposure.night_id.in_(night_ids))
        .distinct()
    )
    return tuple(sorted(session.scalars(query)))


def _what_changed(before: ConfigVersion | None, after: ConfigVersion) -> str:
    """The comment, then what the version changed from the one in force before it, briefly."""
    if before is None:
        return after.comment or "first recorded configuration"
    diff = diff_items(before.items, after.items)
    parts = [f"{c.key} {c.attribute} {shown(c.before)} → {shown(c.after)}" for c in diff.changed[:CHANGES_SPELLED]]
    if len(diff.changed) > CHANGES_SPELLED:
        parts.append(f"and {len(diff.changed) - CHANGES_SPELLED} more changed")
    if diff.added:
        parts.append(f"{len(diff.added)} added")
    if diff.removed:
        parts.append(f"{len(diff.removed)} removed")
    changes = "; ".join(parts) or "no item changed"
    return f"{after.comment} ({changes})" if after.comment else changes


def config_markers(
    session: Session, instruments: Iterable[str], since: datetime | None, until: datetime | None
) -> list[ConfigMarker]:
    """The configuration changes of ``instruments`` from ``since`` to ``until`` (both included; None: no bound).

    A change is a current record (not superseded by a correction) beginning in the range; what it changed is
    read against the current record in force just before it.
    """
    markers = []
    for instrument in sorted(set(instruments)):
        current = sorted((v for v in history(session, instrument) if v.current), key=lambda v: v.valid_from)
        for before, version in zip([None, *current], current, strict=False):
            if (since is None or version.valid_from >= since) and (until is None or version.valid_from <= until):
                markers.append(
                    ConfigMarker(
                        instrument,
                        version.version_number,
                        version.valid_from,
                        version.comment,
                        _what_changed(before, version),
                    )
                )
    return sorted(markers, key=lambda m: (m.valid_from, m.instrument))


__all__ = [
    "ConfigMarker",
    "NightSummary",
    "TrendAlarm",
    "TrendPoint",
    "TrendSeries",
    "config_markers",
    "metric_names",
    "metric_series",
    "per_night",
    "trend_scopes",
]
