"""Where every request may be observed tonight: a minute-by-minute mask per constraint, for all targets at once."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from obslab.astro import unit_vectors
from obslab.scheduling.night import STEP, NightGeometry, astropy_times
from obslab.scheduling.types import TwilightLevel

#: Targets per vectorised chunk: bounds memory at about ten arrays of chunk x minutes.
CHUNK = 4096
#: Limits are applied this much inside what was asked, so a block obslab places passes any other
#: evaluator of the same constraint (astroplan's, at arbitrary times inside the block).
MARGIN_DEG = 0.02
#: The Moon counts as up (and its illumination as mattering) above this altitude (astroplan's convention).
MOON_UP_DEG = 0.0


@dataclass(frozen=True)
class PlanRequest:
    """What the planner needs of one request; times are UTC, angles degrees, durations seconds."""

    id: int | str
    ra_deg: float
    dec_deg: float
    duration_s: float
    overhead_s: float = 0.0
    priority: float = 1.0
    windows: tuple[tuple[datetime, datetime], ...] = ()
    preferred_time: datetime | None = None
    min_altitude_deg: float | None = None
    max_airmass: float | None = None
    twilight: TwilightLevel = TwilightLevel.ASTRONOMICAL
    min_moon_separation_deg: float | None = None
    max_moon_illumination: float | None = None
    hour_angle_min_h: float | None = None
    hour_angle_max_h: float | None = None
    name: str = ""
    target_name: str = ""

    @property
    def label(self) -> str:
        return self.name or str(self.id)

    @property
    def minutes(self) -> int:
        """The block length: duration plus overhead, up to whole minutes."""
        return max(1, math.ceil((self.duration_s + self.overhead_s) / STEP.total_seconds() - 1e-9))

    @property
    def lowest_altitude_deg(self) -> float:
        """The binding altitude limit of the altitude and airmass constraints (0 when neither is set)."""
        limits = [0.0]
        if self.min_altitude_deg is not None:
            limits.append(self.min_altitude_deg)
        if self.max_airmass is not None:
            limits.append(math.degrees(math.asin(1.0 / self.max_airmass)))
        return max(limits)


@dataclass
class Visibility:
    """Per request and minute of the planning grid: which constraints hold (stage by stage, for the reasons)."""

    grid: list[datetime]
    dark_and_window: np.ndarray  # bool (requests, minutes): sky dark enough and inside a time window
    altitude: np.ndarray  # ... and high enough (altitude and airmass)
    hour_angle: np.ndarray  # ... and inside the hour-angle limits
    feasible: np.ndarray  # ... and clear of the Moon: every constraint holds
    best_minute: np.ndarray  # int per request: the feasible minute of highest altitude (-1 when none)
    closest_moon_deg: np.ndarray  # float per request: the Moon's smallest separation while otherwise feasible
    moon_illumination: np.ndarray  # float per minute
    moon_up: np.ndarray  # bool per minute
    twilight: TwilightLevel  # the darkness level the grid covers: the loosest any request accepts

    def index(self, moment: datetime) -> int:
        """The grid minute at or after ``moment`` (len(grid) when past the end)."""
        offset = (moment - self.grid[0]) / STEP
        return min(len(self.grid), max(0, math.ceil(offset - 1e-9)))


def planning_grid(night: NightGeometry, levels: Sequence[TwilightLevel]) -> tuple[list[datetime], TwilightLevel]:
    """Whole minutes covering the darkness of the loosest level any request accepts, and that level."""
    order = list(TwilightLevel)  # sunset, civil, nautical, astronomical: loosest first
    loosest = min(levels, key=order.index) if levels else TwilightLevel.ASTRONOMICAL
    interval = night.dark(loosest)
    if interval is None:
        return [], loosest
    start, end = interval
    start = start.replace(second=0, microsecond=0) + (STEP if start.second or start.microsecond else timedelta(0))
    count = int((end - start) / STEP)
    return [start + k * STEP for k in range(count + 1)], loosest


def compute_visibility(night: NightGeometry, requests: Sequence[PlanRequest]) -> Visibility:
    """Evaluate every constraint of every request on the planning grid, vectorised over targets and minutes."""
    grid, level = planning_grid(night, [r.twilight for r in requests])
    n, t = len(requests), len(grid)
    empty = np.zeros((n, t), dtype=bool)
    if t == 0 or n == 0:
        return Visibility(
            grid, empty, empty, empty, empty, np.full(n, -1), np.full(n, np.inf), np.zeros(t), np.zeros(t, bool), level
        )
    site = night.site
    last, ra_app, dec_app = _apparent(night, requests, grid)
    ra = np.array([r.ra_deg for r in requests])
    dec = np.array([r.dec_deg for r in requests])
    ephemeris = night.ephemeris
    moon_up = ephemeris.at(grid, ephemeris.moon_altitude_deg) > MOON_UP_DEG
    # The Moon as seen from the site (topocentric GCRS), never via ICRS: that is barycentric, and for a body
    # this close the direction would be off by degrees.  Against it, a target's ICRS direction differs only
    # by aberration (20 arcsec), well inside MARGIN_DEG.
    moon_vec = ephemeris.at(grid, ephemeris.moon_unit)
    moon_vec /= np.linalg.norm(moon_vec, axis=0)  # (3, minutes)
    illumination = ephemeris.at(grid, ephemeris.moon_illumination)

    dark = {level: _dark_mask(night, level, grid) for level in TwilightLevel}
    stamps = np.array([moment.timestamp() for moment in grid])
    window = np.array([_window_mask(r.windows, stamps) for r in requests]) if any(r.windows for r in requests) else None
    lat = math.radians(site.latitude_deg)
    min_alt = np.radians(np.array([r.lowest_altitude_deg for r in requests]) + MARGIN_DEG)
    ha_min = np.array([r.hour_angle_min_h if r.hour_angle_min_h is not None else -12.0 for r in requests])
    ha_max = np.array([r.hour_angle_max_h if r.hour_angle_max_h is not None else 12.0 for r in requests])
    sep_min = np.radians(
        np.array(
            [
                r.min_moon_separation_deg + MARGIN_DEG if r.min_moon_separation_deg is not None else -1.0
                for r in requests
            ]
        )
    )
    illum_max = np.array([r.max_moon_illumination if r.max_moon_illumination is not None else np.inf for r in requests])
    target_vec = unit_vectors(np.radians(ra), np.radians(dec))  # (3, requests)

    dark_window, high, in_ha, feasible = (np.zeros((n, t), dtype=bool) for _ in range(4))
    best = np.full(n, -1)
    closest = np.full(n, np.inf)
    levels = np.array([list(TwilightLevel).index(r.twilight) for r in requests])
    dark_rows = np.array([dark[level] for level in TwilightLevel])
    for lo in range(0, n, CHUNK):
        hi = min(n, lo + CHUNK)
        rows = slice(lo, hi)
        stage = dark_rows[levels[rows]]
        if window is not None:
            stage = stage & window[rows]
        dark_window[rows] = stage
        hour_angle = last[None, :] - ra_app[rows, None]
        sin_alt = np.sin(dec_app[rows, None]) * math.sin(lat) + np.cos(dec_app[rows, None]) * math.cos(lat) * np.cos(
            hour_angle
        )
        stage = stage & (sin_alt >= np.sin(min_alt[rows, None]))
        high[rows] = stage
        ha_hours = (np.degrees(hour_angle) / 15.0 + 12.0) % 24.0 - 12.0
        stage = stage & (ha_hours >= ha_min[rows, None]) & (ha_hours <= ha_max[rows, None])
        in_ha[rows] = stage
        cos_sep = np.clip(target_vec[:, rows].T @ moon_vec, -1.0, 1.0)
        separation = np.arccos(cos_sep)
        moon_ok = (separation >= sep_min[rows, None]) & (
            (illumination[None, :] <= illum_max[rows, None]) | ~moon_up[None, :]
        )
        closest[rows] = np.where(stage, np.degrees(separation), np.inf).min(axis=1)
        stage = stage & moon_ok
        feasible[rows] = stage
        scored = np.where(stage, sin_alt, -2.0)
        best[rows] = np.where(stage.any(axis=1), scored.argmax(axis=1), -1)
    return Visibility(grid, dark_window, high, in_ha, feasible, best, closest, illumination, moon_up, level)


def _dark_mask(night: NightGeometry, level: TwilightLevel, grid: list[datetime]) -> np.ndarray:
    interval = night.dark(level)
    if interval is None:
        return np.zeros(len(grid), dtype=bool)
    start, end = interval
    return np.array([start <= moment <= end for moment in grid])


def _window_mask(windows: tuple[tuple[datetime, datetime], ...], stamps: np.ndarray) -> np.ndarray:
    if not windows:
        return np.ones(len(stamps), dtype=bool)
    mask = np.zeros(len(stamps), dtype=bool)
    for start, end in windows:
        mask |= (stamps >= start.timestamp()) & (stamps <= end.timestamp())
    return mask


def _apparent(night: NightGeometry, requests: Sequence[PlanRequest], grid: list[datetime]) -> tuple[np.ndarray, ...]:
    """Apparent sidereal time at each grid moment, and each target's apparent (true equator and equinox of date) place.

    Hour angles from these give altitudes as astropy's AltAz gives them (no refraction), to well under MARGIN_DEG.
    """
    import astropy.units as u
    from astropy.coordinates import TETE, SkyCoord

    times = astropy_times(grid)
    last = times.sidereal_time("apparent", longitude=night.site.longitude_deg * u.deg).rad
    ra = np.array([r.ra_deg for r in requests])
    dec = np.array([r.dec_deg for r in requests])
    apparent = SkyCoord(ra=ra * u.deg, dec=dec * u.deg, frame="icrs").transform_to(TETE(obstime=times[len(grid) // 2]))
    return last, apparent.ra.rad, apparent.dec.rad


def altitude_curves(
    night: NightGeometry,
    requests: Sequence[PlanRequest],
    start: datetime,
    end: datetime,
    step: timedelta = timedelta(minutes=5),
) -> tuple[list[datetime], np.ndarray]:
    """Each request's altitude (degrees) from ``start`` to ``end`` every ``step``.

    For plots, by the planner's own formula.
    """
    grid = [start + k * step for k in range(int((end - start) / step) + 1)]
    if not requests or not grid:
        return grid, np.zeros((len(requests), len(grid)))
    last, ra_app, dec_app = _apparent(night, requests, grid)
    lat = math.radians(night.site.latitude_deg)
    sin_alt = np.sin(dec_app[:, None]) * math.sin(lat) + np.cos(dec_app[:, None]) * math.cos(lat) * np.cos(
        last[None, :] - ra_app[:, None]
    )
    return grid, np.degrees(np.arcsin(np.clip(sin_alt, -1.0, 1.0)))
