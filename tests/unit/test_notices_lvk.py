"""LVK igwn.gwalert notices: alert types and spellings, retractions, mock and test superevents, the base64 sky map."""

from __future__ import annotations

import base64
import io
import json
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from astropy.table import Table

from obslab.demo import notices
from obslab.errors import InvalidInputError
from obslab.scheduling.notices import NoticeFormat, NoticeKind, read_notice
from obslab.scheduling.notices.types import SkyMap

TOPIC = "igwn.gwalert"


def multiorder_fits(uniq: list[int], probdensity: list[float]) -> bytes:
    """A tiny multi-order map as LVK sends it: a BINTABLE of UNIQ (int64) and PROBDENSITY (per steradian)."""
    table = Table({"UNIQ": np.array(uniq, dtype=np.int64), "PROBDENSITY": np.array(probdensity, dtype=np.float64)})
    table.meta.update({"MOCORDER": 2, "OBJECT": "MS181101ab", "ORDERING": "NUNIQ"})
    buffer = io.BytesIO()
    table.write(buffer, format="fits")
    return buffer.getvalue()


# Order-1 pixels (UNIQ = 4 * 4**1 + ipix = 16 + ipix) and one order-2 pixel (UNIQ = 4 * 16 + ipix).
MAP = multiorder_fits([16, 17, 18, 64 + 20], [2.0, 1.0, 0.5, 8.0])


def gwalert(alert_type: str, superevent: str = "S181101ab", *, skymap: bytes = MAP, **event: Any) -> bytes:
    """LVK's envelope (the demo's builder) at the user guide's times: the event at 22:22:46.654, each alert type
    written when LVK's example of it was."""
    created = {"EARLYWARNING": "22:22:50", "EARLY_WARNING": "22:22:50", "PRELIMINARY": "22:34:49"}
    when = datetime.fromisoformat(f"2018-11-01T{created.get(alert_type.upper(), '23:36:23')}+00:00")
    fields = {"time": "2018-11-01T22:22:46.654Z"} | event
    return notices.gwalert(alert_type, superevent, created=when, skymap=skymap, **fields)


def test_a_preliminary_notice_carries_its_sky_map_bytes_intact_and_its_significance() -> None:
    notice = read_notice(TOPIC, gwalert("PRELIMINARY"))

    assert notice.format is NoticeFormat.GWALERT and notice.kind is NoticeKind.INITIAL
    assert notice.event_id == "S181101ab" and notice.alert_type == "PRELIMINARY"
    assert notice.created == datetime(2018, 11, 1, 22, 34, 49, tzinfo=UTC)
    assert notice.trigger_time == datetime(2018, 11, 1, 22, 22, 46, 654000, tzinfo=UTC)
    assert notice.position == SkyMap(fits=MAP, containment=0.9) and notice.skymap is notice.position
    table = Table.read(io.BytesIO(notice.position.fits))
    assert list(table["UNIQ"]) == [16, 17, 18, 84] and table["UNIQ"].dtype.newbyteorder("=") == np.int64
    assert list(table["PROBDENSITY"]) == [2.0, 1.0, 0.5, 8.0]
    assert notice.significance["far_hz"] == 9.11069936486e-14 and notice.significance["significant"] is True
    assert notice.significance["classification"]["BNS"] == 0.95 and notice.significance["group"] == "CBC"
    assert notice.significance["url"].endswith("/S181101ab/view/")
    assert notice.key == "igwn.gwalert#S181101ab/PRELIMINARY/2018-11-01T22:34:49+00:00"
    assert not notice.is_mock and not notice.is_test and notice.significance["tense"] == "current"


def test_initial_and_update_follow_the_preliminary_as_updates_with_keys_of_their_own() -> None:
    preliminary = read_notice(TOPIC, gwalert("PRELIMINARY"))
    initial = read_notice(TOPIC, gwalert("INITIAL"))
    update = read_notice(TOPIC, gwalert("UPDATE", significant=False, far=1e-7))

    assert initial.kind is update.kind is NoticeKind.UPDATE
    assert preliminary.event_id == initial.event_id == update.event_id
    assert len({preliminary.key, initial.key, update.key}) == 3
    assert update.significance["significant"] is False and update.significance["far_hz"] == 1e-7
    assert read_notice(TOPIC, gwalert("UPDATE")).key == read_notice(TOPIC, gwalert("UPDATE")).key


def test_a_retraction_has_a_null_event_and_no_position() -> None:
    notice = read_notice(TOPIC, gwalert("RETRACTION"))

    assert notice.kind is NoticeKind.RETRACTION and notice.event_id == "S181101ab"
    assert notice.position is None and notice.skymap is None and notice.trigger_time is None
    assert notice.created == datetime(2018, 11, 1, 23, 36, 23, tzinfo=UTC)


@pytest.mark.parametrize("spelling", ["EARLYWARNING", "EARLY_WARNING", "early_warning"])
def test_both_early_warning_spellings_are_one_alert_type(spelling: str) -> None:
    notice = read_notice(TOPIC, gwalert(spelling, search="EarlyWarning"))
    assert notice.alert_type == "EARLYWARNING" and notice.kind is NoticeKind.INITIAL
    assert notice.key == "igwn.gwalert#S181101ab/EARLYWARNING/2018-11-01T22:22:50+00:00"


def test_mock_and_test_superevents_are_kept_as_test_traffic() -> None:
    mock = read_notice(TOPIC, gwalert("PRELIMINARY", "MS181101ab"))
    test = read_notice(TOPIC, gwalert("UPDATE", "TS181101ab"))
    mock_retraction = read_notice(TOPIC, gwalert("RETRACTION", "MS181101ab"))

    assert mock.is_mock and not mock.is_test and mock.kind is NoticeKind.TEST
    assert test.is_test and not test.is_mock and test.kind is NoticeKind.TEST
    assert mock.significance["tense"] == test.significance["tense"] == "test"
    assert mock_retraction.kind is NoticeKind.TEST and mock_retraction.alert_type == "RETRACTION"
    assert mock.position == SkyMap(fits=MAP)  # the map is still read: mock traffic exercises the whole path


def test_an_external_coincidence_gives_the_combined_map_as_position() -> None:
    combined = multiorder_fits([16], [4.0])
    data = json.loads(gwalert("UPDATE"))
    data["external_coinc"] = {
        "observatory": "Fermi",
        "search": "GRB",
        "time_difference": 2.02,
        "time_sky_position_coincidence_far": 6.4e-16,
        "combined_skymap": base64.b64encode(combined).decode(),
    }
    notice = read_notice(TOPIC, json.dumps(data).encode())

    assert notice.position == SkyMap(fits=combined)
    assert notice.significance["external_coinc"]["observatory"] == "Fermi"
    assert "combined_skymap" not in notice.significance["external_coinc"]


def test_a_notice_of_lvk_size_is_taken() -> None:
    big = multiorder_fits(list(range(16, 16 + 60_000)), [1.0] * 60_000)  # about 1 MB, as real maps are
    notice = read_notice(TOPIC, gwalert("PRELIMINARY", skymap=big))
    assert len(notice.payload) > 1_000_000 and notice.position.fits == big


@pytest.mark.parametrize(
    ("change", "field", "allowed"),
    [
        ({"superevent_id": None}, "igwn.gwalert: superevent_id", "a superevent id like S251117dq"),
        ({"superevent_id": "G123456"}, "igwn.gwalert: superevent_id", "MS... mock, TS... test"),
        ({"alert_type": None}, "igwn.gwalert: alert_type", "EARLYWARNING (or EARLY_WARNING)"),
        ({"alert_type": "FINAL"}, "igwn.gwalert: alert_type", "PRELIMINARY, INITIAL, UPDATE, RETRACTION"),
        ({"event": None}, "igwn.gwalert: event", "the event's details in a PRELIMINARY notice"),
        ({"event": []}, "igwn.gwalert: event", "a JSON object"),
        ({"time_created": "1 Nov 2018"}, "igwn.gwalert: time_created", "an ISO 8601 time"),
    ],
)
def test_a_broken_envelope_is_refused_by_field(change: dict[str, Any], field: str, allowed: str) -> None:
    data = json.loads(gwalert("PRELIMINARY")) | change
    with pytest.raises(InvalidInputError) as caught:
        read_notice(TOPIC, json.dumps(data).encode())
    assert caught.value.details["field"] == field and allowed in caught.value.details["allowed"]


@pytest.mark.parametrize(
    ("skymap", "allowed"),
    [
        ("U0lNUExFICA9ICAgICAgICAgICAgICAgICAgICBUIC8gY29uZm...", "base64 of a FITS file"),
        ("%%%%", "base64 of a FITS file"),
        (base64.b64encode(b"not a fits file at all").decode(), "starting SIMPLE"),
    ],
)
def test_a_sky_map_that_is_not_base64_fits_is_refused_by_name(skymap: str, allowed: str) -> None:
    data = json.loads(gwalert("PRELIMINARY"))
    data["event"]["skymap"] = skymap
    with pytest.raises(InvalidInputError) as caught:
        read_notice(TOPIC, json.dumps(data).encode())
    assert caught.value.details["field"] == "igwn.gwalert: event: skymap"
    assert allowed in caught.value.details["allowed"]


def test_bad_event_fields_are_refused_by_name() -> None:
    for change, field in [({"far": "small"}, "far"), ({"significant": "yes"}, "significant"), ({"time": 5}, "time")]:
        with pytest.raises(InvalidInputError) as caught:
            read_notice(TOPIC, gwalert("UPDATE", **change))
        assert caught.value.details["field"] == f"igwn.gwalert: event: {field}"


def test_an_lvk_notice_over_four_mebibytes_is_refused_naming_its_size() -> None:
    big = multiorder_fits(list(range(16, 16 + 300_000)), [1.0] * 300_000)  # about 4.8 MB once in base64
    payload = gwalert("PRELIMINARY", skymap=big)
    with pytest.raises(InvalidInputError) as caught:
        read_notice(TOPIC, payload)
    assert caught.value.details == {
        "field": "igwn.gwalert",
        "value": f"{len(payload):,} bytes",
        "allowed": "a JSON notice of at most 4,194,304 bytes",
    }
