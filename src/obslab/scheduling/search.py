"""The planner's search: blocks in time order with slack, filled by value per added minute, then improved."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

#: "No valid start": later than any minute of any night.
NEVER = 1 << 30
#: Replacements try runs of up to this many neighbouring blocks (one request for up to three).
RUN = 3
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


class Problem:
    """The requests a search may place: valid starts, lengths, values and slews, by local index.

    A block of request ``c`` may start at ``s`` when ``valid[c, s]``; it then runs ``length[c]`` minutes, and the next
    block may start after a further slew.  ``next``/``prev`` give the nearest valid start at or after / at or before
    any minute, so whether a request fits between two neighbours (each free to move within its slack) is one lookup.
    """

    def __init__(
        self,
        valid: np.ndarray,
        length: np.ndarray,
        weight: np.ndarray,
        vectors: np.ndarray,
        slew_minutes: Callable[[np.ndarray], np.ndarray],
        fixed: np.ndarray,
    ) -> None:
        count, size = valid.shape
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
        self._later: dict[int, list[int]] = {}
        self._earlier: dict[int, list[int]] = {}
        self._lengths: list[int] = self.length.tolist()
        minutes = np.arange(size)
        later = np.minimum.accumulate(np.where(valid, minutes, NEVER)[:, ::-1], axis=1)[:, ::-1]
        earlier = np.maximum.accumulate(np.where(valid, minutes, -1), axis=1)
        # Column ``size`` answers lookups from past the end: no later start, the last earlier one.
        self.next = np.concatenate([later, np.full((count, 1), NEVER)], axis=1).astype(np.int64)
        last = earlier[:, -1:] if size else np.full((count, 1), -1)
        self.prev = np.concatenate([earlier, last], axis=1).astype(np.int64)

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

    def later(self, c: int, minute: int) -> int:
        """The first valid start of ``c`` at or after ``minute`` (``NEVER`` when none)."""
        row = self._later.get(c)
        if row is None:
            row = self._later[c] = self.next[c].tolist()
        return row[min(minute, self.size)]

    def earlier(self, c: int, minute: int) -> int:
        """The last valid start of ``c`` at or before ``minute`` (-1 when none; ``minute`` >= 0)."""
        row = self._earlier.get(c)
        if row is None:
            row = self._earlier[c] = self.prev[c].tolist()
        return row[min(minute, self.size)]

    def total(self, seq: Sequence[int]) -> float:
        return float(self.value[list(seq)].sum()) if seq else 0.0

    def bounds(self, seq: Sequence[int]) -> tuple[np.ndarray, np.ndarray] | None:
        """Each block's earliest and latest start with every other block free to move; None when none exists."""
        count = len(seq)
        length = self._lengths
        earliest = [0] * count
        latest = [0] * count
        end = 0
        for k, c in enumerate(seq):
            start = self.later(c, end + self.slew(seq[k - 1], c) if k else 0)
            if start >= NEVER:
                return None
            earliest[k] = start
            end = start + length[c]
        limit = self.size
        for k in range(count - 1, -1, -1):
            c = seq[k]
            if k + 1 < count:
                limit = latest[k + 1] - length[c] - self.slew(c, seq[k + 1])
            if limit < 0:
                return None
            latest[k] = self.earlier(c, limit)
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
            return self.next[cand, 0] < NEVER, length.copy()
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
        fits = self.next[cand, np.minimum(lo, self.size)] <= hi
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
) -> list[tuple[float, int, int, int]]:
    """Requests of ``out`` that fit in place of a run of up to ``RUN`` neighbouring blocks (none of them fixed).

    Returns (value gained, request, first block, blocks removed), best first then in rank order: only the
    neighbours of a run bound what replaces it, the blocks before it as early and those after it as late as they go.
    """
    count = len(seq)
    if count == 0 or out.size == 0:
        return []
    fixed = problem.fixed[np.asarray(seq)]
    values = problem.value[np.asarray(seq)]
    found = []
    for width in range(1, min(RUN, count) + 1):
        firsts = np.array(
            [i for i in range(count - width + 1) if not fixed[i : i + width].any()],
            dtype=np.int64,
        )
        if firsts.size == 0:
            continue
        cand = np.repeat(out, firsts.size)
        first = np.tile(firsts, out.size)
        fits, _added = problem._fits(seq, bounds, cand, first, first + width)
        removed = np.convolve(values, np.ones(width), mode="valid")[first[fits]]
        gain = problem.value[cand[fits]] - removed
        found.extend(
            zip(gain.tolist(), cand[fits].tolist(), first[fits].tolist(), [width] * int(fits.sum()), strict=True)
        )
    rank = {int(c): r for r, c in enumerate(out)}
    found.sort(key=lambda f: (-f[0], rank[f[1]], f[2], f[3]))
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
) -> Outcome:
    """Local search from ``seq`` for more value, within ``budget``; never returns less than it was given.

    Moves, each counted against the budget: replace a run of up to three blocks by a request left out (then fill
    what room is left, the removed blocks included); and, when no replacement gains, remove a few neighbouring
    blocks at random (seeded: the same inputs search the same way), refill, search again, and keep the result
    only if it is better.  Blocks are never pinned to a minute, so every move may shift the others in their slack.
    ``order`` is every request the search may place, in rank order.
    """
    deadline = time.perf_counter() + budget.seconds
    rng = random.Random(seed)
    moves = improved = 0
    best, best_value = list(seq), problem.total(seq)
    current, current_value = list(best), best_value

    def out_of(s: list[int]) -> np.ndarray:
        placed = np.zeros(problem.count, dtype=bool)
        placed[s] = True
        return order[~placed[order]]

    def spent() -> bool:
        return moves >= budget.moves or time.perf_counter() > deadline

    while not spent():
        bounds = problem.bounds(current)
        assert bounds is not None
        out = out_of(current)
        gained = False
        for _gain, chosen, first, width in replacements(problem, current, bounds, out):
            if spent():
                break
            moves += 1
            removed = current[first : first + width]
            trial = [*current[:first], chosen, *current[first + width :]]
            # Refill the room left near the run with others first, then the removed blocks anywhere.
            near = [-1, *trial][max(0, first - 1) : first + 3]
            trial = fill(problem, trial, out[out != chosen], near)
            trial = fill(problem, trial, np.asarray(removed, dtype=np.int64))
            value = problem.total(trial)
            if value > current_value + 1e-9:
                current, current_value, gained = trial, value, True
                improved += 1
                break
        if gained:
            if current_value > best_value + 1e-9:
                best, best_value = list(current), current_value
            continue
        if spent() or len(current) < 2:
            break
        # A local optimum: kick it (remove a few neighbours), refill others first, and search on from there.
        moves += 1
        movable = [i for i, c in enumerate(current) if not problem.fixed[c]]
        if not movable:
            break
        first = rng.choice(movable)
        width = rng.randint(1, RUN + 1)
        removed = [c for c in current[first : first + width] if not problem.fixed[c]]
        kicked = [c for c in current if c not in removed]
        kicked = fill(problem, kicked, out_of(kicked)[~np.isin(out_of(kicked), removed)])
        kicked = fill(problem, kicked, out_of(kicked))
        current, current_value = kicked, problem.total(kicked)
        if current_value > best_value + 1e-9:
            best, best_value = list(current), current_value
        elif current_value < best_value - 1e-9 and rng.random() < 0.5:
            current, current_value = list(best), best_value  # back to the best half the time: search near it
    return Outcome(best, moves, improved)


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
