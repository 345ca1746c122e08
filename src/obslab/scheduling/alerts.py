"""Alerts in: each notice stored once, its event followed (update, retraction), twins spotted, policies applied."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from obslab.access import User, require_role, role_addresses
from obslab.astro import angular_separation_deg
from obslab.audit import record_event
from obslab.db import Clock, utcnow
from obslab.notify import enqueue
from obslab.scheduling import alert_requests
from obslab.scheduling.alert_policies import AlertPolicies, AlertPolicy, default_alert_policies
from obslab.scheduling.alert_requests import RequestChanges
from obslab.scheduling.models import Alert, AlertSkyMap, ObservingRequest
from obslab.scheduling.night import night_geometry, night_of
from obslab.scheduling.notices import Notice, NoticeFormat, NoticeKind, read_notice
from obslab.scheduling.notices.types import SkyMap as NoticeSkyMap
from obslab.scheduling.service import SCHEDULER_ROLE, plan_and_save, plan_version
from obslab.scheduling.types import AlertRole, AlertStatus
from obslab.settings import Site

if TYPE_CHECKING:
    from obslab.scheduling.skymaps import SkyMap as SkyMapPixels

#: Alerts that took part in a decision and may be matched, cited or followed by later ones.
LIVE = (AlertStatus.ACCEPTED, AlertStatus.SUPERSEDED)
#: The telescope's field of view when neither the caller nor the policy names one (degrees, a square's side).
DEFAULT_FOV_DEG = 1.0


@dataclass(frozen=True)
class IngestOutcome:
    """What one notice did: its alert's status and why, the requests it made or changed, the plan version it caused."""

    key: str
    status: AlertStatus
    decision: str
    request_ids: tuple[int, ...] = ()
    plan_version: int | None = None

    @property
    def request_id(self) -> int | None:
        return self.request_ids[0] if self.request_ids else None


@dataclass(frozen=True)
class _Decision:
    status: AlertStatus
    text: str
    changes: RequestChanges = field(default_factory=RequestChanges)


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
    fov_deg: float = DEFAULT_FOV_DEG,
) -> IngestOutcome:
    """Take one notice (VOEvent XML or JSON) from ``source`` (a Kafka topic, a file or a folder) in the caller's
    transaction; a refused notice raises and writes nothing.  See `ingest_notice`."""
    require_role(actor, SCHEDULER_ROLE, "ingest alerts")
    notice = read_notice(source, packet.encode() if isinstance(packet, str) else packet)
    return ingest_notice(session, actor, notice, site=site, policies=policies, now=now, replan=replan, fov_deg=fov_deg)


def ingest_notice(
    session: Session,
    actor: User,
    notice: Notice,
    *,
    site: Site,
    policies: AlertPolicies | None = None,
    now: Clock = utcnow,
    replan: bool = True,
    fov_deg: float = DEFAULT_FOV_DEG,
) -> IngestOutcome:
    """Take one notice in the caller's transaction.

    A notice already received (same key) or an exact repeat (same payload hash) changes nothing.  Test and
    mock traffic, and VOEvent test, utility and prediction packets, are kept but never observed.  A
    retraction cancels its event's pending requests (a VOEvent's by its citation; a JSON notice's by topic
    and event id); one for an event never received is recorded and does nothing.  A later notice of an event
    received before (a VOEvent citing it, a JSON notice of the same topic and event) replaces it: its request
    is moved, its sky map re-tiled (places tiled before keep their requests), or all cancelled when the
    policy no longer accepts it.  The same event from another instrument (close in time and inside the error
    circles) is marked a duplicate.  Otherwise the first matching policy decides.  When requests are made,
    moved or cancelled, the night in progress is re-planned from now and the schedulers are told.
    """
    require_role(actor, SCHEDULER_ROLE, "ingest alerts")
    policies = policies or default_alert_policies()
    at = now()
    repeat = _received_before(session, notice)
    if repeat:
        return IngestOutcome(notice.key, AlertStatus.DUPLICATE, repeat)
    alert = _stored(session, notice, at)
    decision = _decide(session, alert, notice, policies, site, at, fov_deg)
    alert.status, alert.decision = decision.status, decision.text
    session.flush()
    touched = decision.changes.touched
    # The audit log names the alert by id: keys run to 1024 characters, audit entity ids to 64.
    record_event(
        session,
        actor=actor,
        action=f"alert.{decision.status.value}",
        entity_type="alert",
        entity_id=str(alert.id),
        after={"key": notice.key, "decision": decision.text, "requests": [r.id for r in touched]},
        now=lambda: at,
    )
    version = None
    if touched and replan:
        night = night_of(site, at)
        # The alert re-plans whatever plan stands now, in this transaction; a re-plan racing it is refused.
        seen = plan_version(session, night)
        planned = plan_and_save(
            session, actor, site, night, seen_version=seen, planned_from=at, reason="too", now=lambda: at
        )
        version = planned.schedule.version_number if planned.schedule else None
        placed = {int(block.request.id) for block in planned.plan.blocks}
        _tell(session, alert, decision, night, version, placed, at)
    return IngestOutcome(notice.key, decision.status, decision.text, tuple(r.id for r in touched), version)


def _received_before(session: Session, notice: Notice) -> str:
    """Why the notice changes nothing, when it was received before; else ""."""
    existing = session.scalar(select(Alert).where(Alert.key == notice.key))
    how = "already received"
    if existing is None:
        existing = session.scalar(
            select(Alert).where(Alert.payload_sha256 == notice.payload_sha256).order_by(Alert.id).limit(1)
        )
        how = f"the same bytes as {existing.key}, received" if existing is not None else ""
    if existing is None:
        return ""
    return f"{how} at {existing.received_at:%Y-%m-%d %H:%M:%S} UTC (status {existing.status.value}); nothing changed"


def _stored(session: Session, notice: Notice, at: datetime) -> Alert:
    """The notice as an alert row, flushed for its id; a VOEvent keeps its parameters, a JSON notice its facts."""
    if notice.format is NoticeFormat.VOEVENT:
        role_word = str(notice.significance.get("role", "observation"))
        # The table knows observation, test and utility; a prediction is kept as utility (its role stays in parameters).
        role = AlertRole(role_word) if role_word in {r.value for r in AlertRole} else AlertRole.UTILITY
        parameters = dict(notice.details.get("parameters", {})) | {
            "role": role_word,
            "citations": [list(citation) for citation in notice.citations],
        }
        stream = (notice.ivorn or "").partition("#")[0]
    else:
        role = AlertRole.TEST if notice.kind is NoticeKind.TEST else AlertRole.OBSERVATION
        parameters = dict(notice.significance) | {"event_ids": list(notice.event_ids)}
        stream = notice.source
    centre = notice.ra_dec
    alert = Alert(
        key=notice.key,
        source=notice.source[:255],
        format=notice.format.value,
        kind=notice.kind.value,
        alert_type=notice.alert_type[:64],
        event_id=notice.event_id[:255],
        payload_sha256=notice.payload_sha256,
        role=role,
        author=str(notice.details.get("author", ""))[:255],
        stream=stream[:255],
        event_time=notice.trigger_time,
        received_at=at,
        ra_deg=centre[0] if centre else None,
        dec_deg=centre[1] if centre else None,
        error_radius_deg=notice.error_radius_deg,
        parameters=parameters,
        payload=notice.payload.decode(errors="replace"),
    )
    session.add(alert)
    session.flush()
    return alert


def _decide(
    session: Session,
    alert: Alert,
    notice: Notice,
    policies: AlertPolicies,
    site: Site,
    at: datetime,
    fov_deg: float,
) -> _Decision:
    if notice.kind is NoticeKind.TEST:
        return _Decision(AlertStatus.REJECTED, f"{_test_word(notice)}: kept for the record, never observed")
    role = notice.significance.get("role", "observation")
    if role != "observation":
        return _Decision(AlertStatus.REJECTED, f"role {role}: kept for the record, never observed")
    if notice.kind is NoticeKind.RETRACTION:
        return _retract(session, alert, notice)
    previous = _previous(session, alert, notice)
    if previous is None and notice.position is None:
        return _Decision(AlertStatus.REJECTED, "no position: nothing to point at")
    if previous is None and isinstance(notice.position, NoticeSkyMap) and notice.position.fits is None:
        # Offline first: a map given only by its URL is never fetched.
        url = notice.position.url
        return _Decision(AlertStatus.REJECTED, f"a sky map given only by its URL ({url}), which obslab does not fetch")
    if previous is None and alert.ra_deg is not None:
        twin = _same_event(session, alert, policies)
        if twin is not None:
            alert.duplicate_of_id = twin.id
            text = f"the same event as {twin.key} ({twin.stream}): close in time and position"
            return _Decision(AlertStatus.DUPLICATE, text)
    policy = policies.first_match(notice)
    pending = alert_requests.pending_of(session, previous)
    if policy is None:
        return _refused(f"no policy covers {alert.stream}", pending)
    alert.policy = policy.name
    skymap = _skymap(alert, notice)
    refusal = policy.refusal(notice, at, area90_deg2=alert.area90_deg2)
    if not refusal and skymap is not None:
        # Computed for every map the policy would take, so the alert says how much of it tonight can reach.
        refusal = _unobservable(alert, skymap, policy, site, at)
    if refusal:
        return _refused(f"policy {policy.name}: {refusal}", pending)
    target = str(alert.parameters.get("TargetName") or notice.event_id)
    if skymap is not None:
        return _tiled(session, alert, skymap, policy, previous, pending, target, site, at, fov_deg)
    if alert.ra_deg is None:
        if pending:
            for request in pending:
                request.alert_id = alert.id
            return _Decision(
                AlertStatus.ACCEPTED, f"no new position: {', '.join(r.name for r in pending)} stay as they were"
            )
        return _Decision(AlertStatus.REJECTED, "no position: nothing to point at")
    changes = alert_requests.point(session, alert, policy, pending, target, at)
    if previous is not None and changes.moved:
        text = (
            f"follows {previous.key}: request {changes.moved[0].name} moved to "
            f"RA {alert.ra_deg:.4f}, Dec {alert.dec_deg:.4f}"
        )
        return _Decision(AlertStatus.ACCEPTED, text, changes)
    text = f"policy {policy.name}: request {changes.made[0].name}, priority {policy.priority:g}"
    return _Decision(AlertStatus.ACCEPTED, text, changes)


def _refused(reason: str, pending: list[ObservingRequest]) -> _Decision:
    """Rejected; an earlier notice's pending requests go too, as the event no longer passes."""
    changes = alert_requests.cancel(pending)
    tail = f"; the event's requests are cancelled: {changes.summary()}" if pending else ""
    return _Decision(AlertStatus.REJECTED, reason + tail, changes)


def _test_word(notice: Notice) -> str:
    if notice.format is NoticeFormat.VOEVENT:
        return "role test"
    if notice.is_mock:
        return f"test traffic (mock event {notice.event_id})"
    return f"test traffic (alert tense {notice.significance.get('tense', 'test')})"


def _previous(session: Session, alert: Alert, notice: Notice) -> Alert | None:
    """The alert this notice follows: a VOEvent's cited one, else the newest live alert of the same topic and event."""
    if notice.format is NoticeFormat.VOEVENT:
        for kind, ivorn in notice.citations:
            cited = session.scalar(select(Alert).where(Alert.key == ivorn))
            if cited is not None:
                alert.supersedes_id = cited.id
                if kind == "supersedes":
                    cited.status = AlertStatus.SUPERSEDED
                return cited
        return None
    previous = session.scalar(
        select(Alert)
        .where(
            Alert.id != alert.id,
            Alert.source == alert.source,
            Alert.event_id == alert.event_id,
            Alert.status.in_((*LIVE, AlertStatus.REJECTED)),
            Alert.kind != NoticeKind.TEST.value,
        )
        .order_by(Alert.id.desc())
        .limit(1)
    )
    if previous is not None:
        alert.supersedes_id = previous.id
        previous.status = AlertStatus.SUPERSEDED if previous.status in LIVE else previous.status
    return previous


def _retract(session: Session, alert: Alert, notice: Notice) -> _Decision:
    if notice.format is NoticeFormat.VOEVENT:
        cited = [ivorn for kind, ivorn in notice.citations if kind == "retraction"]
        retracted = list(session.scalars(select(Alert).where(Alert.key.in_(cited))))
        what = ", ".join(cited)
    else:
        retracted = list(
            session.scalars(
                select(Alert).where(
                    Alert.id != alert.id,
                    Alert.source == alert.source,
                    Alert.event_id == alert.event_id,
                    Alert.kind != NoticeKind.TEST.value,
                )
            )
        )
        what = f"event {notice.event_id}"
    if not retracted:
        return _Decision(AlertStatus.REJECTED, f"retracts {what}, never received here: recorded, nothing to cancel")
    pending = [request for old in retracted for request in alert_requests.pending_of(session, old)]
    for old in retracted:
        old.status = AlertStatus.RETRACTED
    alert.supersedes_id = max(old.id for old in retracted)
    changes = alert_requests.cancel(pending)
    names = [request.name for request in pending]
    if len(names) == 1:
        done = f"its request {names[0]} is cancelled"
    else:
        done = f"its requests {', '.join(names)} are cancelled" if names else "it had no pending request"
    return _Decision(AlertStatus.ACCEPTED, f"retracts {what}: {done}", changes)


def _skymap(alert: Alert, notice: Notice) -> SkyMapPixels | None:
    """The notice's map read and stored with its 90% area, when its position is a map with its bytes."""
    if not isinstance(notice.position, NoticeSkyMap) or notice.position.fits is None:
        return None
    from obslab.scheduling import skymaps  # astropy-healpix, of the alerts extra, only for notices with maps

    pixels = skymaps.read_skymap(notice.position.fits)
    alert.area90_deg2 = round(skymaps.credible_area_deg2(pixels, 0.9), 3)
    alert.skymap = AlertSkyMap(fits=notice.position.fits, tiles=[])
    return pixels


def _unobservable(alert: Alert, skymap: SkyMapPixels, policy: AlertPolicy, site: Site, at: datetime) -> str:
    from obslab.scheduling import skymaps

    night = night_geometry(site, night_of(site, at))
    seen = skymaps.observable_probability(skymap, night, alert_requests.constraints(policy, at), start=at)
    alert.observable_probability = round(seen.probability, 5)
    if policy.min_observable_probability is not None and seen.probability < policy.min_observable_probability:
        return f"{seen.probability:.1%} of the map is observable tonight, under {policy.min_observable_probability:.0%}"
    return ""


def _tiled(
    session: Session,
    alert: Alert,
    skymap: SkyMapPixels,
    policy: AlertPolicy,
    previous: Alert | None,
    pending: list[ObservingRequest],
    target: str,
    site: Site,
    at: datetime,
    fov_deg: float,
) -> _Decision:
    from obslab.scheduling import skymaps

    fov = policy.fov_deg or fov_deg
    night = night_geometry(site, night_of(site, at))
    tiling = skymaps.tile(
        skymap, night, alert_requests.constraints(policy, at), fov_deg=fov, budget_s=policy.budget_s, start=at
    )
    if not tiling.tiles:
        return _refused(f"policy {policy.name}: no part of the map is observable tonight", pending)
    changes = alert_requests.tiles(session, alert, policy, tiling, previous, pending, target, at)
    head = f"policy {policy.name}" + (f", re-tiling {previous.key}" if previous is not None else "")
    text = (
        f"{head}: {len(tiling.tiles)} tiles of {fov:g} deg hold {tiling.probability:.1%} of the map "
        f"(90% area {alert.area90_deg2:,.0f} deg^2, {alert.observable_probability:.1%} observable tonight); "
        f"{changes.summary()}"
    )
    return _Decision(AlertStatus.ACCEPTED, text, changes)


def _same_event(session: Session, alert: Alert, policies: AlertPolicies) -> Alert | None:
    """An accepted alert from another stream or topic close enough in time and position to be the same event."""
    if alert.event_time is None or alert.ra_deg is None or alert.dec_deg is None:
        return None
    window = timedelta(seconds=policies.match_within_s)
    candidates = session.scalars(
        select(Alert)
        .where(
            Alert.id != alert.id,
            Alert.stream != alert.stream,
            Alert.status.in_(LIVE),
            Alert.event_time.between(alert.event_time - window, alert.event_time + window),
            Alert.ra_deg.is_not(None),
        )
        .order_by(Alert.id)
    )
    for other in candidates:
        radius = max(
            policies.match_min_radius_deg, math.hypot(alert.error_radius_deg or 0.0, other.error_radius_deg or 0.0)
        )
        if angular_separation_deg(alert.ra_deg, alert.dec_deg, other.ra_deg, other.dec_deg) <= radius:
            return other
    return None


def _tell(
    session: Session,
    alert: Alert,
    decision: _Decision,
    night: date,
    version: int | None,
    placed: set[int],
    at: datetime,
) -> None:
    recipients = role_addresses(session, [SCHEDULER_ROLE])
    if not recipients:
        return
    lines = [
        f"{request.name} ({request.status.value}) "
        + ("is in the new plan" if request.id in placed else "is not in tonight's plan (see obslab plan explain)")
        for request in decision.changes.touched
    ]
    body = (
        f"Alert {alert.key}\nstream {alert.stream}\ndecision: {decision.text}\n\n"
        + "\n".join(lines)
        + f"\n\nNight {night}: plan version {version}.\n"
    )
    enqueue(
        session,
        kind="alert.accepted",
        recipients=recipients,
        subject=f"[obslab] ToO: {decision.text[:120]}",
        body=body,
        dedupe_key=f"alert:{alert.id}",
        now=lambda: at,
    )
