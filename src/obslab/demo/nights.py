"""Demo nights: the last three local nights at the site, Robo-AO-like raw files written in darkness and ingested,
with the plan each was observed from and the night log's losses (``night_log.py``)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from random import Random

import numpy as np
from sqlalchemy import select

from obslab.astro import earth_location
from obslab.audit import AuditEvent
from obslab.demo.configs import FILTERS
from obslab.demo.context import DemoContext, PlannedExposure
from obslab.demo.night_log import lost_exposure, night_note, store_plans_and_losses
from obslab.demo.people import ADMIN
from obslab.demo.targets import bright_stars
from obslab.observing.ingest import ingest_night
from obslab.observing.models import Exposure, FrameFile, Night, Program, ProgramMember
from obslab.observing.night_files import FLAT_MODE, SCIENCE_MODE, PlannedFile, write_exposures
from obslab.observing.programs import add_member
from obslab.observing.types import ExposureKind
from obslab.scheduling.night import night_geometry
from obslab.scheduling.types import TwilightLevel

NIGHTS_BACK = 3
DEMO_DARKNESS = TwilightLevel.NAUTICAL  # adaptive optics on bright stars needs no darker sky
MIN_ALTITUDE_DEG = 35.0
#: Who belongs to which demo program: the two pipeline people each see some programs, and one program both.
PROGRAM_MEMBERS = {"24": ("cfernandez",), "24.1": ("bnovak", "cfernandez"), "25": ("bnovak",)}
_NIGHT_NOTES = (
    "Clear all night.",
    "Thin cirrus after local midnight; AO performance unaffected.",
    "Dome closed 40 min for humidity around midnight; otherwise clear.",
    "Windy first half; seeing improved after 02:00 local.",
)
#: Frames written per exposure: enough for the pipeline (10 darks per camera mode, 5 flats per filter), small
#: enough that three nights stay near 100 MB (256 x 256 uint16 frames of 128 kB).
FRAMES = {
    ExposureKind.BIAS: 3,
    ExposureKind.DARK: 12,
    ExposureKind.FLAT: 6,
    ExposureKind.SEEING: 10,
    ExposureKind.SCIENCE: 50,
}
#: Mean instantaneous Strehl of the frames: adaptive optics correct red light far better than blue.
_STREHL_MEAN = {"Sg": 0.03, "Sr": 0.05, "Si": 0.08, "Sz": 0.1, "lp600": 0.09, "c": 0.06}
CAMERA = "VIC"


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


def _calibrations(rng: Random, night: date, dark_start: datetime, filters: set[str]) -> list[PlannedExposure]:
    """Bias and dark frames before dusk (darks in both camera modes), then twilight flats in every filter used."""
    plans, moment = [], dark_start - timedelta(minutes=80)
    calibrations = [(ExposureKind.BIAS, FLAT_MODE, 0.0)] * 2
    calibrations += [(ExposureKind.DARK, mode, 60.0) for mode in (FLAT_MODE, SCIENCE_MODE)]
    for kind, mode, seconds in calibrations:
        plans.append(PlannedExposure(night, kind, "c", mode, seconds, moment.replace(microsecond=rng.randrange(10**6))))
        moment += timedelta(seconds=seconds + rng.randint(20, 60))
    moment = dark_start - timedelta(minutes=35)
    for filter_name in sorted(filters):
        seconds = float(rng.choice([5, 10, 20]))
        begin = moment.replace(microsecond=rng.randrange(10**6))
        plans.append(PlannedExposure(night, ExposureKind.FLAT, filter_name, FLAT_MODE, seconds, begin))
        moment += timedelta(seconds=seconds + rng.randint(60, 120))
    return plans


def _on_sky(rng: Random, night: date, start: datetime, end: datetime) -> list[PlannedExposure]:
    """11-14 seeing and science exposures, one per equal slot of the dark time (targets chosen later)."""
    span = (end - start).total_seconds()
    count = min(rng.randint(11, 14), int(span // 300))
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
                SCIENCE_MODE,
                seconds,
                begin.replace(microsecond=rng.randrange(10**6)),
                program="" if seeing else rng.choice(["24", "24", "24.1", "25"]),
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
        sky = _on_sky(rng, night, start, end)
        plans += _calibrations(rng, night, start, {plan.filter_name for plan in sky}) + sky
        on_sky += sky
    _choose_targets(ctx, ctx.rng("pointing"), on_sky)
    # A night still under way at load time keeps only what has already been taken.
    return [plan for plan in plans if plan.ended_at <= ctx.moment]


def night_dates(ctx: DemoContext) -> list[date]:
    """The local dates on which the last three nights began, oldest first."""
    return [ctx.local_today - timedelta(days=back) for back in range(NIGHTS_BACK, 0, -1)]


def _raw_files(ctx: DemoContext, night: date, plans: list[PlannedExposure]) -> list[PlannedFile]:
    """What the camera records for each planned exposure: the night's seeing drifts, Strehl follows the filter."""
    rng = ctx.rng("sky", night.isoformat())
    base, drift = rng.lognormvariate(math.log(1.1), 0.15), rng.uniform(-0.3, 0.3)
    first, last = plans[0].started_at, plans[-1].ended_at
    files = []
    for plan in plans:
        fraction = (plan.started_at - first) / max(last - first, timedelta(seconds=1))
        seeing = base * (1 + drift * fraction) * rng.lognormvariate(0, 0.08) * (plan.airmass or 1.0) ** 0.6
        target = plan.target
        files.append(
            PlannedFile(
                kind=plan.kind.value,
                started_at=plan.started_at,
                frames=FRAMES[plan.kind],
                exposure_s=plan.exposure_s,
                filter_name=plan.filter_name,
                camera_mode=plan.camera_mode,
                program=plan.program,
                target=target.name if target else "",
                pointing=(target.ra_deg, target.dec_deg, plan.airmass or 1.0) if target else None,
                seeing_arcsec=round(min(3.0, max(0.5, seeing)), 4),
                strehl_mean=_STREHL_MEAN[plan.filter_name] * rng.lognormvariate(0, 0.2),
                star_flux=rng.uniform(1.5e5, 4e5),
            )
        )
    return files


def ensure_nights(ctx: DemoContext, raw_dir: Path) -> list[date]:
    """Write the missing recent nights' raw files under ``raw_dir/YYYYMMDD/`` and ingest them; return those nights.

    Each night row is made first (with the observer's note), so ingest adds its exposures to it; ingest reads the
    files as it would any night's, and stamps the configuration in force at each exposure's start.
    """
    existing = ctx.existing(Night.night_date, night_dates(ctx))
    nights = [night for night in night_dates(ctx) if night not in existing]
    if not nights:
        return []
    plans = plan_nights(ctx, nights)
    ctx.add_all(
        [
            Night(
                night_date=night,
                site_name=ctx.site.name,
                created_at=ctx.moment,
                notes=night_note(ctx, night) or ctx.rng("night-notes", night.isoformat()).choice(_NIGHT_NOTES),
            )
            for night in nights
        ]
    )
    for night, dark in zip(nights, dark_intervals(ctx, nights), strict=True):
        planned = sorted((plan for plan in plans if plan.night == night), key=lambda plan: plan.started_at)
        if not planned:
            continue
        lost = lost_exposure(ctx, night, planned)
        taken = [plan for plan in planned if plan is not lost]
        seed = ctx.rng("frames", night.isoformat()).getrandbits(31)
        write_exposures(raw_dir, night, _raw_files(ctx, night, taken), seed=seed, camera=CAMERA)
        with ctx.through_services([Exposure, FrameFile, Program, AuditEvent]):
            report = ingest_night(
                ctx.session,
                raw_dir / night.strftime("%Y%m%d"),
                night_date=night,
                site_name=ctx.site.name,
                now=lambda: ctx.moment,
            )
        if report.refused:
            raise RuntimeError(f"the demo's raw files of {night} were refused: {report.refused}")
        store_plans_and_losses(ctx, night, dark, planned, lost)
    _add_members(ctx)
    return nights


def _add_members(ctx: DemoContext) -> None:
    """Make the demo's program members (through the service, audited as the admin), once each."""
    codes = dict(ctx.session.execute(select(Program.code, Program.id)).all())
    with ctx.through_services([ProgramMember, AuditEvent]):
        for code, members in PROGRAM_MEMBERS.items():
            for username in members:
                if code in codes and ctx.session.get(ProgramMember, (codes[code], ctx.user_id(username))) is None:
                    add_member(ctx.session, ctx.users[ADMIN], code, username, now=lambda: ctx.moment)
        ctx.session.flush()
