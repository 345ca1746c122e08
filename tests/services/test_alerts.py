"""Alerts (Swift, Fermi, Gaia, surveys) become requests by policy; duplicates, updates, retractions; bad XML refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from obslab.cli import main
from obslab.errors import InvalidInputError, PermissionDeniedError
from obslab.notify import Notification
from obslab.scheduling.alert_policies import AlertPolicyError, load_alert_policies
from obslab.scheduling.alerts import ingest
from obslab.scheduling.models import Alert, ObservingRequest, Schedule
from obslab.scheduling.types import AlertStatus, RequestStatus
from obslab.users import add_user
from tests.helpers.support import KITT_PEAK, table_counts
from tests.helpers.voevents import BILLION_LAUGHS, XXE, fermi_gbm, gaia_alert, survey_transient, swift_bat_grb, voevent

#: 22:00 at Kitt Peak on 2026-11-21: the night is under way, and Orion (RA 84) is well up.
NOW = datetime(2026, 11, 22, 5, 0, tzinfo=UTC)
EVENT = NOW - timedelta(minutes=8)


def clock() -> datetime:
    return NOW


@pytest.fixture
def people(migrated_url: str, sessions: sessionmaker[Session]) -> dict[str, Any]:
    with sessions() as session, session.begin():
        return {
            "nina": add_user(session, "nina", ["scheduler"], email="nina@obs.example"),
            "sam": add_user(session, "sam", ["staff"]),
        }


def take(sessions: sessionmaker[Session], people: dict[str, Any], packet: str, who: str = "nina") -> Any:
    with sessions() as session, session.begin():
        return ingest(session, people[who], packet, site=KITT_PEAK, now=clock)


def test_a_swift_grb_becomes_a_top_priority_request_replanned_and_announced(
    sessions: sessionmaker[Session], people: dict[str, Any]
) -> None:
    outcome = take(sessions, people, swift_bat_grb(1234567, EVENT, 84.5, 10.2))
    assert (
        outcome.status is AlertStatus.ACCEPTED
        and "policy swift-bat-grb" in outcome.decision
        and outcome.plan_version == 1
    )
    with sessions() as session:
        request = session.get(ObservingRequest, outcome.request_id)
        assert (request.priority, request.duration_s, request.twilight.value, request.max_airmass) == (
            10.0,
            1800.0,
            "nautical",
            2.5,
        )
        assert request.windows[0].start == NOW and request.windows[0].end == NOW + timedelta(hours=24)
        schedule = session.scalar(select(Schedule))
        assert schedule.reason == "too" and schedule.planned_from == NOW
        assert [b.request_id for b in schedule.blocks] == [request.id]  # placed straight away, from now
        assert schedule.blocks[0].start >= NOW
        mail = session.scalar(select(Notification).where(Notification.kind == "alert.accepted"))
        assert mail.recipients == ["nina@obs.example"] and "is in the new plan" in mail.body
    again = take(sessions, people, swift_bat_grb(1234567, EVENT, 84.5, 10.2))
    assert again.status is AlertStatus.DUPLICATE and "nothing changed" in again.decision
    with sessions() as session:
        assert len(session.scalars(select(Alert)).all()) == 1 and len(session.scalars(select(Schedule)).all()) == 1


def test_the_same_burst_from_fermi_is_recognised_by_time_and_position(
    sessions: sessionmaker[Session], people: dict[str, Any]
) -> None:
    swift = take(sessions, people, swift_bat_grb(1234568, EVENT, 84.5, 10.2))
    fermi = take(sessions, people, fermi_gbm(1111, EVENT + timedelta(seconds=3), 84.9, 10.6))
    assert (
        fermi.status is AlertStatus.DUPLICATE
        and "SWIFT#BAT_GRB_Pos_1234568" in fermi.decision
        and fermi.request_id is None
    )
    elsewhere = take(sessions, people, fermi_gbm(2222, EVENT + timedelta(seconds=3), 120.0, 10.6))
    assert elsewhere.status is AlertStatus.ACCEPTED and "policy fermi-gbm" in elsewhere.decision
    later = take(sessions, people, fermi_gbm(3333, EVENT + timedelta(hours=1), 84.6, 10.2))
    assert later.status is AlertStatus.ACCEPTED  # an hour apart: another event
    with sessions() as session:
        twin = session.scalar(select(Alert).where(Alert.key.contains("1111")))
        assert twin.duplicate_of_id == session.scalar(select(Alert.id).where(Alert.key.contains("1234568")))
    assert swift.request_id is not None


def test_updates_move_the_request_and_a_retraction_cancels_it(
    sessions: sessionmaker[Session], people: dict[str, Any]
) -> None:
    first = take(sessions, people, survey_transient("ZTF26aaabcde", EVENT, 83.8, -5.4))
    assert first.status is AlertStatus.ACCEPTED
    ivorn = "ivo://ztf.uw/transients#ZTF26aaabcde"
    update = take(
        sessions, people, survey_transient("ZTF26aaabcde-v2", EVENT, 83.81, -5.41, citations=[("supersedes", ivorn)])
    )
    assert (
        update.status is AlertStatus.ACCEPTED
        and update.request_id == first.request_id
        and "moved to RA 83.8100" in update.decision
    )
    with sessions() as session:
        assert session.scalar(select(Alert.status).where(Alert.key == ivorn)) is AlertStatus.SUPERSEDED
        assert session.get(ObservingRequest, first.request_id).ra_deg == pytest.approx(83.81)
    retraction = voevent(
        "ivo://ztf.uw/transients#ZTF26aaabcde-retraction",
        when=EVENT,
        role="observation",
        citations=[("retraction", "ivo://ztf.uw/transients#ZTF26aaabcde-v2")],
    )
    retracted = take(sessions, people, retraction)
    assert retracted.status is AlertStatus.ACCEPTED and "is cancelled" in retracted.decision
    with sessions() as session:
        assert session.get(ObservingRequest, first.request_id).status is RequestStatus.CANCELLED
        latest = session.scalars(select(Schedule).order_by(Schedule.version_number.desc())).first()
        assert first.request_id not in [b.request_id for b in latest.blocks]
        assert session.scalar(select(Alert.status).where(Alert.key.endswith("-v2"))) is AlertStatus.RETRACTED


def test_policies_decide_and_say_why(sessions: sessionmaker[Session], people: dict[str, Any]) -> None:
    gaia = take(sessions, people, gaia_alert("Gaia26abc", NOW - timedelta(days=2), 84.0, 20.0))
    assert gaia.status is AlertStatus.ACCEPTED and "priority 5" in gaia.decision
    with sessions() as session:
        assert session.get(ObservingRequest, gaia.request_id).target_name == "Gaia26abc"
    cases = [
        (swift_bat_grb(42, EVENT, 50.0, 10.0, role="test"), "role test: kept for the record, never observed"),
        (swift_bat_grb(43, EVENT, 50.0, 10.0, error_deg=0.5), "error radius 0.5 deg is over 0.2 deg"),
        (swift_bat_grb(44, NOW - timedelta(hours=20), 50.0, 10.0), "the event is 20.0 h old"),
        (survey_transient("ZTF26dull", EVENT, 50.0, 10.0, importance=0.2), "importance 0.2 is under 0.5"),
        (
            voevent("ivo://nasa.gsfc.gcn/SWIFT#XRT_Pos_45", when=EVENT, ra=50.0, dec=10.0, error_deg=0.01),
            "policy swift-test-and-other-notices",
        ),
        (
            voevent("ivo://elsewhere.org/feed#1", when=EVENT, ra=50.0, dec=10.0, error_deg=0.01),
            "no policy covers ivo://elsewhere.org/feed",
        ),
        (voevent("ivo://ztf.uw/transients#nopos", when=EVENT), "no position"),
    ]
    for packet, why in cases:
        outcome = take(sessions, people, packet)
        assert outcome.status is AlertStatus.REJECTED and why in outcome.decision, (why, outcome.decision)
        assert outcome.request_id is None
    with sessions() as session:
        assert session.scalar(select(Alert.status).where(Alert.key.endswith("Pos_42-259"))) is AlertStatus.REJECTED


@pytest.mark.parametrize(
    ("packet", "message"),
    [
        (XXE, "XML without DTDs, entities or external references"),
        (BILLION_LAUGHS, "XML without DTDs, entities or external references"),
        ("<VOEvent version='2.0'", "malformed XML"),
        ("<alert/>", "'<alert>' is not allowed; expected a <VOEvent> root element"),
        (
            voevent("ivo://x/y#1", when=EVENT).replace('version="2.0"', 'version="1.1"'),
            "version: '1.1' is not allowed; expected 2.0",
        ),
        (voevent("not-an-ivorn", when=EVENT), "an IVORN like ivo://authority/stream#local-id"),
        (voevent("ivo://x/y#1", when=EVENT, role="rumour"), "role: 'rumour' is not allowed"),
        (voevent("ivo://x/y#" + "a" * 600, when=EVENT), "at most 512 characters"),
        (voevent("ivo://x/y#1", when=EVENT, ra=10.0, dec=95.0), "Dec: 95.0 is not allowed"),
        (
            voevent("ivo://x/y#1", when=EVENT, citations=[("mentions", "ivo://x/y#0")]),
            "citation: 'mentions' is not allowed",
        ),
    ],
)
def test_hostile_or_malformed_packets_are_refused_and_change_nothing(
    sessions: sessionmaker[Session], people: dict[str, Any], packet: str, message: str
) -> None:
    with sessions() as session:
        before = table_counts(session)
    with sessions() as session, session.begin(), pytest.raises(InvalidInputError, match="packet") as refused:
        ingest(session, people["nina"], packet, site=KITT_PEAK, now=clock)
    assert message in str(refused.value)
    with sessions() as session:
        assert table_counts(session) == before


def test_only_schedulers_take_alerts(sessions: sessionmaker[Session], people: dict[str, Any]) -> None:
    with (
        sessions() as session,
        session.begin(),
        pytest.raises(PermissionDeniedError, match="sam may not ingest alerts"),
    ):
        ingest(session, people["sam"], swift_bat_grb(7, EVENT, 84.5, 10.2), site=KITT_PEAK, now=clock)


def test_a_broken_policy_file_is_refused_by_entry(tmp_path: Path) -> None:
    path = tmp_path / "policies.toml"
    path.write_text('[[policy]]\nname = "a"\nstream = "ivo://x"\ntwilight = "dusk"\n')
    with pytest.raises(
        AlertPolicyError, match=r"policy 1 \(a\): twilight = 'dusk' is not allowed; expected one of sunset"
    ):
        load_alert_policies(path)
    path.write_text('[[policy]]\nname = "a"\nstream = "http://x"\n')
    with pytest.raises(AlertPolicyError, match="expected an IVORN prefix"):
        load_alert_policies(path)
    assert len(load_alert_policies().policies) >= 4


def test_cli_ingest_and_watch(migrated_url: str, people: dict[str, Any], tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a-swift.xml").write_text(swift_bat_grb(5550001, datetime.now(UTC) - timedelta(minutes=5), 84.5, 10.2))
    (inbox / "b-evil.xml").write_text(XXE)
    env = {"OBSLAB_DATABASE_URL": migrated_url, "OBSLAB_ACTING_USER": "nina"}
    result = CliRunner().invoke(main, ["alerts", "watch", str(inbox), "--once"], env=env)
    assert result.exit_code == 0, result.output
    assert "a-swift.xml: accepted: policy swift-bat-grb" in result.output and "b-evil.xml: refused" in result.output
    assert (inbox / "done" / "a-swift.xml").exists() and (inbox / "refused" / "b-evil.xml").exists()
    assert not list(inbox.glob("*.xml"))
    again = CliRunner().invoke(
        main,
        ["alerts", "ingest", str(inbox / "done" / "a-swift.xml"), str(inbox / "refused" / "b-evil.xml"), "--json"],
        env=env,
    )
    assert again.exit_code == 1
    shown = json.loads(again.stdout)
    assert shown[0]["status"] == "duplicate" and "XML without DTDs" in shown[1]["refused"]


def test_the_night_to_replan_is_the_one_under_way_or_the_coming_one() -> None:
    from datetime import date

    from obslab.scheduling.night import night_of

    assert night_of(KITT_PEAK, NOW) == date(2026, 11, 21)  # 22:00 local
    assert night_of(KITT_PEAK, datetime(2026, 11, 22, 11, 0, tzinfo=UTC)) == date(
        2026, 11, 21
    )  # 04:00 local, still dark
    assert night_of(KITT_PEAK, datetime(2026, 11, 22, 16, 0, tzinfo=UTC)) == date(
        2026, 11, 22
    )  # 09:00 local: the Sun is up
