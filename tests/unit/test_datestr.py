"""Every date form an fplane client sends, read as the UTC moment and the night it names."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from obslab.configs.datestr import ALLOWED, parse_datestr
from obslab.errors import InvalidInputError
from tests.helpers.fresh_imports import loaded_by_importing

PHOENIX = ZoneInfo("America/Phoenix")  # UTC-7 all year
BERLIN = ZoneInfo("Europe/Berlin")  # UTC+1 in winter, +2 in summer
NOW = datetime(2026, 11, 21, 18, 30, tzinfo=UTC)


@pytest.mark.parametrize("text", ["", "latest", "current", "now", "LATEST", " Current "])
def test_the_words_for_now(text: str) -> None:
    moment = parse_datestr(text, now=NOW, zone=PHOENIX)
    assert moment.at == NOW
    # 18:30 UTC is 11:30 MST, before local noon: still the night that started on the 20th.
    assert moment.night == date(2026, 11, 20)


def test_yyyymmdd_is_local_midnight_of_the_night_starting_that_day() -> None:
    moment = parse_datestr("20180714", now=NOW, zone=PHOENIX)
    assert moment.at == datetime(2018, 7, 15, 7, 0, tzinfo=UTC)  # 00:00 MST on the 15th
    assert moment.night == date(2018, 7, 14)
    assert moment.file_name == "fplane20180714.txt"


def test_yyyymmdd_uses_the_offset_in_force_that_night() -> None:
    assert parse_datestr("20180714", now=NOW, zone=BERLIN).at == datetime(2018, 7, 14, 22, 0, tzinfo=UTC)
    assert parse_datestr("20180114", now=NOW, zone=BERLIN).at == datetime(2018, 1, 14, 23, 0, tzinfo=UTC)
    # The night starting on the last day of the year ends in the next year.
    assert parse_datestr("20181231", now=NOW, zone=PHOENIX).at == datetime(2019, 1, 1, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2018-07-15T04:12:33.5", datetime(2018, 7, 15, 4, 12, 33, 500_000, tzinfo=UTC)),
        ("2018-07-15T04:12:33.5Z", datetime(2018, 7, 15, 4, 12, 33, 500_000, tzinfo=UTC)),
        ("2018-07-15T04:12:33", datetime(2018, 7, 15, 4, 12, 33, tzinfo=UTC)),
        ("2018-07-15T04:12:33.123456", datetime(2018, 7, 15, 4, 12, 33, 123_456, tzinfo=UTC)),
        ("2018-07-15", datetime(2018, 7, 15, tzinfo=UTC)),
        ("2018-07-15Z", datetime(2018, 7, 15, tzinfo=UTC)),
    ],
)
def test_fits_date_obs_is_utc(text: str, expected: datetime) -> None:
    assert parse_datestr(text, now=NOW, zone=PHOENIX).at == expected


def test_a_date_obs_names_the_night_it_was_taken_in() -> None:
    # 04:12 UTC on the 15th is 21:12 MST on the 14th: the night that started on the 14th.
    moment = parse_datestr("2018-07-15T04:12:33.5", now=NOW, zone=PHOENIX)
    assert moment.night == date(2018, 7, 14) and moment.file_name == "fplane20180714.txt"
    # The same night's YYYYMMDD and a frame from it agree on the file.
    assert parse_datestr("20180714", now=NOW, zone=PHOENIX).file_name == moment.file_name


@pytest.mark.parametrize(
    "text",
    [
        "yesterday",
        "2018071",
        "201807145",
        "20180230",  # no such day
        "20181301",
        "99991231",  # its night ends past year 9999
        "2018-07-15T04:12",
        "2018-07-15T25:00:00",
        "2018-07-15 04:12:33",
        "2018-07-15T04:12:33+02:00",
        "2018-07-15T04:12:33.1234567",
        "15/07/18",
        "٢٠١٨٠٧١٤",  # 20180714 in Arabic-Indic digits, which \d and int() accept unless told otherwise
    ],
)
def test_anything_else_is_refused_naming_the_value_and_the_forms(text: str) -> None:
    with pytest.raises(InvalidInputError) as refused:
        parse_datestr(text, now=NOW, zone=PHOENIX)
    assert refused.value.code == "invalid_input"
    assert repr(text) in str(refused.value) and ALLOWED in str(refused.value)
    assert "YYYYMMDD" in ALLOWED and "DATE-OBS" in ALLOWED
    assert refused.value.details["field"] == "datestr"


def test_the_refusal_names_the_parameter_it_came_in() -> None:
    with pytest.raises(InvalidInputError, match="^valid_at: 'soon' is not allowed"):
        parse_datestr("soon", now=NOW, zone=PHOENIX, field="valid_at")


def test_the_module_is_pure() -> None:
    assert (
        loaded_by_importing(["obslab.configs.datestr"], ("sqlalchemy", "panel", "bokeh", "obslab.db", "obslab.models"))
        == ""
    )
