"""Demo nights: the last three local nights at the site, with Robo-AO-like exposures placed in darkness."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from random import Random

import numpy as np

from obslab.astro import earth_location
from obslab.demo.configs import FILTERS, ROBO_CAM, configuration_at, configuration_lookup
from obslab.demo.context import DemoContext, PlannedExposure
from obslab.demo.targets import bright_stars
from obslab.observing.models import Exposure, Night
from obslab.observing.types import ExposureKind
from obslab.scheduling.night import night_geometry
from obslab.scheduling.types import TwilightLevel

NIGHTS_BACK = 3
DEMO_DARKNESS = TwilightLevel.NAUTICAL  # adaptive optics on bright stars needs no darker sky
MIN_ALTITUDE_DEG = 35.0
_NIGHT_NOTES = (
    "Clear all night.",
    "Thin cirrus after local midnight; AO performance unaffected.",
    "Dome closed 40 min for humidity around midnight; otherwise clear.",
    "Windy first half; seeing improved after 02:00 local.",
)
_COMMENTS = ("Cirrus during the exposure.", "AO loop opened twice; frames kept.", "Wind shake; consider rejecting.")


@contextmanager
def _quiet_astropy() -> Iterator[None]:
    # Demo geometry needs no sub-arcsecond accuracy: IERS and ERFA warnings about far dates are noise here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _times(moments: list[datetime]):  # noqa: ANN202 - astropy is imported lazily
    from astropy.time import Time

    return Time([moment.astimezone(UTC).replace(tzinfo=None) for moment in moments], scale="utc")


def dark_intervals(ctx: DemoContext, nights: list[date]) -> list[tuple[datetime, datetime]]:
    """When each night is nautically dark (the Sun below -12 deg), as the night geometry computes it."""
    intervals = []
    for night in nights:
        with _quiet_astropy():
            dark = night_geometry(ctx.site, night).dark(DEMO_DARKNESS)
        if dark is None:  # a high-latitude summer night never gets dark enough: keep a short token night
            middle = ctx.night_middle(night)
            dark = (middle - timedelta(hours=2), middle + timedelta(hours=2))
        intervals.append(dark)
    return intervals


def _calibrations(rng: Random, night: date, dark_start: datetime) -> list[PlannedExposure]:
    """Bias and dark frames before dusk, then twilight flats in three filters."""
    plans, moment = [], dark_start - timedelta(minutes=80)
    for kind, count, seconds in ((ExposureKind.BIAS, 3, 0.0), (ExposureKind.DARK, 2, 60.0)):
        for _ in range(count):
            plans.append(
                PlannedExposure(night, kind, "c", "0", seconds, moment.replace(microsecond=rng.randrange(10**6)))
            )
            moment += timedelta(seconds=seconds + rng.randint(20, 60))
    moment = dark_start - timedelta(minutes=35)
    for filter_name in rng.sample(FILTERS[:5], 3):
        seconds = float(rng.choice([5, 10, 20]))
        begin = moment.replace(microsecond=rng.randrange(10**6))
        plans.append(PlannedExposure(night, ExposureKind.FLAT, filter_name, "0", seconds, begin))
        moment += timedelta(seconds=seconds + rng.randint(60, 120))
    return plans


def _on_sky(rng: Random, night: date, start: datetime, end: datetime) -> list[PlannedExposure]:
    """30-50 seeing and science exposures, one per equal slot of the dark time (targets chosen later)."""
    span = (end - start).total_seconds()
    count = min(rng.randint(30, 50), int(span // 300))
    slot = span / count
    plans = []
    for index in range(count):
        seeing = index == 0 or rng.random() < 0.1
        seconds = 60.0 if seeing else float(rng.choice([30, 60, 90, 120, 180]))
        begin = start + timedelta(seconds=index * slot + rng.uniform(0, slot - seconds - 30))
        plans.append(
            PlannedExposure(
                night,
                ExposureKind.SEEING if seeing else ExposureKind.SCIENCE,
                rng.choice(["Sr", "Si"]) if seeing else rng.choices(FILTERS, weights=[10, 15, 30, 15, 25, 5])[0],
                rng.choice("012"),
                seconds,
                begin.replace(microsecond=rng.randrange(10**6)),
                program="" if seeing else rng.choice(["24", "24", "24.1", "25"]),
                comment=rng.choice(_COMMENTS) if rng.random() < 0.05 else "",
            )
        )
    return plans


def _choose_targets(ctx: DemoContext, rng: Random, plans: list[PlannedExposure]) -> None:
    """Point each on-sky exposure at a bright star that is high at mid-exposure; airmass from the same transform."""
    from astropy import units as u
    from astropy.coordinates import AltAz, SkyCoord

    stars = bright_stars()
    ra = np.array([star.ra_deg for star in stars])
    dec = np.array([star.dec_deg for star in stars])
    with _quiet_astropy():
        middles = _times([plan.started_at + timedelta(seconds=plan.exposure_s / 2) for plan in plans])
        frame = AltAz(obstime=middles[:, np.newaxis], location=earth_location(ctx.site))
        horizontal = SkyCoord(ra=ra[np.newaxis, :] * u.deg, dec=dec[np.newaxis, :] * u.deg).transform_to(frame)
        altitude, secz = horizontal.alt.deg, horizontal.secz.value
    previous = -1
    for row, plan in enumerate(plans):
        candidates = [k for k in np.flatnonzero(altitude[row] > MIN_ALTITUDE_DEG).tolist() if k != previous]
        choice = rng.choice(candidates) if candidates else int(np.argmax(altitude[row]))
        plan.target, plan.airmass, previous = stars[choice], round(float(secz[row, choice]), 3), choice


def plan_nights(ctx: DemoContext, nights: list[date]) -> list[PlannedExposure]:
    """Every exposure of ``nights`` that has ended by the time of the load."""
    plans: list[PlannedExposure] = []
    on_sky: list[PlannedExposure] = []
    for night, (start, end) in zip(nights, dark_intervals(ctx, nights), strict=True):
        rng = ctx.rng("night", night.isoformat())
        plans += _calibrations(rng, night, start)
        sky = _on_sky(rng, night, start, end)
        plans += sky
        on_sky += sky
    _choose_targets(ctx, ctx.rng("pointing"), on_sky)
    # A night still under way at load time keeps only what has already been taken.
    return [plan for plan in plans if plan.ended_at <= ctx.moment]


def night_dates(ctx: DemoContext) -> list[date]:
    """The local dates on which the last three nights began, oldest first."""
    return [ctx.local_today - timedelta(days=back) for back in range(NIGHTS_BACK, 0, -1)]


def ensure_nights(ctx: DemoContext) -> list[tuple[PlannedExposure, int, int]]:
    """Insert the missing recent nights with their exposures; return each new exposure with its row and night ids."""
    existing = ctx.existing(Night.night_date, night_dates(ctx))
    nights = [night for night in night_dates(ctx) if night not in existing]
    if not nights:
        return []
    plans = plan_nights(ctx, nights)
    night_rows = {
        night: Night(
            night_date=night,
            site_name=ctx.site.name,
            created_at=ctx.moment,
            notes=ctx.rng("night-notes", night.isoformat()).choice(_NIGHT_NOTES),
        )
        for night in nights
    }
    ctx.add_all(list(night_rows.values()))
    lookup = configuration_lookup(ctx, ROBO_CAM)
    rows = [
        Exposure(
            night_id=night_rows[plan.night].id,
            name=plan.name,
            kind=plan.kind,
            program=plan.program,
            target_name=plan.target.name if plan.target else "",
            ra_deg=plan.target.ra_deg if plan.target else None,
            dec_deg=plan.target.dec_deg if plan.target else None,
            filter_name=plan.filter_name,
            camera_mode=plan.camera_mode,
            exposure_s=plan.exposure_s,
            started_at=plan.started_at,
            ended_at=plan.ended_at,
            airmass=plan.airmass,
            magnitude=plan.target.vmag if plan.target else None,
            configuration_id=configuration_at(lookup, plan.started_at),
            comment=plan.comment,
            updated_at=ctx.moment,
        )
        for plan in plans
    ]
    ctx.add_all(rows)
    return [(plan, row.id, row.night_id) for plan, row in zip(plans, rows, strict=True)]
