"""The Schedule page's night chart as plain data: its time axis, blocks with constraints, shades, curves, limits."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

import pandas as pd

from obslab.plots.night_data import BLOCK_COLUMNS, CURVE_COLUMNS, NightChart
from obslab.scheduling.night import SUN_ALTITUDE_DEG, NightGeometry
from obslab.scheduling.types import TwilightLevel
from obslab.scheduling.visibility import PlanRequest, altitude_curves

#: The chart shows this much daylight before sunset and after sunrise.
DAYLIGHT = timedelta(minutes=30)
#: The altitude curves' step.
CURVE_STEP = timedelta(minutes=5)

Range = tuple[datetime, datetime]


def chart_range(geometry: NightGeometry) -> Range:
    """The night's time axis: sunset to sunrise and a little daylight, whatever is planned (noon to noon if the Sun
    never sets or never rises)."""
    sunset = geometry.dark(TwilightLevel.SUNSET)
    if sunset is None or geometry.darkness[TwilightLevel.SUNSET].always:
        return geometry.start, geometry.end
    return max(geometry.start, sunset[0] - DAYLIGHT), min(geometry.end, sunset[1] + DAYLIGHT)


def night_chart_data(
    geometry: NightGeometry, blocks: pd.DataFrame, chosen: Sequence[PlanRequest], lost: Iterable[Range] = ()
) -> NightChart:
    """The chart of a plan: ``blocks`` (request, name, target, priority, start, end) and the scheduled requests."""
    start, end = chart_range(geometry)
    by_id = {request.id: request for request in chosen}
    rows = [
        {
            "start": row["start"],
            "end": row["end"],
            "name": row["name"] or f"request {row['request']}",
            "target": row["target"] or f"request {row['request']}",
            "priority": row["priority"],
            "constraints": constraints_text(by_id[row["request"]]) if row["request"] in by_id else "",
        }
        for _index, row in blocks.iterrows()
    ]
    twilight = tuple(
        (interval[0], interval[1], level.value)
        for level in SUN_ALTITUDE_DEG
        if (interval := geometry.dark(level)) is not None
    )
    return NightChart(
        start=start,
        end=end,
        zone=geometry.site.timezone,
        blocks=pd.DataFrame(rows, columns=BLOCK_COLUMNS),
        twilight=twilight,
        lost=tuple(sorted(lost)),
        curves=_curves(geometry, chosen, start, end),
        limits=altitude_limits(chosen),
    )


def constraints_text(request: PlanRequest) -> str:
    """A request's constraints in one line, as an observer says them."""
    parts = [f"{request.twilight.value} darkness"]
    if request.min_altitude_deg is not None:
        parts.append(f"altitude ≥ {request.min_altitude_deg:g}°")
    if request.max_airmass is not None:
        parts.append(f"airmass ≤ {request.max_airmass:g}")
    if request.min_moon_separation_deg is not None:
        parts.append(f"Moon ≥ {request.min_moon_separation_deg:g}° away")
    if request.max_moon_illumination is not None:
        parts.append(f"Moon ≤ {request.max_moon_illumination:.0%} lit")
    low, high = request.hour_angle_min_h, request.hour_angle_max_h
    if low is not None or high is not None:
        parts.append(f"hour angle {'' if low is None else f'{low:+g} h'} to {'' if high is None else f'{high:+g} h'}")
    if request.windows:
        first = request.windows[0]
        more = f" (+{len(request.windows) - 1} more)" if len(request.windows) > 1 else ""
        parts.append(f"window {first[0]:%m-%d %H:%M}–{first[1]:%H:%M} UTC{more}")
    if request.preferred_time is not None:
        parts.append(f"preferred {request.preferred_time:%H:%M} UTC")
    return "; ".join(parts)


def altitude_limits(chosen: Sequence[PlanRequest]) -> tuple[tuple[float, str], ...]:
    """Each distinct binding altitude limit of the scheduled requests, named by the constraints that set it."""
    found: dict[float, tuple[set[str], int]] = {}
    for request in chosen:
        altitude = request.lowest_altitude_deg
        if altitude <= 0:
            continue
        airmass = request.max_airmass
        from_airmass = airmass is not None and math.degrees(math.asin(1.0 / airmass)) >= altitude - 1e-9
        phrase = f"airmass ≤ {airmass:g}" if from_airmass else f"altitude ≥ {request.min_altitude_deg:g}°"
        phrases, count = found.get(round(altitude, 1), (set(), 0))
        found[round(altitude, 1)] = (phrases | {phrase}, count + 1)
    return tuple(
        (altitude, f"{altitude:g}°: {', '.join(sorted(phrases))} ({count} request{'s' if count > 1 else ''})")
        for altitude, (phrases, count) in sorted(found.items())
    )


def _curves(geometry: NightGeometry, chosen: Sequence[PlanRequest], start: datetime, end: datetime) -> pd.DataFrame:
    """One altitude curve per scheduled target (two requests of one target share it), over the whole chart."""
    targets: dict[str, PlanRequest] = {}
    for request in chosen:
        targets.setdefault(request.target_name or request.label, request)
    if not targets:
        return pd.DataFrame(columns=CURVE_COLUMNS)
    times, altitude = altitude_curves(geometry, list(targets.values()), start, end, CURVE_STEP)
    return pd.concat(
        [
            pd.DataFrame({"time": times, "target": name, "altitude_deg": row})
            for name, row in zip(targets, altitude, strict=True)
        ],
        ignore_index=True,
    )
