"""Obsid lists as people type them: numbers, ranges, separators, repeats, and the refusals."""

from __future__ import annotations

import pytest

from obslab.catalog.obsids import MAX_OBSID, MAX_RANGE, parse_obsid_list
from obslab.errors import InvalidInputError


def test_empty_and_blank_text_names_no_obsids() -> None:
    assert parse_obsid_list("") == []
    assert parse_obsid_list("  \t\n ") == []
    assert parse_obsid_list(" , ;; ,") == []


def test_single_obsids_keep_the_order_they_were_typed_in() -> None:
    assert parse_obsid_list("20005") == [20005]
    assert parse_obsid_list("20005 20001 20003") == [20005, 20001, 20003]


@pytest.mark.parametrize(
    "text",
    [
        "1,2,3",
        "1;2;3",
        "1 2 3",
        "1, 2; 3",
        "1 ,2 ;3",
        "1\t2\n3",
        ",1,,2;;3,",
        "  1  ;  2  ,  3  ",
    ],
)
def test_commas_semicolons_and_whitespace_all_separate(text: str) -> None:
    assert parse_obsid_list(text) == [1, 2, 3]


def test_a_range_expands_to_every_obsid_in_it_inclusive() -> None:
    assert parse_obsid_list("10001-10005") == [10001, 10002, 10003, 10004, 10005]
    assert parse_obsid_list("10001-10001") == [10001]


@pytest.mark.parametrize("text", ["10001 - 10003", "10001 -10003", "10001- 10003", "10001  -\t10003"])
def test_spaces_around_the_dash_still_mean_a_range(text: str) -> None:
    assert parse_obsid_list(text) == [10001, 10002, 10003]


def test_ranges_and_single_obsids_mix() -> None:
    text = "10001-10003, 10077; 10090 10091, 10100 - 10102"
    expected = [10001, 10002, 10003, 10077, 10090, 10091, 10100, 10101, 10102]
    assert parse_obsid_list(text) == expected


def test_repeats_are_dropped_keeping_the_first_mention() -> None:
    assert parse_obsid_list("5 3 5 1 3") == [5, 3, 1]
    # An obsid named before a range that covers it keeps its early place; the range adds the rest in order.
    assert parse_obsid_list("7, 5-9, 6, 8-10") == [7, 5, 6, 8, 9, 10]
    assert parse_obsid_list("1-3, 2-4, 1-4") == [1, 2, 3, 4]


def test_leading_zeros_are_the_same_obsid() -> None:
    assert parse_obsid_list("00042, 42, 0042-0043") == [42, 43]


def test_the_smallest_and_largest_obsids_are_accepted() -> None:
    assert parse_obsid_list(f"1, {MAX_OBSID}") == [1, MAX_OBSID]
    assert parse_obsid_list(f"{MAX_OBSID - 2}-{MAX_OBSID}") == [MAX_OBSID - 2, MAX_OBSID - 1, MAX_OBSID]


def test_a_range_of_exactly_max_range_obsids_is_accepted() -> None:
    obsids = parse_obsid_list(f"1-{MAX_RANGE}")
    assert len(obsids) == MAX_RANGE
    assert obsids[0] == 1 and obsids[-1] == MAX_RANGE
    assert obsids == sorted(set(obsids))


def _refused(text: str, field: str = "obsid") -> InvalidInputError:
    with pytest.raises(InvalidInputError) as caught:
        parse_obsid_list(text, field=field)
    return caught.value


@pytest.mark.parametrize(
    ("text", "bad_token"),
    [
        ("abc", "abc"),
        ("10001, 10a02", "10a02"),
        ("10001 x 10003", "x"),
        ("1.5", "1.5"),
        ("+5", "+5"),
        ("10001-", "10001-"),
        ("-10001", "-10001"),
        ("1-2-3", "1-2-3"),
        ("10001..10005", "10001..10005"),
        ("10001-10x", "10001-10x"),
    ],
)
def test_text_that_is_not_an_obsid_or_range_is_refused_naming_field_and_token(text: str, bad_token: str) -> None:
    error = _refused(text, field="obsids")
    assert error.code == "invalid_input"
    assert error.details["field"] == "obsids"
    assert error.details["value"] == bad_token
    assert str(error).startswith("obsids: ")
    assert repr(bad_token) in str(error)


def test_the_default_field_name_is_obsid() -> None:
    error = _refused("oops")
    assert error.details["field"] == "obsid"
    assert str(error).startswith("obsid: ")


def test_a_backwards_range_is_refused() -> None:
    error = _refused("10005-10001", field="obsids")
    assert error.details["field"] == "obsids"
    assert error.details["value"] == "10005-10001"
    assert "10005-10001" in str(error)


def test_a_backwards_range_typed_with_spaces_is_refused_naming_the_range() -> None:
    error = _refused("20001, 10005 - 10001")
    assert error.details["value"] == "10005-10001"


def test_a_range_wider_than_max_range_is_refused() -> None:
    text = f"1-{MAX_RANGE + 1}"
    error = _refused(text, field="obsids")
    assert error.details["field"] == "obsids"
    assert error.details["value"] == text
    assert f"{MAX_RANGE:,}" in str(error)


@pytest.mark.parametrize(
    ("text", "bad_token"),
    [
        ("0", "0"),
        ("000", "000"),
        ("5, 0", "0"),
        ("0-5", "0-5"),
        (str(MAX_OBSID + 1), str(MAX_OBSID + 1)),
        (f"{MAX_OBSID}-{MAX_OBSID + 1}", f"{MAX_OBSID}-{MAX_OBSID + 1}"),
        ("9" * 30, "9" * 30),
    ],
)
def test_obsids_outside_one_to_max_obsid_are_refused(text: str, bad_token: str) -> None:
    error = _refused(text, field="obsids")
    assert error.details["field"] == "obsids"
    assert error.details["value"] == bad_token
    assert str(MAX_OBSID) in str(error)


def test_nothing_is_returned_when_any_token_is_bad() -> None:
    # A list with one typo is refused as a whole rather than silently filtering on the good part.
    with pytest.raises(InvalidInputError):
        parse_obsid_list("10001, 10002, 1OOO3")


@pytest.mark.parametrize("text", ["\u00b2", "1\u00b2", "10001-1000\u00b3"])
def test_unicode_digits_that_are_not_decimal_are_refused_as_input(text: str) -> None:
    # "²" passes str.isdigit() but int() cannot read it: it must be refused, not crash with ValueError.
    error = _refused(text, field="obsids")
    assert error.details["field"] == "obsids"


def test_an_absurdly_long_number_is_refused_as_input() -> None:
    # Python refuses int() of more than 4300 digits with ValueError; people get the usual refusal instead.
    error = _refused("1" * 5000, field="obsids")
    assert error.details["field"] == "obsids"
