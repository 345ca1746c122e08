"""Gravitational-wave sky maps (multi-order HEALPix): read, credible areas, probability observable tonight, tiling."""

from __future__ import annotations

import gzip
import math
import warnings
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from io import BytesIO
from typing import Any

import numpy as np

from obslab.errors import InvalidInputError
from obslab.scheduling.night import NightGeometry
from obslab.scheduling.sequence import runs
from obslab.scheduling.visibility import PlanRequest, compute_visibility

#: HEALPix's deepest order (nside 2**29): NUNIQ indices beyond it are not pixels.
MAX_ORDER = 29
#: A gzipped map is read up to this many bytes unpacked (LVK's are a few MB; refuses a decompression bomb).
MAX_UNPACKED = 64 * 1024 * 1024
#: Observability is evaluated on at most this many pixels (about 0.1 s on the minute grid); the level is the
#: finest at which the pixels holding all but ``tolerance`` of the probability number no more than this.
MAX_PIXELS = 3072
#: Tiling counts probability on points (the map flattened) no coarser than a quarter of the field of view
#: (16 to 64 to a field), and at most this many of them (the most probable: 800 deg^2 for a 0.5 deg field).
MAX_POINTS = 1 << 16
#: The finest level observability flattens to (0.05 deg pixels); tiling goes to a quarter of the field.
FINEST = 10
#: Candidate tiles are checked for observability this many at a time, most probable first.
BATCH = 256


@dataclass(frozen=True, eq=False)
class SkyMap:
    """A multi-order sky map: per pixel its NUNIQ index, level, nested index, area and probability (sum 1)."""

    uniq: np.ndarray  # int64
    level: np.ndarray  # int64
    ipix: np.ndarray  # int64, nested at ``level``
    area_sr: np.ndarray
    probdensity: np.ndarray  # sr^-1, normalised so the probability sums to 1
    probability: np.ndarray  # probdensity x area
    object: str = ""
    date_obs: datetime | None = None
    mocorder: int | None = None
    total_probability: float = 1.0  # the file's own total, before normalising
    distmu: np.ndarray | None = None
    distsigma: np.ndarray | None = None
    distnorm: np.ndarray | None = None
    distmean_mpc: float | None = None
    diststd_mpc: float | None = None


@dataclass(frozen=True)
class Containment:
    """The credible region at ``level``: its area (the crossing pixel counted in part) and whole pixels."""

    level: float
    area_deg2: float  # interpolated within the pixel where the cumulative probability crosses ``level``
    pixels: np.ndarray  # indices into the map of the whole pixels making up the region (densest first)
    probability: float  # the probability in those whole pixels (at least ``level``)


@dataclass(frozen=True)
class Observability:
    """How much of a map can be observed tonight under one request's constraints."""

    probability: float  # in pixels with a long enough feasible run in the dark window
    unevaluated: float  # probability in pixels not evaluated (the least probable): the true value is at most this more
    level: int  # the HEALPix level the observability was evaluated at
    pixels: int  # pixels evaluated
    observable_pixels: int
    first: datetime | None  # earliest and latest feasible moments over the observable pixels
    last: datetime | None


@dataclass(frozen=True)
class Tile:
    """One pointing: a square field of view centred at (ra, dec), its probability not counted by better tiles."""

    rank: int  # 1 first
    ra_deg: float
    dec_deg: float
    probability: float  # marginal: the map's probability in this tile and in no tile ranked before it
    cumulative: float  # this tile's and all before it
    windows: tuple[tuple[datetime, datetime], ...]  # feasible runs long enough for a block (grid minutes, inclusive)
    nside: int  # the tile grid (nested): re-tiling an update gives the same ids for the same places
    healpix: int

    def as_dict(self) -> dict[str, Any]:
        windows = [[start.isoformat(), end.isoformat()] for start, end in self.windows]
        return {**asdict(self), "windows": windows}


@dataclass(frozen=True)
class Tiling:
    """The ranked tiles for one map, field of view and time budget, and how they were found."""

    tiles: tuple[Tile, ...]
    probability: float  # covered by all tiles, each part counted once
    fov_deg: float
    budget_s: float
    block_s: float  # exposure plus overhead: tiles x block_s <= budget_s
    nside: int  # tile grid
    point_level: int  # the level probability was counted at
    points_probability: float  # the probability the counted points hold (the rest was too improbable to count)
    candidates: int  # tiles holding any probability
    evaluated: int  # of which observability was computed


def read_skymap(data: bytes) -> SkyMap:
    """A multi-order FITS sky map (LVK's: BINTABLE with UNIQ and PROBDENSITY) from its bytes (gzipped or not).

    Refused with InvalidInputError naming the field when the bytes are not such a table.
    """
    if not isinstance(data, bytes | bytearray | memoryview) or len(data) == 0:
        raise InvalidInputError("skymap", _shown(data), "the bytes of a multi-order FITS sky map")
    data = bytes(data)
    if data[:2] == b"\x1f\x8b":
        data = _gunzip(data)
    from astropy.table import Table

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = Table.read(BytesIO(data), format="fits")
    except Exception as error:  # whatever astropy makes of bad bytes, it is a refusal
        raise InvalidInputError(
            "skymap", _shown(data), f"a FITS file with a BINTABLE (astropy: {str(error).splitlines()[0]})"
        ) from None
    meta = {str(key).upper(): value for key, value in table.meta.items()}
    ordering = meta.get("ORDERING")
    if ordering is not None and str(ordering).strip().upper() != "NUNIQ":
        raise InvalidInputError("ORDERING", ordering, "NUNIQ (a multi-order map; flat RING/NESTED maps are not read)")
    columns = {name.upper(): name for name in table.colnames}
    if "UNIQ" not in columns:
        raise InvalidInputError("UNIQ", None, f"a column of NUNIQ pixel indices (columns: {', '.join(table.colnames)})")
    if "PROBDENSITY" not in columns:
        raise InvalidInputError(
            "PROBDENSITY", None, f"a column of probability per steradian (columns: {', '.join(table.colnames)})"
        )
    uniq_column = table[columns["UNIQ"]]
    if len(table) == 0 or uniq_column.ndim != 1 or not np.issubdtype(uniq_column.dtype, np.integer):
        raise InvalidInputError("UNIQ", f"{len(table)} rows of {uniq_column.dtype}", "one 64-bit integer per row")
    uniq = np.asarray(uniq_column, dtype=np.int64)
    if uniq.min() < 4 or uniq.max() >= 16 << (2 * MAX_ORDER):
        bad = int(uniq.min()) if uniq.min() < 4 else int(uniq.max())
        raise InvalidInputError("UNIQ", bad, f"NUNIQ indices 4 * 4**order + ipix, order 0 to {MAX_ORDER}")
    if len(np.unique(uniq)) != len(uniq):
        raise InvalidInputError("UNIQ", "repeated indices", "each pixel once")
    density = _density(table[columns["PROBDENSITY"]])
    import astropy_healpix as ah

    level, ipix = (np.asarray(part, dtype=np.int64) for part in ah.uniq_to_level_ipix(uniq))
    area = np.asarray(ah.nside_to_pixel_area(ah.level_to_nside(level)).to_value("sr"), dtype=float)
    _refuse_overlaps(level, ipix)
    probability = density * area
    total = float(probability.sum())
    if not total > 0:
        raise InvalidInputError("PROBDENSITY", total, "some probability: the density integrates to zero")
    return SkyMap(
        uniq=uniq,
        level=level,
        ipix=ipix,
        area_sr=area,
        probdensity=density / total,
        probability=probability / total,
        object=str(meta.get("OBJECT", "") or ""),
        date_obs=_date_obs(meta.get("DATE-OBS")),
        mocorder=_mocorder(meta.get("MOCORDER")),
        total_probability=total,
        distmu=_optional(table, columns, "DISTMU"),
        distsigma=_optional(table, columns, "DISTSIGMA"),
        distnorm=_optional(table, columns, "DISTNORM"),
        distmean_mpc=_number(meta.get("DISTMEAN")),
        diststd_mpc=_number(meta.get("DISTSTD")),
    )


def containment(skymap: SkyMap, level: float = 0.9) -> Containment:
    """The smallest region holding ``level`` of the probability: densest pixels first until the sum reaches it."""
    if not 0 < level <= 1:
        raise InvalidInputError("level", level, "a containment probability above 0 and at most 1")
    order = np.argsort(-skymap.probdensity, kind="stable")
    cumulative = np.cumsum(skymap.probability[order])
    crossing = min(int(np.searchsorted(cumulative, level * cumulative[-1])), len(order) - 1)
    before = float(cumulative[crossing - 1]) if crossing else 0.0
    inside = float(skymap.probability[order[crossing]])
    fraction = (level * cumulative[-1] - before) / inside if inside > 0 else 1.0
    area = float(skymap.area_sr[order[:crossing]].sum()) + fraction * float(skymap.area_sr[order[crossing]])
    return Containment(
        level=level,
        area_deg2=area * (180 / math.pi) ** 2,
        pixels=order[: crossing + 1],
        probability=float(cumulative[crossing]),
    )


def credible_area_deg2(skymap: SkyMap, level: float = 0.9) -> float:
    """The area (deg^2) of the ``level`` credible region: 90% by default."""
    return containment(skymap, level).area_deg2


def searched_probability(skymap: SkyMap, ra_deg: float, dec_deg: float) -> float:
    """The smallest containment level whose region holds the position: 0 at the peak, near 1 far from it."""
    import astropy_healpix as ah
    from astropy import units

    levels = np.unique(skymap.level)
    found = -1
    for lev in levels:  # the position lies in exactly one pixel of the map, at one of its levels
        index = int(ah.lonlat_to_healpix(ra_deg * units.deg, dec_deg * units.deg, 1 << int(lev), order="nested"))
        hit = np.flatnonzero((skymap.level == lev) & (skymap.ipix == index))
        if len(hit):
            found = int(hit[0])
            break
    if found < 0:
        return 1.0
    denser = skymap.probdensity > skymap.probdensity[found]
    return float(skymap.probability[denser].sum() + skymap.probability[found])


def flatten(skymap: SkyMap, level: int, pixels: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The map (or its ``pixels``) at one level: sorted nested indices and their probabilities.

    Finer pixels are summed into their ancestor; a coarser one's probability is shared equally by its
    descendants (a multi-order pixel's density is uniform).  Only pixels holding some of the map are returned.
    """
    rows = np.arange(len(skymap.uniq)) if pixels is None else np.asarray(pixels)
    lev, ipix, prob = skymap.level[rows], skymap.ipix[rows], skymap.probability[rows]
    fine = lev >= level
    parts_index = [ipix[fine] >> (2 * (lev[fine] - level))]
    parts_prob = [prob[fine]]
    for coarse in np.unique(lev[~fine]).tolist():
        these = lev == coarse
        shift = 2 * (level - coarse)
        children = (ipix[these] << shift)[:, None] + np.arange(1 << shift)[None, :]
        parts_index.append(children.ravel())
        parts_prob.append(np.repeat(prob[these] / (1 << shift), 1 << shift))
    index, inverse = np.unique(np.concatenate(parts_index), return_inverse=True)
    return index, np.bincount(inverse, weights=np.concatenate(parts_prob), minlength=len(index))


def observable_probability(
    skymap: SkyMap,
    night: NightGeometry,
    constraints: PlanRequest,
    *,
    start: datetime | None = None,
    tolerance: float = 1e-4,
    max_pixels: int = MAX_PIXELS,
) -> Observability:
    """The probability observable tonight under ``constraints`` (a request whose position is ignored).

    A pixel counts when, by the planner's own visibility (darkness at the request's twilight, altitude and
    airmass, hour angle, Moon), it has a run of feasible minutes long enough for the request's block
    (exposure plus overhead, in whole minutes, plus one: the planner needs both ends of a block feasible),
    after ``start`` when given.  The densest pixels holding all but ``tolerance`` of the probability are
    evaluated, flattened to the finest level at which they number at most ``max_pixels``.
    """
    region = containment(skymap, 1.0 - tolerance).pixels
    level = _level_for(skymap, region, max_pixels, finest=FINEST)
    index, prob = flatten(skymap, level, region)
    ra, dec = _centres(index, level)
    observable, windows = _observable(night, constraints, ra, dec, start)
    moments = [moment for runs_of in windows for run in runs_of for moment in run]
    return Observability(
        probability=float(prob[observable].sum()),
        unevaluated=max(0.0, 1.0 - float(prob.sum())),
        level=level,
        pixels=len(index),
        observable_pixels=int(observable.sum()),
        first=min(moments) if moments else None,
        last=max(moments) if moments else None,
    )


def tile(
    skymap: SkyMap,
    night: NightGeometry,
    constraints: PlanRequest,
    *,
    fov_deg: float,
    budget_s: float,
    start: datetime | None = None,
    coverage: float = 0.999,
    min_probability: float = 0.0,
) -> Tiling:
    """The tiles (square fields of side ``fov_deg``) covering the most probability, best first, within the budget.

    Candidate centres are the pixel centres of the coarsest HEALPix grid whose pixels are no larger than the
    field (so neighbouring candidates overlap by up to half a field: greedy choice can shift by half a field).
    A tile's probability is the map's, flattened to at least four points per field side, in the points inside
    its square (gnomonic, sides along RA and Dec); the best tile is taken, its points removed from every other
    tile (nothing counted twice) and the next found, until ``budget_s // (exposure + overhead)`` tiles or no
    tile holds more than ``min_probability``.  Only tiles observable tonight (as ``observable_probability``
    decides it, for the tile's centre) are taken; their feasible runs come with them.
    """
    if not fov_deg > 0 or fov_deg > 30:
        raise InvalidInputError("fov_deg", fov_deg, "a field of view side above 0 and at most 30 degrees")
    block_s = constraints.duration_s + constraints.overhead_s
    if not block_s > 0:
        raise InvalidInputError("duration_s", constraints.duration_s, "an exposure (plus overhead) above 0 seconds")
    if not budget_s >= 0:
        raise InvalidInputError("budget_s", budget_s, "a time budget of 0 seconds or more")
    most = int(math.floor(budget_s / block_s + 1e-9))
    import astropy_healpix as ah
    from astropy import units

    tile_level = int(ah.nside_to_level(ah.pixel_resolution_to_nside(fov_deg * units.deg, round="up")))
    region = containment(skymap, coverage).pixels
    sharp = int(ah.nside_to_level(ah.pixel_resolution_to_nside(fov_deg / 4 * units.deg, round="up")))
    # Flattened at the sharp level (or as fine as a bounded flattening allows), then the densest points kept:
    # a budget's tiles cover a small part of a broad map, and the points they can reach are those.
    flat_level = _level_for(skymap, region, 8 * MAX_POINTS, finest=max(FINEST, sharp), cap=sharp)
    point_level = max(tile_level + 1, flat_level)
    points, point_prob = flatten(skymap, point_level, region)
    if len(points) > MAX_POINTS:
        keep = np.sort(np.argsort(-point_prob, kind="stable")[:MAX_POINTS])
        points, point_prob = points[keep], point_prob[keep]
    shift = 2 * (point_level - tile_level)
    cells = np.unique(points >> shift)
    around = _neighbours(cells, tile_level)
    candidates = np.unique(np.concatenate([cells, around[around >= 0]]))
    pair_tile, pair_point = _pairs(candidates, points, tile_level, point_level, fov_deg)
    tile_prob = np.bincount(pair_tile, weights=point_prob[pair_point], minlength=len(candidates))
    holding = np.flatnonzero(tile_prob > 0)  # candidates holding nothing are dropped
    remap = np.full(len(candidates), -1)
    remap[holding] = np.arange(len(holding))
    keep = remap[pair_tile] >= 0
    pair_tile, pair_point = remap[pair_tile[keep]], pair_point[keep]
    candidates, tile_prob = candidates[holding], tile_prob[holding]
    by_tile = np.argsort(pair_tile, kind="stable")
    tile_ptr = np.searchsorted(pair_tile[by_tile], np.arange(len(candidates) + 1))
    by_point = np.argsort(pair_point, kind="stable")
    point_ptr = np.searchsorted(pair_point[by_point], np.arange(len(points) + 1))
    per_point = np.diff(point_ptr)  # the tiles each point lies in
    ra, dec = _centres(candidates, tile_level)
    status = np.zeros(len(candidates), dtype=np.int8)  # 0 not yet evaluated, 1 observable, -1 not
    windows: dict[int, tuple[tuple[datetime, datetime], ...]] = {}
    covered = np.zeros(len(points), dtype=bool)
    chosen: list[Tile] = []
    total = 0.0
    while len(chosen) < most:
        score = np.where(status >= 0, tile_prob, -np.inf)
        best = int(np.argmax(score)) if len(score) else -1
        if best < 0 or not score[best] > max(min_probability, 1e-12):
            break
        if status[best] == 0:  # evaluate the most probable unevaluated candidates, this one among them
            unknown = np.flatnonzero(status == 0)
            batch = unknown[np.argsort(-tile_prob[unknown], kind="stable")[: max(BATCH, 2 * most)]]
            observable, runs_of = _observable(night, constraints, ra[batch], dec[batch], start)
            status[batch] = np.where(observable, 1, -1)
            windows.update((int(k), found) for k, found in zip(batch.tolist(), runs_of, strict=True))
            continue
        mine = pair_point[by_tile[tile_ptr[best] : tile_ptr[best + 1]]]
        mine = mine[~covered[mine]]
        covered[mine] = True
        gained = float(point_prob[mine].sum())
        total += gained
        affected = _spans(point_ptr[mine], point_ptr[mine + 1])
        np.subtract.at(tile_prob, pair_tile[by_point[affected]], np.repeat(point_prob[mine], per_point[mine]))
        tile_prob[best] = 0.0
        np.maximum(tile_prob, 0.0, out=tile_prob)
        chosen.append(
            Tile(
                rank=len(chosen) + 1,
                ra_deg=float(ra[best]),
                dec_deg=float(dec[best]),
                probability=gained,
                cumulative=total,
                windows=windows[best],
                nside=1 << tile_level,
                healpix=int(candidates[best]),
            )
        )
    return Tiling(
        tiles=tuple(chosen),
        probability=total,
        fov_deg=fov_deg,
        budget_s=budget_s,
        block_s=block_s,
        nside=1 << tile_level,
        point_level=point_level,
        points_probability=float(point_prob.sum()),
        candidates=len(candidates),
        evaluated=int((status != 0).sum()),
    )


def in_square(
    centre_ra_deg: np.ndarray | float,
    centre_dec_deg: np.ndarray | float,
    ra_deg: np.ndarray | float,
    dec_deg: np.ndarray | float,
    fov_deg: float,
) -> np.ndarray:
    """Whether each position lies in the square field of side ``fov_deg`` centred on each centre (gnomonic)."""
    centre, east, north = _frames(np.atleast_1d(centre_ra_deg), np.atleast_1d(centre_dec_deg))
    return _inside(_unit(np.atleast_1d(ra_deg), np.atleast_1d(dec_deg)), centre, east, north, fov_deg)


def _inside(xyz: np.ndarray, centre: np.ndarray, east: np.ndarray, north: np.ndarray, fov_deg: float) -> np.ndarray:
    """The gnomonic square test on unit vectors (rows): xi, eta (times cos c) as dot products with east, north."""
    cos_c = np.einsum("ij,ij->i", *np.broadcast_arrays(xyz, centre))
    half = math.tan(math.radians(fov_deg) / 2) * cos_c
    inside = (cos_c > 0) & (np.abs(np.einsum("ij,ij->i", *np.broadcast_arrays(xyz, east))) <= half)
    return inside & (np.abs(np.einsum("ij,ij->i", *np.broadcast_arrays(xyz, north))) <= half)


def _observable(
    night: NightGeometry, constraints: PlanRequest, ra: np.ndarray, dec: np.ndarray, start: datetime | None
) -> tuple[np.ndarray, list[tuple[tuple[datetime, datetime], ...]]]:
    """Per position: whether a block of ``constraints`` fits tonight, and the feasible runs long enough for one."""
    requests = [
        replace(constraints, id=k, ra_deg=float(a), dec_deg=float(d))
        for k, (a, d) in enumerate(zip(ra.tolist(), dec.tolist(), strict=True))
    ]
    found: list[tuple[tuple[datetime, datetime], ...]] = [() for _ in requests]
    if not requests:
        return np.zeros(0, dtype=bool), found
    vis = compute_visibility(night, requests)
    feasible = vis.feasible
    if start is not None and vis.grid:
        feasible = feasible & (np.array([moment.timestamp() for moment in vis.grid]) >= start.timestamp())[None, :]
    row, first, end = runs(feasible)
    long_enough = end - first >= constraints.minutes + 1
    observable = np.zeros(len(requests), dtype=bool)
    observable[row[long_enough]] = True
    for k, a, b in zip(*(part[long_enough].tolist() for part in (row, first, end)), strict=True):
        found[k] = (*found[k], (vis.grid[a], vis.grid[b - 1]))
    return observable, found


def _level_for(skymap: SkyMap, rows: np.ndarray, most: int, *, finest: int, cap: int | None = None) -> int:
    """The finest level (up to ``finest``, or ``cap``) at which the pixels ``rows`` flatten to at most ``most``."""
    lev, ipix = skymap.level[rows], skymap.ipix[rows]
    top = min(finest, cap) if cap is not None else finest
    for level in range(top, 0, -1):
        fine = lev >= level
        count = len(np.unique(ipix[fine] >> (2 * (lev[fine] - level)))) + int(
            np.sum(np.left_shift(1, 2 * (level - lev[~fine])))
        )
        if count <= most:
            return level
    return 0


def _centres(index: np.ndarray, level: int) -> tuple[np.ndarray, np.ndarray]:
    import astropy_healpix as ah

    lon, lat = ah.healpix_to_lonlat(index, 1 << level, order="nested")
    return np.asarray(lon.deg, dtype=float), np.asarray(lat.deg, dtype=float)


def _neighbours(index: np.ndarray, level: int) -> np.ndarray:
    """The eight neighbours (rows) of each nested pixel; -1 where only seven exist."""
    import astropy_healpix as ah

    with np.errstate(invalid="ignore"):  # astropy-healpix warns where it writes the -1
        return np.asarray(ah.neighbours(index, 1 << level, order="nested"))


def _pairs(
    candidates: np.ndarray, points: np.ndarray, tile_level: int, point_level: int, fov_deg: float
) -> tuple[np.ndarray, np.ndarray]:
    """(candidate, point) index pairs with the point inside the candidate's square.

    A point in a candidate's square is within half a diagonal (under 1.42 tile pixels) of its centre, so it
    lies in the candidate's pixel or one at most two neighbour steps away (2.5 pixels): those pixels'
    descendants are contiguous runs of nested indices, found in the sorted points by bisection.
    """
    ring1 = _neighbours(candidates, tile_level)  # (8, candidates)
    ring2 = _neighbours(np.where(ring1 >= 0, ring1, candidates[None, :]).ravel(), tile_level)
    block = np.concatenate([candidates[None, :], ring1, ring2.reshape(64, len(candidates))], axis=0).T  # (c, 73)
    block = np.sort(np.where(block >= 0, block, -1), axis=1)
    repeated = np.zeros_like(block, dtype=bool)
    repeated[:, 1:] = block[:, 1:] == block[:, :-1]
    owner, column = np.nonzero((block >= 0) & ~repeated)
    cells = block[owner, column]
    shift = 2 * (point_level - tile_level)
    lo = np.searchsorted(points, cells << shift)
    hi = np.searchsorted(points, (cells + 1) << shift)
    pair_point = _spans(lo, hi)
    pair_tile = np.repeat(owner, hi - lo)
    centre, east, north = _frames(*_centres(candidates, tile_level))
    points_xyz = _unit(*_centres(points, point_level))
    inside = _inside(points_xyz[pair_point], centre[pair_tile], east[pair_tile], north[pair_tile], fov_deg)
    return pair_tile[inside], pair_point[inside]


def _unit(ra_deg: np.ndarray, dec_deg: np.ndarray) -> np.ndarray:
    a, d = np.radians(ra_deg), np.radians(dec_deg)
    return np.stack([np.cos(d) * np.cos(a), np.cos(d) * np.sin(a), np.sin(d)], axis=1)


def _frames(ra_deg: np.ndarray, dec_deg: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each centre's direction and its local east and north (unit vectors, rows)."""
    a, d = np.radians(ra_deg), np.radians(dec_deg)
    east = np.stack([-np.sin(a), np.cos(a), np.zeros_like(a)], axis=1)
    north = np.stack([-np.sin(d) * np.cos(a), -np.sin(d) * np.sin(a), np.cos(d)], axis=1)
    return _unit(ra_deg, dec_deg), east, north


def _spans(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """The integers of every range [lo, hi), concatenated, vectorised."""
    lengths = hi - lo
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.repeat(lo - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    return np.arange(total, dtype=np.int64) + starts


def _refuse_overlaps(level: np.ndarray, ipix: np.ndarray) -> None:
    """Refuse a map where one pixel lies inside another (a pixel and its ancestor both listed)."""
    levels = np.unique(level).tolist()
    for coarse in levels[:-1]:
        finer = level > coarse
        ancestors = ipix[finer] >> (2 * (level[finer] - coarse))
        inside = np.isin(ancestors, ipix[level == coarse])
        if inside.any():
            child = int(np.flatnonzero(finer)[np.argmax(inside)])
            raise InvalidInputError(
                "UNIQ",
                f"order {int(level[child])} pixel {int(ipix[child])} inside order {coarse} pixel "
                f"{int(ancestors[np.argmax(inside)])}",
                "pixels that overlap nowhere (a multi-order map)",
            )


def _density(column: Any) -> np.ndarray:
    unit = getattr(column, "unit", None)
    values = np.asarray(column, dtype=float)
    if unit is not None:
        from astropy import units

        try:
            values = values * float(unit.to(units.sr**-1))
        except units.UnitConversionError:
            raise InvalidInputError("PROBDENSITY", str(unit), "a density per solid angle (sr-1 or deg-2)") from None
    if values.ndim != 1:
        raise InvalidInputError("PROBDENSITY", f"shape {values.shape}", "one density per pixel")
    bad = np.flatnonzero(~np.isfinite(values) | (values < 0))
    if len(bad):
        raise InvalidInputError("PROBDENSITY", float(values[bad[0]]), "finite, non-negative densities")
    return values


def _optional(table: Any, columns: dict[str, str], name: str) -> np.ndarray | None:
    if name not in columns:
        return None
    values = np.asarray(table[columns[name]], dtype=float)
    if values.ndim != 1:
        raise InvalidInputError(name, f"shape {values.shape}", "one value per pixel")
    return values


def _date_obs(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        moment = datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidInputError("DATE-OBS", value, "an ISO 8601 time (UTC)") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _mocorder(value: Any) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or not 0 <= int(value) <= MAX_ORDER:
        raise InvalidInputError("MOCORDER", value, f"an order from 0 to {MAX_ORDER}")
    return int(value)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float | np.number) and not isinstance(value, bool) else None


def _gunzip(data: bytes) -> bytes:
    try:
        with gzip.GzipFile(fileobj=BytesIO(data)) as stream:
            unpacked = stream.read(MAX_UNPACKED + 1)
    except (OSError, EOFError) as error:
        raise InvalidInputError("skymap", _shown(data), f"gzip data that unpacks ({error})") from None
    if len(unpacked) > MAX_UNPACKED:
        raise InvalidInputError("skymap", f"over {MAX_UNPACKED} bytes unpacked", "a sky map of at most 64 MiB")
    return unpacked


def _shown(data: Any) -> str:
    if isinstance(data, bytes | bytearray | memoryview):
        head = bytes(data[:16])
        return f"{len(data)} bytes starting {head!r}" if len(data) else "no bytes"
    return type(data).__name__
