"""The requests an alert's event gets: one pointing, or its sky map's best tiles; moved, re-tiled or cancelled."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from obslab.scheduling.alert_policies import AlertPolicy
from obslab.scheduling.models import Alert, AlertSkyMap, ObservingRequest, RequestWindow
from obslab.scheduling.skymaps import Tiling
from obslab.scheduling.types import RequestStatus
from obslab.scheduling.visibility import PlanRequest

#: A tile's priority is the policy's times this plus the rest in proportion to its probability against the
#: best tile's: every tile of an event the policy observes stays above ordinary work of lower priority.
TILE_PRIORITY_FLOOR = 0.5


@dataclass
class RequestChanges:
    """What one alert did to its event's requests."""

    made: list[ObservingRequest] = field(default_factory=list)
    moved: list[ObservingRequest] = field(default_factory=list)  # kept, with a new position, priority or alert
    cancelled: list[ObservingRequest] = field(default_factory=list)

    @property
    def touched(self) -> list[ObservingRequest]:
        return self.made + self.moved + self.cancelled

    def summary(self) -> str:
        parts = [
            f"{label} {_names(requests)}"
            for label, requests in (("made", self.made), ("moved", self.moved), ("cancelled", self.cancelled))
            if requests
        ]
        return "; ".join(parts) if parts else "no request changed"


def constraints(policy: AlertPolicy, at: datetime) -> PlanRequest:
    """The request an alert under ``policy`` becomes, without its position: what tiling and observability test."""
    return PlanRequest(
        id="template",
        ra_deg=0.0,
        dec_deg=0.0,
        duration_s=policy.duration_s,
        overhead_s=policy.overhead_s,
        priority=policy.priority,
        windows=((at, at + timedelta(hours=policy.window_hours)),),
        min_altitude_deg=policy.min_altitude_deg,
        max_airmass=policy.max_airmass,
        twilight=policy.twilight,
        min_moon_separation_deg=policy.min_moon_separation_deg,
    )


def pending_of(session: Session, alert: Alert | None) -> list[ObservingRequest]:
    """The requests of ``alert`` still waiting to be observed, in id order."""
    if alert is None:
        return []
    return list(
        session.scalars(
            select(ObservingRequest)
            .where(ObservingRequest.alert_id == alert.id, ObservingRequest.status == RequestStatus.PENDING)
            .order_by(ObservingRequest.id)
        )
    )


def cancel(requests: list[ObservingRequest]) -> RequestChanges:
    for request in requests:
        request.status = RequestStatus.CANCELLED
    return RequestChanges(cancelled=list(requests))


def point(
    session: Session,
    alert: Alert,
    policy: AlertPolicy,
    previous: list[ObservingRequest],
    target: str,
    at: datetime,
) -> RequestChanges:
    """One pointing at the alert's position: the event's pending request moved there, else a new one."""
    if previous:
        kept, *rest = previous
        kept.ra_deg, kept.dec_deg, kept.alert_id = alert.ra_deg, alert.dec_deg, alert.id
        changes = cancel(rest)
        changes.moved.append(kept)
        return changes
    request = _new(session, alert, policy, f"ALERT-{alert.id}", target, alert.ra_deg, alert.dec_deg, at)
    return RequestChanges(made=[request])


def tiles(
    session: Session,
    alert: Alert,
    policy: AlertPolicy,
    tiling: Tiling,
    previous_alert: Alert | None,
    previous: list[ObservingRequest],
    target: str,
    at: datetime,
) -> RequestChanges:
    """The tiling's tiles as ranked requests; a place tiled before keeps its request, a place dropped is cancelled.

    A place is the tile grid's (nside, nested index), so an update's map re-tiled names the same places again;
    ``previous`` are the event's pending requests (those of ``previous_alert``).
    """
    by_place = _previous_places(session, previous_alert, previous)
    best = tiling.tiles[0].probability if tiling.tiles else 1.0
    changes = RequestChanges()
    stored = []
    for tile in tiling.tiles:
        priority = policy.priority * (TILE_PRIORITY_FLOOR + (1 - TILE_PRIORITY_FLOOR) * tile.probability / best)
        request = by_place.pop((tile.nside, tile.healpix), None)
        if request is None:
            name = f"ALERT-{alert.id}-T{tile.rank:02d}"
            request = _new(session, alert, policy, name, f"{target} tile {tile.rank}", tile.ra_deg, tile.dec_deg, at)
            changes.made.append(request)
        else:
            changes.moved.append(request)
        request.priority, request.alert_id = round(priority, 4), alert.id
        stored.append(tile.as_dict() | {"request": request.id})
    # Whatever the event had that is no tile now (a place dropped, or a pointing before the map) is cancelled.
    changes.cancelled = cancel([r for r in previous if r not in changes.moved]).cancelled
    alert.skymap.tiles = stored
    alert.skymap.fov_deg = tiling.fov_deg
    return changes


def _previous_places(
    session: Session, previous_alert: Alert | None, pending: list[ObservingRequest]
) -> dict[tuple[int, int], ObservingRequest]:
    if previous_alert is None:
        return {}
    stored = session.scalar(select(AlertSkyMap.tiles).where(AlertSkyMap.alert_id == previous_alert.id)) or []
    by_id = {request.id: request for request in pending}
    return {
        (int(tile["nside"]), int(tile["healpix"])): by_id[tile["request"]]
        for tile in stored
        if tile.get("request") in by_id
    }


def _new(
    session: Session,
    alert: Alert,
    policy: AlertPolicy,
    name: str,
    target: str,
    ra_deg: float | None,
    dec_deg: float | None,
    at: datetime,
) -> ObservingRequest:
    request = ObservingRequest(
        name=name,
        target_name=target[:128],
        ra_deg=ra_deg,
        dec_deg=dec_deg,
        duration_s=policy.duration_s,
        overhead_s=policy.overhead_s,
        priority=policy.priority,
        program="ToO",
        twilight=policy.twilight,
        max_airmass=policy.max_airmass,
        min_altitude_deg=policy.min_altitude_deg,
        min_moon_separation_deg=policy.min_moon_separation_deg,
        alert_id=alert.id,
        created_at=at,
    )
    request.windows = [RequestWindow(start=at, end=at + timedelta(hours=policy.window_hours))]
    session.add(request)
    session.flush()
    return request


def _names(requests: list[ObservingRequest]) -> str:
    names = [request.name for request in requests]
    return ", ".join(names) if len(names) <= 4 else f"{', '.join(names[:3])} and {len(names) - 3} more"
