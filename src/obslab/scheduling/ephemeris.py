"""Sun, Moon and sidereal time seen from a site, from ERFA's vectorised routines (pure: numpy and erfa only)."""

from __future__ import annotations

from dataclasses import dataclass

import erfa
import numpy as np

UNIX_EPOCH_JD = 2440587.5
#: Light speed in au per day, for light time and aberration (ERFA's own constants).
C_AU_PER_DAY = erfa.CMPS * erfa.DAYSEC / erfa.DAU
#: The Earth's rotation rate (rad/s, IERS conventions), for the site's velocity (diurnal aberration).
EARTH_ROTATION_RAD_S = 7.292115e-5


@dataclass(frozen=True, eq=False)
class Observer:
    """Where the observer stands: geodetic longitude and latitude (radians), and the position on the Earth (au)."""

    longitude: float
    latitude: float
    itrs_au: np.ndarray  # (3,): terrestrial position

    @classmethod
    def geodetic(cls, longitude_deg: float, latitude_deg: float, height_m: float) -> Observer:
        # erfa.gd2gc on the WGS84 ellipsoid (1), as astropy's EarthLocation.from_geodetic.
        lon, lat = np.radians(longitude_deg), np.radians(latitude_deg)
        return cls(float(lon), float(lat), erfa.gd2gc(1, lon, lat, height_m) / erfa.DAU)

    @property
    def zenith(self) -> np.ndarray:
        """The local vertical in terrestrial axes: the ellipsoid's normal, as ERFA's apio/atioq and astropy's AltAz."""
        return np.array(
            [
                np.cos(self.latitude) * np.cos(self.longitude),
                np.cos(self.latitude) * np.sin(self.longitude),
                np.sin(self.latitude),
            ]
        )


@dataclass(frozen=True, eq=False)
class SunAndMoon:
    """Per moment: altitudes (degrees, no refraction), the Moon's direction from the site, its lit fraction."""

    sun_altitude_deg: np.ndarray
    moon_altitude_deg: np.ndarray
    moon_unit: np.ndarray  # (3, moments): apparent direction from the site, GCRS axes (topocentric GCRS)
    moon_illumination: np.ndarray


def julian_dates(unix_s: np.ndarray, ut1_utc_s: np.ndarray) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """Two-part TT and UT1 Julian dates of UTC moments (UNIX seconds), given UT1-UTC (seconds) at each."""
    days = np.floor(unix_s / erfa.DAYSEC)
    utc = (UNIX_EPOCH_JD + days, (unix_s - days * erfa.DAYSEC) / erfa.DAYSEC)
    # erfa.utctai applies the leap seconds (erfa.dat); TT is TAI + 32.184 s; UT1 comes from the IERS offset.
    tt = erfa.taitt(*erfa.utctai(*utc))
    ut1 = erfa.utcut1(*utc, ut1_utc_s)
    return tt, ut1


def sun_and_moon(site: Observer, unix_s: np.ndarray, ut1_utc_s: np.ndarray) -> SunAndMoon:
    """The Sun and Moon from ``site`` at UTC moments (UNIX seconds) spanning one night, vectorised."""
    tt, ut1 = julian_dates(unix_s, ut1_utc_s)
    earth_helio, earth_bary_v = _earth(tt)
    # One celestial-to-intermediate matrix (erfa.c2i06a: frame bias, precession, nutation) for the whole span:
    # the pole moves under 0.2 arcsec in a day.  The Earth's rotation (erfa.era00, from UT1) is per moment;
    # polar motion (under 0.5 arcsec) is left out.
    middle = len(unix_s) // 2
    c2t = erfa.c2tcio(erfa.c2i06a(tt[0][middle], tt[1][middle]), erfa.era00(*ut1), np.eye(3))  # (n, 3, 3)
    t2c = np.swapaxes(c2t, -1, -2)
    site_p = t2c @ site.itrs_au
    spin = np.cross([0.0, 0.0, EARTH_ROTATION_RAD_S * erfa.DAYSEC], site.itrs_au)
    observer_v = (earth_bary_v + t2c @ spin) / C_AU_PER_DAY  # barycentric, in units of c: drives aberration

    # The Sun: the Earth's heliocentric position reversed (the Sun's own motion during the 8-minute light time
    # moves it by 0.01 arcsec), from the site, with aberration (erfa.ab, about 20 arcsec).
    sun = -earth_helio - site_p
    sun_apparent = _aberrated(sun, observer_v)

    # The Moon (erfa.moon98: geocentric, GCRS axes, 3 arcsec RMS against ELP/MPP02; astropy's get_body uses the
    # same), from the site, back-dated by the light time (1.3 s) in the barycentric frame as get_body does,
    # then aberration with the site's velocity.
    moon_pv = erfa.moon98(*tt)
    moon_geo, moon_v = moon_pv["p"], moon_pv["v"]
    moon = moon_geo - site_p
    light_time = np.linalg.norm(moon, axis=-1, keepdims=True) / C_AU_PER_DAY
    moon = moon - (moon_v + earth_bary_v) * light_time
    moon_apparent = _aberrated(moon, observer_v)

    zenith = site.zenith
    return SunAndMoon(
        sun_altitude_deg=_altitude_deg(c2t, sun_apparent, zenith),
        moon_altitude_deg=_altitude_deg(c2t, moon_apparent, zenith),
        moon_unit=moon_apparent.T.copy(),
        moon_illumination=_illumination(-earth_helio, moon_geo),
    )


def _earth(tt: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The Earth's heliocentric position (au) and barycentric velocity (au/day) at each TT date.

    erfa.epv00 costs about 50 microseconds a call, so it is called at the first and last moment only and
    the position is interpolated by a cubic Hermite from the positions and velocities there: over a day
    that is exact to about 0.1 km (the orbit's fourth derivative), 1e-9 arcsec in the Sun's direction.
    The velocity, which only drives aberration, bends by under 1 m/s a day: linear interpolation suffices.
    """
    ends = [0, len(tt[0]) - 1]
    helio, bary = erfa.epv00(tt[0][ends], tt[1][ends])
    span = (tt[0][-1] - tt[0][0]) + (tt[1][-1] - tt[1][0])
    x = ((tt[0] - tt[0][0]) + (tt[1] - tt[1][0])) / span if span else np.zeros(len(tt[0]))
    x = x[:, None]
    p0, p1, v0, v1 = helio["p"][0], helio["p"][1], helio["v"][0] * span, helio["v"][1] * span
    position = (
        (2 * x**3 - 3 * x**2 + 1) * p0 + (x**3 - 2 * x**2 + x) * v0 + (-2 * x**3 + 3 * x**2) * p1 + (x**3 - x**2) * v1
    )
    velocity = (1 - x) * bary["v"][0] + x * bary["v"][1]
    return position, velocity


def _aberrated(vectors: np.ndarray, observer_v: np.ndarray) -> np.ndarray:
    """Unit directions (n, 3) after aberration for an observer moving at ``observer_v`` (units of c)."""
    distance = np.linalg.norm(vectors, axis=-1)
    lorentz = np.sqrt(1.0 - np.einsum("ij,ij->i", observer_v, observer_v))
    # erfa.ab's third argument is the Sun-observer distance, for a sub-microarcsecond term: 1 au will do.
    return erfa.ab(vectors / distance[:, None], observer_v, 1.0, lorentz)


def _altitude_deg(c2t: np.ndarray, units: np.ndarray, zenith: np.ndarray) -> np.ndarray:
    """Geometric altitude (no refraction) of GCRS directions, through the terrestrial frame to the local vertical."""
    terrestrial = np.einsum("nij,nj->ni", c2t, units)
    return np.degrees(np.arcsin(np.clip(terrestrial @ zenith, -1.0, 1.0)))


def _illumination(sun: np.ndarray, moon: np.ndarray) -> np.ndarray:
    """The Moon's lit fraction from geocentric Sun and Moon vectors, by the phase angle (as astroplan)."""
    sun_distance = np.linalg.norm(sun, axis=-1)
    moon_distance = np.linalg.norm(moon, axis=-1)
    cos_elongation = np.einsum("ij,ij->i", sun, moon) / (sun_distance * moon_distance)
    elongation = np.arccos(np.clip(cos_elongation, -1.0, 1.0))
    phase_angle = np.arctan2(sun_distance * np.sin(elongation), moon_distance - sun_distance * np.cos(elongation))
    return (1 + np.cos(phase_angle)) / 2


def local_sidereal_time(longitude: float, unix_s: np.ndarray, ut1_utc_s: np.ndarray) -> np.ndarray:
    """Local apparent sidereal time (radians) at east ``longitude`` (radians), at UTC moments a day apart at most.

    GAST = ERA - EO (erfa.era00 from UT1; erfa.eo06a, the equation of the origins, IAU 2006/2000A): the
    same as erfa.gst06a, which astropy's sidereal_time calls, but EO (precession and nutation in right
    ascension, 0.1 arcsec a day) is evaluated at the ends only and interpolated, not at every moment.
    """
    tt, ut1 = julian_dates(unix_s, ut1_utc_s)
    ends = [0, len(unix_s) - 1]
    eo = erfa.eo06a(tt[0][ends], tt[1][ends])
    span = unix_s[-1] - unix_s[0]
    fraction = (unix_s - unix_s[0]) / span if span else np.zeros(len(unix_s))
    return erfa.anp(erfa.era00(*ut1) - (eo[0] + fraction * (eo[1] - eo[0])) + longitude)


def apparent_places(ra_rad: np.ndarray, dec_rad: np.ndarray, unix_s: float) -> tuple[np.ndarray, np.ndarray]:
    """ICRS places as apparent right ascension and declination (true equator and equinox of date), geocentric.

    erfa.apci13 once (the Earth's position and velocity, precession-nutation) and erfa.atciqz for all
    targets (light deflection, aberration, to CIRS); CIRS to the equinox is a turn by the equation of the
    origins.  This is astropy's ICRS to TETE.  UT1 does not enter, so UT1-UTC is not needed.
    """
    (tt1, tt2), _ut1 = julian_dates(np.array([float(unix_s)]), np.zeros(1))
    astrom, eo = erfa.apci13(tt1[0], tt2[0])
    ri, di = erfa.atciqz(ra_rad, dec_rad, astrom)
    return erfa.anp(ri - eo), di
