"""Read models of the scheduling pages: a stored plan's rows, its change from the last, the alert feed, the sky map."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from obslab.scheduling.models import Alert, AlertSkyMap, ObservingRequest, Schedule
from obslab.scheduling.night import night_window
from obslab.scheduling.service import compare, plan_request
from obslab.scheduling.types import AlertStatus
from obslab.scheduling.visibility import PlanRequest
from obslab.settings import Site

#: How many alerts the feed shows, newest first.
FEED = 50


@dataclass(frozen=True)
class BlockRow:
    """One block of a stored plan; name, target and priority are empty when the request was deleted since."""

    request: int
    name: str
    target: str
    priority: float | None
    start: datetime
    end: datetime
    slew_s: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class LeftOutRow:
    """A request a stored plan left out, and why."""

    request: int
    name: str
    target: str
    priority: float | None
    reason: str
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class StoredPlan:
    """A stored plan as the schedule page shows it: blocks, left-outs, and the scheduled requests for the curves."""

    blocks: tuple[BlockRow, ...]
    unscheduled: tuple[LeftOutRow, ...]
    chosen: tuple[PlanRequest, ...]


@dataclass(frozen=True)
class AlertRow:
    """One alert of the feed."""

    received: datetime
    stream: str
    key: str
    status: str
    decision: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def stored_plan(session: Session, schedule: Schedule) -> StoredPlan:
    """The rows of ``schedule`` with each request's name, target and priority as they are now."""
    ids = [b.request_id for b in schedule.blocks] + [r.request_id for r in schedule.rejections]
    rows = {
        row.id: row
        for row in session.scalars(
            select(ObservingRequest)
            .where(ObservingRequest.id.in_(ids or [-1]))
            .options(selectinload(ObservingRequest.windows))
        )
    }
    blocks = tuple(
        BlockRow(**_request(rows.get(b.request_id), b.request_id), start=b.start, end=b.end, slew_s=b.slew_s)
        for b in schedule.blocks
    )
    unscheduled = tuple(
        LeftOutRow(**_request(rows.get(r.request_id), r.request_id), reason=r.reason.value, detail=r.detail)
        for r in schedule.rejections
    )
    chosen = tuple(plan_request(rows[b.request_id]) for b in schedule.blocks if b.request_id in rows)
    return StoredPlan(blocks, unscheduled, chosen)


def change_from_parent(session: Session, schedule: Schedule) -> dict[str, Any] | None:
    """What changed from the version ``schedule`` replaced (see ``service.compare``); None for a first version."""
    before = session.get(Schedule, schedule.parent_id) if schedule.parent_id else None
    return compare(before, schedule) if before is not None else None


def recent_alerts(session: Session, limit: int = FEED) -> list[AlertRow]:
    """The newest ``limit`` alerts, newest first."""
    alerts = session.scalars(select(Alert).order_by(Alert.received_at.desc(), Alert.id.desc()).limit(limit))
    return [AlertRow(a.received_at, a.stream, a.key, a.status.value, a.decision) for a in alerts]


@dataclass(frozen=True)
class SkyMapAlert:
    """The sky map a night's requests were tiled from: the alert, the map's FITS bytes and its tiles.

    Each tile: rank, ra_deg, dec_deg, probability, cumulative, request (its id), name and status (the request's
    now).
    """

    alert_id: int
    key: str
    event_id: str
    alert_type: str
    received: datetime
    area90_deg2: float | None
    fov_deg: float
    fits: bytes
    tiles: tuple[dict[str, Any], ...]

    @property
    def title(self) -> str:
        area = f", 90% area {self.area90_deg2:,.0f} deg²" if self.area90_deg2 is not None else ""
        return f"{self.event_id} {self.alert_type}{area}"


def night_skymap(session: Session, site: Site, night: date) -> SkyMapAlert | None:
    """The newest accepted alert with a tiled map received from a day before the night to its end; else None.

    An update's alert replaces the one it follows (which is then superseded), so this is the map now in force.
    """
    start, end = night_window(site, night)
    row = session.execute(
        select(Alert, AlertSkyMap)
        .join(AlertSkyMap, AlertSkyMap.alert_id == Alert.id)
        .where(
            Alert.status == AlertStatus.ACCEPTED,
            Alert.received_at >= start - timedelta(days=1),
            Alert.received_at < end,
            AlertSkyMap.fov_deg.is_not(None),
        )
        .order_by(Alert.received_at.desc(), Alert.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    alert, skymap = row
    ids = [tile["request"] for tile in skymap.tiles]
    requests = {r.id: r for r in session.scalars(select(ObservingRequest).where(ObservingRequest.id.in_(ids or [-1])))}
    tiles = tuple(
        tile | {"name": requests[tile["request"]].name, "status": requests[tile["request"]].status.value}
        for tile in skymap.tiles
        if tile["request"] in requests
    )
    return SkyMapAlert(
        alert.id,
        alert.key,
        alert.event_id,
        alert.alert_type,
        alert.received_at,
        alert.area90_deg2,
        float(skymap.fov_deg),
        skymap.fits,
        tiles,
    )


def _request(request: ObservingRequest | None, request_id: int) -> dict[str, Any]:
    if request is None:  # deleted since the plan was made
        return {"request": request_id, "name": "", "target": "", "priority": None}
    return {"request": request_id, "name": request.name, "target": request.target_name, "priority": request.priority}
