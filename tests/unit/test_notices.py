"""GCN Unified-Schema JSON notices in each producer's shape read as one `Notice`; identity, hashes and refusals."""

from __future__ import annotations

import base64
import dataclasses
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from obslab.errors import InvalidInputError
from obslab.scheduling.notices import NoticeFormat, NoticeKind, read_notice
from obslab.scheduling.notices.fields import MAX_JSON_BYTES
from obslab.scheduling.notices.types import Circle, Ellipse, Polygon, SkyMap, separation_deg

GUANO = "gcn.notices.swift.bat.guano"


def packet(**fields: Any) -> bytes:
    return json.dumps(fields, indent=2).encode()


def guano(alert_type: str, record: int, **extra: Any) -> bytes:
    """Swift BAT-GUANO's shape (gcn-schema swift/bat/guano): an id list, record numbers counting up."""
    return packet(
        mission="Swift",
        instrument="BAT-GUANO",
        messenger="EM",
        record_number=record,
        alert_datetime=f"2023-01-01T0{record}:24:36.0Z",
        alert_tense="current",
        alert_type=alert_type,
        trigger_time="2022-12-31T21:46:05.13Z",
        follow_up_event="Fermi 694215970",
        id=["694215995"],
        **extra,
    )


def refusal(topic: str, payload: bytes) -> InvalidInputError:
    with pytest.raises(InvalidInputError) as caught:
        read_notice(topic, payload)
    return caught.value


# Swift BAT-GUANO: initial, update, retraction of one event


def test_swift_guano_initial_update_and_retraction_are_one_event_with_three_keys() -> None:
    position = {"ra": 336.26, "dec": 25.139, "ra_dec_error": 0.5, "containment_probability": 0.9}
    initial = read_notice(GUANO, guano("initial", 0, **position))
    update = read_notice(GUANO, guano("update", 3, **(position | {"ra_dec_error": 0.1})))
    retraction = read_notice(GUANO, guano("retraction", 4))

    assert [n.kind for n in (initial, update, retraction)] == [
        NoticeKind.INITIAL,
        NoticeKind.UPDATE,
        NoticeKind.RETRACTION,
    ]
    assert {n.event_id for n in (initial, update, retraction)} == {"694215995"}
    assert initial.format is NoticeFormat.UNIFIED_JSON and initial.source == GUANO
    assert initial.key == "gcn.notices.swift.bat.guano#694215995/initial/0"
    assert update.key == "gcn.notices.swift.bat.guano#694215995/update/3"
    assert len({initial.key, update.key, retraction.key}) == 3
    assert initial.position == Circle(336.26, 25.139, 0.5, 0.9)
    assert update.error_radius_deg == 0.1
    assert retraction.position is None and retraction.ra_dec is None
    assert retraction.trigger_time == datetime(2022, 12, 31, 21, 46, 5, 130000, tzinfo=UTC)
    assert retraction.created == datetime(2023, 1, 1, 4, 24, 36, tzinfo=UTC)
    assert initial.significance["tense"] == "current" and initial.significance["mission"] == "Swift"
    assert not initial.is_test and not initial.is_mock


def test_the_same_event_type_and_record_keep_their_key_and_only_an_exact_repeat_keeps_its_hash() -> None:
    first = read_notice(GUANO, guano("update", 3, ra=1.0, dec=2.0))
    reformatted = read_notice(GUANO, json.dumps(json.loads(first.payload)).encode())
    repeat = read_notice(GUANO, first.payload)

    assert reformatted.key == first.key == repeat.key
    assert repeat.payload_sha256 == first.payload_sha256
    assert reformatted.payload_sha256 != first.payload_sha256
    assert len(first.payload_sha256) == 64 and first.payload == repeat.payload


def test_the_key_falls_back_to_the_creation_time_then_the_payload_hash() -> None:
    timed = read_notice("gcn.notices.x", packet(id="7", alert_datetime="2024-03-01T00:00:00Z"))
    bare = read_notice("gcn.notices.x", packet(id="7", ra=10.0, dec=1.0))

    assert timed.key == "gcn.notices.x#7/initial/2024-03-01T00:00:00+00:00"
    assert bare.key == f"gcn.notices.x#7/initial/sha256:{bare.payload_sha256[:16]}"


# Einstein Probe, IceCube, Fermi GBM


def test_einstein_probe_without_alert_type_or_tense_is_a_current_initial_notice() -> None:
    notice = read_notice(
        "gcn.notices.einstein_probe.wxt.alert",
        packet(
            instrument="WXT",
            trigger_time="2024-03-01T21:46:05.13Z",
            id=["01708973486"],
            ra=120,
            dec=40,
            ra_dec_error=0.02,
            image_energy_range=[0.5, 4],
            net_count_rate=0.1,
            image_snr=10,
            additional_info="Example EP notice",
        ),
    )

    assert notice.kind is NoticeKind.INITIAL and notice.alert_type == "initial"
    assert notice.event_id == "01708973486"  # the leading zero kept: ids are strings
    assert notice.position == Circle(120.0, 40.0, 0.02, 0.9)
    assert notice.significance["tense"] == "current"
    assert notice.record_number is None and notice.created is None


def icecube(pipeline: str, **extra: Any) -> bytes:
    return packet(
        mission="IceCube",
        instrument="IC86",
        messenger="Neutrino",
        pipeline=pipeline,
        record_number=1,
        event_name=["IceCube-230416A"],
        id=["137840_57034692"],
        alert_datetime="2023-04-16T05:42:00.0Z",
        alert_type="initial",
        alert_tense="current",
        ra=345.82,
        dec=9.01,
        ra_dec_error=0.5,
        containment_probability=0.9,
        healpix_url="https://roc.icecube.wisc.edu/public/alerts/run00140078.evt000030891383.skymap.fits.gz",
        trigger_time="2023-04-16T05:22:26.150574Z",
        p_astro=0.34064,
        far=8.029e-8,
        **extra,
    )


@pytest.mark.parametrize("pipeline", ["Gold Track Alert", "Bronze Track Alert"])
def test_icecube_gold_and_bronze_keep_the_circle_as_position_and_the_map_url_beside_it(pipeline: str) -> None:
    notice = read_notice("gcn.notices.icecube.gold_bronze_track_alerts", icecube(pipeline))

    assert notice.position == Circle(345.82, 9.01, 0.5, 0.9)
    assert notice.skymap == SkyMap(url=notice.skymap.url, containment=0.9)
    assert notice.skymap.url.endswith(".skymap.fits.gz") and notice.skymap.fits is None
    assert notice.significance["far_hz"] == 8.029e-8 and notice.significance["p_astro"] == 0.34064
    assert notice.significance["pipeline"] == pipeline
    assert notice.significance["event_name"] == "IceCube-230416A"
    assert notice.key.endswith("#137840_57034692/initial/1")


def test_icecube_test_stream_is_test_traffic() -> None:
    notice = read_notice("gcn.notices.icecube.test.gold_bronze_track_alerts", icecube("Gold Track Alert"))
    assert notice.is_test and notice.kind is NoticeKind.TEST and notice.alert_type == "initial"


def test_icecube_lvk_search_names_the_superevent_and_nests_its_positions() -> None:
    notice = read_notice(
        "gcn.notices.icecube.lvk_nu_track_search",
        packet(
            type="IceCube LVK Alert Nu Track Search",
            reference={"gcn.notices.LVK.alert": "S230914ak-2-Preliminary"},
            ref_ID="S230914ak",
            alert_datetime="2023-09-14T11:49:16.526Z",
            trigger_time="2023-09-14T11:14:01Z",
            pval_generic=0.0191,
            n_events_coincident=2,
            coincident_events=[
                {"event_dt": 12.91, "localization": {"ra": 17.48, "dec": 16.15, "ra_dec_error": 0.5}},
                {"event_dt": 222.46, "localization": {"ra": 13.82, "dec": 18.66, "ra_dec_error": 0.7}},
            ],
            most_probable_direction={"ra": 17.49, "dec": 16.18},
        ),
    )

    assert notice.event_id == "S230914ak"
    assert notice.position == Circle(17.49, 16.18, 0.7, 0.9)
    assert notice.created == datetime(2023, 9, 14, 11, 49, 16, 526000, tzinfo=UTC)


def test_icecube_lvk_search_without_coincident_neutrinos_has_no_position() -> None:
    notice = read_notice(
        "gcn.notices.icecube.lvk_nu_track_search",
        packet(ref_ID="S230914ak", n_events_coincident=0, alert_datetime="2023-09-14T11:49:16Z"),
    )
    assert notice.position is None and notice.event_id == "S230914ak"


def test_fermi_gbm_time_without_a_zone_is_utc_and_both_ids_are_kept_in_order() -> None:
    notice = read_notice(
        "gcn.notices.fermi.gbm.trigger",
        packet(
            mission="Fermi",
            instrument="GBM",
            alert_type="update",
            record_number=2,
            trigger_time="2024-08-12T02:14:40.43",
            alert_datetime="2024-08-12T02:15:10",
            id=["745121685", "bn240812094"],
            ra=120.5,
            dec=-10.25,
            ra_dec_error=8.32,
            containment_probability=0.68,
        ),
    )

    assert notice.trigger_time == datetime(2024, 8, 12, 2, 14, 40, 430000, tzinfo=UTC)
    assert notice.created == datetime(2024, 8, 12, 2, 15, 10, tzinfo=UTC)
    assert notice.event_ids == ("745121685", "bn240812094") and notice.event_id == "745121685"
    assert notice.position == Circle(120.5, -10.25, 8.32, 0.68)


def test_an_offset_time_is_turned_into_utc() -> None:
    notice = read_notice("gcn.notices.x", packet(id="1", trigger_time="2024-08-12T04:14:40+02:00"))
    assert notice.trigger_time == datetime(2024, 8, 12, 2, 14, 40, tzinfo=UTC)


# MAXI, CHIME, SVOM


def maxi(**extra: Any) -> bytes:
    return packet(
        mission="MAXI",
        instrument="GSC",
        alert_datetime="2023-02-20T09:53:39Z",
        alert_tense="current",
        trigger_time="2023-02-20T08:56:01Z",
        id="9995289617",
        event_name="GRB 230220A",
        **extra,
    )


def test_maxi_ellipse_rectangle_and_retraction() -> None:
    topic = "gcn.notices.maxi.gsc.unknown"
    ellipse = read_notice(
        topic, maxi(alert_type="initial", record_number=0, ra=346.56, dec=18.61, ra_dec_error=[0.2, 0.4, 190.0])
    )
    corners = [[345.72, 19.547], [345.464, 19.29], [347.309, 17.634], [347.566, 17.889]]
    rectangle = read_notice(
        topic, maxi(alert_type="update", record_number=1, ra=346.56, dec=18.61, rectangular_error_corners=corners)
    )
    retraction = read_notice(topic, maxi(alert_type="retraction", record_number=2))

    assert ellipse.position == Ellipse(346.56, 18.61, 0.4, 0.2, 10.0, 0.9)
    assert ellipse.error_radius_deg == 0.4
    assert isinstance(rectangle.position, Polygon)
    assert rectangle.position.corners == tuple(tuple(c) for c in corners)
    assert (rectangle.position.ra, rectangle.position.dec) == (346.56, 18.61)
    assert rectangle.error_radius_deg == max(separation_deg(346.56, 18.61, ra, dec) for ra, dec in corners)
    assert 1.0 < rectangle.error_radius_deg < 1.5
    assert retraction.kind is NoticeKind.RETRACTION and retraction.position is None
    assert {n.event_id for n in (ellipse, rectangle, retraction)} == {"9995289617"}


def test_a_rectangle_without_a_centre_is_centred_on_its_corners() -> None:
    corners = [[359.5, -0.5], [0.5, -0.5], [0.5, 0.5], [359.5, 0.5]]
    notice = read_notice("gcn.notices.maxi.gsc.known", packet(id="1", rectangular_error_corners=corners))
    assert separation_deg(*notice.ra_dec, 0.0, 0.0) < 1e-9
    assert 0.0 <= notice.ra_dec[0] < 360.0


def test_chime_string_id_and_an_update_without_a_position() -> None:
    topic = "gcn.notices.chime.frb"
    detection = read_notice(
        topic,
        packet(
            alert_type="initial",
            id="427325191",
            trigger_time="2024-09-18T07:19:10.765268Z",
            ra=55.2,
            dec=22.1,
            ra_dec_error=0.3,
            dm=221.2,
        ),
    )
    update = read_notice(
        topic,
        packet(
            alert_type="update",
            id="427325191",
            trigger_time="2024-09-18T07:19:10.765268Z",
            update_message="The dispersion measure of FRB 20231013B has been updated to 221.2 +/- 0.4 pc/cm^3.",
        ),
    )

    assert detection.event_id == update.event_id == "427325191"
    assert update.kind is NoticeKind.UPDATE and update.position is None
    assert detection.key != update.key


def test_svom_test_tense_is_kept_as_test_traffic_with_its_alert_type() -> None:
    notice = read_notice(
        "gcn.notices.svom",
        packet(
            mission="SVOM",
            instrument="ECLAIRs",
            alert_tense="test",
            alert_type="update",
            trigger_time="2024-02-22T08:51:31.320000",
            id=["sb24022203"],
            ra=101.5,
            dec=-20.5,
            ra_dec_error=0.1,
        ),
    )

    assert notice.is_test and notice.kind is NoticeKind.TEST and notice.alert_type == "update"
    assert notice.trigger_time == datetime(2024, 2, 22, 8, 51, 31, 320000, tzinfo=UTC)
    assert notice.key == "gcn.notices.svom#sb24022203/update/sha256:" + notice.payload_sha256[:16]


def test_an_event_is_named_by_event_name_or_trigger_time_when_it_has_no_id() -> None:
    named = read_notice("gcn.notices.x", packet(event_name="GRB 230220A"))
    timed = read_notice("gcn.notices.x", packet(trigger_time="2023-02-20T08:56:01Z"))
    anonymous = read_notice("gcn.notices.x", packet(ra=1.0, dec=2.0))

    assert named.event_id == "GRB 230220A"
    assert timed.event_id == "2023-02-20T08:56:01+00:00"
    assert anonymous.event_id == "sha256:" + anonymous.payload_sha256[:16]


def test_an_embedded_healpix_file_is_decoded_and_left_unread() -> None:
    fits = b"SIMPLE  =                    T" + b" " * 50
    notice = read_notice(
        GUANO, guano("update", 5, healpix_file=base64.b64encode(fits).decode(), containment_probability=0.95)
    )
    assert notice.position == SkyMap(fits=fits, containment=0.95) == notice.skymap
    assert notice.ra_dec is None and notice.error_radius_deg is None


def test_a_notice_as_large_as_an_lvk_one_is_taken() -> None:
    notice = read_notice("gcn.notices.x", packet(id="big", note="x" * 2_500_000))
    assert len(notice.payload) > 2_500_000


# Refusals name the field, the value and what is allowed


@pytest.mark.parametrize(
    ("payload", "field", "allowed"),
    [
        (b"{not json", "gcn.notices.x", "a JSON object"),
        (b"[1, 2]", "gcn.notices.x", "a JSON object"),
        (b'{"id": "\xff"}', "gcn.notices.x", "UTF-8"),
        (packet(alert_type="preliminary"), "gcn.notices.x: alert_type", "initial, subsequent, update, retraction"),
        (packet(alert_tense="future"), "gcn.notices.x: alert_tense", "current, archival, planned, injection"),
        (packet(ra=10.0), "gcn.notices.x: ra, dec", "both coordinates or neither"),
        (packet(ra=10.0, dec=95.0), "gcn.notices.x: dec", "from -90 to 90"),
        (packet(ra="ten", dec=1.0), "gcn.notices.x: ra", "a finite number"),
        (packet(ra=10.0, dec=1.0, ra_dec_error=[1, 2]), "gcn.notices.x: ra_dec_error", "[semi-major, semi-minor, PA]"),
        (packet(ra=10.0, dec=1.0, ra_dec_error=-1), "gcn.notices.x: ra_dec_error", "from 0 to 180"),
        (packet(far=-1e-9), "gcn.notices.x: far", "a number of at least 0"),
        (packet(ra=10.0, dec=1.0, ra_dec_error=[0.2, -0.1, 0]), "gcn.notices.x: ra_dec_error", "at least 0"),
        (packet(ra=1.0, dec=1.0, containment_probability=0), "gcn.notices.x: containment_probability", "above 0"),
        (packet(ra=1.0, dec=1.0, containment_probability=1.5), "gcn.notices.x: containment_probability", "0 to 1"),
        (packet(trigger_time="yesterday"), "gcn.notices.x: trigger_time", "an ISO 8601 time"),
        (packet(alert_datetime=20230101), "gcn.notices.x: alert_datetime", "a string"),
        (packet(id={"a": 1}), "gcn.notices.x: id", "a string or a list of strings"),
        (packet(record_number=-1), "gcn.notices.x: record_number", "a whole number from 0"),
        (packet(record_number=True), "gcn.notices.x: record_number", "a whole number from 0"),
        (packet(rectangular_error_corners=[[1, 2], [3, 4]]), "gcn.notices.x: rectangular_error_corners", "three"),
        (packet(healpix_file="not base64!"), "gcn.notices.x: healpix_file", "base64 of a FITS file"),
        (packet(healpix_file=base64.b64encode(b"hhhh" * 20).decode()), "gcn.notices.x: healpix_file", "FITS"),
        (packet(healpix_url="ftp://example.org/map.fits"), "gcn.notices.x: healpix_url", "an http(s) URL"),
    ],
)
def test_bad_unified_notices_are_refused_naming_field_value_and_what_is_allowed(
    payload: bytes, field: str, allowed: str
) -> None:
    error = refusal("gcn.notices.x", payload)
    assert error.details["field"] == field
    assert allowed in error.details["allowed"]
    assert field in str(error) and "Traceback" not in str(error)


def test_a_notice_over_four_mebibytes_is_refused_naming_its_size() -> None:
    payload = packet(id="huge", note="x" * MAX_JSON_BYTES)
    error = refusal("gcn.notices.x", payload)
    assert error.details["field"] == "gcn.notices.x"
    assert error.details["value"] == f"{len(payload):,} bytes"
    assert "4,194,304 bytes" in error.details["allowed"]


def test_a_notice_names_its_event_and_a_sky_map_holds_bytes_or_a_url() -> None:
    notice = read_notice("gcn.notices.x", packet(id="1"))
    with pytest.raises(ValueError, match="names its event"):
        dataclasses.replace(notice, event_ids=())
    with pytest.raises(ValueError, match="either its FITS bytes or its URL"):
        SkyMap()
    with pytest.raises(ValueError, match="either its FITS bytes or its URL"):
        SkyMap(fits=b"SIMPLE", url="https://example.org/map.fits")
