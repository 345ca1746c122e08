"""Where every request may be observed tonight: a minute-by-minute mask per constraint, for all targets at once."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from obslab.astro import unit_vectors
from obslab.scheduling.ephemeris import apparent_places, local_sidereal_time
from obslab.scheduling.night import STEP, NightGeometry
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
    stamps = np.array([moment.timestamp() for moment in grid])
    last, ra_app, dec_app = _apparent(night, requests, stamps)
    ra = np.array([r.ra_deg for r in requests])
    dec = np.array([r.dec_deg for r in requests])
    ephemeris = night.ephemeris
    moon_up = ephemeris.at(stamps, ephemeris.moon_altitude_deg) > MOON_UP_DEG
    # The Moon as seen from the site (topocentric GCRS), never via ICRS: that is barycentric, and for a body
    # this close the direction would be off by degrees.  Against it, a target's ICRS direction differs only
    # by aberration (20 arcsec), well inside MARGIN_DEG.
    moon_vec = ephemeris.at(stamps, ephemeris.moon_unit)
    moon_vec /= np.linalg.norm(moon_vec, axis=0)  # (3, minutes)
    illumination = ephemeris.at(stamps, ephemeris.moon_illumination)

    dark = {level: _dark_mask(night, level, stamps) for level in TwilightLevel}
    window = np.array([_window_mask(r.windows, stamps) for r in requests]) if any(r.windows for r in requests) else None
    lat = math.radians(site.latitude_deg)
    sin_min_alt = np.sin(np.radians(np.array([r.lowest_altitude_deg for r in requests]) + MARGIN_DEG))
    ha_min = np.array([r.hour_angle_min_h if r.hour_angle_min_h is not None else -12.0 for r in requests])
    ha_max = np.array([r.hour_angle_max_h if r.hour_angle_max_h is not None else 12.0 for r in requests])
    ha_limited = np.array([r.hour_angle_min_h is not None or r.hour_angle_max_h is not None for r in requests])
    # Separations are compared as cosines (the cosine falls as the angle grows), so the arc cosine is taken
    # once per request, for the closest approach, not once per request and minute.  No limit: always passes.
    cos_sep_max = np.array(
        [
            math.cos(math.radians(r.min_moon_separation_deg + MARGIN_DEG))
            if r.min_moon_separation_deg is not None
            else 2.0
            for r in requests
        ]
    )
    illum_max = np.array([r.max_moon_illumination if r.max_moon_illumination is not None else np.inf for r in requests])
    target_vec = unit_vectors(np.radians(ra), np.radians(dec))  # (3, requests)
    # sin(altitude) = sin(dec) sin(lat) + cos(dec) cos(lat) cos(LAST - ra), as one product of the apparent
    # directions with the zenith's (lat, LAST) direction: no trigonometry per request and minute.
    apparent_vec = unit_vectors(ra_app, dec_app).T  # (requests, 3)
    zenith = unit_vectors(last, np.full(t, lat))  # (3, minutes)

    dark_window, high, in_ha, feasible = (np.zeros((n, t), dtype=bool) for _ in range(4))
    best = np.full(n, -1)
    closest = np.full(n, np.inf)
    order = list(TwilightLevel)
    levels = np.array([order.index(r.twilight) for r in requests])
    dark_rows = np.array([dark[level] for level in TwilightLevel])
    for lo in range(0, n, CHUNK):
        hi = min(n, lo + CHUNK)
        rows = slice(lo, hi)
        stage = dark_rows[levels[rows]]
        if window is not None:
            stage &= window[rows]
        dark_window[rows] = stage
        sin_alt = apparent_vec[rows] @ zenith
        stage &= sin_alt >= sin_min_alt[rows, None]
        high[rows] = stage
        limited = np.flatnonzero(ha_limited[rows])  # hour angles only for the requests that limit them
        if len(limited):
            hour_angle = last[None, :] - ra_app[lo + limited, None]
            ha_hours = (np.degrees(hour_angle) / 15.0 + 12.0) % 24.0 - 12.0
            stage[limited] &= (ha_hours >= ha_min[lo + limited, None]) & (ha_hours <= ha_max[lo + limited, None])
        in_ha[rows] = stage
        cos_sep = np.clip(target_vec[:, rows].T @ moon_vec, -1.0, 1.0)
        nearest = np.where(stage, cos_sep, -np.inf).max(axis=1)
        closest[rows] = np.where(np.isfinite(nearest), np.degrees(np.arccos(np.maximum(nearest, -1.0))), np.inf)
        stage &= (cos_sep <= cos_sep_max[rows, None]) & (
            (illumination[None, :] <= illum_max[rows, None]) | ~moon_up[None, :]
        )
        feasible[rows] = stage
        scored = np.where(stage, sin_alt, -2.0)
        best[rows] = np.where(stage.any(axis=1), scored.argmax(axis=1), -1)
    return Visibility(grid, dark_window, high, in_ha, feasible, best, closest, illumination, moon_up, level)


def _dark_mask(night: NightGeometry, level: TwilightLevel, stamps: np.ndarray) -> np.ndarray:
    interval = night.dark(level)
    if interval is None:
        return np.zeros(len(stamps), dtype=bool)
    start, end = interval
    return (stamps >= start.timestamp()) & (stamps <= end.timestamp())


def _window_mask(windows: tuple[tuple[datetime, datetime], ...], stamps: np.ndarray) -> np.ndarray:
    if not windows:
        return np.ones(len(stamps), dtype=bool)
    mask = np.zeros(len(stamps), dtype=bool)
    for start, end in windows:
        mask |= (stamps >= start.timestamp()) & (stamps <= end.timestamp())
    return mask


def _apparent(night: NightGeometry, requests: Sequence[PlanRequest], stamps: np.ndarray) -> tuple[np.ndarray, ...]:
    """Apparent sidereal time at each moment (UNIX seconds), and each target's apparent place at the middle one.

    The apparent place is on the true equator and equinox of date.  Hour angles from these give altitudes as
    astropy's AltAz gives them (no refraction), to well under MARGIN_DEG; computed with ERFA directly
    (obslab.scheduling.ephemeris), as astropy's sidereal_time and TETE compute them.
    """
    ephemeris = night.ephemeris
    ut1_utc = ephemeris.at(stamps, ephemeris.ut1_utc_s)
    last = local_sidereal_time(math.radians(night.site.longitude_deg), stamps, ut1_utc)
    ra = np.radians([r.ra_deg for r in requests])
    dec = np.radians([r.dec_deg for r in requests])
    ra_app, dec_app = apparent_places(ra, dec, float(stamps[len(stamps) // 2]))
    return last, ra_app, dec_app


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
    last, ra_app, dec_app = _apparent(night, requests, np.array([moment.timestamp() for moment in grid]))
    lat = math.radians(night.site.latitude_deg)
    sin_alt = np.sin(dec_app[:, None]) * math.sin(lat) + np.cos(dec_app[:, None]) * math.cos(lat) * np.cos(
        last[None, :] - ra_app[:, None]
    )
    return grid, np.degrees(np.arcsin(np.clip(sin_alt, -1.0, 1.0)))
