"""Night geometry at the site: sunset, sunrise, twilights, moon rise/set, illumination and position; offline, cached."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import numpy as np

from obslab.astro import earth_location, unit_vectors
from obslab.scheduling.types import TwilightLevel
from obslab.settings import Site

#: The Sun's altitude (degrees) at each darkness level; sunset counts refraction and the Sun's radius.
SUN_ALTITUDE_DEG = {
    TwilightLevel.SUNSET: -0.833,
    TwilightLevel.CIVIL: -6.0,
    TwilightLevel.NAUTICAL: -12.0,
    TwilightLevel.ASTRONOMICAL: -18.0,
}
#: The Moon rises and sets when its centre crosses the geometric horizon (astroplan's convention).
MOON_HORIZON_DEG = 0.0
#: The planning grid's step.
STEP = timedelta(minutes=1)
#: Sun and Moon are computed every five minutes and interpolated: altitudes curve so little over five
#: minutes that crossings come out within seconds, at a fifth of the cost of computing every minute.
SAMPLE = timedelta(minutes=5)


@dataclass(frozen=True, eq=False)
class Ephemeris:
    """Sun and Moon through the night at ``SAMPLE`` steps, for interpolation (times as UNIX seconds)."""

    seconds: np.ndarray
    sun_altitude_deg: np.ndarray
    moon_altitude_deg: np.ndarray
    moon_unit: np.ndarray  # (3, samples): the Moon's direction seen from the site (topocentric GCRS)
    moon_illumination: np.ndarray

    def at(self, moments: list[datetime], values: np.ndarray) -> np.ndarray:
        """``values`` (one per sample, or rows of them) interpolated linearly to ``moments``."""
        stamps = np.array([moment.timestamp() for moment in moments])
        if values.ndim == 1:
            return np.interp(stamps, self.seconds, values)
        return np.array([np.interp(stamps, self.seconds, row) for row in values])


@dataclass(frozen=True)
class Darkness:
    """When the Sun is below one level's altitude: ``start`` in the evening, ``end`` in the morning.

    Either is None when the Sun does not cross that altitude during the night; ``always`` says the
    Sun stayed below it the whole time (polar night), ``never`` that it never got that low.
    """

    level: TwilightLevel
    start: datetime | None
    end: datetime | None
    always: bool = False
    never: bool = False

    def interval(self, night_start: datetime, night_end: datetime) -> tuple[datetime, datetime] | None:
        """The dark stretch within the night (noon to noon), or None when it never gets this dark."""
        if self.never:
            return None
        return (self.start or night_start, self.end or night_end)


@dataclass(frozen=True)
class NightGeometry:
    """The Sun and Moon over one night at the site: the night of local date ``night``, noon to noon."""

    night: date
    site: Site
    start: datetime  # local noon of ``night``, in UTC
    end: datetime  # local noon of the next day, in UTC
    darkness: dict[TwilightLevel, Darkness]
    moon_rise: datetime | None
    moon_set: datetime | None
    moon_illumination: float  # 0 new to 1 full, at local midnight
    moon_ra_deg: float  # apparent place at local midnight, seen from the site
    moon_dec_deg: float
    midnight: datetime
    notes: tuple[str, ...]
    ephemeris: Ephemeris

    @property
    def sunset(self) -> datetime | None:
        return self.darkness[TwilightLevel.SUNSET].start

    @property
    def sunrise(self) -> datetime | None:
        return self.darkness[TwilightLevel.SUNSET].end

    def dark(self, level: TwilightLevel | str) -> tuple[datetime, datetime] | None:
        """When the sky is at least as dark as ``level``; None when it never is tonight (say so, don't guess)."""
        return self.darkness[TwilightLevel(level)].interval(self.start, self.end)


def night_window(site: Site, night: date) -> tuple[datetime, datetime]:
    """Local noon of ``night`` to local noon of the next day, in UTC (23 or 25 hours across a clock change)."""
    start = datetime.combine(night, time(12), tzinfo=site.zone).astimezone(UTC)
    end = datetime.combine(night + timedelta(days=1), time(12), tzinfo=site.zone).astimezone(UTC)
    return start, end


def astropy_times(moments: list[datetime]):  # noqa: ANN201 - astropy is imported lazily
    """UTC datetimes as one astropy Time array."""
    from astropy.time import Time

    return Time([moment.astimezone(UTC).replace(tzinfo=None) for moment in moments], scale="utc")


@functools.lru_cache(maxsize=64)
def night_geometry(site: Site, night: date) -> NightGeometry:
    """The night of local date ``night`` at ``site``.

    One vectorised transform each for Sun and Moon, cached per night.
    """
    start, end = night_window(site, night)
    samples = [start + k * SAMPLE for k in range(int((end - start) / SAMPLE) + 2)]  # one past the end
    ephemeris = _ephemeris(site, samples)
    notes = []
    darkness = {}
    for level, altitude in SUN_ALTITUDE_DEG.items():
        darkness[level] = _darkness(level, samples, ephemeris.sun_altitude_deg, altitude, end)
        if darkness[level].never:
            notes.append(f"the Sun stays above {altitude:g} deg all night: no {_dark_word(level)} tonight")
        elif darkness[level].always:
            notes.append(f"the Sun stays below {altitude:g} deg all day and night: {_dark_word(level)} throughout")
    moon_altitude = ephemeris.moon_altitude_deg
    rises = [moment for moment in _crossings(samples, moon_altitude, MOON_HORIZON_DEG, rising=True) if moment <= end]
    sets = [moment for moment in _crossings(samples, moon_altitude, MOON_HORIZON_DEG, rising=False) if moment <= end]
    if not rises and not sets:
        notes.append("the Moon " + ("stays up" if moon_altitude[0] > MOON_HORIZON_DEG else "stays down") + " all night")
    midnight = datetime.combine(night + timedelta(days=1), time(0), tzinfo=site.zone).astimezone(UTC)
    x, y, z = ephemeris.at([midnight], ephemeris.moon_unit)[:, 0]
    moon_ra, moon_dec = float(np.degrees(np.arctan2(y, x)) % 360), float(np.degrees(np.arctan2(z, np.hypot(x, y))))
    return NightGeometry(
        night=night,
        site=site,
        start=start,
        end=end,
        darkness=darkness,
        moon_rise=rises[0] if rises else None,
        moon_set=sets[0] if sets else None,
        moon_illumination=float(ephemeris.at([midnight], ephemeris.moon_illumination)[0]),
        moon_ra_deg=moon_ra,
        moon_dec_deg=moon_dec,
        midnight=midnight,
        notes=tuple(notes),
        ephemeris=ephemeris,
    )


def _ephemeris(site: Site, samples: list[datetime]) -> Ephemeris:
    from astropy.coordinates import AltAz, get_body, get_sun

    times = astropy_times(samples)
    location = earth_location(site)
    frame = AltAz(obstime=times, location=location)
    sun = get_sun(times)
    moon = get_body("moon", times, location)
    geocentric_moon = get_body("moon", times)
    return Ephemeris(
        seconds=np.array([moment.timestamp() for moment in samples]),
        sun_altitude_deg=sun.transform_to(frame).alt.deg,
        moon_altitude_deg=moon.transform_to(frame).alt.deg,
        moon_unit=unit_vectors(moon.ra.rad, moon.dec.rad),
        moon_illumination=_illumination(sun, geocentric_moon),
    )


def _illumination(sun, moon) -> np.ndarray:  # noqa: ANN001 - astropy coordinates
    elongation = sun.separation(moon).rad
    phase_angle = np.arctan2(
        sun.distance.au * np.sin(elongation), moon.distance.au - sun.distance.au * np.cos(elongation)
    )
    return (1 + np.cos(phase_angle)) / 2


def _dark_word(level: TwilightLevel) -> str:
    return "night after sunset" if level is TwilightLevel.SUNSET else f"{level.value} darkness"


def _darkness(
    level: TwilightLevel, samples: list[datetime], altitude: np.ndarray, limit: float, end: datetime
) -> Darkness:
    inside = np.array([moment <= end for moment in samples])  # the last sample lies past the night, for interpolation
    below = altitude < limit
    if not below[inside].any():
        return Darkness(level, None, None, never=True)
    if below[inside].all():
        return Darkness(level, None, None, always=True)
    evening = [moment for moment in _crossings(samples, altitude, limit, rising=False) if moment <= end]
    morning = [moment for moment in _crossings(samples, altitude, limit, rising=True) if moment <= end]
    dark = np.flatnonzero(below & inside)
    first_dark, last_dark = samples[int(dark[0])], samples[int(dark[-1])]
    start = next((moment for moment in evening if moment <= first_dark), None)
    end_of_dark = next((moment for moment in reversed(morning) if moment >= last_dark), None)
    return Darkness(level, start, end_of_dark)


def _crossings(samples: list[datetime], values: np.ndarray, limit: float, *, rising: bool) -> list[datetime]:
    """Moments ``values`` crosses ``limit`` (upwards when ``rising``), interpolated linearly between samples."""
    above = values >= limit
    edges = np.flatnonzero(above[1:] & ~above[:-1]) if rising else np.flatnonzero(~above[1:] & above[:-1])
    moments = []
    for index in edges:
        a, b = float(values[index]), float(values[index + 1])
        fraction = (limit - a) / (b - a) if b != a else 0.0
        moments.append(samples[int(index)] + fraction * (samples[int(index) + 1] - samples[int(index)]))
    return moments


def night_of(site: Site, moment: datetime) -> date:
    """The night to re-plan at ``moment``: the one under way, or the coming one once the Sun is up."""
    night = (moment.astimezone(site.zone) - timedelta(hours=12)).date()
    sunrise = night_geometry(site, night).sunrise
    if sunrise is not None and moment >= sunrise:
        night += timedelta(days=1)
    return night
