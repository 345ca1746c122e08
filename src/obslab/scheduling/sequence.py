"""The planner's sequence model: blocks in time order, each free to move within its slack, and what fits between."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence

import numpy as np

#: "No valid start": later than any minute of any night.
NEVER = 1 << 30


def runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every stretch of True in each row of ``mask``: (row, first column, column after the last), row by row."""
    rows, size = mask.shape
    padded = np.zeros((rows, size + 2), dtype=bool)
    padded[:, 1:-1] = mask
    # Every change along a row, in order: each run opens and then closes within its row (padded with False).
    edges = np.flatnonzero(padded[:, 1:] != padded[:, :-1])
    begin, end = edges[0::2], edges[1::2]
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
        self.fill_slews(np.array([a]))
        return self._matrix[a]

    def fill_slews(self, rows: np.ndarray) -> None:
        """Compute the slew rows of ``rows`` not yet known (the matrix fills by rows, as blocks are placed)."""
        missing = rows[~self._filled[rows]]
        if missing.size:
            missing = np.unique(missing)
            cosine = np.clip(self.vectors[missing] @ self.vectors.T, -1.0, 1.0)
            self._matrix[missing] = self._slew_minutes(np.degrees(np.arccos(cosine)))
            self._filled[missing] = True

    def slew_pairs(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Minutes of slew from each of ``a`` to the matching one of ``b`` (-1 in ``a``: from nothing, 0)."""
        self.fill_slews(np.unique(a[a >= 0]))
        return np.where(a >= 0, self._matrix[np.maximum(a, 0), b], 0)

    def slew_table(self, cand: np.ndarray) -> np.ndarray:
        """Minutes of slew from each of ``cand`` (rows) to each (columns)."""
        self.fill_slews(cand)
        return self._matrix[np.ix_(cand, cand)].astype(np.int64)

    def valid_window(self, cand: np.ndarray, opens: int, closes: int) -> np.ndarray:
        """Whether each of ``cand`` may start at each minute from ``opens`` up to ``closes`` (not included)."""
        found = np.zeros((len(cand), max(0, closes - opens)), dtype=bool)
        for row, c in enumerate(cand.tolist()):
            for first, last in zip(*self._runs_of(c), strict=True):
                lo, hi = max(first, opens), min(last + 1, closes)
                if lo < hi:
                    found[row, lo - opens : hi - opens] = True
        return found

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
        return self.fits_between(seq, bounds, cand, gap, gap)

    def fits_between(
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
        self.fill_slews(order)
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
    placed = np.zeros(problem.count, dtype=bool)
    placed[np.asarray(seq, dtype=np.int64)] = True
    pool = pool[~placed[pool]]  # a request is placed once
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
