"""Seeded scheduling instances (a night at Kitt Peak) and astroplan's PriorityScheduler on them, for the benchmarks."""

from __future__ import annotations

import random
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from obslab.astro import earth_location  # noqa: E402
from obslab.scheduling.models import TwilightLevel  # noqa: E402
from obslab.scheduling.night import astropy_times, night_geometry  # noqa: E402
from obslab.scheduling.visibility import PlanRequest, planning_grid  # noqa: E402
from tests.helpers.astroplan_oracle import constraints  # noqa: E402
from tests.helpers.support import KITT_PEAK  # noqa: E402

NIGHT = date(2026, 11, 21)
#: Issue 14's instances slew at 0.8 deg/s: up to about 4 minutes across the sky.
SLEW_DEG_PER_S = 0.8


def requests(count: int, seed: int = 2026) -> list[PlanRequest]:
    """Targets over the sky, 5 to 60 min each, priorities 1-10, and the constraints astroplan can also express."""
    rng = random.Random(f"{seed}:{count}")
    return [
        PlanRequest(
            id=i,
            ra_deg=rng.uniform(0, 360),
            dec_deg=rng.uniform(-40, 85),
            duration_s=rng.uniform(300, 3600),
            priority=rng.randint(1, 10),
            min_altitude_deg=rng.choice([None, 30.0, 40.0]),
            max_airmass=rng.choice([None, 2.0, 1.5]),
            twilight=rng.choice(list(TwilightLevel)[1:]),
            min_moon_separation_deg=rng.choice([None, 20.0, 40.0]),
            max_moon_illumination=rng.choice([None, 0.8]),
        )
        for i in range(count)
    ]


def run_astroplan(
    items: list[PlanRequest], slew_deg_per_s: float = SLEW_DEG_PER_S
) -> tuple[float, list[tuple[PlanRequest, float, float]]]:
    """astroplan's PriorityScheduler over the same night (lower number is higher priority there).

    Returns its wall time and the blocks it placed as (request, start, end) in UNIX seconds.
    """
    import astropy.units as u
    from astroplan import FixedTarget, Observer, ObservingBlock, PriorityScheduler, Schedule, Transitioner
    from astropy.coordinates import SkyCoord

    grid, _level = planning_grid(night_geometry(KITT_PEAK, NIGHT), [r.twilight for r in items])
    start = time.perf_counter()
    observer = Observer(location=earth_location(KITT_PEAK))
    blocks = [
        ObservingBlock(
            FixedTarget(SkyCoord(r.ra_deg * u.deg, r.dec_deg * u.deg), name=str(r.id)),
            (r.duration_s + r.overhead_s) * u.second,
            11 - r.priority,
            constraints=constraints(r),
        )
        for r in items
    ]
    scheduler = PriorityScheduler(
        constraints=[],
        observer=observer,
        time_resolution=1 * u.minute,
        transitioner=Transitioner(slew_rate=slew_deg_per_s * u.deg / u.second),
    )
    schedule = Schedule(*astropy_times([grid[0], grid[-1]]))
    scheduler(blocks, schedule)
    elapsed = time.perf_counter() - start
    by_name = {str(r.id): r for r in items}
    placed = [(by_name[b.target.name], b.start_time.unix, b.end_time.unix) for b in schedule.observing_blocks]
    return elapsed, placed
