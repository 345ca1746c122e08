"""Archiver file names: made and parsed back, objects with underscores, parts, calibration prefixes, bad names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from obslab.observing.naming import BadNameError, make_name, parse_name, strip_suffix
from obslab.observing.types import ExposureKind

START = datetime(2026, 11, 21, 3, 4, 5, 123456, tzinfo=UTC)


@pytest.mark.parametrize(
    ("head", "target", "kind", "program"),
    [
        ("24", "M31", ExposureKind.SCIENCE, "24"),
        ("24.1", "NGC_1234_b", ExposureKind.SCIENCE, "24.1"),  # underscores inside the object
        ("7", "2MASS_J0123+4567_A_B", ExposureKind.SCIENCE, "7"),
        ("dark", "", ExposureKind.DARK, ""),
        ("bias", "", ExposureKind.BIAS, ""),
        ("flat", "dome", ExposureKind.FLAT, ""),
        ("seeing", "", ExposureKind.SEEING, ""),
        ("pointing", "HD_1", ExposureKind.POINTING, ""),
    ],
)
@pytest.mark.parametrize("part", [None, 0, 1, 12])
@pytest.mark.parametrize("suffix", [".fits", ".fits.bz2"])
def test_a_made_name_parses_back(
    head: str, target: str, kind: ExposureKind, program: str, part: int | None, suffix: str
) -> None:
    name = make_name(head, target, "ROBOAO", "sg", START, marker="o", part=part)
    parsed = parse_name(name + suffix)
    assert (parsed.kind, parsed.program, parsed.target) == (kind, program, target)
    assert (parsed.camera, parsed.filter_name, parsed.marker) == ("ROBOAO", "sg", "o")
    assert (parsed.started_at, parsed.part, parsed.night_key) == (START, part, "20261121")
    assert parsed.exposure == make_name(head, target, "ROBOAO", "sg", START)  # the parts share one identity
    assert name.endswith(f"_20261121_030405.123456{'' if part is None else f'_{part}'}")


def test_parts_of_one_observation_are_one_exposure() -> None:
    names = [make_name("24", "M_31", "ROBOAO", "i", START, part=n) + ".fits" for n in range(3)]
    assert {parse_name(name).exposure for name in names} == {"24_M_31_ROBOAO_i_o_20261121_030405.123456"}
    assert [parse_name(name).part for name in names] == [0, 1, 2]
    # A target ending in a number is not a part: only a number after the time is.
    assert parse_name(make_name("24", "Kepler_10", "ROBOAO", "i", START) + ".fits").part is None


def test_make_name_writes_the_start_in_utc_and_a_calibration_prefix_is_read_in_any_case() -> None:
    arizona = timezone(timedelta(hours=-7))
    assert make_name("dark", "", "ROBOAO", "i", START.astimezone(arizona)) == "dark_ROBOAO_i_o_20261121_030405.123456"
    assert parse_name("DARK_ROBOAO_i_o_20261121_030405.123456.fits").kind is ExposureKind.DARK


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("M31_tonight.fits", "is not an archiver name"),
        ("24_M31_ROBOAO_i_o_20261121_030405.fits", "must end in _YYYYMMDD_HHMMSS.ffffff"),
        ("24_M31_ROBOAO_i_o_2026112_030405.123456.fits", "must end in _YYYYMMDD_HHMMSS.ffffff"),
        ("24_M31_ROBOAO_i_o_20261341_030405.123456.fits", "is not a date and time"),
        ("sky_M31_ROBOAO_i_o_20261121_030405.123456.fits", "must start with a program number or one of bias"),
        ("24_ROBOAO_i_o_20261121_030405.123456.fits", "a science name needs an object"),
        ("24_M31_ROBOAO_i_o_20261121_030405.123456.fits.gz", "is not a FITS file"),
    ],
)
def test_bad_names_are_refused_with_the_reason(name: str, reason: str) -> None:
    with pytest.raises(BadNameError, match=reason) as refused:
        parse_name(name)
    assert repr(name) in str(refused.value)


def test_strip_suffix_takes_the_compressed_suffix_whole() -> None:
    assert strip_suffix("a_b.fits.bz2") == "a_b" and strip_suffix("a_b.fits") == "a_b"
