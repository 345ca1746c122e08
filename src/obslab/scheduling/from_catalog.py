"""Approved catalog observations become observing requests: target, exposure and time windows taken from the catalog."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from obslab.access import User, require_role
from obslab.audit import record_event
from obslab.catalog.models import EDITABLE_STATUSES, Observation, ObservationParameter
from obslab.catalog.obsids import parse_obsid_list
from obslab.catalog.values import DATETIME_FORMAT
from obslab.db import Clock, utcnow
from obslab.scheduling.models import ObservingRequest, RequestWindow
from obslab.scheduling.service import SCHEDULER_ROLE
from obslab.scheduling.types import RequestStatus, TwilightLevel

#: What a catalog observation's request asks for beyond what the catalog says (a deployment may pass its own).
DEFAULTS = {"priority": 5.0, "overhead_s": 300.0, "min_altitude_deg": 30.0, "twilight": TwilightLevel.ASTRONOMICAL}


@dataclass(frozen=True)
class FromCatalog:
    """One obsid's outcome: the request made, or why none was."""

    obsid: int
    request: str | None
    detail: str


def requests_from_catalog(session: Session, actor: User, obsids: str, *, now: Clock = utcnow) -> list[FromCatalog]:
    """Make a pending request for each listed observation that is approved, still to be observed and not requested yet.

    The exposure is the approved exposure; a "Y" or "P" time-window constraint (ranked tstart/tstop) becomes the
    request's windows.  Obsids that cannot be requested are reported with the reason, and the others still are.
    """
    require_role(actor, SCHEDULER_ROLE, "turn catalog observations into requests")
    at = now()
    outcomes = []
    for obsid in parse_obsid_list(obsids):
        observation = session.scalar(select(Observation).where(Observation.obsid == obsid))
        if observation is None:
            outcomes.append(FromCatalog(obsid, None, "not in the catalog"))
            continue
        if observation.status not in EDITABLE_STATUSES:
            outcomes.append(FromCatalog(obsid, None, f"it is {observation.status.value}: nothing left to observe"))
            continue
        if not observation.approved:
            outcomes.append(FromCatalog(obsid, None, "not approved for flight yet (sign-off first)"))
            continue
        existing = session.scalar(
            select(ObservingRequest.name).where(
                ObservingRequest.observation_id == observation.id, ObservingRequest.status == RequestStatus.PENDING
            )
        )
        if existing is not None:
            outcomes.append(FromCatalog(obsid, existing, f"already requested as {existing}"))
            continue
        request = ObservingRequest(
            name=f"OBS-{obsid}",
            target_name=observation.target_name,
            ra_deg=observation.ra_deg,
            dec_deg=observation.dec_deg,
            duration_s=observation.approved_exposure_ks * 1000.0,
            program="catalog",
            observation_id=observation.id,
            submitted_by_id=actor.id,
            created_at=at,
            **DEFAULTS,
        )
        request.windows = [RequestWindow(start=start, end=end) for start, end in _windows(session, observation)]
        session.add(request)
        session.flush()
        record_event(
            session,
            actor=actor,
            action="request.from_catalog",
            entity_type="observing_request",
            entity_id=request.name,
            after={"obsid": obsid, "windows": len(request.windows)},
            now=lambda: at,
        )
        outcomes.append(
            FromCatalog(
                obsid, request.name, f"requested: {request.duration_s / 60:.0f} min, {len(request.windows)} window(s)"
            )
        )
    return outcomes


def _windows(session: Session, observation: Observation) -> list[tuple[datetime, datetime]]:
    """The observation's time-window table (a constraint of Y or P), as UTC ranges."""
    rows = session.execute(
        select(ObservationParameter.name, ObservationParameter.rank, ObservationParameter.value).where(
            ObservationParameter.observation_id == observation.id,
            ObservationParameter.rank >= 1,
            ObservationParameter.name.in_(["window_constraint", "tstart", "tstop"]),
        )
    ).all()
    table: dict[int, dict[str, object]] = {}
    for name, rank, value in rows:
        table.setdefault(rank, {})[name] = value
    windows = []
    for rank in sorted(table):
        row = table[rank]
        if row.get("window_constraint") in ("Y", "P") and row.get("tstart") and row.get("tstop"):
            start = datetime.strptime(str(row["tstart"]), DATETIME_FORMAT).replace(tzinfo=UTC)
            stop = datetime.strptime(str(row["tstop"]), DATETIME_FORMAT).replace(tzinfo=UTC)
            if start < stop:
                windows.append((start, stop))
    return windows
