"""The demo's stored night plans and its alert feed, made through the real scheduling services.

The scheduler plans tonight and the two nights after it in the morning; then a few alerts arrive through
``alerts.ingest`` as they would from the brokers: a Swift burst (a ToO that re-plans tonight), the same
burst seen by Fermi (recognised as a duplicate), a Gaia transient, a ZTF candidate below the policy's
importance, a Swift test notice and an LVK neutron-star merger whose sky map is tiled into ranked requests
(igwn.gwalert JSON, as it comes over Kafka). So `plan explain`, the Schedule page with its map and its alert
feed all show something true.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from sqlalchemy import select

from obslab.audit import AuditEvent
from obslab.demo.context import DemoContext
from obslab.demo.notices import GWALERT_TOPIC, gwalert, multiorder_map
from obslab.demo.people import SCHEDULERS
from obslab.demo.voevents import fermi_gbm, gaia_alert, survey_transient, swift_bat_grb
from obslab.notify import Notification
from obslab.scheduling.alerts import ingest
from obslab.scheduling.models import (
    Alert,
    AlertSkyMap,
    ObservingRequest,
    RequestRejection,
    RequestWindow,
    Schedule,
    ScheduledBlock,
)
from obslab.scheduling.notices import read_notice
from obslab.scheduling.service import plan_and_save, plan_version

#: Where the demo's VOEvents come from (a file-less source: their IVORNs name their streams).
VOEVENTS = "demo"
#: Nights planned ahead, from the site's local today.
PLANNED_NIGHTS = 3
#: When the scheduler stored the plans: this long before the load.
PLANNED_BEFORE = timedelta(hours=8)
_WRITTEN = (
    AlertSkyMap,
    Schedule,
    ScheduledBlock,
    RequestRejection,
    Alert,
    ObservingRequest,
    RequestWindow,
    AuditEvent,
    Notification,
)


def ensure_plans_and_alerts(ctx: DemoContext) -> None:
    """Store the nights' first plans (where none is stored) and ingest the alerts not received yet."""
    scheduler = ctx.users[SCHEDULERS[0]]
    planned_at = ctx.moment - PLANNED_BEFORE
    with ctx.through_services(_WRITTEN):
        for offset in range(PLANNED_NIGHTS):
            night = ctx.local_today + timedelta(days=offset)
            if plan_version(ctx.session, night) == 0:
                plan_and_save(ctx.session, scheduler, ctx.site, night, seen_version=0, now=lambda: planned_at)
        # A second load today brings the same events, at the times of this load: known by the IVORN, or (JSON
        # notices, whose keys carry their creation time) by topic, event and alert type.
        received = {
            key if format == "voevent" else f"{source}#{event}/{alert_type}"
            for key, format, source, event, alert_type in ctx.session.execute(
                select(Alert.key, Alert.format, Alert.source, Alert.event_id, Alert.alert_type)
            )
        }
        for at, source, packet in _packets(ctx):
            notice = read_notice(source, packet.encode() if isinstance(packet, str) else packet)
            if (notice.ivorn or f"{notice.source}#{notice.event_id}/{notice.alert_type}") not in received:
                ingest(ctx.session, scheduler, packet, site=ctx.site, source=source, now=lambda at=at: at)


def _packets(ctx: DemoContext) -> Iterator[tuple[datetime, str, str | bytes]]:
    """(arrival, source, packet) in order of arrival, each event a little before it arrives, in tonight's sky."""
    rng = ctx.rng("alerts", ctx.today)  # a later day brings that day's alerts; a second load today, none
    # Positions near tonight's meridian at the site's latitude: the ToO is observable tonight.
    middle = ctx.night_middle(ctx.local_today)
    ra = (local_sidereal_deg(middle, ctx.site.longitude_deg) + rng.uniform(-20, 20)) % 360.0
    dec = max(-89.0, min(89.0, ctx.site.latitude_deg + rng.uniform(-15, 15)))
    burst = ctx.moment - timedelta(minutes=rng.randint(150, 200))
    trigger = 1_300_000 + rng.randint(0, 99_999)
    gaia_name = f"Gaia{ctx.today:%y}{''.join(rng.choices('abcdefghijklmnopqrstuvwxyz', k=3))}"
    ztf_name = f"ZTF{ctx.today:%y}aa{''.join(rng.choices('abcdefghijklmnopqrstuvwxyz', k=3))}"
    gaia_ra, gaia_dec = (ra + 35.0) % 360.0, max(-89.0, min(89.0, dec - 10.0))
    yield burst + timedelta(seconds=40), VOEVENTS, swift_bat_grb(trigger, burst, round(ra, 4), round(dec, 4))
    yield (
        burst + timedelta(minutes=3),
        VOEVENTS,
        fermi_gbm(trigger, burst + timedelta(seconds=2), round(ra + 0.3, 4), dec),
    )
    sighting = ctx.moment - timedelta(minutes=rng.randint(60, 100))
    gaia = gaia_alert(gaia_name, sighting, round(gaia_ra, 5), round(gaia_dec, 5))
    yield sighting + timedelta(minutes=5), VOEVENTS, gaia
    faint = ctx.moment - timedelta(minutes=rng.randint(20, 50))
    ztf = survey_transient(ztf_name, faint, (ra - 40.0) % 360.0, dec, importance=0.3)
    yield faint + timedelta(minutes=2), VOEVENTS, ztf
    drill = ctx.moment - timedelta(minutes=10)
    yield drill, VOEVENTS, swift_bat_grb(trigger + 1, drill, 0.0, 0.0, role="test")
    merger = ctx.moment - timedelta(minutes=rng.randint(5, 9))
    superevent = f"S{ctx.today:%y%m%d}{''.join(rng.choices('abcdefghijklmnopqrstuvwxyz', k=2))}"
    gw_ra, gw_dec = (ra - 15.0) % 360.0, max(-60.0, min(75.0, dec + 5.0))
    skymap = multiorder_map(gw_ra, gw_dec, 2.5, weight=0.97, extra={"OBJECT": superevent})
    yield merger, GWALERT_TOPIC, gwalert("PRELIMINARY", superevent, created=merger, skymap=skymap)


def local_sidereal_deg(moment: datetime, longitude_deg: float) -> float:
    """Mean local sidereal time in degrees (IAU 1982 GMST; good to a second, plenty to aim a demo alert)."""
    days = (moment - datetime(2000, 1, 1, 12, tzinfo=moment.tzinfo)).total_seconds() / 86_400.0
    return (280.46061837 + 360.98564736629 * days + longitude_deg) % 360.0
