"""`read_notice` picks the reader by topic, file name or content; VOEvents become notices with their IVORN as key."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from obslab.errors import InvalidInputError
from obslab.scheduling.notices import NoticeFormat, NoticeKind, read_notice
from obslab.scheduling.notices.from_voevent import notice_from_voevent
from obslab.scheduling.notices.types import Circle
from obslab.scheduling.voevent import parse_voevent
from tests.helpers.voevents import XXE, fermi_gbm, swift_bat_grb, voevent

WHEN = datetime(2026, 11, 21, 9, 59, 30, tzinfo=UTC)
SWIFT = "ivo://nasa.gsfc.gcn/SWIFT#BAT_GRB_Pos_1234567-259"
UNIFIED = json.dumps({"id": ["694215995"], "alert_type": "initial", "ra": 1.0, "dec": 2.0}).encode()
LVK = json.dumps(
    {"alert_type": "RETRACTION", "time_created": "2018-11-01T23:36:23Z", "superevent_id": "S181101ab", "event": None}
).encode()


def test_a_classic_voevent_over_kafka_becomes_a_notice_keyed_by_its_ivorn() -> None:
    payload = swift_bat_grb(1234567, WHEN, 150.5, -30.25, error_deg=0.05).encode()
    notice = read_notice("gcn.classic.voevent.SWIFT_BAT_GRB_POS_ACK", payload)

    assert notice.format is NoticeFormat.VOEVENT and notice.kind is NoticeKind.INITIAL
    assert notice.source == "gcn.classic.voevent.SWIFT_BAT_GRB_POS_ACK"
    assert notice.key == notice.ivorn == SWIFT
    assert notice.event_id == "1234567"  # GCN Classic's TrigID
    assert notice.position == Circle(150.5, -30.25, 0.05, 0.9)
    assert notice.trigger_time == WHEN and notice.created is None
    assert notice.significance == {"role": "observation", "tense": "current", "importance": 0.9}
    assert notice.payload == payload


def test_voevent_citations_make_updates_and_retractions_and_role_test_is_test() -> None:
    def notice(**kwargs: object) -> object:
        return read_notice(
            "gcn.classic.voevent.SWIFT_BAT_GRB_POS_ACK", swift_bat_grb(1, WHEN, 1.0, 2.0, **kwargs).encode()
        )

    update = notice(citations=[("supersedes", SWIFT)])
    followup = notice(citations=[("followup", SWIFT)])
    retraction = notice(citations=[("retraction", SWIFT)])
    test = notice(role="test")

    assert update.kind is followup.kind is NoticeKind.UPDATE
    assert update.citations == (("supersedes", SWIFT),) and update.alert_type == "supersedes"
    assert retraction.kind is NoticeKind.RETRACTION
    assert test.kind is NoticeKind.TEST and test.is_test and test.significance["tense"] == "test"


def test_a_voevent_without_trigger_id_or_position_is_named_by_its_local_part() -> None:
    payload = voevent("ivo://example.org/stream#event-42", when=WHEN, role="utility").encode()
    notice = notice_from_voevent(parse_voevent(payload), payload, source="/alerts/in")

    assert notice.event_id == "event-42" and notice.position is None and notice.ra_dec is None
    assert notice.significance["role"] == "utility" and notice.kind is NoticeKind.INITIAL


def test_the_voevent_path_refuses_as_the_parser_does() -> None:
    with pytest.raises(InvalidInputError) as caught:
        read_notice("gcn.classic.voevent.X", XXE.encode())
    assert caught.value.details["field"] == "gcn.classic.voevent.X"


@pytest.mark.parametrize(
    ("topic", "payload", "format"),
    [
        ("igwn.gwalert", LVK, NoticeFormat.GWALERT),
        ("gcn.notices.swift.bat.guano", UNIFIED, NoticeFormat.UNIFIED_JSON),
        ("gcn.notices.einstein_probe.wxt.alert", UNIFIED, NoticeFormat.UNIFIED_JSON),
        ("gcn.notices.svom.voevent.eclairs", fermi_gbm(7, WHEN, 1.0, 2.0).encode(), NoticeFormat.VOEVENT),
        ("gcn.classic.voevent.FERMI_GBM_FLT_POS", fermi_gbm(7, WHEN, 1.0, 2.0).encode(), NoticeFormat.VOEVENT),
        # A topic obslab does not know is read by its content.
        ("scimma.lvk", LVK, NoticeFormat.GWALERT),
        ("somebody.json.stream", UNIFIED, NoticeFormat.UNIFIED_JSON),
        ("somebody.xml.stream", fermi_gbm(7, WHEN, 1.0, 2.0).encode(), NoticeFormat.VOEVENT),
    ],
)
def test_the_reader_is_chosen_by_topic_then_by_content(topic: str, payload: bytes, format: NoticeFormat) -> None:
    notice = read_notice(topic, payload)
    assert notice.format is format and notice.source == topic


def test_files_are_read_by_suffix_and_their_folder_is_the_source() -> None:
    xml = read_notice("/data/alerts/in/swift.xml", swift_bat_grb(9, WHEN, 1.0, 2.0).encode())
    unified = read_notice("/data/alerts/in/guano.JSON", UNIFIED)
    lvk = read_notice("/data/alerts/in/S181101ab-retraction.json", LVK)

    assert xml.format is NoticeFormat.VOEVENT and xml.source == "/data/alerts/in"
    assert unified.format is NoticeFormat.UNIFIED_JSON and unified.source == "/data/alerts/in"
    assert unified.key == "/data/alerts/in#694215995/initial/sha256:" + unified.payload_sha256[:16]
    assert lvk.format is NoticeFormat.GWALERT and lvk.kind is NoticeKind.RETRACTION


def test_a_file_names_itself_in_refusals() -> None:
    with pytest.raises(InvalidInputError) as caught:
        read_notice("/data/alerts/in/bad.json", b'{"ra": 1.0}')
    assert caught.value.details["field"] == "/data/alerts/in/bad.json: ra, dec"


@pytest.mark.parametrize("payload", [b"", b"GCN/CLASSIC binary \x00\x01", b"   plain text notice"])
def test_an_unknown_shape_on_an_unknown_topic_is_refused_naming_the_topic(payload: bytes) -> None:
    with pytest.raises(InvalidInputError) as caught:
        read_notice("somebody.binary", payload)
    assert caught.value.details["field"] == "topic" and caught.value.details["value"] == "somebody.binary"
    assert "igwn.gwalert" in caught.value.details["allowed"]


@pytest.mark.parametrize("topic", ["gcn.heartbeat", "gcn.circulars"])
def test_heartbeats_and_circulars_are_not_notices(topic: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        read_notice(topic, b'{"alert_datetime": "2026-12-08T00:00:00Z"}')
    assert caught.value.details["value"] == topic


def test_a_json_notice_from_a_folder_is_given_the_topic_its_schema_names() -> None:
    from datetime import UTC, datetime

    from obslab.demo.notices import EINSTEIN_PROBE_TOPIC, GWALERT_TOPIC, einstein_probe, gwalert

    when = datetime(2026, 12, 8, 5, tzinfo=UTC)
    ep = read_notice("/var/alerts/ep-1.json", einstein_probe(trigger=when, ra=1.0, dec=2.0))
    lvk = read_notice("/var/alerts/lvk.json", gwalert("RETRACTION", "S261208a", created=when))
    no_schema = read_notice("/var/alerts/x.json", b'{"id": ["1"], "alert_type": "initial"}')
    on_kafka = read_notice(EINSTEIN_PROBE_TOPIC, einstein_probe(trigger=when, ra=1.0, dec=2.0))

    assert (ep.source, ep.details["topic"]) == ("/var/alerts", EINSTEIN_PROBE_TOPIC)
    assert (lvk.source, lvk.details["topic"]) == ("/var/alerts", GWALERT_TOPIC)
    assert "topic" not in no_schema.details and on_kafka.details["topic"] == EINSTEIN_PROBE_TOPIC
