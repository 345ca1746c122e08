"""Night geometry at the site: sunset, sunrise, twilights, moon rise/set, illumination and position; offline, cached."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import numpy as np

from obslab.astro import ut1_utc_table
from obslab.scheduling.ephemeris import UNIX_EPOCH_JD, Observer, sun_and_moon
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
#: minutes that crossings (found on a cubic) come out within a second, at a fifth of the cost of every minute.
SAMPLE = timedelta(minutes=5)


@dataclass(frozen=True, eq=False)
class Ephemeris:
    """Sun and Moon through the night at ``SAMPLE`` steps, for interpolation (times as UNIX seconds)."""

    seconds: np.ndarray
    sun_altitude_deg: np.ndarray
    moon_altitude_deg: np.ndarray
    moon_unit: np.ndarray  # (3, samples): the Moon's direction seen from the site (topocentric GCRS)
    moon_illumination: np.ndarray
    ut1_utc_s: np.ndarray  # UT1-UTC from the IERS table astropy ships, for sidereal time on finer grids

    def at(self, moments: list[datetime] | np.ndarray, values: np.ndarray) -> np.ndarray:
        """``values`` (one per sample, or rows of them) interpolated linearly to ``moments`` (or UNIX seconds)."""
        stamps = moments if isinstance(moments, np.ndarray) else np.array([moment.timestamp() for moment in moments])
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

    Sun and Moon from ERFA (obslab.scheduling.ephemeris) every ``SAMPLE``, in one vectorised call; cached per night.
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
    seconds = np.array([moment.timestamp() for moment in samples])
    ut1_utc = ut1_minus_utc(seconds)
    found = sun_and_moon(_observer(site), seconds, ut1_utc)
    return Ephemeris(
        seconds=seconds,
        sun_altitude_deg=found.sun_altitude_deg,
        moon_altitude_deg=found.moon_altitude_deg,
        moon_unit=found.moon_unit,
        moon_illumination=found.moon_illumination,
        ut1_utc_s=ut1_utc,
    )


@functools.lru_cache(maxsize=16)
def _observer(site: Site) -> Observer:
    return Observer.geodetic(site.longitude_deg, site.latitude_deg, site.height_m)


def ut1_minus_utc(seconds: np.ndarray) -> np.ndarray:
    """UT1-UTC (seconds) at UNIX moments, as astropy's Time gives it from the IERS tables it ships (never downloaded).

    Past the table's end its last prediction holds, as in astropy (UT1-UTC stays under 0.9 s: 14 arcsec of
    rotation at most).
    """
    value, _status = ut1_utc_table().ut1_utc(UNIX_EPOCH_JD + seconds / 86400.0, 0.0, return_status=True)
    return np.asarray(value.to_value("s"), dtype=float)


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
    """Moments ``values`` crosses ``limit`` (upwards when ``rising``), on a cubic through the four nearest samples."""
    above = values >= limit
    edges = np.flatnonzero(above[1:] & ~above[:-1]) if rising else np.flatnonzero(~above[1:] & above[:-1])
    moments = []
    for index in edges:
        i = int(index)
        fraction = (
            _root(values[i - 1 : i + 3] - limit) if 0 < i < len(values) - 2 else _linear_root(values[i : i + 2] - limit)
        )
        moments.append(samples[i] + fraction * (samples[i + 1] - samples[i]))
    return moments


def _linear_root(pair: np.ndarray) -> float:
    a, b = float(pair[0]), float(pair[1])
    return -a / (b - a) if b != a else 0.0


def _root(four: np.ndarray) -> float:
    """Where the cubic through values at -1, 0, 1, 2 crosses zero between 0 and 1 (the signs differ there).

    Linear interpolation misses by up to a minute where the Sun only grazes a twilight altitude (its altitude
    curves by 0.001 deg over five minutes and rises 0.00002 deg a second there); the cubic's error is 1e-7 deg.
    """
    y0, y1, y2, y3 = (float(v) for v in four)

    def cubic(x: float) -> float:  # Lagrange through (-1, y0), (0, y1), (1, y2), (2, y3)
        return (
            -x * (x - 1) * (x - 2) / 6 * y0
            + (x + 1) * (x - 1) * (x - 2) / 2 * y1
            - (x + 1) * x * (x - 2) / 2 * y2
            + (x + 1) * x * (x - 1) / 6 * y3
        )

    lo, hi = 0.0, 1.0  # bisection: cubic(0) = y1 and cubic(1) = y2 straddle zero, so a root is always found
    for _ in range(24):  # five minutes / 2**24: well under a millisecond
        middle = (lo + hi) / 2
        if (cubic(middle) < 0) == (y1 < 0):
            lo = middle
        else:
            hi = middle
    return (lo + hi) / 2


def night_of(site: Site, moment: datetime) -> date:
    """The night to re-plan at ``moment``: the one under way, or the coming one once the Sun is up."""
    night = (moment.astimezone(site.zone) - timedelta(hours=12)).date()
    sunrise = night_geometry(site, night).sunrise
    if sunrise is not None and moment >= sunrise:
        night += timedelta(days=1)
    return night
