"""The compact UT1-UTC table: astropy's values exactly, kept between processes, rebuilt when its copy is bad."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from astropy.utils import iers

from obslab import astro

#: Julian dates from 1962 to 2050: before the table, every leap second, its predictions, and past its end.
DATES = 2400000.5 + np.linspace(37000.0, 69800.0, 131_201)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    astro.ut1_utc_table.cache_clear()
    yield tmp_path / "obslab"
    astro.ut1_utc_table.cache_clear()


def test_the_compact_table_gives_astropys_values_exactly(cache: Path) -> None:
    full = iers.earth_orientation_table.get().ut1_utc(DATES, 0.0, return_status=True)[0]
    compact = astro.ut1_utc_table().ut1_utc(DATES, 0.0, return_status=True)[0]
    assert np.array_equal(compact.to_value("s"), full.to_value("s"))
    steps = np.abs(np.diff(full.to_value("s")))
    assert (steps > 0.5).sum() >= 20  # the dates do cross the leap seconds, where interpolation must not smear


def test_a_later_process_reads_the_kept_copy_without_parsing(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = astro.ut1_utc_table().ut1_utc(DATES, 0.0, return_status=True)[0]
    (kept,) = cache.glob("ut1-utc-*.npz")
    astro.ut1_utc_table.cache_clear()  # as in a new process

    def parse() -> None:
        raise AssertionError("the IERS files were parsed again")

    monkeypatch.setattr(iers.earth_orientation_table, "get", parse)
    again = astro.ut1_utc_table().ut1_utc(DATES, 0.0, return_status=True)[0]
    assert np.array_equal(again.to_value("s"), first.to_value("s"))
    assert list(cache.glob("*")) == [kept]  # no partial file left beside it


def test_a_damaged_copy_is_rebuilt(cache: Path, caplog: pytest.LogCaptureFixture) -> None:
    expected = iers.earth_orientation_table.get().ut1_utc(DATES, 0.0, return_status=True)[0]
    astro.ut1_utc_table()
    (kept,) = cache.glob("ut1-utc-*.npz")
    kept.write_bytes(kept.read_bytes()[:1000])  # cut short, as by a full disk
    astro.ut1_utc_table.cache_clear()
    values = astro.ut1_utc_table().ut1_utc(DATES, 0.0, return_status=True)[0]
    assert np.array_equal(values.to_value("s"), expected.to_value("s"))
    assert "rebuilding the UT1-UTC cache" in caplog.text
    with np.load(kept) as stored:  # whole again
        assert len(stored["mjd"]) == len(stored["ut1_utc"]) > 10_000


def test_a_cache_folder_that_cannot_be_written_only_costs_the_parse(cache: Path) -> None:
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text("a file where the folder should be")
    values = astro.ut1_utc_table().ut1_utc(DATES, 0.0, return_status=True)[0]
    expected = iers.earth_orientation_table.get().ut1_utc(DATES, 0.0, return_status=True)[0]
    assert np.array_equal(values.to_value("s"), expected.to_value("s"))
    assert cache.read_text() == "a file where the folder should be"
