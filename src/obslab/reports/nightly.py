"""What the nightly report shows, read in one place: the night's time accounting with its losses, the plan against
what was taken, exposures, pipeline, alarms, seeing, and the day's alerts, sign-offs and configuration changes, as
plain values a notebook tabulates and the plots layer draws (and a test checks against the database).

The report is the observatory's record of the night, so it shows every program (no viewer's access rule).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from obslab.observing.models import Alarm, Exposure, Metric, Night, NightLoss, PipelineStage
from obslab.observing.types import LossCause
from obslab.reports.night_activity import (
    AlertFate,
    ConfigurationChange,
    SignOffActivity,
    alerts_received,
    configuration_changes,
    revisions_submitted,
    signoff_activity,
)
from obslab.reports.night_plan import PlanAgainstExecution, plan_against_execution
from obslab.scheduling.night import night_geometry
from obslab.scheduling.types import TwilightLevel
from obslab.settings import Site


@dataclass(frozen=True)
class TimeAccounting:
    """Hours of the night: between sunset and sunrise, astronomically dark, the shutter open, and the rest."""

    night_hours: float
    dark_hours: float
    open_shutter_hours: float  # science exposures, from their start to their end
    calibration_hours: float  # bias, dark, flat, seeing and pointing exposures
    idle_dark_hours: float  # dark time with no exposure under way: overheads and losses
    lost_hours: dict[str, float]  # idle dark time inside the night log's losses, by cause
    overhead_hours: float  # the idle dark time no loss accounts for: slews, acquisition, read-out, waiting

    def as_dict(self) -> dict[str, float]:
        return {
            k: {cause: round(h, 3) for cause, h in v.items()} if isinstance(v, dict) else round(v, 3)
            for k, v in self.__dict__.items()
        }


@dataclass(frozen=True)
class NightlySummary:
    night: date
    sunset: datetime | None
    sunrise: datetime | None
    dark_start: datetime | None
    dark_end: datetime | None
    accounting: TimeAccounting
    exposures_by_kind: dict[str, int]
    science_by_program: dict[str, int]
    stages_by_state: dict[str, int]
    stages_retried: int
    seeing: list[tuple[datetime, float, str]]  # (measured at, arcsec, filter) of the seeing exposures
    strehl: list[float]
    alarms: list[dict[str, Any]] = field(default_factory=list)
    exposure_spans: list[tuple[datetime, datetime]] = field(default_factory=list)  # every exposure that ended
    plan: PlanAgainstExecution = field(default_factory=lambda: PlanAgainstExecution(None, (), ()))
    losses: list[dict[str, Any]] = field(default_factory=list)  # the night log: start, end, cause, note
    alerts: list[AlertFate] = field(default_factory=list)
    signoffs: list[SignOffActivity] = field(default_factory=list)
    revisions_submitted: int = 0
    configurations: list[ConfigurationChange] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "accounting": self.accounting.as_dict()}


def _hours(spans: list[tuple[datetime, datetime]]) -> float:
    return sum((end - start).total_seconds() for start, end in spans) / 3600.0


def _overlap_hours(a: list[tuple[datetime, datetime]], b: list[tuple[datetime, datetime]]) -> float:
    """Hours in both of two merged span lists."""
    return _hours([(max(s, t), min(e, u)) for s, e in a for t, u in b if s < u and t < e])


def _within(spans: list[tuple[datetime, datetime]], start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The parts of ``spans`` inside ``start``..``end``, overlaps merged (two exposures at once count once)."""
    clipped = sorted((max(s, start), min(e, end)) for s, e in spans if e > start and s < end)
    merged: list[tuple[datetime, datetime]] = []
    for s, e in clipped:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def nightly_summary(session: Session, site: Site, night: date) -> NightlySummary:
    """The night of local date ``night`` at ``site``, as the database holds it."""
    geometry = night_geometry(site, night)
    sunset, sunrise = geometry.sunset, geometry.sunrise
    dark = geometry.dark(TwilightLevel.ASTRONOMICAL)
    exposures = session.scalars(select(Exposure).join(Night).where(Night.night_date == night)).all()
    science = [(e.started_at, e.ended_at) for e in exposures if e.kind.value == "science" and e.ended_at]
    calibration = [(e.started_at, e.ended_at) for e in exposures if e.kind.value != "science" and e.ended_at]
    everything = science + calibration
    dark_hours = _hours([dark]) if dark else 0.0
    busy = _within(everything, *dark) if dark else []
    night_row = session.scalar(select(Night).where(Night.night_date == night))
    losses = list(night_row.losses) if night_row else []
    lost: dict[str, float] = {}
    for cause in LossCause:
        spans = _within([(x.start, x.end) for x in losses if x.cause == cause], *dark) if dark else []
        if spans:
            lost[cause.value] = _hours(spans) - _overlap_hours(spans, busy)  # exposures taken in a loss are not lost
    idle = max(0.0, dark_hours - _hours(busy))
    accounting = TimeAccounting(
        night_hours=_hours([(sunset, sunrise)]) if sunset and sunrise else 0.0,
        dark_hours=dark_hours,
        open_shutter_hours=_hours(_within(science, geometry.start, geometry.end)),
        calibration_hours=_hours(_within(calibration, geometry.start, geometry.end)),
        idle_dark_hours=idle,
        lost_hours=lost,
        overhead_hours=max(0.0, idle - sum(lost.values())),
    )
    window = (geometry.start, geometry.end)
    night_ids = select(Night.id).where(Night.night_date == night)
    stages = session.scalars(select(PipelineStage).where(PipelineStage.night_id.in_(night_ids))).all()
    seeing = session.execute(
        select(Metric.measured_at, Metric.value, Exposure.filter_name)
        .join(Exposure, Exposure.id == Metric.exposure_id)
        .where(Metric.night_id.in_(night_ids), Metric.name == "seeing_arcsec")
        .order_by(Metric.measured_at)
    ).all()
    strehl = session.scalars(
        select(Metric.value).where(Metric.night_id.in_(night_ids), Metric.name == "strehl_percent")
    ).all()
    alarms = session.execute(
        select(Alarm, Exposure.name)
        .outerjoin(Exposure, Exposure.id == Alarm.exposure_id)
        .where(Alarm.night_id.in_(night_ids))
        .order_by(Alarm.measured_at)
    ).all()
    return NightlySummary(
        night=night,
        sunset=sunset,
        sunrise=sunrise,
        dark_start=dark[0] if dark else None,
        dark_end=dark[1] if dark else None,
        accounting=accounting,
        exposures_by_kind=dict(Counter(e.kind.value for e in exposures)),
        science_by_program=dict(Counter(e.program or "-" for e in exposures if e.kind.value == "science")),
        stages_by_state=dict(Counter(s.state.value for s in stages)),
        stages_retried=sum(1 for s in stages if s.retries > 0),
        seeing=[(at, value, filter_name) for at, value, filter_name in seeing],
        strehl=list(strehl),
        alarms=[
            {
                "rule": a.rule,
                "metric": a.metric_name,
                "exposure": name or "(the night)",
                "measured_at": a.measured_at,
                "values": list(a.values),
                "message": a.message,
                "acknowledged": a.acknowledged_at is not None,
            }
            for a, name in alarms
        ],
        exposure_spans=sorted(everything),
        plan=plan_against_execution(session, night_row.id if night_row else None, *window, list(exposures)),
        losses=[_loss(x) for x in losses],
        alerts=alerts_received(session, *window),
        signoffs=signoff_activity(session, *window),
        revisions_submitted=revisions_submitted(session, *window),
        configurations=configuration_changes(session, *window),
    )


def _loss(loss: NightLoss) -> dict[str, Any]:
    return {"start": loss.start, "end": loss.end, "cause": loss.cause.value, "note": loss.note}


__all__ = ["NightlySummary", "TimeAccounting", "nightly_summary"]
