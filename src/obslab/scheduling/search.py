"""The planner's search: blocks in time order with slack, filled by value per added minute, then improved."""

from __future__ import annotations

import bisect
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

#: "No valid start": later than any minute of any night.
NEVER = 1 << 30
#: Replacements try runs of up to this many neighbouring blocks (one request for up to three).
RUN = 3
#: A kick at a local optimum removes one block or two neighbours.
KICK = 2
#: Moves a second of search is worth, for budgets given in seconds: the budget stays a count of moves, so the
#: same inputs and the same seconds give the same plan however loaded the machine is.
MOVES_PER_SECOND = 2000


@dataclass(frozen=True)
class Budget:
    """How much the local search may try: ``moves`` decides the result, ``seconds`` is only a safety net."""

    moves: int = 250
    seconds: float = 2.0

    @classmethod
    def of_seconds(cls, seconds: float) -> Budget:
        """A budget of about ``seconds`` of search on a typical machine, still counted in moves (deterministic)."""
        return cls(moves=max(0, round(seconds * MOVES_PER_SECOND)), seconds=max(0.05, 3.0 * seconds))


def runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every stretch of True in each row of ``mask``: (row, first column, column after the last), row by row."""
    rows, size = mask.shape
    padded = np.zeros((rows, size + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    edges = np.diff(padded, axis=1)
    begin = np.flatnonzero(edges == 1)
    end = np.flatnonzero(edges == -1)  # same rows, same order: each run opens before it closes
    width = size + 1
    return begin // width, begin % width, end % width


class Problem:
    """The requests a search may place: valid starts, lengths, values and slews, by local index.

    A block of request ``c`` may start at any minute of its runs of valid starts; it then runs ``length[c]``
    minutes, and the next block may start after a further slew.  ``later``/``earlier`` give the nearest valid start
    at or after / at or before a minute, so whether a request fits between two neighbours (each free to move within
    its slack) is one lookup.
    """

    def __init__(
        self,
        starts: tuple[np.ndarray, np.ndarray, np.ndarray],
        size: int,
        length: np.ndarray,
        weight: np.ndarray,
        vectors: np.ndarray,
        slew_minutes: Callable[[np.ndarray], np.ndarray],
        fixed: np.ndarray,
    ) -> None:
        count = len(length)
        self.size = size
        self.count = count
        self.length = np.asarray(length, dtype=np.int64)
        self.value = np.asarray(weight, dtype=float) * self.length
        self.fixed = np.asarray(fixed, dtype=bool)
        self.vectors = vectors
        self._slew_minutes = slew_minutes
        self._matrix = np.zeros((count, count), dtype=np.int16)
        self._filled = np.zeros(count, dtype=bool)
        self._lists: dict[int, list[int]] = {}
        self._runs: dict[int, tuple[list[int], list[int]]] = {}
        self._lengths: list[int] = self.length.tolist()
        # Runs of valid starts (first and last start, inclusive) in (request, first) order; keys place a minute of a
        # request among them, so lookups for many pairs at once are one binary search.
        row, first, last = (np.asarray(part, dtype=np.int64) for part in starts)
        order = np.lexsort((first, row))
        self._row, self._first, self._last = row[order], first[order], last[order]
        self._width = size + 2
        self._first_keys = self._row * self._width + self._first
        self._last_keys = self._row * self._width + self._last
        bounds = np.searchsorted(self._row, np.arange(count + 1))
        self.has_starts = bounds[1:] > bounds[:-1]

    def next_starts(self, cand: np.ndarray, minute: np.ndarray) -> np.ndarray:
        """The first valid start of each ``cand`` at or after ``minute`` (``NEVER`` when none)."""
        if self._row.size == 0:
            return np.full(np.shape(cand), NEVER, dtype=np.int64)
        minute = np.clip(minute, 0, self.size)
        k = np.minimum(np.searchsorted(self._last_keys, cand * self._width + minute), self._row.size - 1)
        found = (self._row[k] == cand) & (self._last[k] >= minute)
        return np.where(found, np.maximum(self._first[k], minute), NEVER)

    def later(self, c: int, minute: int) -> int:
        """The first valid start of ``c`` at or after ``minute`` (``NEVER`` when none)."""
        firsts, lasts = self._runs_of(c)
        k = bisect.bisect_left(lasts, minute)
        return max(firsts[k], minute) if k < len(lasts) else NEVER

    def earlier(self, c: int, minute: int) -> int:
        """The last valid start of ``c`` at or before ``minute`` (-1 when none)."""
        firsts, lasts = self._runs_of(c)
        k = bisect.bisect_right(firsts, minute) - 1
        return min(lasts[k], minute) if k >= 0 else -1

    def _runs_of(self, c: int) -> tuple[list[int], list[int]]:
        found = self._runs.get(c)
        if found is None:  # plain lists: walks along a sequence ask one request at a time, where numpy is slow
            lo, hi = np.searchsorted(self._row, [c, c + 1])
            found = self._runs[c] = (self._first[lo:hi].tolist(), self._last[lo:hi].tolist())
        return found

    def slews(self, a: int) -> np.ndarray:
        """Whole minutes of slew from request ``a`` to every request."""
        self._fill_rows(np.array([a]))
        return self._matrix[a]

    def _fill_rows(self, rows: np.ndarray) -> None:
        """Compute the slew rows not yet known (the matrix fills by rows, as blocks are placed)."""
        missing = rows[~self._filled[rows]]
        if missing.size:
            missing = np.unique(missing)
            cosine = np.clip(self.vectors[missing] @ self.vectors.T, -1.0, 1.0)
            self._matrix[missing] = self._slew_minutes(np.degrees(np.arccos(cosine)))
            self._filled[missing] = True

    def slew(self, a: int, b: int) -> int:
        row = self._lists.get(a)
        if row is None:  # plain lists: the walks along a sequence read single values, far faster than numpy's
            row = self._lists[a] = self.slews(a).tolist()
        return row[b]

    def slewing(self, seq: Sequence[int]) -> int:
        """Minutes spent slewing between the blocks of ``seq``."""
        return sum(self.slew(a, b) for a, b in zip(seq, seq[1:], strict=False))

    def total(self, seq: Sequence[int]) -> float:
        return float(self.value[list(seq)].sum()) if seq else 0.0

    def bounds(self, seq: Sequence[int]) -> tuple[np.ndarray, np.ndarray] | None:
        """Each block's earliest and latest start with every other block free to move; None when none exists."""
        count = len(seq)
        length = self._lengths
        runs = [self._runs_of(c) for c in seq]
        slews = [self.slew(a, b) for a, b in zip(seq, seq[1:], strict=False)]
        earliest = [0] * count
        latest = [0] * count
        ready = 0
        for k in range(count):  # as early as each may go after the one before
            firsts, lasts = runs[k]
            j = bisect.bisect_left(lasts, ready)
            if j == len(lasts):
                return None
            earliest[k] = start = max(firsts[j], ready)
            if k + 1 < count:
                ready = start + length[seq[k]] + slews[k]
        limit = self.size
        for k in range(count - 1, -1, -1):  # as late as each may go before the one after
            if k + 1 < count:
                limit = latest[k + 1] - length[seq[k]] - slews[k]
            firsts, lasts = runs[k]
            j = bisect.bisect_right(firsts, limit) - 1
            if j < 0:
                return None
            latest[k] = min(lasts[j], limit)
        return np.array(earliest, dtype=np.int64), np.array(latest, dtype=np.int64)

    def insertions(
        self, seq: Sequence[int], bounds: tuple[np.ndarray, np.ndarray], cand: np.ndarray, gap: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Whether each ``cand[j]`` fits before ``seq[gap[j]]``, and the minutes it adds (length and slew)."""
        return self._fits(seq, bounds, cand, gap, gap)

    def _fits(
        self,
        seq: Sequence[int],
        bounds: tuple[np.ndarray, np.ndarray],
        cand: np.ndarray,
        gap: np.ndarray,
        after: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Whether ``cand`` fits after ``seq[gap - 1]`` and before ``seq[after]`` (the blocks between removed)."""
        count = len(seq)
        length = self.length[cand]
        if count == 0:
            return self.has_starts[cand], length.copy()
        order = np.asarray(seq)
        earliest, latest = bounds
        ends = earliest + self.length[order]
        self._fill_rows(order)
        table = self._matrix
        has_left, has_right = gap > 0, after < count
        left = np.maximum(gap - 1, 0)
        right = np.minimum(after, count - 1)
        slew_in = np.where(has_left, table[order[left], cand], 0)
        slew_out = np.where(has_right, table[order[right], cand], 0)
        lo = np.where(has_left, ends[left] + slew_in, 0)
        hi = np.where(has_right, latest[right] - length - slew_out, self.size)
        fits = self.next_starts(cand, lo) <= hi
        through = np.where(has_left & has_right, table[order[left], order[right]], 0)
        return fits, length + slew_in + slew_out - through


def fill(problem: Problem, seq: list[int], pool: np.ndarray, lefts: Sequence[int] | None = None) -> list[int]:
    """Insert requests of ``pool`` while any fits: each time the one of most value per added minute, where it adds
    fewest minutes.

    A block goes between two neighbours when, with the blocks before it as early as they may go and the blocks
    after it as late, there is a valid start between: so placing it may shift its neighbours within their slack.
    ``lefts`` limits the gaps tried to those after these blocks (-1: before the first); ``pool`` is in rank order,
    which breaks ties.
    """
    seq = list(seq)
    bounds = problem.bounds(seq)
    pool = np.asarray(pool, dtype=np.int64)
    pool = pool[~np.isin(pool, seq)]  # a request is placed once
    if bounds is None or pool.size == 0:
        return seq
    keys = np.array([-1, *seq] if lefts is None else list(lefts), dtype=np.int64)
    # Every (request, gap) pair that may still fit, the gap named by the block on its left.  Adding a block
    # only takes slack away, so a pair that does not fit never will: the list only shrinks, but for the two
    # gaps either side of each new block (which only requests that fitted the old gap can fit).
    cand = np.repeat(pool, keys.size)
    key = np.tile(keys, pool.size)
    where = np.zeros(problem.count + 1, dtype=np.int64)
    while cand.size:
        where[np.asarray(seq, dtype=np.int64) + 1] = np.arange(1, len(seq) + 1)
        where[0] = 0
        gap = where[key + 1]
        fits, added = problem.insertions(seq, bounds, cand, gap)
        if not fits.any():
            break
        cand, key, gap, added = cand[fits], key[fits], gap[fits], added[fits]
        best = int(np.argmax(problem.value[cand] / added))
        chosen, left, at = int(cand[best]), int(key[best]), int(gap[best])
        candidate = [*seq[:at], chosen, *seq[at:]]
        new_bounds = problem.bounds(candidate)
        if new_bounds is None:  # cannot happen when the check above holds; refuse the pair rather than trust it
            keep = ~((cand == chosen) & (key == left))
            cand, key = cand[keep], key[keep]
            continue
        seq, bounds = candidate, new_bounds
        split = (key == left) & (cand != chosen)
        rest = cand != chosen
        cand = np.concatenate([cand[rest], cand[split]])
        key = np.concatenate([key[rest], np.full(int(split.sum()), chosen)])
    return seq


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
        fits, _added = problem._fits(seq, bounds, cand, first, first + width)
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
    one block to where it adds fewest minutes, then fill what room that leaves (the removed blocks last).  At a
    local optimum, remove a block or two at random (seeded: the same inputs search the same way), refill and
    search on from there, a random walk between local optima that keeps the best plan seen.  A move is taken
    when it gains value or, with ``sideways``, the same value with less time slewing (room for later moves); a
    re-plan passes ``sideways=False`` so that blocks move only for value.  Blocks are never pinned to a minute,
    so every move may shift the others within their slack.  ``order`` is every request the search may place, in
    rank order.
    """
    deadline = time.perf_counter() + budget.seconds
    rng = random.Random(seed)
    moves = improved = 0

    def score(s: list[int]) -> tuple[float, int]:
        return round(problem.total(s), 6), -problem.slewing(s) if sideways else 0

    best, best_score = list(seq), score(seq)
    current, current_score = list(best), best_score

    def out_of(s: list[int]) -> np.ndarray:
        placed = np.zeros(problem.count, dtype=bool)
        placed[s] = True
        return order[~placed[order]]

    def spent() -> bool:
        return moves >= budget.moves or time.perf_counter() > deadline

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
                best, best_score = list(current), current_score
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
        kicked = fill(problem, kicked, rest[~np.isin(rest, removed)])
        kicked = fill(problem, kicked, out_of(kicked))
        # Search on from the kicked plan even when it is worse (going back to the best only finds it again).
        current, current_score = kicked, score(kicked)
        if current_score > best_score:
            best, best_score = list(current), current_score
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
    for i, c in enumerate(seq):
        if problem.fixed[c]:
            continue
        rest = [*seq[:i], *seq[i + 1 :]]
        rest_bounds = problem.bounds(rest)
        if rest_bounds is None:
            continue
        gaps = np.array([g for g in range(len(rest) + 1) if g != i], dtype=np.int64)
        fits, added = problem.insertions(rest, rest_bounds, np.full(gaps.size, c), gaps)
        if not fits.any():
            continue
        at = int(gaps[fits][np.argmin(added[fits])])
        trial = [*rest[:at], c, *rest[at:]]
        near = sorted({-1, *rest[max(0, i - 2) : i + 1], *trial[max(0, at - 1) : at + 2]} - {c}, key=[-1, *trial].index)
        yield fill(problem, trial, out, near)


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
