"""Night geometry against astroplan, offline: north, south and far north, on several dates, to within a minute."""

from __future__ import annotations

import warnings
from datetime import UTC, date, datetime
from typing import Any

import pytest

from obslab.astro import earth_location
from obslab.scheduling.night import night_geometry
from obslab.scheduling.types import TwilightLevel
from obslab.settings import Site
from tests.helpers.astroplan_oracle import SUN_ALTITUDE_DEG
from tests.helpers.support import KITT_PEAK

PARANAL = Site(
    name="Paranal", latitude_deg=-24.6272, longitude_deg=-70.4042, height_m=2635.0, timezone="America/Santiago"
)
TROMSO = Site(name="Tromsø", latitude_deg=69.6496, longitude_deg=18.9560, height_m=100.0, timezone="Europe/Oslo")
EDINBURGH = Site(
    name="Edinburgh", latitude_deg=55.9228, longitude_deg=-3.1875, height_m=146.0, timezone="Europe/London"
)
SITES = {"kitt_peak": KITT_PEAK, "paranal": PARANAL, "tromso": TROMSO, "edinburgh": EDINBURGH}
DATES = [date(2026, 3, 20), date(2026, 6, 21), date(2026, 9, 22), date(2026, 12, 21)]
TOLERANCE_S = 60.0


@pytest.fixture(autouse=True)
def no_internet() -> Any:
    """Everything here must work on a closed network: astropy may not fetch anything."""
    from astropy.utils.data import conf

    with conf.set_temp("allow_internet", False):
        yield


def astroplan_times(site: Site, night: date) -> dict[str, Any]:
    """astroplan's answers for the same night (its never-up/always-up warnings are the answers here, not noise)."""
    import astropy.units as u
    from astroplan import Observer, moon_illumination

    from obslab.scheduling.night import astropy_times, night_window

    observer = Observer(location=earth_location(site))
    start, end = night_window(site, night)
    noon = astropy_times([start])[0]
    answers: dict[str, Any] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for level, altitude in SUN_ALTITUDE_DEG.items():
            answers[f"{level.value}_start"] = _moment(
                observer.sun_set_time(noon, which="next", horizon=altitude * u.deg)
            )
            answers[f"{level.value}_end"] = _moment(
                observer.sun_rise_time(noon, which="next", horizon=altitude * u.deg)
            )
        answers["moon_rise"] = _moment(observer.moon_rise_time(noon, which="next", horizon=0 * u.deg))
        answers["moon_set"] = _moment(observer.moon_set_time(noon, which="next", horizon=0 * u.deg))
        geometry = night_geometry(site, night)
        answers["moon_illumination"] = float(moon_illumination(astropy_times([geometry.midnight])[0]))
    answers["end"] = end
    return answers


def _moment(value: Any) -> datetime | None:
    if getattr(value, "mask", False) or value.jd != value.jd:  # masked or NaN: no such event
        return None
    return value.to_datetime(timezone=UTC)


def close(ours: datetime | None, theirs: datetime | None) -> bool:
    if ours is None or theirs is None:
        return ours is theirs
    return abs((ours - theirs).total_seconds()) <= TOLERANCE_S


@pytest.mark.parametrize("night", DATES, ids=[d.isoformat() for d in DATES])
@pytest.mark.parametrize("name", list(SITES))
def test_sun_and_moon_events_agree_with_astroplan_within_a_minute(name: str, night: date) -> None:
    site = SITES[name]
    ours = night_geometry(site, night)
    theirs = astroplan_times(site, night)
    for level in TwilightLevel:
        darkness = ours.darkness[level]
        start, end = theirs[f"{level.value}_start"], theirs[f"{level.value}_end"]
        # astroplan looks for the next event after noon, wherever it falls; ours are events of this night only.
        start = start if start is not None and start < theirs["end"] else None
        end = end if end is not None and end < theirs["end"] else None
        assert close(darkness.start, start), (level, darkness, start)
        assert close(darkness.end, end), (level, darkness, end)
        if darkness.never:
            assert start is None and end is None and ours.dark(level) is None
    for event in ("moon_rise", "moon_set"):
        expected = theirs[event] if theirs[event] is not None and theirs[event] < theirs["end"] else None
        assert close(getattr(ours, event), expected), (event, getattr(ours, event), expected)
    assert ours.moon_illumination == pytest.approx(theirs["moon_illumination"], abs=0.01)


def test_a_summer_night_without_astronomical_darkness_says_so() -> None:
    summer = night_geometry(EDINBURGH, date(2026, 6, 21))
    assert summer.sunset is not None and summer.sunrise is not None
    assert summer.dark(TwilightLevel.CIVIL) is not None
    assert summer.dark(TwilightLevel.ASTRONOMICAL) is None and summer.darkness[TwilightLevel.ASTRONOMICAL].never
    assert "no astronomical darkness tonight" in " ".join(summer.notes)


def test_midnight_sun_and_polar_night_far_north() -> None:
    midnight_sun = night_geometry(TROMSO, date(2026, 6, 21))
    assert midnight_sun.sunset is None and midnight_sun.dark(TwilightLevel.SUNSET) is None
    assert "no night after sunset tonight" in " ".join(midnight_sun.notes)
    polar = night_geometry(TROMSO, date(2026, 12, 21))
    assert polar.darkness[TwilightLevel.SUNSET].always and polar.dark(TwilightLevel.SUNSET) == (polar.start, polar.end)
    assert polar.dark(TwilightLevel.ASTRONOMICAL) is not None  # dark enough for part of the "day" too


def test_a_night_is_local_noon_to_noon_and_cached() -> None:
    first = night_geometry(KITT_PEAK, date(2026, 11, 21))
    assert first is night_geometry(KITT_PEAK, date(2026, 11, 21))
    assert (first.start.hour, first.end.hour) == (19, 19)  # Arizona keeps UTC-7 all year
    assert (
        first.start
        < first.sunset
        < first.dark("astronomical")[0]
        < first.midnight
        < first.dark("astronomical")[1]
        < first.sunrise
    )
    # Across a clock change the night is 25 hours long, and still noon to noon in local time.
    autumn = night_geometry(EDINBURGH, date(2026, 10, 24))
    assert (autumn.end - autumn.start).total_seconds() == 25 * 3600
