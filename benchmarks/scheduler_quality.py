"""Benchmark: obslab's and astroplan's night plans as a share of the exact optimum (a time-indexed MILP, HiGHS)."""

# Run from the repository root (benchmarks/README.md says what it measures and has the last figures):
#
#     .venv/bin/python benchmarks/scheduler_quality.py [--quick] [--sizes 20 40 80] [--seeds 5] [--time-limit 60]
#
# Seeded instances from scheduling_instances.requests (those of scheduler_vs_astroplan.py) at each size and seed;
# obslab (plan_night), astroplan's PriorityScheduler and the MILP each plan them, and every schedule is checked
# by astroplan's own constraint evaluation and for room to slew between consecutive blocks.  The last line
# printed is ``RESULT {json}``.

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.scheduling_instances import NIGHT, SLEW_DEG_PER_S, requests, run_astroplan  # noqa: E402
from obslab.scheduling.night import STEP, night_geometry  # noqa: E402
from obslab.scheduling.planner import Block, SlewModel, plan_night  # noqa: E402
from obslab.scheduling.visibility import PlanRequest, Visibility, compute_visibility  # noqa: E402
from tests.helpers.astroplan_oracle import violations  # noqa: E402
from tests.helpers.support import KITT_PEAK  # noqa: E402

SIZES = [20, 40, 80]
SEEDS = 5
QUICK_SIZES = [20, 40]
QUICK_SEEDS = 3
#: The MILP's relative gap: objectives are whole numbers below 10,000 here, so this gap proves the exact optimum.
MIP_REL_GAP = 1e-4
#: Slack, in seconds, allowed when checking the slew between two blocks (astroplan's own rounding).
SLEW_TOLERANCE_S = 1.0
BAR_MEAN, BAR_WORST = 99.0, 97.0

# A schedule as (request, start, end), times in UNIX seconds.
Placed = list[tuple[PlanRequest, float, float]]


@dataclass
class Instance:
    """One night's requests with what the MILP needs: block lengths, values, slews and allowed starts."""

    items: list[PlanRequest]
    vis: Visibility
    lengths: np.ndarray  # block minutes per request
    values: np.ndarray  # priority x block minutes: the objective every schedule is scored on
    slews: np.ndarray  # (n, n) whole minutes of slew between two requests' targets
    starts: list[np.ndarray]  # per request: grid minutes a block may start at

    @property
    def minutes(self) -> int:
        return len(self.vis.grid)


def separations_deg(items: list[PlanRequest]) -> np.ndarray:
    ra, dec = np.radians([r.ra_deg for r in items]), np.radians([r.dec_deg for r in items])
    vectors = np.stack([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)], axis=1)
    return np.degrees(np.arccos(np.clip(vectors @ vectors.T, -1.0, 1.0)))


def block_starts(feasible: np.ndarray, length: int) -> np.ndarray:
    """Minutes a block of ``length`` may start at: every grid sample from its start to its end (inclusive) allowed.

    Both ends count, as in obslab's planner and in astroplan's check of a block (minute by minute, start to end).
    """
    span = length + 1
    if feasible.size < span:
        return np.zeros(0, dtype=int)
    counts = np.concatenate([[0], np.cumsum(feasible, dtype=np.int64)])
    return np.flatnonzero(counts[span:] - counts[:-span] == span)


def build_instance(items: list[PlanRequest], vis: Visibility, rate: float) -> Instance:
    lengths = np.array([r.minutes for r in items], dtype=int)
    values = np.array([r.priority for r in items]) * lengths
    slews = np.ceil(separations_deg(items) / rate / STEP.total_seconds() - 1e-9).astype(int)
    np.fill_diagonal(slews, 0)
    starts = [block_starts(vis.feasible[i], int(lengths[i])) for i in range(len(items))]
    return Instance(items, vis, lengths, values, slews, starts)


@dataclass
class Model:
    """The time-indexed model: binary ``v`` < len(request) starts ``request[v]`` at grid minute ``minute[v]``.

    Further columns are continuous (the minute occupancies); rows are ``lower <= matrix @ x <= upper``.
    """

    request: np.ndarray
    minute: np.ndarray
    starts: np.ndarray  # the matrix by columns: column c's entries are index/value[starts[c]:starts[c + 1]]
    index: np.ndarray
    value: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    columns: int
    rows: dict[str, int]

    @property
    def nonzeros(self) -> int:
        return len(self.index)

    def column(self, request: int, minute: int) -> int | None:
        found = np.flatnonzero((self.request == request) & (self.minute == minute))
        return int(found[0]) if found.size else None


def build_model(inst: Instance) -> Model:
    """Binary x[r, t] for every allowed start; rows of three kinds.

    - ``once``: sum_t x[r, t] <= 1 per request.
    - ``minute``: for each grid minute m, at most one block covering m, each block extended by one minute at
      its end (a block of r at t covers [t, t + len_r]).  Every slew takes at least one minute, so these
      cliques forbid any two blocks that overlap or touch, and are all a slew of one minute needs.  They are
      written as a flow, which is the same polytope with 2 nonzeros per block instead of len_r + 1: an
      occupancy z_m in [0, 1] per minute, z_m - z_(m-1) = (blocks starting at m) - (blocks whose extended
      end t + len_r + 1 is m).
    - ``slew``: for a pair whose slew takes g >= 2 minutes, blocks also conflict when the later one starts
      1 to g - 1 minutes after the one-minute gap.  Aggregated per following request s, slew level k
      (2..max) and minute w: the blocks of s starting in [w, w + k - 2] and the blocks of every r with
      slew(r, s) >= k whose extended end t + len_r + 1 falls in [w, w + k - 2] form a clique (the r blocks
      all overlap each other, the s blocks are one request, and every r-s pair is closer than k minutes),
      so their sum is <= 1.  Each conflicting pair (r's extended end e, s starting at u with
      0 <= u - e <= g - 2) lies in the row for k = slew(r, s), w = e.
    """
    n, size = len(inst.items), inst.minutes
    request = np.concatenate([np.full(len(s), i) for i, s in enumerate(inst.starts)] + [np.zeros(0)]).astype(int)
    minute = np.concatenate(list(inst.starts) + [np.zeros(0)]).astype(int)
    count = len(request)
    variables = np.arange(count)
    extended_end = minute + inst.lengths[request] + 1  # <= size
    row_parts: list[np.ndarray] = []
    col_parts: list[np.ndarray] = []
    val_parts: list[np.ndarray] = []
    rows: dict[str, int] = {}

    def add(row: np.ndarray, col: np.ndarray, value: float) -> None:
        row_parts.append(row)
        col_parts.append(col)
        val_parts.append(np.full(len(row), value))

    add(request, variables, 1.0)  # once per request
    rows["once"] = top = n
    # minute flow: starts(m) - ends(m) - z_m + z_(m-1) = 0, with z_m the column count + m
    inside = extended_end < size
    add(top + minute, variables, 1.0)
    add(top + extended_end[inside], variables[inside], -1.0)
    add(top + np.arange(size), count + np.arange(size), -1.0)
    add(top + np.arange(1, size), count + np.arange(size - 1), 1.0)
    rows["minute"] = size
    top += size

    widest = int(inst.slews.max()) if n > 1 else 1
    positions = size + 1 + widest  # start and extended-end positions 0..size, padded by the widest window
    start_at = np.full((n, positions), -1)
    start_at[request, minute] = variables
    end_at = np.full((n, positions), -1)
    end_at[request, extended_end] = variables
    slew_rows = 0
    for s in range(n):
        for k in range(2, widest + 1):
            earlier = np.flatnonzero((inst.slews[:, s] >= k) & (np.arange(n) != s))
            if earlier.size == 0 or inst.starts[s].size == 0:
                continue
            window = k - 1
            starters = np.stack([start_at[s, j : j + size + 1] for j in range(window)])  # (window, w)
            enders = np.stack([end_at[earlier, j : j + size + 1] for j in range(window)])  # (window, r, w)
            keep = (starters >= 0).any(axis=0) & (enders >= 0).any(axis=(0, 1))
            if not keep.any():
                continue
            row_of = np.cumsum(keep) - 1 + top + slew_rows
            j_s, w_s = np.nonzero((starters >= 0) & keep[None, :])
            add(row_of[w_s], starters[j_s, w_s], 1.0)
            j_e, r_e, w_e = np.nonzero((enders >= 0) & keep[None, None, :])
            add(row_of[w_e], enders[j_e, r_e, w_e], 1.0)
            slew_rows += int(keep.sum())
    rows["slew"] = slew_rows
    top += slew_rows
    row, col, value = np.concatenate(row_parts), np.concatenate(col_parts), np.concatenate(val_parts)
    order = np.lexsort((row, col))  # no (row, column) pair repeats, by construction
    starts = np.searchsorted(col[order], np.arange(count + size + 1))
    lower = np.full(top, -np.inf)
    lower[n : n + size] = 0.0  # the flow rows are equations
    upper = np.ones(top)
    upper[n : n + size] = 0.0
    return Model(request, minute, starts, row[order], value[order], lower, upper, count + size, rows)


@dataclass
class Exact:
    value: float  # the best schedule found (0 when none)
    bound: float  # the solver's proven upper bound
    proven: bool
    seconds: float
    build_seconds: float
    placed: Placed
    status: str
    model: Model
    warm_start: str | None  # the schedule handed to HiGHS as its first incumbent
    nodes: int

    @property
    def gap(self) -> float:
        return (self.bound - self.value) / self.bound if self.bound > 0 else 0.0


def on_grid(inst: Instance, placed: Placed) -> list[tuple[int, int]] | None:
    """A schedule as (request index, start minute) on the instance's grid, None when a start is off the grid."""
    index = {r.id: i for i, r in enumerate(inst.items)}
    grid0 = inst.vis.grid[0].timestamp()
    chosen = []
    for request, start, _end in placed:
        minute = (start - grid0) / STEP.total_seconds()
        if abs(minute - round(minute)) > 1e-3:
            return None
        chosen.append((index[request.id], round(minute)))
    return chosen


def conflicts(inst: Instance, chosen: list[tuple[int, int]]) -> list[str]:
    """What breaks the model in a schedule (request index, start minute): starts not allowed, repeats, slews."""
    problems = [f"{inst.items[i].id}: not an allowed start ({t})" for i, t in chosen if t not in inst.starts[i]]
    if len({i for i, _t in chosen}) != len(chosen):
        problems.append("a request placed twice")
    for a, (i, t) in enumerate(chosen):
        for j, u in chosen[a + 1 :]:
            if not (t + inst.lengths[i] + inst.slews[i, j] <= u or u + inst.lengths[j] + inst.slews[j, i] <= t):
                problems.append(f"{inst.items[i].id} and {inst.items[j].id} too close")
    return problems


def quiet_highs() -> Any:
    """A HiGHS instance without its banner (printed on stdout by the constructor, before any option applies)."""
    import highspy

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            solver = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    solver.setOptionValue("output_flag", False)
    return solver


def solve_exact(inst: Instance, time_limit: float, schedules: dict[str, Placed]) -> Exact:
    """The model above by HiGHS (highspy), maximising priority-weighted minutes.

    The best of ``schedules`` that is a solution of the model is handed to HiGHS as its first incumbent (scipy's
    milp cannot take one): at 80 requests HiGHS's own heuristics found 5% of it in a minute.  That changes what
    HiGHS finds in the time limit, never what it proves.  Presolve is off: it spends seconds merging the slew
    cliques and does not stop at the time limit, while the model is already small.
    """
    import highspy

    began = time.perf_counter()
    model = build_model(inst)
    built = time.perf_counter()
    count = len(model.request)
    if count == 0:
        return Exact(0.0, 0.0, True, 0.0, built - began, [], "empty", model, None, 0)
    cost = np.zeros(model.columns)
    cost[:count] = -inst.values[model.request]
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = model.columns, len(model.lower)
    lp.col_cost_ = cost
    lp.col_lower_, lp.col_upper_ = np.zeros(model.columns), np.ones(model.columns)
    lp.row_lower_ = np.where(np.isfinite(model.lower), model.lower, -highspy.kHighsInf)
    lp.row_upper_ = model.upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = model.columns, len(model.lower)
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = model.starts, model.index, model.value
    lp.integrality_ = [highspy.HighsVarType.kInteger] * count + [highspy.HighsVarType.kContinuous] * inst.minutes
    solver = quiet_highs()
    for option, setting in {
        "time_limit": float(time_limit),
        "presolve": "off",
        "mip_rel_gap": MIP_REL_GAP,
        "random_seed": 0,
        "mip_heuristic_effort": 0.3,  # (0.05 by default) at N=80 seed 2, 4,393 instead of 4,337 in 60 s; same bounds
    }.items():
        solver.setOptionValue(option, setting)
    solver.passModel(lp)
    warm = None
    candidates = [(score(placed), who, on_grid(inst, placed)) for who, placed in schedules.items()]
    for _value, who, chosen in sorted(candidates, key=lambda item: -item[0]):
        if chosen is None or conflicts(inst, chosen):
            continue
        start = np.zeros(model.columns)
        for i, t in chosen:
            start[model.column(i, t)] = 1.0
            start[count + t : count + min(inst.minutes, t + inst.lengths[i] + 1)] = 1.0  # the minutes it covers
        solution = highspy.HighsSolution()
        solution.col_value = start
        solution.value_valid = True
        solver.setSolution(solution)
        warm = who
        break
    began_solve = time.perf_counter()
    solver.run()
    seconds = time.perf_counter() - began_solve
    info = solver.getInfo()
    status = solver.getModelStatus()
    x = np.asarray(solver.getSolution().col_value)
    chosen_columns = np.flatnonzero(x[:count] > 0.5) if x.size >= count else np.zeros(0, dtype=int)
    grid = inst.vis.grid
    placed = [
        (
            inst.items[model.request[v]],
            grid[model.minute[v]].timestamp(),
            (grid[model.minute[v]] + int(inst.lengths[model.request[v]]) * STEP).timestamp(),
        )
        for v in chosen_columns
    ]
    value = float(inst.values[model.request[chosen_columns]].sum())
    proven = status == highspy.HighsModelStatus.kOptimal
    bound = -float(info.mip_dual_bound) if np.isfinite(info.mip_dual_bound) else math.inf
    return Exact(
        value,
        max(bound, value) if not proven else max(min(bound, value / (1 - MIP_REL_GAP)), value),
        proven,
        seconds,
        built - began,
        placed,
        solver.modelStatusToString(status),
        model,
        warm,
        int(info.mip_node_count),
    )


def check_exact(inst: Instance, exact: Exact) -> list[str]:
    """The MILP's schedule against the instance itself, pair by pair: allowed starts, once each, slews."""
    chosen = on_grid(inst, exact.placed)
    return ["a start off the grid"] if chosen is None else conflicts(inst, chosen)


def infeasible(placed: Placed, inst: Instance, rate: float) -> dict[str, list[str]]:
    """Blocks astroplan's constraints reject, and blocks that start before the slew from the previous one ends."""
    blocks = [
        Block(r, datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC)) for r, start, end in placed
    ]
    rejected = sorted({v.partition(":")[0] for v in violations(blocks, KITT_PEAK)})
    ordered = sorted(placed, key=lambda item: item[1])
    crowded = []
    night_start, night_end = inst.vis.grid[0].timestamp(), inst.vis.grid[-1].timestamp()
    for (a, _start, a_end), (b, b_start, _b_end) in zip(ordered, ordered[1:], strict=False):
        separation = float(separations_deg([a, b])[0, 1])
        if b_start - a_end < separation / rate - SLEW_TOLERANCE_S:
            crowded.append(f"{b.id}: {b_start - a_end:.0f} s after {a.id}, slew {separation / rate:.0f} s")
    outside = [f"{r.id}: outside the night" for r, start, end in placed if start < night_start or end > night_end]
    ids = [r.id for r, _s, _e in placed]
    repeated = [f"{i}: placed twice" for i in sorted(set(ids), key=str) if ids.count(i) > 1]
    return {"astroplan": rejected, "slew": crowded, "other": outside + repeated}


def score(placed: Placed) -> float:
    """Priority-weighted scheduled minutes, from each block's own start and end.

    obslab's and the MILP's blocks last the request's duration up to whole minutes (``len_r``); astroplan's
    PriorityScheduler cuts each block down to whole minutes of its time resolution, so it observes up to a
    minute less than asked, and is credited with what it scheduled.
    """
    return round(sum(r.priority * (end - start) / STEP.total_seconds() for r, start, end in placed), 2)


def obslab_plans(items: list[PlanRequest], rate: float) -> tuple[float, float, Placed, Visibility, bool]:
    """obslab end to end (geometry computed afresh), then planning alone on precomputed visibility."""
    slew = SlewModel(rate_deg_per_s=rate, settle_s=0.0)
    night_geometry.cache_clear()
    began = time.perf_counter()
    plan = plan_night(night_geometry(KITT_PEAK, NIGHT), items, slew=slew)
    end_to_end = time.perf_counter() - began
    night = night_geometry(KITT_PEAK, NIGHT)
    vis = compute_visibility(night, items)
    began = time.perf_counter()
    again = plan_night(night, items, slew=slew, visibility=vis)
    alone = time.perf_counter() - began
    placed = [(b.request, b.start.timestamp(), b.end.timestamp()) for b in plan.blocks]
    same = [(b.request.id, b.start) for b in plan.blocks] == [(b.request.id, b.start) for b in again.blocks]
    return end_to_end, alone, placed, vis, same


def percent(value: float, reference: float) -> float:
    return 100.0 * value / reference if reference > 0 else 100.0


def summary(rows: list[dict[str, Any]], who: str) -> dict[str, Any]:
    found = [row[who] for row in rows if who in row]
    if not found:
        return {}
    pct = [f["pct"] for f in found]
    bound = [f["pct_of_bound"] for f in found]
    return {
        "instances": len(found),
        "mean_pct": round(float(np.mean(pct)), 2),
        "worst_pct": round(float(np.min(pct)), 2),
        "mean_pct_of_bound": round(float(np.mean(bound)), 2),
        "worst_pct_of_bound": round(float(np.min(bound)), 2),
        "mean_seconds": round(float(np.mean([f["seconds"] for f in found])), 3),
        **(
            {"mean_planning_seconds": round(float(np.mean([f["planning_seconds"] for f in found])), 4)}
            if all("planning_seconds" in f for f in found)
            else {}
        ),
        "infeasible_blocks": int(sum(f["infeasible_blocks"] for f in found)),
    }


def pooled_line(label: str, rows: list[dict[str, Any]]) -> str:
    line = {who: summary(rows, who) for who in ("obslab", "astroplan")}
    ours, theirs = line["obslab"], line["astroplan"]
    proven = sum(row["milp"]["proven_optimal"] for row in rows)
    worst_gap = max(row["milp"]["gap_pct"] for row in rows)
    return (
        f"{label} pooled: obslab mean {ours['mean_pct']:.2f}% worst {ours['worst_pct']:.2f}% "
        f"(of the bound {ours['mean_pct_of_bound']:.2f}% / {ours['worst_pct_of_bound']:.2f}%)"
        + (f"; astroplan mean {theirs['mean_pct']:.2f}% worst {theirs['worst_pct']:.2f}%" if theirs else "")
        + f"; MILP proven {proven}/{len(rows)}, worst gap {worst_gap:.2f}%"
        + f"; mean times: obslab {ours['mean_seconds']:.2f} s end to end, "
        + f"{ours['mean_planning_seconds'] * 1000:.0f} ms planning"
        + (
            f", astroplan {theirs['mean_seconds']:.1f} s (x{theirs['mean_seconds'] / ours['mean_seconds']:.0f})"
            if theirs
            else ""
        )
    )


#: The re-plan check: planned from a third of the way through the plan, after half an hour of weather there.
REPLAN_LOST = timedelta(minutes=30)


def replan_stability(items: list[PlanRequest], vis: Visibility, rate: float) -> dict[str, Any]:
    """Re-plan mid-night after half an hour of weather, and after a ToO, from the plan in force.

    For each, the blocks of the plan in force (from the re-planning time on, clear of the lost time) that the
    re-plan removes or moves, and what it is worth: given the plan in force (as ``obslab plan`` and the Schedule
    page re-plan) and planned afresh.  Stability should cost no value.
    """
    slew = SlewModel(rate_deg_per_s=rate, settle_s=0.0)
    night = night_geometry(KITT_PEAK, NIGHT)
    first = plan_night(night, items, slew=slew, visibility=vis)
    if len(first.blocks) < 3:
        return {}
    running = first.blocks[len(first.blocks) // 3]
    now = running.start + (running.end - running.start) / 2
    lost = (now + REPLAN_LOST, now + 2 * REPLAN_LOST)
    later = [b for b in first.blocks if b.start >= now]
    too = PlanRequest(
        id="too",
        name="ToO",
        ra_deg=(running.request.ra_deg + 3.0) % 360,
        dec_deg=running.request.dec_deg,
        duration_s=1200.0,
        priority=10,
    )
    cases = {
        "weather": (items, vis, [lost], [b for b in later if b.end <= lost[0] or b.start >= lost[1]]),
        "too": ([*items, too], compute_visibility(night, [*items, too]), [], later),
    }
    found: dict[str, Any] = {}
    for case, (asked, seen, weather, untouched) in cases.items():
        for how, previous in (("kept", first.blocks), ("afresh", ())):
            began = time.perf_counter()
            again = plan_night(
                night,
                asked,
                slew=slew,
                visibility=seen,
                planned_from=now,
                lost=weather,
                keep=[running],
                previous=previous,
            )
            seconds = time.perf_counter() - began
            placed = {b.request.id: b.start for b in again.blocks}
            found.setdefault(case, {})[how] = {
                "untouched": len(untouched),
                "moved": sum(1 for b in untouched if b.request.id in placed and placed[b.request.id] != b.start),
                "removed": sum(1 for b in untouched if b.request.id not in placed),
                "value": again.weighted_minutes,
                **({"too_placed": "too" in placed} if case == "too" else {}),
                "ms": round(1000 * seconds, 1),
            }
    return found


def replan_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Pooled over instances: blocks moved or removed, and value, given the plan in force against afresh."""
    pooled: dict[str, Any] = {}
    for case in ("weather", "too"):
        for how in ("kept", "afresh"):
            found = [row["replan"][case][how] for row in rows if row.get("replan")]
            if not found:
                continue
            pooled.setdefault(case, {})[how] = {
                "untouched": int(sum(f["untouched"] for f in found)),
                "moved": int(sum(f["moved"] for f in found)),
                "removed": int(sum(f["removed"] for f in found)),
                "most_moved": max(f["moved"] for f in found),
                "value": round(float(sum(f["value"] for f in found)), 1),
                "mean_ms": round(float(np.mean([f["ms"] for f in found])), 1),
                **({"too_placed": sum(f["too_placed"] for f in found)} if case == "too" else {}),
            }
    return pooled


def replan_line(pooled: dict[str, Any]) -> str:
    parts = []
    for case, found in pooled.items():
        kept, fresh = found["kept"], found["afresh"]
        parts.append(
            f"{case}: of {kept['untouched']} untouched blocks {kept['moved']} moved, {kept['removed']} removed "
            f"(afresh {fresh['moved']} and {fresh['removed']}), value {kept['value']:.0f} (afresh {fresh['value']:.0f})"
            + (f", ToO placed {kept['too_placed']}" if "too_placed" in kept else "")
        )
    return "re-plans from the plan in force: " + "; ".join(parts)


def run_instance(size: int, seed: int, args: argparse.Namespace) -> dict[str, Any]:
    items = requests(size, seed)
    obslab_e2e, obslab_alone, obslab_placed, vis, same = obslab_plans(items, args.slew_rate)
    inst = build_instance(items, vis, args.slew_rate)
    schedules: dict[str, tuple[Placed, float]] = {"obslab": (obslab_placed, obslab_e2e)}
    if not args.no_astroplan:
        seconds, placed = run_astroplan(items, args.slew_rate)
        schedules["astroplan"] = (placed, seconds)
    exact = solve_exact(inst, args.time_limit, {who: placed for who, (placed, _s) in schedules.items()})
    model_problems = check_exact(inst, exact)
    schedules["milp"] = (exact.placed, exact.seconds)
    row: dict[str, Any] = {
        "n": size,
        "seed": seed,
        "milp": {
            "value": exact.value,
            "bound": round(exact.bound, 1),
            "proven_optimal": exact.proven,
            "gap_pct": round(100 * exact.gap, 3),
            "seconds": round(exact.seconds, 2),
            "build_seconds": round(exact.build_seconds, 2),
            "variables": len(exact.model.request),
            "rows": exact.model.rows,
            "nonzeros": exact.model.nonzeros,
            "status": exact.status,
            "nodes": exact.nodes,
            "warm_start": exact.warm_start,
            "model_check": model_problems,
        },
    }
    checks = {who: infeasible(placed, inst, args.slew_rate) for who, (placed, _s) in schedules.items()}
    values = {who: score(placed) for who, (placed, _s) in schedules.items()}
    bad = {
        who: sorted({p.partition(":")[0] for found in check.values() for p in found}) for who, check in checks.items()
    }
    bad["milp"] = sorted(set(bad["milp"]) | {p.partition(":")[0] for p in model_problems})
    # The reference: the best schedule of the model (whole-minute blocks of at least the requested duration)
    # that passed every check.  astroplan's shorter blocks solve an easier problem and are not counted.
    best = max([values[who] for who in ("milp", "obslab") if not bad[who]] + [0.0])
    bound = max(exact.bound, best)
    row["best_known"] = best
    for who, (placed, seconds) in schedules.items():
        entry = row.setdefault(who, {})
        entry.update(
            {
                "value": values[who],
                "pct": round(percent(values[who], best), 2),
                "pct_of_bound": round(percent(values[who], bound), 2),
                "blocks": len(placed),
                "infeasible_blocks": len(bad[who]),
                "problems": {kind: found for kind, found in checks[who].items() if found},
            }
        )
        entry.setdefault("seconds", round(seconds, 3))
    row["obslab"]["seconds"] = round(obslab_e2e, 3)
    row["obslab"]["planning_seconds"] = round(obslab_alone, 4)
    row["obslab"]["same_plan_on_given_visibility"] = same
    row["replan"] = replan_stability(items, vis, args.slew_rate)
    astro = row.get("astroplan")
    proof = "proven" if exact.proven else f"gap {100 * exact.gap:.2f}%"
    print(
        f"N={size:3d} seed={seed}  optimum {exact.value:6.0f} ({proof}, {exact.seconds:5.1f} s, "
        f"{len(exact.model.request)} starts)  obslab {row['obslab']['pct']:6.2f}% "
        f"(of the bound {row['obslab']['pct_of_bound']:6.2f}%, {obslab_e2e:.2f} s, "
        f"planning {obslab_alone * 1000:.0f} ms)"
        + (f"  astroplan {astro['pct']:6.2f}% ({astro['seconds']:.1f} s)" if astro else "")
        + f"  infeasible blocks: obslab {row['obslab']['infeasible_blocks']}, milp {row['milp']['infeasible_blocks']}"
        + (f", astroplan {astro['infeasible_blocks']}" if astro else ""),
        flush=True,
    )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"sizes {QUICK_SIZES}, {QUICK_SEEDS} seeds")
    parser.add_argument("--sizes", type=int, nargs="+", default=None, help=f"default {SIZES}")
    parser.add_argument("--seeds", type=int, default=None, help=f"seeds 1..K per size (default {SEEDS})")
    parser.add_argument("--time-limit", type=float, default=60.0, help="MILP seconds per instance")
    parser.add_argument("--slew-rate", type=float, default=SLEW_DEG_PER_S, help="deg/s, for all three")
    parser.add_argument("--no-astroplan", action="store_true", help="skip astroplan (faster)")
    args = parser.parse_args()
    sizes = args.sizes or (QUICK_SIZES if args.quick else SIZES)
    seeds = args.seeds or (QUICK_SEEDS if args.quick else SEEDS)
    result: dict[str, Any] = {
        "night": NIGHT.isoformat(),
        "site": KITT_PEAK.name,
        "slew_deg_per_s": args.slew_rate,
        "sizes": sizes,
        "seeds": list(range(1, seeds + 1)),
        "time_limit_s": args.time_limit,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }
    rows: list[dict[str, Any]] = []
    began = time.perf_counter()
    try:
        warnings.simplefilter("ignore")  # astroplan's and ERFA's advisory warnings; schedules are checked below
        plan_night(night_geometry(KITT_PEAK, NIGHT), requests(5, 0))  # imports and first-call costs, not timed
        for size in sizes:
            for seed in range(1, seeds + 1):
                rows.append(run_instance(size, seed, args))
            by_size = [row for row in rows if row["n"] == size]
            print(pooled_line(f"N={size:3d}", by_size), flush=True)
        result["by_size"] = {
            str(size): {
                **{who: summary([r for r in rows if r["n"] == size], who) for who in ("obslab", "astroplan")},
                "milp_proven": sum(r["milp"]["proven_optimal"] for r in rows if r["n"] == size),
                "milp_worst_gap_pct": max(r["milp"]["gap_pct"] for r in rows if r["n"] == size),
                "milp_mean_seconds": round(float(np.mean([r["milp"]["seconds"] for r in rows if r["n"] == size])), 2),
                "milp_max_seconds": max(r["milp"]["seconds"] for r in rows if r["n"] == size),
            }
            for size in sizes
        }
        obslab, astroplan = summary(rows, "obslab"), summary(rows, "astroplan")
        result["obslab"], result["astroplan"] = obslab, astroplan
        result["milp"] = {
            "proven": sum(r["milp"]["proven_optimal"] for r in rows),
            "instances": len(rows),
            "infeasible_blocks": int(sum(r["milp"]["infeasible_blocks"] for r in rows)),
        }
        result["bars"] = {
            "obslab_mean_ge_99": obslab["mean_pct"] >= BAR_MEAN,
            "obslab_worst_ge_97": obslab["worst_pct"] >= BAR_WORST,
            # Against HiGHS's upper bound instead of the best solution found: where these hold, the bars hold
            # against the true optimum too, proven or not.
            "obslab_mean_of_bound_ge_99": obslab["mean_pct_of_bound"] >= BAR_MEAN,
            "obslab_worst_of_bound_ge_97": obslab["worst_pct_of_bound"] >= BAR_WORST,
            "obslab_zero_infeasible": obslab["infeasible_blocks"] == 0,
            "milp_zero_infeasible": result["milp"]["infeasible_blocks"] == 0,
        }
        print(pooled_line("all", rows) + f"; bars {result['bars']}", flush=True)
        result["replan"] = replan_summary(rows)
        print(replan_line(result["replan"]), flush=True)
        result["instances"] = rows
    except Exception as error:  # noqa: BLE001 - always print a RESULT line
        result["error"] = f"{type(error).__name__}: {error}"
        result.setdefault("instances", rows)
        raise
    finally:
        result["seconds"] = round(time.perf_counter() - began, 1)
        print("RESULT " + json.dumps(result, separators=(",", ":"), default=str), flush=True)


if __name__ == "__main__":
    main()
