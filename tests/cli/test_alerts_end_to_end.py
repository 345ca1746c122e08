"""Today's alerts end to end through ``obslab alerts listen`` on a real broker (librdkafka's mock cluster): Swift
BAT-GUANO initial, update and retraction; Einstein Probe; IceCube; an LVK preliminary, update and retraction with
sky maps; a VOEvent over Kafka; mock traffic and an exact repeat."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from obslab.cli import main
from obslab.demo.notices import (
    EINSTEIN_PROBE_TOPIC,
    GUANO_TOPIC,
    GWALERT_TOPIC,
    ICECUBE_TOPIC,
    einstein_probe,
    guano,
    gwalert,
    icecube,
    multiorder_map,
)
from obslab.demo.voevents import swift_bat_grb
from obslab.scheduling.models import Alert, AlertSkyMap, ObservingRequest
from obslab.scheduling.types import AlertStatus, RequestStatus
from tests.helpers.kafka import MockBroker
from tests.helpers.support import tonights_meridian

pytestmark = pytest.mark.slow  # the mock broker's group waits 3 s, and every notice re-plans a night

VOEVENT_TOPIC = "gcn.classic.voevent.SWIFT_BAT_GRB_POS_ACK"
GROUP = "obslab-end-to-end"


def test_each_kind_of_notice_is_handled_end_to_end_through_the_listener(
    scheduler_db: str, broker: MockBroker, sessions: sessionmaker[Session]
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    trigger = now - timedelta(minutes=3)
    ra, dec = tonights_meridian()
    initial = guano("initial", 1, trigger=trigger, ra=10.0, dec=-20.0)
    produced = {
        GUANO_TOPIC: [
            initial,
            guano("update", 2, trigger=trigger, ra=10.02, dec=-20.01),
            initial,  # the same bytes again: a broker's redelivery
            guano("retraction", 3, trigger=trigger),
        ],
        EINSTEIN_PROBE_TOPIC: [einstein_probe(trigger=trigger, ra=150.0, dec=5.0)],
        ICECUBE_TOPIC: [icecube(trigger=trigger, ra=200.0, dec=-5.0)],
        GWALERT_TOPIC: [
            gwalert("PRELIMINARY", "S261208zz", created=now, skymap=multiorder_map(ra, dec, 2.0)),
            gwalert("PRELIMINARY", "MS261208zz", created=now, skymap=multiorder_map(ra, dec, 2.0)),
            gwalert(
                "UPDATE", "S261208zz", created=now + timedelta(minutes=1), skymap=multiorder_map(ra + 0.5, dec, 1.5)
            ),
            gwalert("RETRACTION", "S261208zz", created=now + timedelta(minutes=2)),
        ],
        VOEVENT_TOPIC: [swift_bat_grb(1_777_001, trigger, 300.0, 40.0)],
    }
    for topic, payloads in produced.items():
        broker.produce(topic, *payloads)
    total = sum(len(payloads) for payloads in produced.values())
    env = {
        "OBSLAB_DATABASE_URL": scheduler_db,
        "OBSLAB_ACTING_USER": "sched",
        "OBSLAB_KAFKA_TOPICS": ",".join(produced),
        "OBSLAB_KAFKA_GROUP_ID": GROUP,
        "OBSLAB_KAFKA_CONFIG": json.dumps(broker.listener_config),
    }

    with broker.heartbeats():
        result = CliRunner().invoke(main, ["alerts", "listen", "--max-messages", str(total)], env=env)

    assert result.exit_code == 0, result.output
    lines = {topic: [line for line in result.stdout.splitlines() if line.startswith(topic)] for topic in produced}
    statuses = {topic: [line.split(": ")[1] for line in shown] for topic, shown in lines.items()}
    assert statuses == {
        GUANO_TOPIC: ["accepted", "accepted", "duplicate", "accepted"],
        EINSTEIN_PROBE_TOPIC: ["accepted"],
        ICECUBE_TOPIC: ["accepted"],
        GWALERT_TOPIC: ["accepted", "rejected", "accepted", "accepted"],
        VOEVENT_TOPIC: ["accepted"],
    }, result.stdout
    guano_said, lvk_said = lines[GUANO_TOPIC], lines[GWALERT_TOPIC]
    assert "moved to RA 10.0200, Dec -20.0100" in guano_said[1] and "nothing changed" in guano_said[2]
    assert re.search(r"retracts event 694215995: its request ALERT-\d+ is cancelled", guano_said[3])
    assert "policy lvk-neutron-star-merger" in lvk_said[0] and "test traffic (mock event MS261208zz)" in lvk_said[1]
    assert "re-tiling igwn.gwalert#S261208zz/PRELIMINARY/" in lvk_said[2]
    assert "retracts event S261208zz: its requests" in lvk_said[3] and "are cancelled" in lvk_said[3]
    # Every offset committed, once each notice's transaction had: nothing will come again.
    assert {topic: broker.committed(GROUP, topic) for topic in produced} == {
        topic: len(payloads) for topic, payloads in produced.items()
    }

    with sessions() as session:
        alerts = {alert.key: alert for alert in session.scalars(select(Alert))}
        assert len(alerts) == total - 1  # the redelivery was not stored
        requests = list(session.scalars(select(ObservingRequest).where(ObservingRequest.program == "ToO")))
        by_source = Counter(
            (alert.source, request.status) for request in requests for alert in [session.get(Alert, request.alert_id)]
        )
        maps = session.scalars(select(AlertSkyMap).order_by(AlertSkyMap.alert_id)).all()
        lvk = [alert for alert in alerts.values() if alert.event_id == "S261208zz"]
    # The Swift burst moved, then retracted; EP, IceCube and the VOEvent each pending; the LVK tiles all cancelled.
    assert by_source[(GUANO_TOPIC, RequestStatus.CANCELLED)] == 1
    assert by_source[(EINSTEIN_PROBE_TOPIC, RequestStatus.PENDING)] == 1
    assert by_source[(ICECUBE_TOPIC, RequestStatus.PENDING)] == 1
    assert by_source[(VOEVENT_TOPIC, RequestStatus.PENDING)] == 1
    assert by_source[(GWALERT_TOPIC, RequestStatus.CANCELLED)] >= 10
    assert not by_source[(GWALERT_TOPIC, RequestStatus.PENDING)]
    assert len(maps) == 2 and all(len(stored.tiles) == 10 for stored in maps)
    assert sorted(alert.status.value for alert in lvk) == ["accepted", "retracted", "retracted"]
    assert {alert.kind for alert in alerts.values() if alert.status is AlertStatus.REJECTED} == {"test"}
