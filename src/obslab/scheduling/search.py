"""The planner's search: plans built in time order by a beam, or by insertion, then improved by local search."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from obslab.scheduling.sequence import Problem, fill

#: Replacements try runs of up to this many neighbouring blocks (one request for up to three).
RUN = 3
#: A kick at a local optimum removes one block or two neighbours.
KICK = 2
#: Plans a step of the beam keeps grown from any one plan, so that it holds different plans.
CHILDREN = 8
#: Moves a second of search is worth, for budgets given in seconds: the budget stays a count of moves, so the
#: same inputs and the same seconds give the same plan however loaded the machine is.
MOVES_PER_SECOND = 2000


@dataclass(frozen=True)
class Budget:
    """How much the local search may try: ``moves`` in all, and at most ``patience`` since the best plan last
    improved (None: 300 moves at up to 100 requests weighed, down to 50 at 600, where moves cost more and gain
    less); these decide the result, ``seconds`` is only a safety net."""

    moves: int = 1000
    patience: int | None = None
    seconds: float = 2.0

    def patience_for(self, requests: int) -> int:
        if self.patience is not None:
            return self.patience
        return max(50, min(300, 30_000 // max(1, requests)))

    @classmethod
    def replan(cls) -> Budget:
        """The default for a re-plan: it starts from the plan it replaces, so it repairs more than it searches."""
        return cls(moves=100, patience=25)

    @classmethod
    def of_seconds(cls, seconds: float) -> Budget:
        """A budget of about ``seconds`` of search on a typical machine, still counted in moves (deterministic)."""
        moves = max(0, round(seconds * MOVES_PER_SECOND))
        return cls(moves=moves, patience=moves, seconds=max(0.05, 3.0 * seconds))


def replacements(
    problem: Problem, seq: list[int], bounds: tuple[np.ndarray, np.ndarray], out: np.ndarray
) -> list[tuple[int, int, int]]:
    """Requests of ``out`` that fit in place of a run of up to ``RUN`` neighbouring blocks (none of them fixed).

    Returns (request, first block, blocks removed), most value gained first, then in rank order.  Only the
    neighbours of a run bound what replaces it: the blocks before it as early and those after it as late as they
    go.  A replacement that loses value is kept only if the room around it could take back more than it loses
    (the densest request left out over the minutes free there, and the removed blocks placed elsewhere).
    """
    count = len(seq)
    if count == 0 or out.size == 0:
        return []
    order = np.asarray(seq)
    fixed = problem.fixed[order]
    values = problem.value[order]
    earliest, latest = bounds
    ends = np.concatenate([[0], earliest + problem.length[order]])  # ends[i]: earliest end of block i - 1
    starts = np.concatenate([latest, [problem.size]])  # starts[i]: latest start of block i
    densest = float((problem.value[out] / problem.length[out]).max())
    shortest = int(problem.length[out].min())
    found = []
    movable = values * _elsewhere(problem, seq, bounds)
    for width in range(1, min(RUN, count) + 1):
        moving = np.convolve(movable, np.ones(width), mode="valid")
        windows = np.lib.stride_tricks.sliding_window_view(fixed, width).any(axis=1)
        firsts = np.flatnonzero(~windows)
        if firsts.size == 0:
            continue
        cand = np.repeat(out, firsts.size)
        rank = np.repeat(np.arange(out.size), firsts.size)
        first = np.tile(firsts, out.size)
        fits, _added = problem.fits_between(seq, bounds, cand, first, first + width)
        cand, rank, first = cand[fits], rank[fits], first[fits]
        gain = problem.value[cand] - np.convolve(values, np.ones(width), mode="valid")[first]
        # Minutes the run's neighbourhood leaves free once ``cand`` is in, from the end of the block two before
        # to the latest start of the block two after (an upper bound on what a refill there can use).
        lo = ends[np.maximum(first - 1, 0)]
        hi = starts[np.minimum(first + width + 1, count)]
        between = (
            np.where(first >= 1, problem.length[order[np.maximum(first - 1, 0)]], 0)
            + np.where(first + width < count, problem.length[order[np.minimum(first + width, count - 1)]], 0)
            + problem.length[cand]
        )
        room = hi - lo - between
        refill = np.where(room > shortest, densest * room, 0.0) + moving[first]
        keep = gain + refill > 1e-9
        found.append((-gain[keep], rank[keep], first[keep], np.full(int(keep.sum()), width), cand[keep]))
    if not found:
        return []
    loss, rank, first, width, cand = (np.concatenate(part) for part in zip(*found, strict=True))
    best = np.lexsort((width, first, rank, loss))
    return list(zip(cand[best].tolist(), first[best].tolist(), width[best].tolist(), strict=True))


def _elsewhere(problem: Problem, seq: list[int], bounds: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Whether each block would also fit in another gap of the plan as it is (so a refill may move it there)."""
    count = len(seq)
    block = np.repeat(np.arange(count), count + 1)
    gap = np.tile(np.arange(count + 1), count)
    other = (gap != block) & (gap != block + 1)
    block, gap = block[other], gap[other]
    fits, _added = problem.insertions(seq, bounds, np.asarray(seq)[block], gap)
    found = np.zeros(count, dtype=bool)
    found[block[fits]] = True
    return found


@dataclass
class Outcome:
    """What the search did: the sequence found and the moves it spent."""

    seq: list[int]
    moves: int
    improved: int


def improve(
    problem: Problem,
    seq: list[int],
    order: np.ndarray,
    budget: Budget,
    seed: int,
    *,
    sideways: bool = True,
) -> Outcome:
    """Local search from ``seq`` for more value, within ``budget``; never returns less than it was given.

    Moves, each counted against the budget: replace a run of up to three blocks by a request left out, or move
    a block into another gap it fits (roomiest first), then fill what room that leaves (removed blocks last).
    At a local optimum, remove a block or two at random (seeded: the same inputs search the same way), refill
    and search on from there, a random walk between local optima that keeps the best plan seen.  Blocks are
    never pinned to a minute, so every move may shift the others within their slack.

    Parameters
    ----------
    seq
        The plan to start from, as request indices in time order.
    order
        Every request the search may place, in rank order (which breaks ties).
    budget
        Moves in all, and since the last gain; the clock only as a safety net.
    seed
        For the kicks: derived from the inputs, so the same inputs search the same way.
    sideways
        Also take a move that keeps the value and slews less (room for later moves); a re-plan passes False,
        so that blocks move only for value.
    """
    deadline = time.perf_counter() + budget.seconds
    rng = random.Random(seed)
    moves = improved = found = 0  # found: the moves made when the best plan last improved

    def score(s: list[int]) -> tuple[float, int]:
        return round(problem.total(s), 6), -problem.slewing(s) if sideways else 0

    best, best_score = list(seq), score(seq)
    current, current_score = list(best), best_score

    def out_of(s: list[int]) -> np.ndarray:
        placed = np.zeros(problem.count, dtype=bool)
        placed[s] = True
        return order[~placed[order]]

    patience = budget.patience_for(len(order))

    def spent() -> bool:
        return moves >= budget.moves or moves - found >= patience or time.perf_counter() > deadline

    while not spent():
        gained = False
        for trial in _neighbours(problem, current, out_of(current)):
            moves += 1
            trial_score = score(trial)
            if trial_score > current_score:
                current, current_score, gained = trial, trial_score, True
                improved += 1
                break
            if spent():
                break
        if gained:
            if current_score > best_score:
                best, best_score, found = list(current), current_score, moves
            continue
        movable = [i for i, c in enumerate(current) if not problem.fixed[c]]
        if spent() or not movable:
            break
        # A local optimum: kick it (remove a few neighbours), refill others first, and search on from there.
        moves += 1
        first = rng.choice(movable)
        width = rng.randint(1, KICK)
        removed = [c for c in current[first : first + width] if not problem.fixed[c]]
        kicked = [c for c in current if c not in removed]
        rest = out_of(kicked)
        kicked = fill(problem, kicked, rest[~np.isin(rest, removed, kind="table")])
        kicked = fill(problem, kicked, out_of(kicked))
        # Search on from the kicked plan even when it is worse (going back to the best only finds it again).
        current, current_score = kicked, score(kicked)
        if current_score > best_score:
            best, best_score, found = list(current), current_score, moves
    return Outcome(best, moves, improved)


def _neighbours(problem: Problem, seq: list[int], out: np.ndarray) -> Iterator[list[int]]:
    """Plans one move from ``seq``, most promising first: replacements, then single blocks moved elsewhere."""
    bounds = problem.bounds(seq)
    assert bounds is not None
    for chosen, first, width in replacements(problem, seq, bounds, out):
        removed = seq[first : first + width]
        trial = [*seq[:first], chosen, *seq[first + width :]]
        # Refill the room left near the run with others first, then the removed blocks anywhere.
        near = [-1, *trial][max(0, first - 1) : first + 3]
        trial = fill(problem, trial, out[out != chosen], near)
        yield fill(problem, trial, np.asarray(removed, dtype=np.int64))
    # Blocks that also fit another gap, roomiest gaps first: moving one there frees its place for a request
    # left out (a hole in the plan usually means what could fill it is placed elsewhere).
    count = len(seq)
    if count < 2:
        return
    earliest, latest = bounds
    order = np.asarray(seq, dtype=np.int64)
    room = np.concatenate([latest, [problem.size]]) - np.concatenate([[0], earliest + problem.length[order]])
    block = np.repeat(np.arange(count), count + 1)
    gap = np.tile(np.arange(count + 1), count)
    other = (gap != block) & (gap != block + 1) & ~problem.fixed[order[block]]
    block, gap = block[other], gap[other]
    fits, _added = problem.insertions(seq, bounds, order[block], gap)
    block, gap = block[fits], gap[fits]
    for k in np.lexsort((block, -room[gap])).tolist():
        i, g = int(block[k]), int(gap[k])
        c = seq[i]
        trial = [*seq[:g], c, *seq[g:]]
        del trial[i if i < g else i + 1]
        if problem.bounds(trial) is None:
            continue
        at = trial.index(c)
        near = {-1, *trial[max(0, i - 2) : i + 2], *trial[max(0, at - 1) : at + 1]} - {c}
        yield fill(problem, trial, out, sorted(near, key=[-1, *trial].index))


def timing(problem: Problem, seq: Sequence[int], target: np.ndarray) -> list[int]:
    """A start for each block of ``seq``: the valid one nearest its ``target`` minute that leaves room for the rest.

    Blocks are timed in order, each after its predecessor and slew and no later than its latest start (which keeps
    every later block placeable), so the result is always feasible.
    """
    bounds = problem.bounds(seq)
    assert bounds is not None
    _earliest, latest = bounds
    starts = []
    end = 0
    for k, c in enumerate(seq):
        lo = end + (problem.slew(seq[k - 1], c) if k else 0)
        hi = int(latest[k])
        want = min(max(round(float(target[c])), lo), hi)
        after = problem.later(c, want)
        before = problem.earlier(c, want)
        options = [s for s in (before, after) if lo <= s <= hi]
        start = min(options, key=lambda s: (abs(s - float(target[c])), s))
        starts.append(start)
        end = start + int(problem.length[c])
    return starts


def beam(problem: Problem, start: list[int], order: np.ndarray, width: int, price: float) -> list[int]:
    """Plans built in time order, ``width`` kept at each step: the most value less the time they have used.

    Every partial plan (blocks appended, each as early as it may start after the one before) is a whole plan,
    and the best of all seen is returned.  Time order sees what the insertion fill does not: the twilight
    minutes at either end only some requests may use, and the idle time a choice leaves.

    Parameters
    ----------
    start
        Blocks every plan begins with (the one in progress).
    order
        The requests to build from.
    width
        Plans kept at each step, at most ``CHILDREN`` grown from any one.
    price
        What a minute used costs, as a share of the value a minute of the densest quarter of ``order`` is worth.
    """
    if not order.size:
        return list(start)
    bounds = problem.bounds(start)
    if bounds is None:
        return list(start)
    earliest, _latest = bounds
    end = int(earliest[-1] + problem.length[start[-1]]) if start else 0
    used = np.zeros((1, problem.count), dtype=bool)
    used[0, np.asarray(start, dtype=np.int64)] = True
    plans = [list(start)]
    last = np.array([start[-1] if start else -1])
    ends = np.array([end])
    values = np.array([problem.total(start)])
    best, best_value = list(start), values[0]
    # The value a minute of the night is worth: that of the densest requests, pooled over the night's minutes.
    density = problem.value[order] / problem.length[order]
    rate = float(np.sort(density)[::-1][: max(1, len(order) // 4)].mean()) * price
    cand = order
    while plans:
        rows = np.repeat(np.arange(len(plans)), cand.size)
        cols = np.tile(cand, len(plans))
        begin = problem.next_starts(cols, ends[rows] + problem.slew_pairs(last[rows], cols))
        ok = (begin < problem.size) & ~used[rows, cols]
        if not ok.any():
            break
        rows, cols, begin = rows[ok], cols[ok], begin[ok]
        finish = begin + problem.length[cols]
        worth = values[rows] + problem.value[cols]
        score = worth - rate * finish
        keep = np.lexsort((cols, -score, rows))  # by plan, best child first
        rank = np.arange(keep.size) - np.searchsorted(rows[keep], rows[keep])
        keep = keep[rank < CHILDREN]  # a few children each, so the beam holds different plans
        keep = keep[np.lexsort((cols[keep], rows[keep], -score[keep]))][:width]
        plans = [[*plans[r], int(c)] for r, c in zip(rows[keep].tolist(), cols[keep].tolist(), strict=True)]
        used = used[rows[keep]]
        used[np.arange(keep.size), cols[keep]] = True
        last, ends, values = cols[keep], finish[keep], worth[keep]
        top = int(np.argmax(values))
        if values[top] > best_value + 1e-9:
            best, best_value = plans[top], values[top]
    return best
