"""The night planner: a priority-aware fill, then gap filling, with a reason for every request left out; no database."""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from obslab.astro import unit_vectors
from obslab.scheduling.night import STEP, NightGeometry
from obslab.scheduling.types import RejectionReason, TwilightLevel
from obslab.scheduling.visibility import PlanRequest, Visibility, compute_visibility

#: How many higher-priority requests an "outranked" detail names (all are kept in ``outranked_by``).
NAMED = 3


@dataclass(frozen=True)
class SlewModel:
    """Telescope motion between blocks: a constant rate plus a settle time, rounded up to whole minutes."""

    rate_deg_per_s: float = 1.5
    settle_s: float = 30.0

    def seconds(self, separation_deg: float) -> float:
        return separation_deg / self.rate_deg_per_s + self.settle_s


@dataclass(frozen=True)
class Block:
    """A request placed in the plan; ``slew_s`` is the motion from the previous block, before ``start``."""

    request: PlanRequest
    start: datetime
    end: datetime
    slew_s: float = 0.0


@dataclass(frozen=True)
class Unscheduled:
    """A request left out, with a machine-readable reason and a sentence saying exactly why."""

    request: PlanRequest
    reason: RejectionReason
    detail: str
    outranked_by: tuple[int | str, ...] = ()


@dataclass(frozen=True)
class Plan:
    """The outcome of planning one night from a given time."""

    night: NightGeometry
    twilight: TwilightLevel  # the darkness level the planning grid covers (the loosest any request accepts)
    night_start: datetime | None
    night_end: datetime | None
    planned_from: datetime | None
    blocks: tuple[Block, ...]
    unscheduled: tuple[Unscheduled, ...]
    notes: tuple[str, ...] = ()

    @property
    def scheduled_minutes(self) -> float:
        return sum((block.end - block.start) / STEP for block in self.blocks)

    @property
    def weighted_minutes(self) -> float:
        """Priority times scheduled minutes, summed: what the planner maximises."""
        return sum(block.request.priority * (block.end - block.start) / STEP for block in self.blocks)


@dataclass
class _Placed:
    minute: int
    length: int
    index: int  # request index


@dataclass
class _Timeline:
    """Blocks on the minute grid, in time order, with the slews between neighbours."""

    vectors: np.ndarray  # (requests, 3) unit vectors
    slew: SlewModel
    size: int
    placed: list[_Placed] = field(default_factory=list)
    _counts: np.ndarray | None = None  # prefix sums of occupied minutes, rebuilt after a change

    def free_counts(self) -> np.ndarray:
        """Prefix sums of occupied minutes (a block of ``n`` minutes at ``m`` is free when counts[m+n] == counts[m])."""
        if self._counts is None:
            used = np.zeros(self.size, dtype=np.int32)
            for p in self.placed:
                used[p.minute : p.minute + p.length] = 1
            self._counts = np.concatenate([[0], np.cumsum(used)])
        return self._counts

    def slew_minutes(self, a: int | None, b: int | None) -> int:
        if a is None or b is None:
            return 0
        cosine = float(np.clip(self.vectors[a] @ self.vectors[b], -1.0, 1.0))
        return math.ceil(self.slew.seconds(math.degrees(math.acos(cosine))) / STEP.total_seconds() - 1e-9)

    def fits(self, index: int, minute: int, length: int) -> bool:
        """Whether a block fits at ``minute`` with room for the slews from and to its neighbours."""
        position = bisect.bisect_left([p.minute for p in self.placed], minute)
        before = self.placed[position - 1] if position else None
        after = self.placed[position] if position < len(self.placed) else None
        if before is not None and before.minute + before.length + self.slew_minutes(before.index, index) > minute:
            return False
        return after is None or minute + length + self.slew_minutes(index, after.index) <= after.minute

    def add(self, index: int, minute: int, length: int) -> None:
        bisect.insort(self.placed, _Placed(minute, length, index), key=lambda p: p.minute)
        self._counts = None

    def moved(self) -> None:
        self._counts = None


def plan_night(
    night: NightGeometry,
    requests: Sequence[PlanRequest],
    *,
    planned_from: datetime | None = None,
    lost: Sequence[tuple[datetime, datetime]] = (),
    keep: Sequence[Block] = (),
    slew: SlewModel | None = None,
    visibility: Visibility | None = None,
) -> Plan:
    """Plan ``requests`` over ``night``: deterministic for the same inputs.

    ``planned_from`` leaves earlier time alone (re-planning mid-night); ``lost`` ranges (weather) are
    unusable; ``keep`` blocks (the one in progress) stay where they are.  Requests are placed in order of
    priority (then fewest chances, then id) at the feasible start nearest their preferred time, or their
    highest altitude; a second pass pulls blocks earlier to merge gaps and fills the room with requests
    that did not fit.  Every request not placed gets a reason code and a detail naming what stopped it.
    """
    slew = slew or SlewModel()
    requests = list(requests)
    vis = visibility or compute_visibility(night, requests)
    grid = vis.grid
    size = len(grid)
    lengths = np.array([r.minutes for r in requests], dtype=int)
    available = _available(vis, planned_from, lost, keep)
    allowed = vis.feasible & available[None, :]
    vectors = unit_vectors(
        np.radians([r.ra_deg for r in requests]), np.radians([r.dec_deg for r in requests])
    ).T.reshape(-1, 3)
    timeline = _Timeline(vectors, slew, size)
    kept_ids = {block.request.id for block in keep}
    position = {request.id: index for index, request in enumerate(requests)}
    for block in keep:
        if block.request.id in position:
            timeline.add(
                position[block.request.id], vis.index(block.start), max(1, round((block.end - block.start) / STEP))
            )
    # Fewest observable minutes first among equals: the less flexible request gets its chance first.
    chances = allowed.sum(axis=1)
    order = sorted(
        (i for i in range(len(requests)) if chances[i] > lengths[i] and requests[i].id not in kept_ids),
        key=lambda i: (-requests[i].priority, int(chances[i]), str(requests[i].id)),
    )
    unplaced = [
        i
        for i in order
        if not _place(timeline, allowed, i, int(lengths[i]), _target_minute(vis, requests[i], i, lengths[i]))
    ]
    if unplaced:  # gap filling: pull every block as early as it may go, then try the rest again
        _compact(timeline, allowed)
        unplaced = [i for i in unplaced if not _place(timeline, allowed, i, int(lengths[i]), None)]
    placed_ids = {requests[p.index].id for p in timeline.placed}
    blocks = []
    previous = None
    for p in timeline.placed:
        start = grid[p.minute] if p.minute < size else grid[-1]
        blocks.append(
            Block(requests[p.index], start, start + p.length * STEP, timeline.slew_minutes(previous, p.index) * 60.0)
        )
        previous = p.index
    owners = np.full(size, -1)
    for p in timeline.placed:
        owners[p.minute : p.minute + p.length] = p.index
    unscheduled = [
        _why(vis, requests, i, lengths[i], available, owners, night)
        for i in range(len(requests))
        if requests[i].id not in placed_ids
    ]
    night_start, night_end = (grid[0], grid[-1]) if size else (None, None)
    return Plan(
        night, vis.twilight, night_start, night_end, planned_from, tuple(blocks), tuple(unscheduled), tuple(night.notes)
    )


def _available(
    vis: Visibility, planned_from: datetime | None, lost: Sequence[tuple[datetime, datetime]], keep: Sequence[Block]
) -> np.ndarray:
    """Minutes the plan may use: not before ``planned_from``, not lost, not under a kept block."""
    size = len(vis.grid)
    available = np.ones(size, dtype=bool)
    if planned_from is not None:
        available[: vis.index(planned_from)] = False
    for start, end in lost:
        available[vis.index(start) : vis.index(end) + 1] = False
    for block in keep:
        available[vis.index(block.start) : vis.index(block.end)] = False
    return available


def _starts(allowed: np.ndarray, length: int) -> np.ndarray:
    """Minutes a block of ``length`` may start at: every sample from its start to its end (inclusive) allowed."""
    span = length + 1  # samples covered, both ends included
    if allowed.size < span:
        return np.zeros(0, dtype=int)
    counts = np.concatenate([[0], np.cumsum(allowed, dtype=np.int32)])
    return np.flatnonzero(counts[span:] - counts[:-span] == span)


def _target_minute(vis: Visibility, request: PlanRequest, index: int, length: int) -> float:
    """The start minute this request would like best: its preferred time, else centred on its highest altitude."""
    if request.preferred_time is not None:
        return (request.preferred_time - vis.grid[0]) / STEP if vis.grid else 0.0
    return float(vis.best_minute[index]) - length / 2.0


def _place(timeline: _Timeline, allowed: np.ndarray, index: int, length: int, target: float | None) -> bool:
    """Put the request at the allowed free start nearest ``target`` (the earliest when None); False if none fits."""
    candidates = _starts(allowed[index], length)
    if candidates.size == 0:
        return False
    counts = timeline.free_counts()
    free = counts[candidates + length] - counts[candidates] == 0
    candidates = candidates[free]
    if target is not None and candidates.size:
        candidates = candidates[np.argsort(np.abs(candidates - target), kind="stable")]
    for minute in candidates:
        if timeline.fits(index, int(minute), length):
            timeline.add(index, int(minute), length)
            return True
    return False


def _compact(timeline: _Timeline, allowed: np.ndarray) -> None:
    """Move each block, in time order, to its earliest allowed start after its predecessor and slew."""
    placed = timeline.placed
    for position, block in enumerate(placed):
        previous = placed[position - 1] if position else None
        earliest = (
            previous.minute + previous.length + timeline.slew_minutes(previous.index, block.index) if previous else 0
        )
        starts = _starts(allowed[block.index], block.length)
        starts = starts[(starts >= earliest) & (starts <= block.minute)]
        if starts.size:
            block.minute = int(starts[0])
    timeline.moved()


def _why(
    vis: Visibility,
    requests: list[PlanRequest],
    index: int,
    length: int,
    available: np.ndarray,
    owners: np.ndarray,
    night: NightGeometry,
) -> Unscheduled:
    """The first stage that rules the request out, in the order a person would check them."""
    request = requests[index]
    need = f"{length} min"
    if len(vis.grid) == 0 or request.minutes > len(vis.grid):
        dark = night.dark(request.twilight)
        if dark is None:
            return Unscheduled(
                request, RejectionReason.NEVER_VISIBLE, f"this night has no dark time ({request.twilight.dark_time})"
            )
        return Unscheduled(
            request,
            RejectionReason.NOT_SCHEDULABLE,
            f"it needs {need}, longer than the night's dark time ({request.twilight.dark_time})",
        )
    if not vis.dark_and_window[index].any():
        if request.windows and night.dark(request.twilight) is not None:
            first = request.windows[0]
            return Unscheduled(
                request,
                RejectionReason.WINDOWS_OUTSIDE_NIGHT,
                f"none of its {len(request.windows)} time window(s) (first {first[0]:%Y-%m-%d %H:%M} to "
                f"{first[1]:%Y-%m-%d %H:%M} UTC) falls in this night's dark time ({request.twilight.dark_time})",
            )
        return Unscheduled(
            request, RejectionReason.NEVER_VISIBLE, f"this night has no dark time ({request.twilight.dark_time})"
        )
    if not vis.altitude[index].any():
        return Unscheduled(
            request,
            RejectionReason.NEVER_VISIBLE,
            f"never above {request.lowest_altitude_deg:.1f} deg altitude while the sky is dark enough",
        )
    if not vis.hour_angle[index].any():
        low = request.hour_angle_min_h if request.hour_angle_min_h is not None else -12
        high = request.hour_angle_max_h if request.hour_angle_max_h is not None else 12
        return Unscheduled(
            request, RejectionReason.HOUR_ANGLE, f"never between hour angles {low:g} h and {high:g} h while high enough"
        )
    if not vis.feasible[index].any():
        closest = vis.closest_moon_deg[index]
        if request.min_moon_separation_deg is not None and closest < request.min_moon_separation_deg + 0.1:
            return Unscheduled(
                request,
                RejectionReason.MOON,
                f"the Moon is never more than {closest:.1f} deg away while it is "
                f"observable; it needs {request.min_moon_separation_deg:g} deg",
            )
        return Unscheduled(
            request,
            RejectionReason.MOON,
            f"the Moon is up and {vis.moon_illumination.max():.0%} lit whenever the target is observable; "
            f"this request allows at most {request.max_moon_illumination:.0%}",
        )
    longest = _longest_run(vis.feasible[index])
    if longest < length + 1:
        return Unscheduled(
            request,
            RejectionReason.VISIBLE_TOO_SHORT,
            f"observable for at most {max(0, longest - 1)} min in one stretch; it needs {need}",
        )
    if _longest_run(vis.feasible[index] & available) < length + 1:
        return Unscheduled(
            request,
            RejectionReason.TIME_LOST,
            "its observable time falls in lost time, under a kept block or before planning started",
        )
    takers = sorted(
        (int(i) for i in np.unique(owners[vis.feasible[index] & available]) if i >= 0),
        key=lambda i: (-requests[i].priority, str(requests[i].id)),
    )
    named = ", ".join(f"{requests[i].label} (priority {requests[i].priority:g})" for i in takers[:NAMED])
    more = f" and {len(takers) - NAMED} more" if len(takers) > NAMED else ""
    detail = (
        f"its observable time is taken by {named}{more}"
        if takers
        else "its observable time is broken up by slews between other blocks"
    )
    return Unscheduled(request, RejectionReason.OUTRANKED, detail, tuple(requests[i].id for i in takers))


def _longest_run(mask: np.ndarray) -> int:
    if not mask.any():
        return 0
    padded = np.concatenate([[0], mask.astype(np.int8), [0]])
    edges = np.flatnonzero(np.diff(padded))
    return int((edges[1::2] - edges[::2]).max())
