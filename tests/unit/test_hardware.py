"""The TCS focal-plane update: the documented body is read, stale data refused, clocks ahead warned, fields named."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from obslab.configs import hardware
from obslab.configs.fplane import fplane_from_items, items_from_fplane, parse_fplane, render_fplane
from obslab.configs.hardware import (
    HardwareStatus,
    parse_bool,
    read_hardware_status,
    read_update_request,
)
from obslab.errors import InvalidInputError

NOW = datetime(2026, 12, 6, 21, 0, tzinfo=UTC)
IFU_013 = {"ifuid": "021", "specid": 8, "specslot": 1, "x_fp": -400.031, "y_fp": -200.0, "ifurot": 0.0, "platesc": 1.0}
IFU_093 = {
    "ifuid": "105",
    "specid": 302,
    "specslot": 17,
    "x_fp": 399.9,
    "y_fp": -200.0,
    "ifurot": 180.0,
    "platesc": 1.0,
}
PLACEHOLDER = {"ifuid": "900", "specid": 900, "specslot": 900, "x_fp": 0.0, "y_fp": 0.0, "ifurot": 0.0, "platesc": 1.0}


def config(**changes: Any) -> dict[str, Any]:
    return {"timestamp": "2026-12-06T20:15:00Z", "ifus": {"013": IFU_013, "093": IFU_093, "000": PLACEHOLDER}} | changes


def refusal(call: Any) -> InvalidInputError:
    with pytest.raises(InvalidInputError) as refused:
        call()
    return refused.value


def test_the_example_in_the_module_docstring_is_a_valid_update() -> None:
    example = re.search(r"::\n\n(    \{.*?\n    \})\n", hardware.__doc__ or "", re.S)
    assert example is not None
    status, commit = read_update_request(json.loads(example[1]), now=NOW)
    assert commit is True and status.warnings == ()
    assert status.timestamp == datetime(2026, 12, 6, 20, 15, tzinfo=UTC)
    assert status.items["013"] == IFU_013 and set(status.items) == {"000", "013"}


def test_the_status_becomes_configuration_items_that_make_a_file() -> None:
    status = read_hardware_status(config(other_hardware={"dome": "open"}), now=NOW)
    assert status == HardwareStatus(
        datetime(2026, 12, 6, 20, 15, tzinfo=UTC), {"000": PLACEHOLDER, "013": IFU_013, "093": IFU_093}, ()
    )
    fplane = fplane_from_items(status.items, full=False, actual=True)
    assert render_fplane(fplane).splitlines()[1:] == [
        "013\t-400.031\t-200.000\t008\t001\t021\t0.000\t1.000",
        "093\t399.900\t-200.000\t302\t017\t105\t180.000\t1.000",
    ]
    full = fplane_from_items(status.items, full=True, actual=True)
    assert items_from_fplane(parse_fplane(render_fplane(full))) == status.items


@pytest.mark.parametrize(
    ("timestamp", "expected"),
    [
        ("2026-12-06T20:15:00", datetime(2026, 12, 6, 20, 15, tzinfo=UTC)),  # no zone: UT, as the TCS keeps
        ("2026-12-06T13:15:00-07:00", datetime(2026, 12, 6, 20, 15, tzinfo=UTC)),
        (" 2026-12-06T20:15:00+00:00 ", datetime(2026, 12, 6, 20, 15, tzinfo=UTC)),
        (datetime(2026, 12, 6, 22, 15, tzinfo=timezone(timedelta(hours=2))), datetime(2026, 12, 6, 20, 15, tzinfo=UTC)),
    ],
)
def test_timestamps_are_read_as_utc(timestamp: Any, expected: datetime) -> None:
    read = read_hardware_status(config(timestamp=timestamp), now=NOW).timestamp
    assert read == expected and read.utcoffset() == timedelta(0)


def test_data_up_to_six_hours_old_is_taken_and_older_refused() -> None:
    assert read_hardware_status(config(timestamp="2026-12-06T15:00:00Z"), now=NOW).warnings == ()
    error = refusal(lambda: read_hardware_status(config(timestamp="2026-12-06T14:59:59Z"), now=NOW))
    assert error.details["field"] == "timestamp" and error.details["value"] == "2026-12-06T14:59:59Z"
    assert "2026-12-06T15:00:00+00:00 or later" in error.details["allowed"]
    naive_now = NOW.replace(tzinfo=None)  # the same instant, read as UTC
    refusal(lambda: read_hardware_status(config(timestamp="2026-12-06T14:59:59Z"), now=naive_now))


def test_a_clock_ahead_by_more_than_ten_minutes_is_accepted_with_a_warning() -> None:
    assert read_hardware_status(config(timestamp="2026-12-06T21:10:00Z"), now=NOW).warnings == ()
    status = read_hardware_status(config(timestamp="2026-12-06T21:10:01Z"), now=NOW)
    assert status.timestamp == datetime(2026, 12, 6, 21, 10, 1, tzinfo=UTC) and status.items
    assert len(status.warnings) == 1 and "0:10:01 ahead" in status.warnings[0]


@pytest.mark.parametrize(
    ("changes", "field", "value"),
    [
        ({"timestamp": None}, "timestamp", None),
        ({"timestamp": "yesterday"}, "timestamp", "yesterday"),
        ({"timestamp": 1765052100}, "timestamp", 1765052100),
        ({"ifus": None}, "ifus", None),
        ({"ifus": {}}, "ifus", {}),
        ({"ifus": ["013"]}, "ifus", ["013"]),
        ({"ifus": {"013": IFU_013 | {"specid": "008"}}}, "ifus.013.specid", "008"),
        ({"ifus": {"013": IFU_013 | {"specslot": 1.5}}}, "ifus.013.specslot", 1.5),
        ({"ifus": {"013": IFU_013 | {"ifuid": 21}}}, "ifus.013.ifuid", 21),
        ({"ifus": {"013": IFU_013 | {"x_fp": "-400"}}}, "ifus.013.x_fp", "-400"),
        ({"ifus": {"013": IFU_013 | {"platesc": False}}}, "ifus.013.platesc", False),
        ({"ifus": {"013": {k: v for k, v in IFU_013.items() if k != "ifurot"}}}, "ifus.013.ifurot", None),
        ({"ifus": {"013": IFU_013 | {"colour": "red"}}}, "ifus.013.colour", "red"),
        ({"ifus": {"013": "021"}}, "ifus.013", "021"),
        ({"ifus": {"13": IFU_013}}, "ifus.13", "13"),
        ({"ifus": {"000": IFU_013}}, "ifus.000", "000"),
        ({"ifus": {"013": IFU_013, "093": IFU_093 | {"ifuid": "021"}}}, "ifus.013.ifuid and ifus.093.ifuid", "021"),
        ({"ifus": {"013": IFU_013, "093": IFU_093 | {"specid": 8}}}, "ifus.013.specid and ifus.093.specid", 8),
    ],
)
def test_every_refused_field_is_named_with_its_value(changes: dict[str, Any], field: str, value: Any) -> None:
    error = refusal(lambda: read_hardware_status(config(**changes), now=NOW))
    assert error.details["field"] == field and error.details["value"] == value
    assert str(error).startswith(f"{field}: {value!r} is not allowed; expected ")


def test_placeholders_in_several_seats_may_share_their_900_values() -> None:
    status = read_hardware_status(config(ifus={"013": IFU_013, "000": PLACEHOLDER, "001": PLACEHOLDER}), now=NOW)
    assert set(status.items) == {"000", "001", "013"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (False, False), (1, True), (0, False)]
    + [(word, True) for word in ("true", "TRUE", "True", "1", "yes", "Yes", "on", "ON", "y", "Y", "t", " T ")]
    + [(word, False) for word in ("false", "FALSE", "0", "no", "NO", "off", "Off", "n", "N", "f", "F\n")],
)
def test_parse_bool_reads_the_usual_spellings(value: Any, expected: bool) -> None:
    assert parse_bool(value) is expected


@pytest.mark.parametrize("value", [None, 2, -1, 1.0, "", "maybe", "truthy", "yes please", "nein", [], {"a": 1}])
def test_parse_bool_refuses_anything_else_naming_value_and_choices(value: Any) -> None:
    error = refusal(lambda: parse_bool(value, field="commit"))
    assert error.details["field"] == "commit" and error.details["value"] == value
    assert "true or false" in error.details["allowed"] and "yes/no" in error.details["allowed"]


@pytest.mark.parametrize(("commit", "expected"), [(True, True), ("false", False), ("1", True), (0, False)])
def test_an_update_request_carries_the_status_and_the_commit_flag(commit: Any, expected: bool) -> None:
    status, flag = read_update_request({"config": config(), "commit": commit}, now=NOW)
    assert flag is expected and status == read_hardware_status(config(), now=NOW)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (["config"], "body"),
        ("commit=1", "body"),
        ({"config": config()}, "commit"),
        ({"commit": True}, "config"),
        ({"config": config(), "commit": "perhaps"}, "commit"),
        ({"config": config(), "commit": True, "date": "20261206"}, "date"),
        ({"config": "013 -400.031", "commit": True}, "config"),
        ({"config": config(timestamp="2026-12-05T20:15:00Z"), "commit": False}, "timestamp"),
    ],
)
def test_a_malformed_request_is_refused_naming_the_field(body: Any, field: str) -> None:
    assert refusal(lambda: read_update_request(body, now=NOW)).details["field"] == field


def test_a_huge_refused_value_is_shown_shortened() -> None:
    error = refusal(lambda: read_update_request(["x" * 1000], now=NOW))
    assert len(str(error)) < 300 and str(error.details["value"]).endswith("...")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-1000, 1000) | st.floats() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=12,
)
ifu_like = st.fixed_dictionaries(
    {},
    optional={name: st.one_of(json_values, st.just(value)) for name, value in {**IFU_013, "colour": "red"}.items()},
)


@settings(max_examples=300, deadline=None)
@given(
    ifus=st.dictionaries(st.sampled_from(["013", "093", "000", "13", "abc"]), ifu_like, max_size=3),
    commit=json_values,
    timestamp=st.one_of(json_values, st.just("2026-12-06T20:15:00Z")),
)
def test_any_json_body_is_read_or_refused_naming_a_field(ifus: Any, commit: Any, timestamp: Any) -> None:
    body = {"config": {"timestamp": timestamp, "ifus": ifus}, "commit": commit}
    try:
        status, flag = read_update_request(body, now=NOW)
    except InvalidInputError as error:
        assert error.details["field"] and str(error).startswith(str(error.details["field"]))
    else:
        assert isinstance(flag, bool) and status.timestamp.tzinfo is not None
        assert set(status.items) == set(ifus)
        assert items_from_fplane(fplane_from_items(status.items, actual=True)) == status.items
