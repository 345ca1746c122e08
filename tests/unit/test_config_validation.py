"""Configuration input checks and hardware ids (pure): placeholders, one id in two spellings, the new-hardware set."""

from __future__ import annotations

import pytest

from obslab.configs.notices import dedupe_key, new_hardware
from obslab.configs.validation import check_items, hardware, hardware_id
from obslab.errors import InvalidInputError
from tests.helpers.fresh_imports import loaded_by_importing


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (8, 8),
        ("008", 8),
        (" 042 ", 42),
        (8.0, 8),
        ("N01", "N01"),
        (899, 899),
        (900, None),
        ("900", None),
        ("901", None),
        (999.0, None),
        ("", None),
        (None, None),
        (True, None),
    ],
)
def test_hardware_ids_compare_across_spellings_and_placeholders_are_none(value: object, expected: object) -> None:
    assert hardware_id(value) == expected


def test_hardware_lists_each_id_with_the_first_item_holding_it() -> None:
    items = {"021": {"specid": 8, "ifuid": "900"}, "013": {"specid": "009", "ifuid": "042"}, "camera": {"gain": 2}}
    assert hardware(items) == {"specid": {9: "013", 8: "021"}, "ifuid": {42: "013"}}
    assert new_hardware({"specid": {8}}, items) == {"specid": {9: "013"}, "ifuid": {42: "013"}}


def test_the_dedupe_key_depends_on_the_instrument_and_the_new_hardware_only() -> None:
    first = dedupe_key("VIRUS", {"specid": {9: "013"}, "ifuid": {}})
    assert first == dedupe_key("VIRUS", {"specid": {9: "024"}, "ifuid": {}})  # where it sits does not matter
    assert first != dedupe_key("VIRUS", {"specid": {10: "013"}, "ifuid": {}})
    assert first != dedupe_key("LRS2", {"specid": {9: "013"}, "ifuid": {}})
    assert len(first) <= 128


def test_check_items_copies_and_keeps_scalars() -> None:
    items = {"013": {"x_fp": -349.91, "ifuid": "013", "note": None, "active": True}}
    checked = check_items(items)
    assert checked == items and checked["013"] is not items["013"]
    with pytest.raises(InvalidInputError, match=r"items\['013'\].x_fp: inf"):
        check_items({"013": {"x_fp": float("inf")}})
    with pytest.raises(InvalidInputError, match=r"items\['013'\]: '' .* attribute names"):
        check_items({"013": {"": 1}})
    with pytest.raises(InvalidInputError, match=r"items: .*\.\.\.' is not allowed"):
        check_items([list(range(100))])  # a long value is shortened in the message


def test_validation_is_pure() -> None:
    assert loaded_by_importing(["obslab.configs.validation"], ("sqlalchemy", "panel", "obslab.db")) == ""
