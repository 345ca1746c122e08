"""The fplane text format: published files round-trip byte for byte, refusals name line and column, items convert."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from obslab.configs.fplane import (
    HEADER,
    SEATS,
    Fplane,
    FplaneFormatError,
    FplaneRow,
    fplane_from_items,
    is_placeholder,
    items_from_fplane,
    nominal_position,
    parse_fplane,
    render_fplane,
)
from obslab.demo.configs import NON_VIRUS, virus_versions
from obslab.demo.context import DemoContext
from obslab.errors import InvalidInputError
from tests.helpers.support import FIXED_NOW, KITT_PEAK, fixed_clock

# A file as virus_config holds it: a "##" title, an svn keyword line, the header, the placeholder, LRS2 in two
# seats, VIRUS IFUs (one measured off its nominal place) and unused seats commented out, one in another hand.
PUBLISHED = (
    "## HETDEX focal plane, full version\n"
    "# $Id: fplane.txt 2211 2018-07-15 10:02:11Z snigula $\n"
    "# IFUSLOT X_FP Y_FP SPECID SPECSLOT IFUID IFUROT PLATESC\n"
    "000\t0.000\t0.000\t900\t900\t900\t0.000\t1.000\n"
    "013\t-400.031\t-200.000\t008\t001\t021\t0.000\t1.000\n"
    "#014\t-400.000\t-100.000\t900\t900\t900\t0.000\t1.000\n"
    "# 015 -400.0 0.0 unused since the 2017 refurbishment\n"
    "056\t100.000\t100.000\t900\t900\t901\t0.000\t1.000\n"
    "066\t100.000\t100.000\t900\t900\t902\t0.000\t1.000\n"
    "093\t399.912\t-200.048\t302\t017\t105\t180.000\t1.000\n"
    "106\t500.000\t100.000\t045\t002\tN01\t-0.500\t0.998\n"
)
ROW_013 = FplaneRow("013", -400.031, -200.0, 8, 1, "021", 0.0, 1.0)


def item(**changes: Any) -> dict[str, Any]:
    return {"x_fp": -400.031, "y_fp": -200.0, "specid": 8, "specslot": 1, "ifuid": "021", "ifurot": 0.0} | {
        "platesc": 1.0,
        **changes,
    }


PLACEHOLDER_ITEM = {"x_fp": 0.0, "y_fp": 0.0, "specid": 900, "specslot": 900, "ifuid": "900", "ifurot": 0.0} | {
    "platesc": 1.0
}


def test_a_published_file_parses_and_renders_to_the_same_bytes() -> None:
    fplane = parse_fplane(PUBLISHED)
    assert render_fplane(fplane) == PUBLISHED
    assert fplane.rows[1] == ROW_013
    assert [row.ifuslot for row in fplane.rows] == ["000", "013", "056", "066", "093", "106"]
    assert [row.ifuslot for row in fplane.virus_rows] == ["013", "093", "106"]
    assert fplane.lines[0] == "## HETDEX focal plane, full version"
    assert fplane.lines[5] == "#014\t-400.000\t-100.000\t900\t900\t900\t0.000\t1.000"
    assert fplane.rows[4].specid == 302 and fplane.rows[4].ifurot == 180.0


def test_columns_separated_by_spaces_are_read_and_written_with_tabs() -> None:
    spaced = "# IFUSLOT X_FP Y_FP SPECID SPECSLOT IFUID IFUROT PLATESC\n  013   -400.031 -200.0  008 1\t021 0 1.00\n"
    fplane = parse_fplane(spaced)
    assert fplane.rows == (ROW_013,)
    assert render_fplane(fplane) == f"{HEADER}\n013\t-400.031\t-200.000\t008\t001\t021\t0.000\t1.000\n"


def test_every_line_ends_with_one_newline() -> None:
    assert render_fplane(parse_fplane(PUBLISHED.rstrip("\n"))) == PUBLISHED
    assert render_fplane(parse_fplane("")) == ""
    assert render_fplane(parse_fplane("# a\n\n# b\n")) == "# a\n\n# b\n"  # a blank line stays where it was


def test_rows_hold_three_decimals_as_the_file_does() -> None:
    row = FplaneRow("013", -400.0314, 0.0004, 8, 1, "021", -0.0001, 1)
    assert (row.x_fp, row.y_fp, row.ifurot, row.platesc) == (-400.031, 0.0, 0.0, 1.0)
    assert row.render() == "013\t-400.031\t0.000\t008\t001\t021\t-0.000\t1.000"
    assert parse_fplane(row.render()).rows == (row,)


@pytest.mark.parametrize(
    ("specid", "ifuid", "placeholder"),
    [(900, "900", True), (8, "900", True), (900, "021", True), (899, "899", False), (8, "N01", False)],
)
def test_rows_with_900_values_are_placeholders(specid: int, ifuid: str, placeholder: bool) -> None:
    row = FplaneRow("000", 0, 0, specid, 900, ifuid, 0, 1)
    assert is_placeholder(row) is placeholder
    assert is_placeholder(row.as_item()) is placeholder


GOOD = "013\t-400.031\t-200.000\t008\t001\t021\t0.000\t1.000"


@pytest.mark.parametrize(
    ("line", "column", "value"),
    [
        ("013\t-400.031\t-200.000\t008\t001\t021\t0.000", "columns", 7),
        (GOOD + "\t1.000", "columns", 9),
        (GOOD.replace("013", "13", 1), "IFUSLOT", "13"),
        (GOOD.replace("013", "0130", 1), "IFUSLOT", "0130"),
        (GOOD.replace("013", "a13", 1), "IFUSLOT", "a13"),
        (GOOD.replace("013", "١٣٣", 1), "IFUSLOT", "١٣٣"),
        (GOOD.replace("-400.031", "nan"), "X_FP", "nan"),
        (GOOD.replace("-400.031", "1_0"), "X_FP", "1_0"),
        (GOOD.replace("-200.000", "-2OO"), "Y_FP", "-2OO"),
        (GOOD.replace("-200.000", "1e999"), "Y_FP", "1e999"),
        (GOOD.replace("008", "8a"), "SPECID", "8a"),
        (GOOD.replace("008", "-8"), "SPECID", "-8"),
        (GOOD.replace("\t001\t", "\t1.0\t"), "SPECSLOT", "1.0"),
        (GOOD.replace("021", "21"), "IFUID", "21"),
        (GOOD.replace("\t0.000\t1.000", "\tinf\t1.000"), "IFUROT", "inf"),
        (GOOD.replace("1.000", "one"), "PLATESC", "one"),
        (GOOD.replace("013", "000", 1), "IFUSLOT", "000"),  # a VIRUS IFU outside the seats
        (GOOD.replace("013", "115", 1), "IFUSLOT", "115"),
        (GOOD.replace("013", "010", 1), "IFUSLOT", "010"),
    ],
)
def test_a_malformed_line_is_refused_naming_line_column_and_value(line: str, column: str, value: Any) -> None:
    text = f"## title\n{HEADER}\n000\t0.000\t0.000\t900\t900\t900\t0.000\t1.000\n{line}\n"
    with pytest.raises(FplaneFormatError) as refused:
        parse_fplane(text)
    error = refused.value
    assert error.code == "invalid_fplane" and isinstance(error, InvalidInputError)
    assert error.details["lines"] == [4] and error.details["column"] == column and error.details["value"] == value
    assert str(error).startswith(f"line 4, {column}: {value!r} is not allowed")


@pytest.mark.parametrize(
    ("second", "column", "value"),
    [
        ("093\t399.912\t-200.048\t302\t017\t021\t180.000\t1.000", "IFUID", "021"),
        ("093\t399.912\t-200.048\t008\t017\t105\t180.000\t1.000", "SPECID", 8),
        ("013\t399.912\t-200.048\t302\t017\t105\t180.000\t1.000", "IFUSLOT", "013"),
        ("013\t0.000\t0.000\t900\t900\t900\t0.000\t1.000", "IFUSLOT", "013"),  # the seat keys even a placeholder
    ],
)
def test_a_value_on_two_rows_is_refused_naming_both_lines(second: str, column: str, value: Any) -> None:
    text = f"{HEADER}\n{GOOD}\n# between\n{second}\n"
    with pytest.raises(FplaneFormatError) as refused:
        parse_fplane(text)
    assert refused.value.details["lines"] == [2, 4] and refused.value.details["column"] == column
    assert str(refused.value).startswith(f"lines 2, 4, {column}: {value!r}")


def test_placeholders_may_share_their_900_values() -> None:
    text = f"{HEADER}\n000\t0.000\t0.000\t900\t900\t900\t0.000\t1.000\n001\t9.000\t9.000\t900\t900\t900\t0.000\t1.000\n"
    assert len(parse_fplane(text).rows) == 2


def test_nominal_positions_are_the_100_arcsec_grid_around_seat_055() -> None:
    assert SEATS == tuple(f"{x:02d}{y}" for x in range(1, 11) for y in range(1, 10))  # the seed's "%02d%d" lookup
    assert nominal_position("055") == (0.0, 0.0)
    assert nominal_position("013") == (-400.0, -200.0)
    assert nominal_position("101") == (500.0, -400.0)
    assert nominal_position("019") == (-400.0, 400.0)
    for slot in ("000", "010", "110", "13", "0130"):
        with pytest.raises(InvalidInputError, match=f"IFUSLOT: '{slot}'"):
            nominal_position(slot)


ITEMS = {"013": item(), "000": PLACEHOLDER_ITEM, "056": PLACEHOLDER_ITEM | {"ifuid": "901", "x_fp": 50.0}}


def test_a_full_file_lists_every_seat_and_the_non_virus_entries() -> None:
    text = render_fplane(fplane_from_items(ITEMS, full=True))
    lines = text.splitlines()
    assert lines[0] == HEADER and len(lines) == 1 + 1 + len(SEATS)  # header, placeholder 000, every seat
    assert lines[1].startswith("000\t") and lines[2] == "#011\t-400.000\t-400.000\t900\t900\t900\t0.000\t1.000"
    assert "013\t-400.000\t-200.000\t008\t001\t021\t0.000\t1.000" in lines
    assert "056\t50.000\t0.000\t900\t900\t901\t0.000\t1.000" in lines  # a feed in a seat keeps its own place
    assert sum(line.startswith("#") for line in lines[1:]) == len(SEATS) - 2
    assert [line.split("\t")[0] for line in lines[1:]] == ["000"] + [("" if s in ITEMS else "#") + s for s in SEATS]


def test_a_short_file_lists_the_virus_ifus_only() -> None:
    text = render_fplane(fplane_from_items(ITEMS, full=False))
    assert text == f"{HEADER}\n013\t-400.000\t-200.000\t008\t001\t021\t0.000\t1.000\n"


def test_actual_positions_are_the_measured_ones_and_nominal_the_seats() -> None:
    actual = fplane_from_items(ITEMS, full=False, actual=True).rows
    nominal = fplane_from_items(ITEMS, full=False, actual=False).rows
    assert (actual[0].x_fp, actual[0].y_fp) == (-400.031, -200.0)
    assert (nominal[0].x_fp, nominal[0].y_fp) == (-400.0, -200.0)


def test_items_round_trip_through_a_file_with_actual_positions() -> None:
    fplane = fplane_from_items(ITEMS, full=True, actual=True)
    assert items_from_fplane(parse_fplane(render_fplane(fplane))) == ITEMS
    assert items_from_fplane(fplane_from_items(ITEMS, full=False, actual=True)) == {"013": ITEMS["013"]}
    assert items_from_fplane(parse_fplane(PUBLISHED))["106"] == {
        "x_fp": 500.0,
        "y_fp": 100.0,
        "specid": 45,
        "specslot": 2,
        "ifuid": "N01",
        "ifurot": -0.5,
        "platesc": 0.998,
    }


@pytest.mark.parametrize(
    ("items", "field", "value"),
    [
        ({"013": {k: v for k, v in item().items() if k != "ifurot"}}, "013.ifurot", None),
        ({"013": item(specid=True)}, "013.specid", True),
        ({"013": item(specid="008")}, "013.specid", "008"),
        ({"013": item(specslot=-1)}, "013.specslot", -1),
        ({"013": item(ifuid="21")}, "013.ifuid", "21"),
        ({"013": item(ifuid="2 1")}, "013.ifuid", "2 1"),
        ({"013": item(x_fp=float("nan"))}, "013.x_fp", "nan"),
        ({"013": item(platesc="1.0")}, "013.platesc", "1.0"),
        ({"13": item()}, "13", "13"),
        ({"013": "021"}, "013", "021"),
        ({"000": item()}, "000", "000"),  # a VIRUS IFU outside the seats
        ({"013": item(), "021": item(specid=9)}, "013.ifuid and 021.ifuid", "021"),
        ({"013": item(), "021": item(ifuid="022")}, "013.specid and 021.specid", 8),
    ],
)
def test_items_that_cannot_make_a_file_are_refused_naming_seat_and_attribute(
    items: dict[str, Any], field: str, value: Any
) -> None:
    with pytest.raises(InvalidInputError) as refused:
        fplane_from_items(items)
    assert refused.value.details["field"] == field
    assert str(refused.value.details["value"]) == str(value)


def test_the_demo_focal_planes_make_full_and_short_files() -> None:
    context = DemoContext(session=None, site=KITT_PEAK, seed=5, clock=fixed_clock, moment=FIXED_NOW)
    versions = virus_versions(context)
    for version in versions:
        virus = {key: value for key, value in version.items.items() if key not in NON_VIRUS}
        full = fplane_from_items(version.items, full=True, actual=True)
        assert parse_fplane(render_fplane(full)) == full
        assert items_from_fplane(full) == version.items
        assert {row.ifuslot for row in full.rows} - set(SEATS) == set(NON_VIRUS)
        assert all(is_placeholder(row) for row in full.rows if row.ifuslot in NON_VIRUS)
        short = fplane_from_items(version.items, full=False)
        assert [row.ifuslot for row in short.rows] == sorted(virus) and short.lines[1:] == short.rows
        commented = [line for line in full.lines if isinstance(line, str) and line != HEADER]
        assert len(commented) == len(SEATS) - len(virus)
    assert len(fplane_from_items(versions[-1].items, full=False).rows) == 68


# Property tests: any configuration the format can hold survives the text, and the text any parse.

decimals = st.integers(-999_999, 999_999).map(lambda n: n / 1000)
three_chars = st.text("0123456789ABCNx", min_size=3, max_size=3)


@st.composite
def configurations(draw: st.DrawFn) -> dict[str, dict[str, Any]]:
    seats = draw(st.lists(st.sampled_from(SEATS), unique=True, max_size=20))
    specids = draw(st.lists(st.integers(0, 899), unique=True, min_size=len(seats), max_size=len(seats)))
    ifuids = draw(st.lists(three_chars, unique=True, min_size=len(seats), max_size=len(seats)))
    items = {
        seat: {
            "x_fp": draw(decimals),
            "y_fp": draw(decimals),
            "specid": specid,
            "specslot": draw(st.integers(0, 2000)),
            "ifuid": ifuid,
            "ifurot": draw(decimals),
            "platesc": draw(decimals),
        }
        for seat, specid, ifuid in zip(seats, specids, ifuids, strict=True)
        if not (ifuid.isdigit() and int(ifuid) >= 900)
    }
    for slot in draw(st.lists(st.sampled_from(["000", "001", "002", "003"]), unique=True)):
        items[slot] = PLACEHOLDER_ITEM | {"x_fp": draw(decimals), "ifuid": f"{900 + int(slot)}"}
    return items


comments = st.text(st.characters(blacklist_characters="\n", blacklist_categories=["Cs"]), max_size=20).map(
    lambda text: "#" + text
)


@settings(max_examples=200, deadline=None)
@given(items=configurations(), extra=st.lists(st.tuples(st.integers(0, 200), comments), max_size=5))
def test_render_then_parse_gives_the_same_fplane(items: dict[str, dict[str, Any]], extra: list[Any]) -> None:
    lines: list[FplaneRow | str] = list(fplane_from_items(items, full=True, actual=True).lines)
    for position, comment in extra:
        lines.insert(position % (len(lines) + 1), comment)
    fplane = Fplane(tuple(lines))
    text = render_fplane(fplane)
    assert parse_fplane(text) == fplane
    assert render_fplane(parse_fplane(text)) == text


@settings(max_examples=200, deadline=None)
@given(items=configurations(), full=st.booleans())
def test_items_survive_a_file_with_actual_positions(items: dict[str, dict[str, Any]], full: bool) -> None:
    fplane = parse_fplane(render_fplane(fplane_from_items(items, full=full, actual=True)))
    expected = items if full else {key: value for key, value in items.items() if not is_placeholder(value)}
    assert items_from_fplane(fplane) == expected


@settings(max_examples=200, deadline=None)
@given(x=st.floats(-1e6, 1e6), y=st.floats(-1e6, 1e6), rotation=st.floats(-360, 360))
def test_any_row_renders_to_text_that_parses_back_to_it(x: float, y: float, rotation: float) -> None:
    row = FplaneRow("013", x, y, 8, 1, "021", rotation, 1.0)
    assert parse_fplane(row.render()).rows == (row,)
    # Three decimals round by at most half of 0.001; the binary floats either side add an ulp or so (0.4375 ->
    # 0.438 differs by 0.0005000000000000004), which is the representation, not the rounding.
    half_unit = 0.0005 + 1e-9
    assert abs(row.x_fp - x) <= half_unit and abs(row.y_fp - y) <= half_unit


@settings(max_examples=300, deadline=None)
@given(text=st.text(st.sampled_from("0123456789 \t\n#.-eE+xN"), max_size=120))
def test_any_text_is_read_or_refused_naming_a_line(text: str) -> None:
    try:
        fplane = parse_fplane(text)
    except FplaneFormatError as error:
        assert all(1 <= line <= text.count("\n") + 1 for line in error.details["lines"])
        assert str(error).startswith("line")
    else:
        assert parse_fplane(render_fplane(fplane)) == fplane
