"""JSON notices stored as alerts: identity and repeats, updates and retractions by event, test traffic, policies
on topics and fields, LVK sky maps tiled into ranked requests and re-tiled on an update."""

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
from obslab.scheduling.alert_policies import AlertPolicyError, load_alert_policies
from obslab.scheduling.alerts import ingest
from obslab.scheduling.models import Alert, AlertSkyMap, ObservingRequest, Schedule
from obslab.scheduling.types import AlertStatus, RequestStatus
from obslab.users import add_user
from tests.helpers.support import KITT_PEAK, table_counts, tonights_meridian
from tests.helpers.voevents import fermi_gbm

#: 22:00 at Kitt Peak on 2026-11-21: the night is under way and RA 84 (Orion) is well up.
NOW = datetime(2026, 11, 22, 5, 0, tzinfo=UTC)
TRIGGER = NOW - timedelta(minutes=8)
#: A compact gravitational-wave map overhead, and the same event re-localised half a degree away.
OVERHEAD = multiorder_map(84.0, 25.0, 2.0)
NUDGED = multiorder_map(84.5, 25.3, 1.6)


@pytest.fixture
def nina(migrated_url: str, sessions: sessionmaker[Session]) -> Any:
    with sessions() as session, session.begin():
        return add_user(session, "nina", ["scheduler"], email="nina@obs.example")


def take(sessions: sessionmaker[Session], who: Any, topic: str, payload: bytes, *, at: datetime = NOW) -> Any:
    with sessions() as session, session.begin():
        return ingest(session, who, payload, site=KITT_PEAK, source=topic, now=lambda: at)


def requests_of(session: Session, names: str = "ALERT-") -> dict[str, ObservingRequest]:
    rows = session.scalars(select(ObservingRequest).where(ObservingRequest.name.startswith(names)))
    return {row.name: row for row in rows}


def plan_versions(session: Session) -> int:
    return len(session.scalars(select(Schedule.id)).all())


def test_a_guano_initial_update_and_retraction_make_move_and_cancel_one_request(
    sessions: sessionmaker[Session], nina: Any
) -> None:
    first = take(sessions, nina, GUANO_TOPIC, guano("initial", 1, trigger=TRIGGER, ra=84.2, dec=10.0))
    assert first.status is AlertStatus.ACCEPTED and "policy swift-bat-guano" in first.decision
    assert first.plan_version == 1

    update = take(sessions, nina, GUANO_TOPIC, guano("update", 2, trigger=TRIGGER, ra=84.25, dec=10.02))
    assert update.status is AlertStatus.ACCEPTED and update.request_ids == first.request_ids
    assert "moved to RA 84.2500, Dec 10.0200" in update.decision and update.plan_version == 2

    retraction = take(sessions, nina, GUANO_TOPIC, guano("retraction", 3, trigger=TRIGGER))
    assert retraction.status is AlertStatus.ACCEPTED and retraction.plan_version == 3
    with sessions() as session:
        request = session.get(ObservingRequest, first.request_id)
        assert (request.status, request.ra_deg, request.dec_deg) == (RequestStatus.CANCELLED, 84.25, 10.02)
        assert f"its request {request.name} is cancelled" in retraction.decision
        statuses = dict(session.execute(select(Alert.kind, Alert.status).order_by(Alert.id)).all())
        assert statuses == {
            "initial": AlertStatus.RETRACTED,
            "update": AlertStatus.RETRACTED,
            "retraction": AlertStatus.ACCEPTED,
        }
        keys = session.scalars(select(Alert.key).order_by(Alert.id)).all()
        assert keys == [f"{GUANO_TOPIC}#694215995/{kind}/{n}" for n, kind in enumerate(statuses, start=1)]


def test_an_exact_repeat_or_a_known_key_changes_nothing(sessions: sessionmaker[Session], nina: Any) -> None:
    payload = einstein_probe(trigger=TRIGGER, ra=84.0, dec=12.0)
    first = take(sessions, nina, EINSTEIN_PROBE_TOPIC, payload)
    assert first.status is AlertStatus.ACCEPTED and "policy einstein-probe-wxt" in first.decision
    with sessions() as session:
        before = table_counts(session)

    again = take(sessions, nina, EINSTEIN_PROBE_TOPIC, payload)
    # The same bytes through a folder: another key (the folder is the source), the same payload hash.
    relayed = take(sessions, nina, "/var/alerts/ep.json", payload)
    # The same record of the same event re-sent with different whitespace: the same key.
    initial = guano("initial", 1, trigger=TRIGGER, ra=84.2, dec=10.0)
    take(sessions, nina, GUANO_TOPIC, initial)
    with sessions() as session:
        before = table_counts(session)
    respaced = take(sessions, nina, GUANO_TOPIC, initial.replace(b"\n  ", b"\n    "))

    assert again.status is AlertStatus.DUPLICATE and "already received" in again.decision
    assert relayed.status is AlertStatus.DUPLICATE and f"the same bytes as {first.key}" in relayed.decision
    assert respaced.status is AlertStatus.DUPLICATE and "already received" in respaced.decision
    assert "nothing changed" in respaced.decision and not respaced.request_ids
    with sessions() as session:
        assert table_counts(session) == before


def test_a_retraction_of_an_event_never_seen_is_recorded_and_does_nothing(
    sessions: sessionmaker[Session], nina: Any
) -> None:
    outcome = take(sessions, nina, GWALERT_TOPIC, gwalert("RETRACTION", "S261121xy", created=NOW))

    assert outcome.status is AlertStatus.REJECTED and outcome.plan_version is None
    assert "retracts event S261121xy, never received here: recorded, nothing to cancel" in outcome.decision
    with sessions() as session:
        assert session.scalar(select(Alert.kind).where(Alert.key == outcome.key)) == "retraction"
        assert not requests_of(session) and plan_versions(session) == 0


@pytest.mark.parametrize(
    ("topic", "payload", "why"),
    [
        (GWALERT_TOPIC, gwalert("PRELIMINARY", "MS261121a", created=NOW, skymap=OVERHEAD), "mock event MS261121a"),
        (
            EINSTEIN_PROBE_TOPIC,
            einstein_probe(trigger=TRIGGER, ra=84.0, dec=12.0, alert_tense="test"),
            "alert tense test",
        ),
        (ICECUBE_TOPIC, icecube(trigger=TRIGGER, ra=84.0, dec=12.0, alert_tense="test"), "alert tense test"),
    ],
    ids=["lvk-mock", "ep-test", "icecube-test"],
)
def test_test_and_mock_traffic_is_kept_and_never_observed(
    sessions: sessionmaker[Session], nina: Any, topic: str, payload: bytes, why: str
) -> None:
    outcome = take(sessions, nina, topic, payload)

    assert outcome.status is AlertStatus.REJECTED
    assert outcome.decision == f"test traffic ({why}): kept for the record, never observed"
    with sessions() as session:
        stored = session.scalar(select(Alert).where(Alert.key == outcome.key))
        assert stored.kind == "test" and stored.payload.encode() == payload
        assert not requests_of(session) and plan_versions(session) == 0


def test_an_icecube_track_becomes_one_request_at_its_circle(sessions: sessionmaker[Session], nina: Any) -> None:
    outcome = take(sessions, nina, ICECUBE_TOPIC, icecube(trigger=TRIGGER, ra=84.6, dec=11.5))

    assert outcome.status is AlertStatus.ACCEPTED and "policy icecube-track" in outcome.decision
    with sessions() as session:
        request = session.get(ObservingRequest, outcome.request_id)
        assert (request.ra_deg, request.dec_deg, request.priority, request.program) == (84.6, 11.5, 6.0, "ToO")
        alert = session.scalar(select(Alert).where(Alert.key == outcome.key))
        assert (alert.format, alert.error_radius_deg, alert.parameters["p_astro"]) == ("unified_json", 0.5, 0.34064)


def test_one_burst_seen_as_a_voevent_and_as_json_is_one_event(sessions: sessionmaker[Session], nina: Any) -> None:
    voevent = take(sessions, nina, "gcn.classic.voevent.FERMI_GBM_GND_POS", fermi_gbm(1234, TRIGGER, 84.0, 12.0))
    json_twin = take(
        sessions, nina, EINSTEIN_PROBE_TOPIC, einstein_probe(trigger=TRIGGER + timedelta(seconds=20), ra=84.3, dec=12.1)
    )

    assert voevent.status is AlertStatus.ACCEPTED
    assert json_twin.status is AlertStatus.DUPLICATE and f"the same event as {voevent.key}" in json_twin.decision
    with sessions() as session:
        assert len(requests_of(session)) == 1


def test_an_lvk_map_becomes_ranked_tile_requests_and_an_update_re_tiles_keeping_places(
    sessions: sessionmaker[Session], nina: Any
) -> None:
    preliminary = take(sessions, nina, GWALERT_TOPIC, gwalert("PRELIMINARY", "S261121ab", created=NOW, skymap=OVERHEAD))

    assert preliminary.status is AlertStatus.ACCEPTED and preliminary.plan_version == 1
    assert "policy lvk-neutron-star-merger" in preliminary.decision and "tiles of 1 deg" in preliminary.decision
    with sessions() as session:
        first = session.scalar(select(Alert).where(Alert.key == preliminary.key))
        skymap = session.get(AlertSkyMap, first.id)
        tiles = skymap.tiles
        assert skymap.fits == OVERHEAD and skymap.fov_deg == 1.0 and first.area90_deg2 > 50
        assert 0.02 < first.observable_probability <= 1.0
        assert f"{first.observable_probability:.1%} observable tonight" in preliminary.decision
        # policy: 300 s + 60 s a tile within 3600 s: ten tiles, best first, the priority falling with probability
        assert [tile["rank"] for tile in tiles] == list(range(1, 11))
        requests = {request.id: request for request in requests_of(session).values()}
        assert sorted(requests) == sorted(preliminary.request_ids) == sorted(tile["request"] for tile in tiles)
        priorities = [requests[tile["request"]].priority for tile in tiles]
        assert priorities == sorted(priorities, reverse=True) and priorities[0] == 20.0 and priorities[-1] >= 10.0
        for tile in tiles:
            request = requests[tile["request"]]
            assert (request.ra_deg, request.dec_deg) == (tile["ra_deg"], tile["dec_deg"])
        places = {(tile["nside"], tile["healpix"]): tile["request"] for tile in tiles}

    update = take(
        sessions,
        nina,
        GWALERT_TOPIC,
        gwalert("UPDATE", "S261121ab", created=NOW + timedelta(minutes=5), skymap=NUDGED),
        at=NOW + timedelta(minutes=5),
    )

    assert update.status is AlertStatus.ACCEPTED and f"re-tiling {preliminary.key}" in update.decision
    with sessions() as session:
        second = session.scalar(select(Alert).where(Alert.key == update.key))
        new_tiles = session.get(AlertSkyMap, second.id).tiles
        new_places = {(tile["nside"], tile["healpix"]): tile["request"] for tile in new_tiles}
        kept = places.keys() & new_places.keys()
        assert kept and all(places[place] == new_places[place] for place in kept)
        statuses = {request.id: request.status for request in requests_of(session).values()}
        dropped = [places[place] for place in places.keys() - new_places.keys()]
        assert all(statuses[request] is RequestStatus.CANCELLED for request in dropped)
        assert all(statuses[request] is RequestStatus.PENDING for request in new_places.values())
        assert session.get(Alert, first.id).status is AlertStatus.SUPERSEDED
        assert all(session.get(ObservingRequest, request).alert_id == second.id for request in new_places.values())

    retraction = take(
        sessions,
        nina,
        GWALERT_TOPIC,
        gwalert("RETRACTION", "S261121ab", created=NOW + timedelta(minutes=9)),
        at=NOW + timedelta(minutes=9),
    )

    assert retraction.status is AlertStatus.ACCEPTED and len(retraction.request_ids) == len(new_places)
    with sessions() as session:
        assert {request.status for request in requests_of(session).values()} == {RequestStatus.CANCELLED}
        assert {session.get(Alert, a).status for a in (first.id, second.id)} == {AlertStatus.RETRACTED}


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"classification": {"BBH": 0.97, "Terrestrial": 0.03}}, "classification BNS + NSBH = 0.00 is under 0.5"),
        ({"significant": False}, "significant is False; this policy needs true"),
        ({"far": 1e-6}, "false-alarm rate 1e-06 Hz is over 3.17e-08 Hz"),
    ],
    ids=["bbh", "not-significant", "far"],
)
def test_lvk_policy_predicates_refuse_by_field_and_say_why(
    sessions: sessionmaker[Session], nina: Any, change: dict[str, Any], why: str
) -> None:
    outcome = take(
        sessions, nina, GWALERT_TOPIC, gwalert("PRELIMINARY", "S261121cd", created=NOW, skymap=OVERHEAD, **change)
    )

    assert outcome.status is AlertStatus.REJECTED
    assert outcome.decision == f"policy lvk-neutron-star-merger: {why}"
    with sessions() as session:
        assert not requests_of(session)


def test_a_map_too_large_or_below_the_horizon_is_refused_with_its_area_or_observable_share(
    sessions: sessionmaker[Session], nina: Any
) -> None:
    broad = take(
        sessions,
        nina,
        GWALERT_TOPIC,
        gwalert("PRELIMINARY", "S261121ef", created=NOW, skymap=multiorder_map(84.0, 25.0, 30.0, max_level=6)),
    )
    southern = take(
        sessions,
        nina,
        GWALERT_TOPIC,
        gwalert("PRELIMINARY", "S261121gh", created=NOW, skymap=multiorder_map(300.0, -80.0, 2.0)),
    )

    assert (
        broad.status is AlertStatus.REJECTED and "90% area" in broad.decision and "is over 3000 deg^2" in broad.decision
    )
    assert southern.status is AlertStatus.REJECTED
    assert "0.0% of the map is observable tonight, under 2%" in southern.decision
    with sessions() as session:
        assert session.scalar(select(Alert.observable_probability).where(Alert.key == southern.key)) == 0.0
        assert not requests_of(session)


def test_an_update_the_policy_no_longer_accepts_cancels_the_event_requests(
    sessions: sessionmaker[Session], nina: Any
) -> None:
    preliminary = take(sessions, nina, GWALERT_TOPIC, gwalert("PRELIMINARY", "S261121ij", created=NOW, skymap=OVERHEAD))
    update = take(
        sessions,
        nina,
        GWALERT_TOPIC,
        gwalert("UPDATE", "S261121ij", created=NOW + timedelta(minutes=3), skymap=OVERHEAD, significant=False),
        at=NOW + timedelta(minutes=3),
    )

    assert update.status is AlertStatus.REJECTED and "the event's requests are cancelled" in update.decision
    assert sorted(update.request_ids) == sorted(preliminary.request_ids)
    with sessions() as session:
        assert {request.status for request in requests_of(session).values()} == {RequestStatus.CANCELLED}


ONE_OF_THEM = "give either stream (a VOEvent IVORN prefix) or topic (a Kafka topic prefix)"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            'stream = "ivo://x"\ntopic = "igwn.gwalert"',
            "give either stream (a VOEvent IVORN prefix) or topic (a Kafka topic prefix)",
        ),
        ("priority = 3", "give either stream (a VOEvent IVORN prefix) or topic (a Kafka topic prefix)"),
        ('topic = "igwn.gwalert"\ntense = "current"', "tense = 'current' is not allowed; expected a list of names"),
        ('topic = "igwn.gwalert"\nsignificant = "yes"', "significant = 'yes' is not allowed; expected true or false"),
        (
            'topic = "igwn.gwalert"\nmin_observable_probability = 2',
            "min_observable_probability = 2 is not allowed; expected a number from 0 to 1",
        ),
        ('topic = "igwn.gwalert"\nfov_deg = 0', "fov_deg = 0 is not allowed; expected a positive number"),
        ('topic = ""', "topic '' is not allowed; expected a Kafka topic prefix"),
    ],
    ids=["both", "neither", "tense", "significant", "observable", "fov", "empty-topic"],
)
def test_a_policy_on_topics_and_fields_is_checked_entry_by_entry(tmp_path: Path, entry: str, message: str) -> None:
    path = tmp_path / "policies.toml"
    path.write_text(f'[[policy]]\nname = "lvk"\n{entry}\n')

    with pytest.raises(AlertPolicyError) as refused:
        load_alert_policies(path)

    assert str(refused.value) == f"{path}: policy 1 (lvk): {message}"


def test_the_folder_watcher_takes_json_notices_beside_voevents(migrated_url: str, nina: Any, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    recent = datetime.now(UTC) - timedelta(minutes=5)
    (inbox / "a-guano.json").write_bytes(guano("initial", 1, trigger=recent, ra=84.2, dec=10.0))
    (inbox / "b-lvk.json").write_bytes(gwalert("PRELIMINARY", "MS261121z", created=recent, skymap=OVERHEAD))
    (inbox / "c-broken.json").write_text('{"alert_type": "initial", "id": [')
    (inbox / "d-fermi.xml").write_text(fermi_gbm(4321, recent, 200.0, -10.0))
    env = {"OBSLAB_DATABASE_URL": migrated_url, "OBSLAB_ACTING_USER": "nina"}

    result = CliRunner().invoke(main, ["alerts", "watch", str(inbox), "--once"], env=env)

    assert result.exit_code == 0, result.output
    shown = result.output.splitlines()
    assert shown[0].startswith(f"{inbox / 'a-guano.json'}: accepted: policy swift-bat-guano: request ALERT-1")
    assert (
        shown[1]
        == f"{inbox / 'b-lvk.json'}: rejected: test traffic (mock event MS261121z): kept for the record, never observed"
    )
    assert "c-broken.json: refused: " in result.output and "d-fermi.xml: accepted" in result.output
    assert sorted(p.name for p in (inbox / "done").iterdir()) == ["a-guano.json", "b-lvk.json", "d-fermi.xml"]
    assert [p.name for p in (inbox / "refused").iterdir()] == ["c-broken.json"]
    assert not [p for p in inbox.iterdir() if p.is_file()]


def test_a_map_is_tiled_with_the_telescope_field_the_setting_names(
    migrated_url: str, sessions: sessionmaker[Session], nina: Any, tmp_path: Path
) -> None:
    recent = datetime.now(UTC) - timedelta(minutes=5)
    notice = tmp_path / "lvk.json"
    notice.write_bytes(
        gwalert("PRELIMINARY", "S261121kl", created=recent, skymap=multiorder_map(*tonights_meridian(), 2.0))
    )
    env = {"OBSLAB_DATABASE_URL": migrated_url, "OBSLAB_ACTING_USER": "nina", "OBSLAB_TELESCOPE_FOV_DEG": "2.5"}

    refused = CliRunner().invoke(main, ["alerts", "ingest", str(notice)], env=env | {"OBSLAB_TELESCOPE_FOV_DEG": "0"})
    result = CliRunner().invoke(main, ["alerts", "ingest", str(notice), "--json"], env=env)

    assert refused.exit_code == 1 and "OBSLAB_TELESCOPE_FOV_DEG='0': Input should be greater than 0" in refused.output
    assert "Traceback" not in refused.output
    shown = json.loads(result.stdout)[0]
    assert shown["status"] == "accepted" and "10 tiles of 2.5 deg" in shown["decision"], shown
    with sessions() as session:
        assert session.scalar(select(AlertSkyMap.fov_deg)) == 2.5


def test_a_sky_map_given_only_by_its_url_is_never_fetched_and_says_so(
    sessions: sessionmaker[Session], nina: Any
) -> None:
    url = "https://roc.icecube.wisc.edu/public/alerts/run00140078.evt000030891383.skymap.fits.gz"
    payload = icecube(trigger=TRIGGER, ra=84.0, dec=12.0)
    fields = json.loads(payload)
    for name in ("ra", "dec", "ra_dec_error"):
        del fields[name]

    outcome = take(sessions, nina, ICECUBE_TOPIC, json.dumps(fields).encode())

    assert outcome.status is AlertStatus.REJECTED
    assert outcome.decision == f"a sky map given only by its URL ({url}), which obslab does not fetch"
