"""The ERFA night geometry against astropy's full computation (get_sun, get_body, AltAz), over 2026 at four sites."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import pytest

from obslab.astro import earth_location, unit_vectors
from obslab.scheduling.ephemeris import Observer, apparent_places, local_sidereal_time, sun_and_moon
from obslab.scheduling.night import MOON_HORIZON_DEG, SUN_ALTITUDE_DEG, night_geometry, night_window, ut1_minus_utc
from obslab.settings import Site
from tests.unit.test_night import SITES

#: obslab needs the Sun's altitude to 0.01 deg and the Moon's place to 0.05 deg; the ERFA path agrees with
#: astropy to about 0.5 arcsec (polar motion, left out).  Five arcsec still fails if aberration (20 arcsec)
#: or the Sun's parallax (9 arcsec) went missing.
ARCSEC = 1 / 3600
TOLERANCE_DEG = 5 * ARCSEC
#: Twilights and moon rise and set within this of the moment astropy's Sun or Moon crosses the altitude.
EVENT_TOLERANCE_S = 30.0
#: Every 15th night of 2026; the events test takes the nights a week later, so between them every week is seen.
NIGHTS_2026 = [date(2026, 1, 1) + timedelta(days=k) for k in range(0, 365, 15)]
#: At Tromsø the Sun dips 0.002 deg below -18 deg for six minutes: linear interpolation missed it by a minute.
GRAZING = date(2026, 9, 16)


@pytest.fixture(autouse=True)
def no_internet() -> Any:
    """Everything here must work on a closed network: astropy may not fetch anything."""
    from astropy.utils.data import conf

    with conf.set_temp("allow_internet", False):
        yield


def astropy_altitudes(site: Site, seconds: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """astropy's Sun and Moon altitudes (deg, no refraction) and the Moon's topocentric GCRS direction."""
    from astropy.coordinates import AltAz, get_body, get_sun
    from astropy.time import Time

    times = Time(seconds, format="unix", scale="utc")
    location = earth_location(site)
    frame = AltAz(obstime=times, location=location)
    moon = get_body("moon", times, location)
    return (
        get_sun(times).transform_to(frame).alt.deg,
        moon.transform_to(frame).alt.deg,
        unit_vectors(moon.ra.rad, moon.dec.rad),
    )


def hourly(site: Site, nights: list[date]) -> list[np.ndarray]:
    """Each night's local noon to noon, every hour, as UNIX seconds."""
    spans = (night_window(site, night) for night in nights)
    return [np.arange(start.timestamp(), end.timestamp() + 1, 3600.0) for start, end in spans]


@pytest.mark.parametrize("name", list(SITES))
def test_sun_and_moon_agree_with_astropy_through_2026(name: str) -> None:
    from astroplan import moon_illumination
    from astropy.time import Time

    site = SITES[name]
    observer = Observer.geodetic(site.longitude_deg, site.latitude_deg, site.height_m)
    nights = hourly(site, NIGHTS_2026)
    ours = [sun_and_moon(observer, seconds, ut1_minus_utc(seconds)) for seconds in nights]  # one call a night
    seconds = np.concatenate(nights)
    sun, moon, moon_unit = astropy_altitudes(site, seconds)

    sun_error = np.abs(np.concatenate([o.sun_altitude_deg for o in ours]) - sun)
    moon_error = np.abs(np.concatenate([o.moon_altitude_deg for o in ours]) - moon)
    cosines = np.einsum("ij,ij->j", np.concatenate([o.moon_unit for o in ours], axis=1), moon_unit)
    moon_offset = np.degrees(np.arccos(np.clip(cosines, -1.0, 1.0)))
    assert sun_error.max() < TOLERANCE_DEG, sun_error.max() / ARCSEC
    assert moon_error.max() < TOLERANCE_DEG, moon_error.max() / ARCSEC
    assert moon_offset.max() < TOLERANCE_DEG, moon_offset.max() / ARCSEC
    lit = moon_illumination(Time(seconds[::6], format="unix", scale="utc"))  # every sixth hour: astroplan is slow
    assert np.abs(np.concatenate([o.moon_illumination for o in ours])[::6] - lit).max() < 1e-4


@pytest.mark.parametrize("name", list(SITES))
def test_twilights_and_moon_rise_and_set_within_30_s_of_astropy(name: str) -> None:
    """astropy's altitude 30 s before and after each event lies either side of the event's altitude."""
    site = SITES[name]
    events: list[tuple[str, Any, float]] = []
    for night in [*(night + timedelta(days=7) for night in NIGHTS_2026), GRAZING]:
        geometry = night_geometry(site, night)
        for level, darkness in geometry.darkness.items():
            events += [("sun", moment, SUN_ALTITUDE_DEG[level]) for moment in (darkness.start, darkness.end) if moment]
        events += [("moon", moment, MOON_HORIZON_DEG) for moment in (geometry.moon_rise, geometry.moon_set) if moment]
    moments = np.array([moment.timestamp() for _body, moment, _limit in events])
    limits = np.array([limit for _body, _moment, limit in events])
    is_sun = np.array([body == "sun" for body, _moment, _limit in events])
    sun, moon, _unit = astropy_altitudes(
        site, np.concatenate([moments - EVENT_TOLERANCE_S, moments + EVENT_TOLERANCE_S])
    )
    altitude = np.where(np.concatenate([is_sun, is_sun]), sun, moon).reshape(2, -1)
    straddles = (altitude[0] - limits) * (altitude[1] - limits) < 0
    assert len(events) > 50
    assert straddles.all(), [events[i] for i in np.flatnonzero(~straddles)]


@pytest.mark.parametrize("name", list(SITES))
def test_sidereal_time_and_apparent_places_agree_with_astropy(name: str) -> None:
    import astropy.units as u
    from astropy.coordinates import TETE, SkyCoord
    from astropy.time import Time

    site = SITES[name]
    start, end = night_window(site, date(2026, 11, 21))
    seconds = np.arange(start.timestamp(), end.timestamp(), 60.0)
    times = Time(seconds, format="unix", scale="utc")
    last = local_sidereal_time(np.radians(site.longitude_deg), seconds, ut1_minus_utc(seconds))
    expected = times.sidereal_time("apparent", longitude=site.longitude_deg * u.deg).rad
    assert np.abs(np.angle(np.exp(1j * (last - expected)))).max() < np.radians(0.01 * ARCSEC)

    rng = np.random.default_rng(14)
    ra, dec = rng.uniform(0, 360, 200), np.degrees(np.arcsin(rng.uniform(-1, 1, 200)))
    ra_app, dec_app = apparent_places(np.radians(ra), np.radians(dec), seconds[len(seconds) // 2])
    tete = SkyCoord(ra=ra * u.deg, dec=dec * u.deg).transform_to(TETE(obstime=times[len(seconds) // 2]))
    assert np.abs(np.angle(np.exp(1j * (ra_app - tete.ra.rad)))).max() < np.radians(0.001 * ARCSEC)
    assert np.abs(dec_app - tete.dec.rad).max() < np.radians(0.001 * ARCSEC)
