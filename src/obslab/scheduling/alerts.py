"""Alerts in: store each packet once, honour citations, spot one event seen by two instruments, apply the policies."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from obslab.access import User, require_role, role_addresses
from obslab.astro import angular_separation_deg
from obslab.audit import record_event
from obslab.db import Clock, utcnow
from obslab.notify import enqueue
from obslab.scheduling.alert_policies import AlertPolicies, AlertPolicy, default_alert_policies
from obslab.scheduling.models import Alert, ObservingRequest, RequestWindow
from obslab.scheduling.night import night_of
from obslab.scheduling.service import SCHEDULER_ROLE, plan_and_save, plan_version
from obslab.scheduling.types import AlertRole, AlertStatus, RequestStatus
from obslab.scheduling.voevent import VOEvent, parse_voevent
from obslab.settings import Site

#: Alerts that took part in a decision and may be matched or cited by later ones.
LIVE = (AlertStatus.ACCEPTED, AlertStatus.SUPERSEDED)


@dataclass(frozen=True)
class IngestOutcome:
    """What one packet did: its alert's status and why, the request it made or changed, the plan version it caused."""

    ivorn: str
    status: AlertStatus
    decision: str
    request_id: int | None = None
    plan_version: int | None = None


def ingest(
    session: Session,
    actor: User,
    packet: bytes | str,
    *,
    site: Site,
    source: str = "packet",
    policies: AlertPolicies | None = None,
    now: Clock = utcnow,
    replan: bool = True,
) -> IngestOutcome:
    """Take one VOEvent packet in the caller's transaction; a refused packet raises and writes nothing.

    A packet already received (same IVORN) changes nothing.  Test, utility and prediction packets are
    kept for the feed but never observed.  A retraction cancels the cited alert's request; a packet that
    supersedes or follows up another moves that alert's request to the new position instead of adding
    one.  The same event from another instrument (close in time and inside the error circles) is marked
    a duplicate.  Otherwise the first matching policy decides.  When a request is made, moved or
    cancelled, the night in progress is re-planned from now and the schedulers are told.
    """
    require_role(actor, SCHEDULER_ROLE, "ingest alerts")
    event = parse_voevent(packet, source=source)
    policies = policies or default_alert_policies()
    at = now()
    existing = session.scalar(select(Alert).where(Alert.ivorn == event.ivorn))
    if existing is not None:
        return IngestOutcome(
            event.ivorn,
            AlertStatus.DUPLICATE,
            f"already received at {existing.received_at:%Y-%m-%d %H:%M:%S} UTC "
            f"(status {existing.status.value}); nothing changed",
            None,
        )
    # The table knows observation, test and utility; a prediction is kept as utility (its role stays in parameters).
    role = AlertRole(event.role) if event.role in {r.value for r in AlertRole} else AlertRole.UTILITY
    alert = Alert(
        ivorn=event.ivorn,
        role=role,
        author=event.author,
        stream=event.stream,
        event_time=event.event_time,
        received_at=at,
        ra_deg=event.ra_deg,
        dec_deg=event.dec_deg,
        error_radius_deg=event.error_radius_deg,
        parameters=event.parameters | {"role": event.role, "citations": [[c.kind, c.ivorn] for c in event.citations]},
        payload=packet.decode(errors="replace") if isinstance(packet, bytes) else packet,
    )
    session.add(alert)
    session.flush()
    status, decision, request = _decide(session, alert, event, policies, at)
    alert.status, alert.decision = status, decision
    session.flush()
    # The audit log names the alert by id: IVORNs run to 512 characters, audit entity ids to 64.
    record_event(
        session,
        actor=actor,
        action=f"alert.{status.value}",
        entity_type="alert",
        entity_id=str(alert.id),
        after={"ivorn": event.ivorn, "decision": decision, "request": request.id if request else None},
        now=lambda: at,
    )
    version = None
    if request is not None and replan:
        night = night_of(site, at)
        # The alert re-plans whatever plan stands now, in this transaction; a re-plan racing it is refused.
        seen = plan_version(session, night)
        planned = plan_and_save(
            session, actor, site, night, seen_version=seen, planned_from=at, reason="too", now=lambda: at
        )
        version = planned.schedule.version_number if planned.schedule else None
        placed = any(int(block.request.id) == request.id for block in planned.plan.blocks)
        _tell(session, event, alert, request, decision, night, version, placed, at)
    return IngestOutcome(event.ivorn, status, decision, request.id if request else None, version)


def _decide(
    session: Session, alert: Alert, event: VOEvent, policies: AlertPolicies, at: datetime
) -> tuple[AlertStatus, str, ObservingRequest | None]:
    if event.role != "observation":
        return AlertStatus.REJECTED, f"role {event.role}: kept for the record, never observed", None
    for citation in event.citations:
        cited = session.scalar(select(Alert).where(Alert.ivorn == citation.ivorn))
        if cited is None:
            continue
        request = session.scalar(select(ObservingRequest).where(ObservingRequest.alert_id == cited.id))
        if citation.kind == "retraction":
            cited.status = AlertStatus.RETRACTED
            if request is not None and request.status is RequestStatus.PENDING:
                request.status = RequestStatus.CANCELLED
                return AlertStatus.ACCEPTED, f"retracts {cited.ivorn}: its request {request.name} is cancelled", request
            return AlertStatus.ACCEPTED, f"retracts {cited.ivorn}, which had no pending request", None
        alert.supersedes_id = cited.id
        if citation.kind == "supersedes":
            cited.status = AlertStatus.SUPERSEDED
        if request is not None and request.status is RequestStatus.PENDING and event.ra_deg is not None:
            request.ra_deg, request.dec_deg, request.alert_id = event.ra_deg, event.dec_deg, alert.id
            return (
                AlertStatus.ACCEPTED,
                (
                    f"{citation.kind} {cited.ivorn}: request {request.name} moved to "
                    f"RA {event.ra_deg:.4f}, Dec {event.dec_deg:.4f}"
                ),
                request,
            )
    if event.ra_deg is None or event.dec_deg is None:
        return AlertStatus.REJECTED, "no position: nothing to point at", None
    twin = _same_event(session, alert, event, policies)
    if twin is not None:
        alert.duplicate_of_id = twin.id
        return (
            AlertStatus.DUPLICATE,
            f"the same event as {twin.ivorn} ({twin.stream}): close in time and position",
            None,
        )
    policy = policies.first_match(event)
    if policy is None:
        return AlertStatus.REJECTED, f"no policy covers {event.stream}", None
    alert.policy = policy.name
    refusal = _refusal(policy, event, at)
    if refusal:
        return AlertStatus.REJECTED, f"policy {policy.name}: {refusal}", None
    request = _request(session, alert, event, policy, at)
    return AlertStatus.ACCEPTED, f"policy {policy.name}: request {request.name}, priority {policy.priority:g}", request


def _refusal(policy: AlertPolicy, event: VOEvent, at: datetime) -> str:
    if not policy.accept:
        return "alerts of this kind are not observed"
    if policy.max_error_deg is not None and (
        event.error_radius_deg is None or event.error_radius_deg > policy.max_error_deg
    ):
        return f"error radius {event.error_radius_deg} deg is over {policy.max_error_deg:g} deg"
    if policy.max_age_hours is not None and event.event_time is not None:
        age = (at - event.event_time).total_seconds() / 3600
        if age > policy.max_age_hours:
            return f"the event is {age:.1f} h old; this policy observes events up to {policy.max_age_hours:g} h old"
    if policy.min_importance is not None and (event.importance or 0.0) < policy.min_importance:
        return f"importance {event.importance} is under {policy.min_importance:g}"
    return ""


def _same_event(session: Session, alert: Alert, event: VOEvent, policies: AlertPolicies) -> Alert | None:
    """An accepted alert from another stream close enough in time and position to be the same event."""
    if event.event_time is None:
        return None
    window = timedelta(seconds=policies.match_within_s)
    candidates = session.scalars(
        select(Alert)
        .where(
            Alert.id != alert.id,
            Alert.stream != event.stream,
            Alert.status.in_(LIVE),
            Alert.event_time.between(event.event_time - window, event.event_time + window),
            Alert.ra_deg.is_not(None),
        )
        .order_by(Alert.id)
    )
    for other in candidates:
        radius = max(
            policies.match_min_radius_deg, math.hypot(event.error_radius_deg or 0.0, other.error_radius_deg or 0.0)
        )
        if angular_separation_deg(event.ra_deg, event.dec_deg, other.ra_deg, other.dec_deg) <= radius:
            return other
    return None


def _request(session: Session, alert: Alert, event: VOEvent, policy: AlertPolicy, at: datetime) -> ObservingRequest:
    local = event.ivorn.partition("#")[2][:100]
    request = ObservingRequest(
        name=f"ALERT-{alert.id}",
        target_name=event.parameters.get("TargetName") or local,
        ra_deg=event.ra_deg,
        dec_deg=event.dec_deg,
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


def _tell(
    session: Session,
    event: VOEvent,
    alert: Alert,
    request: ObservingRequest,
    decision: str,
    night: date,
    version: int | None,
    placed: bool,
    at: datetime,
) -> None:
    recipients = role_addresses(session, [SCHEDULER_ROLE])
    if not recipients:
        return
    outcome = "is in the new plan" if placed else "is not in tonight's plan (see obslab plan explain)"
    body = (
        f"Alert {event.ivorn}\nstream {event.stream}\ndecision: {decision}\n\n"
        f"Request {request.name} ({request.status.value}) "
        f"{outcome}.\nNight {night}: plan version {version}.\n"
    )
    enqueue(
        session,
        kind="alert.accepted",
        recipients=recipients,
        subject=f"[obslab] ToO: {decision[:120]}",
        body=body,
        dedupe_key=f"alert:{alert.id}",
        now=lambda: at,
    )
