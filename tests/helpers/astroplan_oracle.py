"""astroplan as an independent oracle (tests, benchmark): twilight altitudes written out, and its constraint checks."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import numpy as np

from obslab.astro import earth_location
from obslab.scheduling.night import astropy_times
from obslab.scheduling.planner import Block
from obslab.scheduling.types import TwilightLevel
from obslab.scheduling.visibility import PlanRequest
from obslab.settings import Site

#: The definitions, written out here rather than imported, so a wrong constant in obslab fails the comparisons.
SUN_ALTITUDE_DEG = {
    TwilightLevel.SUNSET: -0.8333,
    TwilightLevel.CIVIL: -6.0,
    TwilightLevel.NAUTICAL: -12.0,
    TwilightLevel.ASTRONOMICAL: -18.0,
}


def constraints(request: PlanRequest) -> list[Any]:
    """astroplan's own constraint objects for what ``request`` asks (astroplan has no hour-angle constraint)."""
    import astropy.units as u
    from astroplan import (
        AirmassConstraint,
        AltitudeConstraint,
        AtNightConstraint,
        MoonIlluminationConstraint,
        MoonSeparationConstraint,
    )

    found: list[Any] = [
        AtNightConstraint(max_solar_altitude=SUN_ALTITUDE_DEG[request.twilight] * u.deg),
        AltitudeConstraint(min=(request.min_altitude_deg or 0.0) * u.deg),
    ]
    if request.max_airmass is not None:
        found.append(AirmassConstraint(max=request.max_airmass))
    if request.min_moon_separation_deg is not None:
        found.append(MoonSeparationConstraint(min=request.min_moon_separation_deg * u.deg))
    if request.max_moon_illumination is not None:
        found.append(MoonIlluminationConstraint(max=request.max_moon_illumination))
    return found


def violations(blocks: Iterable[Block], site: Site) -> list[str]:
    """Blocks astroplan rejects at any minute from start to end ("<request>: <constraint>").

    Hour angles are checked by hand.
    """
    import astropy.units as u
    from astroplan import FixedTarget, Observer
    from astropy.coordinates import SkyCoord

    observer = Observer(location=earth_location(site))
    bad = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # astroplan's advisory warnings; its answers are what is checked
        for block in blocks:
            r = block.request
            minutes = int((block.end - block.start) / timedelta(minutes=1))
            times = astropy_times([block.start + k * timedelta(minutes=1) for k in range(minutes + 1)])
            target = FixedTarget(SkyCoord(r.ra_deg * u.deg, r.dec_deg * u.deg))
            bad += [
                f"{r.id}: {type(c).__name__}" for c in constraints(r) if not np.all(c(observer, target, times=times))
            ]
            if r.hour_angle_min_h is not None or r.hour_angle_max_h is not None:
                hour_angle = (observer.target_hour_angle(times, target).hour + 12) % 24 - 12
                if r.hour_angle_min_h is not None and (hour_angle < r.hour_angle_min_h - 0.01).any():
                    bad.append(f"{r.id}: hour angle")
                if r.hour_angle_max_h is not None and (hour_angle > r.hour_angle_max_h + 0.01).any():
                    bad.append(f"{r.id}: hour angle")
    return bad
