"""One way to show times and numbers: UTC to the minute, local time with its zone, integers without '.0'."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from obslab.formatting import EMPTY, clock, clock_span, number, shown, utc

MOMENT = datetime(2026, 11, 23, 11, 43, 54, 123456, tzinfo=UTC)


def test_times_are_utc_to_the_minute_or_second() -> None:
    assert utc(MOMENT) == "2026-11-23 11:43 UTC"
    assert utc(MOMENT, seconds=True) == "2026-11-23 11:43:54 UTC"
    assert utc(MOMENT.astimezone(timezone(timedelta(hours=-7)))) == "2026-11-23 11:43 UTC"
    assert utc(None) == EMPTY
    with pytest.raises(ValueError, match="naive datetime"):
        utc(MOMENT.replace(tzinfo=None))


def test_clock_times_in_utc_or_local_with_the_zone() -> None:
    assert clock(MOMENT) == "11:43"
    assert clock(MOMENT, ZoneInfo("America/Phoenix")) == "04:43 MST"


def test_clock_spans_name_the_zone_once() -> None:
    later = MOMENT + timedelta(minutes=50)
    assert clock_span(MOMENT, later) == "11:43–12:33 UTC"
    assert clock_span(MOMENT, later, ZoneInfo("America/Phoenix")) == "04:43–05:33 MST"
    # A zone with no abbreviation for the time reads as its offset.
    assert clock_span(MOMENT, later, ZoneInfo("America/Santiago")).endswith(" -03")


@pytest.mark.parametrize(
    ("value", "text"),
    [(4.0, "4"), (60.0, "60"), (2.8, "2.8"), (0.1 + 0.2, "0.3"), (-1.0, "-1"), (7, "7"), (1e20, "1e+20")],
)
def test_numbers_without_stray_floats(value: float, text: str) -> None:
    assert number(value) == text


def test_values_as_people_read_them() -> None:
    assert [shown(v) for v in (None, "", "hetg", 1.0, True, MOMENT, [1.0, 2.5])] == [
        EMPTY,
        EMPTY,
        "hetg",
        "1",
        "yes",
        "2026-11-23 11:43 UTC",
        "1, 2.5",
    ]
