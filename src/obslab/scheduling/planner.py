"""The night planner: the most priority-weighted minutes, re-plans that keep what stands, a reason per leftover."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from obslab.astro import unit_vectors
from obslab.scheduling.night import STEP, NightGeometry
from obslab.scheduling.reasons import Unscheduled, left_out
from obslab.scheduling.search import Budget, beam, improve, timing
from obslab.scheduling.sequence import Problem, fill, runs
from obslab.scheduling.types import TwilightLevel
from obslab.scheduling.visibility import PlanRequest, Visibility, compute_visibility


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
    change: dict[str, Any] | None = None  # against the plan it replaces (``plan_changes``), when there is one

    @property
    def scheduled_minutes(self) -> float:
        return sum((block.end - block.start) / STEP for block in self.blocks)

    @property
    def weighted_minutes(self) -> float:
        """Priority times scheduled minutes, summed: what the planner maximises."""
        return sum(block.request.priority * (block.end - block.start) / STEP for block in self.blocks)


def plan_changes(
    before: Iterable[tuple[int | str, datetime]], after: Iterable[tuple[int | str, datetime]]
) -> dict[str, Any]:
    """What changed between two plans given as (request id, block start): requests added, removed, moved, unchanged.

    ``moved`` lists each request whose block starts at another time, with both starts.
    """
    a, b = dict(before), dict(after)

    def order(i: int | str) -> tuple[int, int, str]:  # numbers in number order, names after them
        return (0, i, "") if isinstance(i, int) else (1, 0, str(i))

    moved = sorted((i for i in a.keys() & b.keys() if a[i] != b[i]), key=order)
    return {
        "added": sorted(b.keys() - a.keys(), key=order),
        "removed": sorted(a.keys() - b.keys(), key=order),
        "moved": [{"request": i, "from": a[i].isoformat(), "to": b[i].isoformat()} for i in moved],
        "unchanged": len(a.keys() & b.keys()) - len(moved),
    }


def plan_night(
    night: NightGeometry,
    requests: Sequence[PlanRequest],
    *,
    planned_from: datetime | None = None,
    lost: Sequence[tuple[datetime, datetime]] = (),
    keep: Sequence[Block] = (),
    previous: Sequence[Block] = (),
    slew: SlewModel | None = None,
    visibility: Visibility | None = None,
    budget: Budget | None = None,
) -> Plan:
    """Plan ``requests`` over ``night`` for the most priority-weighted minutes; the same inputs give the same plan.

    Parameters
    ----------
    planned_from
        Leave earlier time alone (re-planning mid-night).
    lost
        Ranges (weather) no block may use.
    keep
        Blocks that stay exactly where they are (the one in progress).
    previous
        The plan being replaced: its blocks (those after ``planned_from`` whose requests are still asked for)
        start the search where they were, and move only when moving gains value.
    budget
        How much the local search may try (``search.Budget``; the defaults keep a plan, or a re-plan from a
        ``previous`` one, to milliseconds).

    A plan starts as the best of a time-ordered beam (``search.beam``) and an insertion fill by value per added
    minute (priority times length over length plus added slew, each where it adds fewest minutes, neighbours
    shifted within their slack); a local search within ``budget`` then replaces runs of blocks by requests left
    out and moves blocks into other gaps.  A re-plan repairs the ``previous`` plan and takes a plan made afresh
    only when it is worth clearly more.  Blocks are timed nearest where the previous plan had them, else their
    preferred time or highest altitude.  Every request not placed gets a reason and a detail.
    """
    slew = slew or SlewModel()
    requests = list(requests)
    vis = visibility or compute_visibility(night, requests)
    grid = vis.grid
    size = len(grid)
    lengths = np.array([r.minutes for r in requests], dtype=int)
    available = _available(vis, planned_from, lost, keep)
    allowed = vis.feasible & available[None, :]
    _hour_angle_margin(vis, requests, night, allowed)
    vectors = unit_vectors(
        np.radians([r.ra_deg for r in requests]), np.radians([r.dec_deg for r in requests])
    ).T.reshape(-1, 3)
    position = {request.id: index for index, request in enumerate(requests)}
    kept = {position[b.request.id]: b for b in keep if b.request.id in position}
    earlier = {
        position[b.request.id]: b
        for b in previous
        if b.request.id in position
        and position[b.request.id] not in kept
        and (planned_from is None or b.start >= planned_from)
    }
    chosen = _search(vis, requests, lengths, allowed, vectors, slew, kept, earlier, budget)
    blocks = []
    for index, minute, slew_minutes in chosen:
        if index in kept:  # exactly as it was, wherever the grid falls
            block = kept[index]
            blocks.append(Block(block.request, block.start, block.end, slew_minutes * 60.0))
        else:
            start = grid[minute]
            blocks.append(Block(requests[index], start, start + int(lengths[index]) * STEP, slew_minutes * 60.0))
    placed = {index for index, _minute, _slew in chosen}
    unscheduled = left_out(
        vis,
        requests,
        lengths,
        [i for i in range(len(requests)) if i not in placed],
        available,
        [(index, minute) for index, minute, _slew in chosen],
        night,
    )
    night_start, night_end = (grid[0], grid[-1]) if size else (None, None)
    return Plan(
        night, vis.twilight, night_start, night_end, planned_from, tuple(blocks), tuple(unscheduled), tuple(night.notes)
    )


#: The search looks at this many requests, best ranked first; the rest only fill what room is left at the end
#: (at thousands of requests a night of 40 blocks is long decided by then), so memory stays bounded.
POOL = 2500
#: Plans the time-ordered beam keeps at each step, and the requests it weighs (the best ranked).
BEAM = 100
BEAM_POOL = 200
#: Prices of a minute of the night the beam is built with, as shares of what the densest requests are worth:
#: each gives another plan, and the best is searched on from.
PRICES = (0.15, 0.3, 0.45)
#: A re-plan also plans afresh when it weighs at most this many requests, and takes that plan when it is worth
#: more than this share more than the repaired one (blocks move only for value, and not for crumbs).
AFRESH_POOL = 250
AFRESH_GAIN = 0.01


def _search(
    vis: Visibility,
    requests: list[PlanRequest],
    lengths: np.ndarray,
    allowed: np.ndarray,
    vectors: np.ndarray,
    slew: SlewModel,
    kept: dict[int, Block],
    earlier: dict[int, Block],
    budget: Budget | None,
) -> list[tuple[int, int, int]]:
    """The blocks to place as (request index, start minute, slew minutes from the block before), in time order."""
    size = len(vis.grid)
    if size == 0:
        return []
    # Kept blocks sit in the sequence like any other, with the one start they have, and are never removed.
    pinned = {i: vis.index(b.start) for i, b in kept.items()}
    pinned = {i: m for i, m in pinned.items() if m < size}
    chances = allowed.sum(axis=1).tolist()
    minutes = lengths.tolist()
    ranked = sorted(
        (i for i in range(len(requests)) if i not in kept and chances[i] > minutes[i]),
        key=lambda i: (-requests[i].priority, chances[i], str(requests[i].id)),
    )
    # The pool: the previous plan's requests whatever their rank, then the best ranked, kept in rank order.
    pool = {i for i in ranked if i in earlier}
    pool.update([i for i in ranked if i not in earlier][: max(0, POOL - len(pool))])
    first = [i for i in ranked if i in pool]
    members = np.array(sorted(pinned) + first, dtype=np.int64)
    problem = _problem(members, pinned, lengths, allowed, vectors, slew, requests)
    local = {int(g): k for k, g in enumerate(members)}
    order = np.array([local[i] for i in first], dtype=np.int64)
    target = np.array([_target(vis, requests[g], int(g), int(lengths[g]), earlier, pinned) for g in members])
    pins = sorted((local[i] for i in pinned), key=lambda c: target[c])
    seed = zlib.crc32(repr([requests[int(g)].id for g in members]).encode())
    if earlier:
        seq = improve(
            problem,
            fill(problem, _kept(problem, pins, earlier, local, target), order),
            order,
            budget or Budget.replan(),
            seed,
            sideways=False,
        ).seq
        # Planned afresh, the night may be worth clearly more (the plan being replaced was made for another
        # night: before the weather, without the ToO); then that plan is taken, its blocks timed where they were
        # as far as they may be.  Past a few hundred requests a re-plan only repairs, to stay fast.
        if len(order) <= AFRESH_POOL:
            fresh = _fresh(problem, pins, order, budget or Budget(), seed)
            if problem.total(fresh) > problem.total(seq) * (1 + AFRESH_GAIN):
                seq = fresh
    else:
        seq = _fresh(problem, pins, order, budget or Budget(), seed)
    seq = fill(problem, seq, order)  # whatever still fits after the search goes in
    chosen = [(int(members[c]), start) for c, start in zip(seq, timing(problem, seq, target), strict=True)]
    rest = [i for i in ranked if i not in pool]
    for lo in range(0, len(rest), POOL):  # the requests beyond the pool: only where room is left
        chosen = _fill_rest(chosen, rest[lo : lo + POOL], lengths, allowed, vectors, slew, requests)
    return [
        (index, start, _slew_minutes(slew, vectors, chosen[k - 1][0] if k else None, index))
        for k, (index, start) in enumerate(chosen)
    ]


def _kept(
    problem: Problem, pins: list[int], earlier: dict[int, Block], local: dict[int, int], target: np.ndarray
) -> list[int]:
    """The plan being replaced, each block where it was if it may still start there after the one before (a block
    whose time is lost goes back to the fill like any other: moving it would shift everything after it)."""
    seq: list[int] = []
    end = None
    for c in sorted({*pins, *(local[i] for i in earlier if i in local)}, key=lambda c: (target[c], c)):
        minute = round(target[c])
        ready = 0 if end is None else end[1] + problem.slew(end[0], c)
        if minute >= ready and problem.later(c, minute) == minute:
            seq.append(c)
            end = (c, minute + int(problem.length[c]))
    return seq


def _fresh(problem: Problem, pins: list[int], order: np.ndarray, budget: Budget, seed: int) -> list[int]:
    """A plan from nothing but the pinned blocks: the best of the insertion fill and the time-ordered beams, then
    the search (same-value moves that slew less allowed)."""
    tries = [fill(problem, pins, order)]
    tries += [fill(problem, beam(problem, pins, order[:BEAM_POOL], BEAM, price), order) for price in PRICES]
    return improve(problem, max(tries, key=problem.total), order, budget, seed).seq


def _fill_rest(
    chosen: list[tuple[int, int]],
    rest: list[int],
    lengths: np.ndarray,
    allowed: np.ndarray,
    vectors: np.ndarray,
    slew: SlewModel,
    requests: list[PlanRequest],
) -> list[tuple[int, int]]:
    """Place requests of ``rest`` in the room ``chosen`` leaves, each block of ``chosen`` kept at its minute."""
    placed = dict(chosen)
    members = np.array([index for index, _minute in chosen] + rest, dtype=np.int64)
    problem = _problem(members, placed, lengths, allowed, vectors, slew, requests)
    count = len(chosen)
    seq = fill(problem, list(range(count)), np.arange(count, len(members), dtype=np.int64))
    target = np.array([placed.get(int(g), -1.0) for g in members], dtype=float)
    return [(int(members[c]), start) for c, start in zip(seq, timing(problem, seq, target), strict=True)]


def _problem(
    members: np.ndarray,
    pinned: dict[int, int],
    lengths: np.ndarray,
    allowed: np.ndarray,
    vectors: np.ndarray,
    slew: SlewModel,
    requests: list[PlanRequest],
) -> Problem:
    """The search's view of ``members`` (request indices); pinned ones may start only at their minute."""
    size = allowed.shape[1]
    length = lengths[members]
    row, first, end = runs(allowed[members])
    # A block needs every sample from its start to its end allowed (both ends included: length + 1 samples), so
    # a run of allowed minutes [first, end) holds starts from first to end - 1 - length.
    last = end - 1 - length[row]
    keep = last >= first
    row, first, last = row[keep], first[keep], last[keep]
    fixed = np.zeros(len(members), dtype=bool)
    pins = [(k, pinned[g]) for k, g in enumerate(members.tolist()) if g in pinned]
    if pins:  # a pinned block may start only at its minute
        at = np.array(pins, dtype=np.int64)
        fixed[at[:, 0]] = True
        keep = ~fixed[row]
        row = np.concatenate([row[keep], at[:, 0]])
        first = np.concatenate([first[keep], at[:, 1]])
        last = np.concatenate([last[keep], at[:, 1]])
    weight = np.array([requests[g].priority for g in members.tolist()], dtype=float)

    def minutes(separation_deg: np.ndarray) -> np.ndarray:
        return np.ceil(slew.seconds(separation_deg) / STEP.total_seconds() - 1e-9)

    return Problem((row, first, last), size, length, weight, vectors[members], minutes, fixed)


def _slew_minutes(slew: SlewModel, vectors: np.ndarray, a: int | None, b: int) -> int:
    """Whole minutes of slew from request ``a`` to ``b`` (0 from nothing), as the search counts them."""
    if a is None:
        return 0
    cosine = np.clip(vectors[[b]] @ vectors[a], -1.0, 1.0)
    return int(np.ceil(slew.seconds(np.degrees(np.arccos(cosine))) / STEP.total_seconds() - 1e-9)[0])


def _target(
    vis: Visibility, request: PlanRequest, index: int, length: int, earlier: dict[int, Block], pinned: dict[int, int]
) -> float:
    """The start minute a block would like best: its own when kept, where the plan being replaced had it, else its
    preferred time or centred on its highest altitude."""
    if index in pinned:
        return float(pinned[index])
    if index in earlier:
        return (earlier[index].start - vis.grid[0]) / STEP
    return _target_minute(vis, request, index, length)


#: J2000.0, the epoch of catalogue (ICRS) places.
J2000 = datetime(2000, 1, 1, 12, tzinfo=UTC)


def _hour_angle_margin(vis: Visibility, requests: list[PlanRequest], night: NightGeometry, allowed: np.ndarray) -> None:
    """Keep blocks clear of hour-angle limits by the precession since J2000, in place.

    Hour angles here come from the apparent place of date (as they should); astroplan and other tools take the
    catalogue RA, minutes of time different by now (more near the pole).  A plan that packs blocks against a
    limit must pass both, so each request's runs that end at an hour-angle limit lose that many minutes.
    """
    limited = [i for i, r in enumerate(requests) if r.hour_angle_min_h is not None or r.hour_angle_max_h is not None]
    if not limited or not vis.grid:
        return
    years = abs((night.midnight - J2000) / timedelta(days=365.25))
    ra = np.radians([requests[i].ra_deg for i in limited])
    dec = np.radians(np.clip([requests[i].dec_deg for i in limited], -89.0, 89.0))
    # Precession in right ascension, 3.075 s + 1.336 s sin(ra) tan(dec) a year; a minute more for the rest.
    drift_s = np.abs(3.075 + 1.336 * np.sin(ra) * np.tan(dec)) * years
    margin = np.ceil(drift_s / 60.0).astype(int) + 1
    outside = vis.altitude[limited] & ~vis.hour_angle[limited]  # high enough, but outside the hour angles
    near = outside.copy()
    for k in range(1, int(margin.max()) + 1):
        reach = (margin >= k)[:, None]
        near[:, k:] |= outside[:, :-k] & reach
        near[:, :-k] |= outside[:, k:] & reach
    allowed[limited] &= ~near


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


def _target_minute(vis: Visibility, request: PlanRequest, index: int, length: int) -> float:
    """The start minute this request would like best: its preferred time, else centred on its highest altitude."""
    if request.preferred_time is not None:
        return (request.preferred_time - vis.grid[0]) / STEP if vis.grid else 0.0
    return float(vis.best_minute[index]) - length / 2.0
