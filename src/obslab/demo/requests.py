"""Demo observing requests for tonight and the coming nights, with a spread of constraints and windows."""

from __future__ import annotations

from datetime import timedelta
from random import Random
from typing import Any

from obslab.demo.context import DemoContext
from obslab.demo.observations import PlannedObservation
from obslab.demo.people import SCHEDULERS, USINT
from obslab.demo.targets import bright_stars, random_position
from obslab.scheduling.models import ObservingRequest, RequestWindow
from obslab.scheduling.types import RequestStatus, TwilightLevel

REQUEST_COUNT = 70
PROGRAMS = ("24", "24.1", "25", "26")


def _reachable(ctx: DemoContext, dec: float) -> bool:
    # Within 55 deg of the zenith's declination, a target climbs above 35 deg altitude.
    return abs(dec - ctx.site.latitude_deg) < 55.0


def _pick_target(
    ctx: DemoContext, rng: Random, catalog: list[PlannedObservation]
) -> tuple[str, float, float, int | None]:
    """(name, ra, dec, obsid or None): a bright star, a catalog observation, or a new transient."""
    source = rng.choices(["star", "catalog", "transient"], weights=[60, 20, 20])[0]
    if source == "catalog" and catalog:
        obs = rng.choice(catalog)
        return obs.target_name, obs.ra_deg, obs.dec_deg, obs.obsid
    if source == "transient":
        while True:
            ra, dec = random_position(rng)
            if _reachable(ctx, dec):
                return f"ZTF{ctx.today:%y}aa{''.join(rng.choices('abcdefghijklmnopqrstuvwxyz', k=3))}", ra, dec, None
    star = rng.choice([star for star in bright_stars() if _reachable(ctx, star.dec_deg)])
    return star.name, star.ra_deg, star.dec_deg, None


def _constraints(rng: Random) -> dict[str, Any]:
    hour_angle = rng.choice([(-3.0, 3.0), (-2.0, 4.0)]) if rng.random() < 0.1 else (None, None)
    return {
        "min_altitude_deg": rng.choices([30.0, 40.0, None], weights=[70, 10, 20])[0],
        "max_airmass": rng.choices([2.0, 1.5, None], weights=[50, 10, 40])[0],
        "twilight": rng.choices(list(TwilightLevel), weights=[5, 15, 30, 50])[0],
        "min_moon_separation_deg": rng.choice([15.0, 20.0, 30.0, 45.0]) if rng.random() < 0.3 else None,
        "max_moon_illumination": rng.choice([0.3, 0.5, 0.8]) if rng.random() < 0.2 else None,
        "hour_angle_min_h": hour_angle[0],
        "hour_angle_max_h": hour_angle[1],
    }


def plan_requests(ctx: DemoContext, catalog: list[PlannedObservation]) -> list[dict[str, Any]]:
    """Column values of every demo request, with a ``windows`` list of (start, end) pairs."""
    rng = ctx.rng("requests")
    linkable = [obs for obs in catalog if obs.editable and _reachable(ctx, obs.dec_deg) and "<" not in obs.target_name]
    middles = [ctx.night_middle(ctx.local_today + timedelta(days=k)) for k in range(3)]
    plans = []
    for number in range(1, REQUEST_COUNT + 1):
        name, ra, dec, obsid = _pick_target(ctx, rng, linkable)
        windows = []
        for middle in rng.sample(middles, rng.choices([0, 1, 2], weights=[70, 20, 10])[0]):  # one per night
            start = middle + timedelta(minutes=rng.randint(-240, 120))
            windows.append((start, start + timedelta(minutes=rng.randint(60, 240))))
        plans.append(
            {
                "name": f"REQ-{number:04d}",
                "target_name": name,
                "ra_deg": ra,
                "dec_deg": dec,
                "duration_s": float(rng.randint(5, 60) * 60),
                "overhead_s": float(rng.randint(60, 180)),
                "priority": float(rng.randint(1, 10)),
                "program": rng.choice(PROGRAMS),
                "preferred_time": middles[0] + timedelta(minutes=rng.randint(-180, 180))
                if rng.random() < 0.15
                else None,
                "status": rng.choices(list(RequestStatus), weights=[85, 6, 5, 4])[0],
                "obsid": obsid,
                "submitter": rng.choice(SCHEDULERS + USINT),
                "windows": sorted(windows),
                **_constraints(rng),
            }
        )
    return plans


def ensure_requests(ctx: DemoContext, catalog: list[PlannedObservation], observation_ids: dict[int, int]) -> None:
    """Insert the requests not there yet (by name), each with its windows."""
    plans = plan_requests(ctx, catalog)
    existing = ctx.existing(ObservingRequest.name, (plan["name"] for plan in plans))
    new = [plan for plan in plans if plan["name"] not in existing]
    rows = []
    for plan in new:
        columns = {key: value for key, value in plan.items() if key not in ("obsid", "submitter", "windows")}
        rows.append(
            ObservingRequest(
                **columns,
                observation_id=observation_ids.get(plan["obsid"]) if plan["obsid"] else None,
                submitted_by_id=ctx.user_id(plan["submitter"]),
                created_at=ctx.moment,
                updated_at=ctx.moment,
            )
        )
    ctx.add_with_children(
        list(zip(new, rows, strict=True)),
        RequestWindow,
        lambda plan, parent: ({"request_id": parent, "start": start, "end": end} for start, end in plan["windows"]),
    )
