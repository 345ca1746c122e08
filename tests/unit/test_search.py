"""The planner's search on small made-up nights: at the exact optimum, never below where it started, deterministic."""

from __future__ import annotations

import math
import random
from itertools import combinations

import numpy as np
import pytest

from obslab.scheduling.search import Budget, improve, timing
from obslab.scheduling.sequence import NEVER, Problem, fill, runs

SIZE = 150  # minutes in the made-up night
RATE_DEG_PER_MIN = 45.0  # slews of 1 to 4 minutes across the sky


def slew_minutes(separation_deg: np.ndarray) -> np.ndarray:
    return np.ceil(np.asarray(separation_deg) / RATE_DEG_PER_MIN - 1e-9)


def night(seed: int, count: int) -> tuple[Problem, np.ndarray]:
    """``count`` requests of 5-40 min, priorities 1-10, each observable in one or two stretches of the night."""
    rng = random.Random(seed)
    allowed = np.zeros((count, SIZE), dtype=bool)
    for row in allowed:
        for _ in range(rng.choice([1, 1, 2])):
            start = rng.randrange(0, SIZE - 20)
            row[start : start + rng.randrange(20, 110)] = True
    length = np.array([rng.randrange(5, 41) for _ in range(count)])
    weight = np.array([rng.randint(1, 10) for _ in range(count)], dtype=float)
    ra, dec = (
        np.radians([rng.uniform(0, 360) for _ in range(count)]),
        np.radians([rng.uniform(-40, 80) for _ in range(count)]),
    )
    vectors = np.stack([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)], axis=1)
    row, first, end = runs(allowed)
    last = end - 1 - length[row]  # a block covers length + 1 samples, both ends allowed
    keep = last >= first
    problem = Problem(
        (row[keep], first[keep], last[keep]), SIZE, length, weight, vectors, slew_minutes, np.zeros(count, dtype=bool)
    )
    return problem, allowed


def starts_of(allowed: np.ndarray, length: np.ndarray) -> list[list[int]]:
    """Written out, not taken from the search: minutes a block may start at, every sample to its end allowed."""
    return [[s for s in range(SIZE - int(n)) if allowed[i, s : s + int(n) + 1].all()] for i, n in enumerate(length)]


def optimum(problem: Problem, allowed: np.ndarray) -> float:
    """The best value by dynamic programming over (requests placed, last one): the earliest end of each."""
    count = problem.count
    length = problem.length.tolist()
    value = problem.value.tolist()
    starts = starts_of(allowed, problem.length)
    vectors = problem.vectors
    slew = [
        [
            0
            if a == b
            else int(
                math.ceil(
                    math.degrees(math.acos(min(1.0, max(-1.0, float(vectors[a] @ vectors[b]))))) / RATE_DEG_PER_MIN
                    - 1e-9
                )
            )
            for b in range(count)
        ]
        for a in range(count)
    ]
    earliest: dict[tuple[int, int], int] = {}
    for r in range(count):
        if starts[r]:
            earliest[(1 << r, r)] = starts[r][0] + length[r]
    best = 0.0
    for size in range(1, count + 1):
        for members in combinations(range(count), size):
            mask = sum(1 << m for m in members)
            reached = False
            for last in members:
                end = earliest.get((mask, last))
                if end is None:
                    continue
                reached = True
                for nxt in range(count):
                    if mask & (1 << nxt):
                        continue
                    ready = end + slew[last][nxt]
                    start = next((s for s in starts[nxt] if s >= ready), None)
                    if start is not None:
                        key = (mask | (1 << nxt), nxt)
                        earliest[key] = min(earliest.get(key, NEVER), start + length[nxt])
            if reached:
                best = max(best, sum(value[m] for m in members))
    return best


def search(problem: Problem, moves: int = 400) -> list[int]:
    order = np.argsort(-problem.value, kind="stable")
    seq = fill(problem, [], order)
    return improve(problem, seq, order, Budget(moves=moves, patience=moves, seconds=30.0), seed=1).seq


@pytest.mark.parametrize("seed", range(12))
def test_small_nights_reach_the_exact_optimum(seed: int) -> None:
    problem, allowed = night(seed, 8)
    assert problem.total(search(problem)) == optimum(problem, allowed)


def test_the_search_never_ends_below_where_it_started() -> None:
    for seed in range(20):
        problem, _allowed = night(100 + seed, 14)
        worst_first = np.argsort(problem.value, kind="stable")  # a poor start: least valuable first
        start = fill(problem, [], worst_first)
        for moves in (0, 1, 5, 50):
            found = improve(
                problem, start, worst_first, Budget(moves=moves, patience=moves, seconds=30.0), seed=seed
            ).seq
            assert problem.total(found) >= problem.total(start)
            assert problem.bounds(found) is not None


def test_the_same_inputs_and_budget_give_the_same_search() -> None:
    problem, _allowed = night(7, 30)
    again, _allowed = night(7, 30)
    assert search(problem, 200) == search(again, 200)


def test_every_block_is_timed_on_a_valid_start_with_its_slew() -> None:
    for seed in range(10):
        problem, allowed = night(200 + seed, 20)
        seq = search(problem, 50)
        valid = starts_of(allowed, problem.length)
        wanted = np.array([random.Random(seed).uniform(0, SIZE) for _ in range(problem.count)])
        starts = timing(problem, seq, wanted)
        for k, (c, start) in enumerate(zip(seq, starts, strict=True)):
            assert start in valid[c]
            if k:
                before = seq[k - 1]
                assert start >= starts[k - 1] + problem.length[before] + problem.slew(before, c)


def test_a_budget_in_seconds_is_still_a_count_of_moves() -> None:
    assert Budget.of_seconds(2.0).moves == 2 * Budget.of_seconds(1.0).moves > 0
    assert Budget.of_seconds(2.0).seconds > 2.0  # the clock is only a safety net
