"""Sky maps: multi-order FITS read and refused, credible areas, probability observable tonight, tiling."""

from __future__ import annotations

import gzip
import math
from datetime import date
from io import BytesIO

import astropy_healpix as ah
import numpy as np
import pytest
from astropy.table import Table

from obslab.demo.notices import multiorder_map
from obslab.errors import InvalidInputError
from obslab.scheduling.night import night_geometry
from obslab.scheduling.skymaps import (
    containment,
    credible_area_deg2,
    flatten,
    in_square,
    observable_probability,
    read_skymap,
    searched_probability,
    tile,
)
from obslab.scheduling.visibility import PlanRequest
from tests.helpers.support import KITT_PEAK

NIGHT = date(2026, 12, 8)
#: Overhead at Kitt Peak at about local midnight of NIGHT (07:00 UTC): RA = the local sidereal time then.
ZENITH_RA, ZENITH_DEC = 71.4, 32.0
CONSTRAINTS = PlanRequest(id="template", ra_deg=0.0, dec_deg=0.0, duration_s=300.0, overhead_s=60.0, max_airmass=2.0)


def fisher_area_deg2(level: float, sigma_deg: float, weight: float = 1.0) -> float:
    """The exact area of the ``level`` region of ``weight`` x Fisher + (1 - weight) x uniform: a cap around the peak.

    Within angle theta the Fisher part holds (1 - exp(-kappa (1 - cos theta))) / (1 - exp(-2 kappa)) and the
    uniform part (1 - cos theta) / 2; both grow with theta, so the cap is found by bisection on 1 - cos theta.
    """
    kappa = 1.0 / math.radians(sigma_deg) ** 2

    def held(u: float) -> float:
        return weight * -math.expm1(-kappa * u) / -math.expm1(-2 * kappa) + (1 - weight) * u / 2

    lo, hi = 0.0, 2.0
    for _ in range(100):
        middle = (lo + hi) / 2
        lo, hi = (middle, hi) if held(middle) < level else (lo, middle)
    return 2 * math.pi * lo * (180 / math.pi) ** 2


def fits_bytes(columns: dict, **meta: object) -> bytes:
    table = Table(columns)
    table.meta.update(meta)
    buffer = BytesIO()
    table.write(buffer, format="fits")
    return buffer.getvalue()


def recounted(skymap, tiling) -> tuple[list[float], float]:
    """Each tile's probability counted again by brute force: what its square holds of the points the tiling
    counted (the 99.9% region at its level) that no tile before it took; and what all of them hold."""
    points, prob = flatten(skymap, tiling.point_level, containment(skymap, 0.999).pixels)
    lon, lat = ah.healpix_to_lonlat(points, 1 << tiling.point_level, order="nested")
    taken = np.zeros(len(points), dtype=bool)
    marginals = []
    for chosen in tiling.tiles:
        inside = in_square(chosen.ra_deg, chosen.dec_deg, lon.deg, lat.deg, tiling.fov_deg)
        marginals.append(float(prob[inside & ~taken].sum()))
        taken |= inside
    return marginals, float(prob[taken].sum())


@pytest.fixture(scope="module")
def night():
    return night_geometry(KITT_PEAK, NIGHT)


@pytest.fixture(scope="module")
def overhead_blob():
    return read_skymap(multiorder_map(ZENITH_RA, ZENITH_DEC, 3.0, weight=0.95))


def test_a_multiorder_map_is_read_with_its_header_and_sums_to_one(overhead_blob) -> None:
    skymap = overhead_blob
    assert len(np.unique(skymap.level)) >= 3  # truly multi-order
    assert skymap.object == "S261208ab"
    assert skymap.date_obs is not None and skymap.date_obs.isoformat() == "2026-12-08T05:06:07.500000+00:00"
    assert skymap.mocorder == 8
    assert skymap.area_sr.sum() == pytest.approx(4 * math.pi, rel=1e-12)  # covers the sky once
    assert skymap.probability.sum() == pytest.approx(1.0, abs=1e-12)
    assert skymap.total_probability == pytest.approx(1.0, rel=0.01)  # the file's own sum, before normalising
    for level in (4, 6, 9):  # flattening keeps every bit of it
        assert flatten(skymap, level)[1].sum() == pytest.approx(1.0, abs=1e-12)


def test_a_gzipped_map_reads_the_same() -> None:
    data = multiorder_map(10.0, -20.0, 5.0, max_level=6)
    plain, packed = read_skymap(data), read_skymap(gzip.compress(data))
    assert np.array_equal(plain.uniq, packed.uniq) and np.array_equal(plain.probability, packed.probability)


@pytest.mark.parametrize(("sigma", "weight"), [(2.0, 1.0), (4.0, 1.0), (3.0, 0.8)])
def test_the_90_percent_area_matches_the_analytic_cap(sigma: float, weight: float) -> None:
    # Each pixel holds its mean density (64 samples), so the map differs from the blob only in being constant
    # per pixel: where the 90% boundary runs pixels are level 8 (0.23 deg, a tenth of sigma), and the densest-
    # first region's edge can stray by about a pixel's share of the boundary's band, well under 1% of the area
    # (0.1% measured for sigma 2, 0.03% for 4).  A wrong pixel area, a missing normalisation or taking the
    # crossing pixel whole or not at all would be off by several per cent at least.
    skymap = read_skymap(multiorder_map(120.0, 40.0, sigma, weight=weight))
    for level in (0.5, 0.9):
        assert credible_area_deg2(skymap, level) == pytest.approx(fisher_area_deg2(level, sigma, weight), rel=0.01)
    region = containment(skymap, 0.9)
    assert 0.9 <= region.probability <= 0.9 + skymap.probability[region.pixels].max() + 1e-12
    assert region.area_deg2 < region.pixels.size * skymap.area_sr.max() * (180 / math.pi) ** 2


def test_searched_probability_grows_from_the_peak() -> None:
    skymap = read_skymap(multiorder_map(120.0, 40.0, 2.0))
    assert searched_probability(skymap, 120.0, 40.0) < 0.01
    # Within theta the blob holds 1 - exp(-theta^2 / 2 sigma^2); the position's pixel (level 8, up to 0.33 deg
    # corner to corner) decides its level, and at one sigma the level grows 0.3 a degree: 0.06 either way.
    found = [searched_probability(skymap, 120.0, 40.0 + offset) for offset in (1.0, 2.0, 3.0)]
    assert found == sorted(found)
    for offset, level in zip((1.0, 2.0, 3.0), found, strict=True):
        assert level == pytest.approx(1 - math.exp(-(offset**2) / 8), abs=0.06)
    assert searched_probability(skymap, 300.0, -40.0) > 0.999


def test_observable_probability_is_zero_for_a_blob_never_high_enough(night) -> None:
    # Dec -70 at latitude 32 culminates at -8 deg: never above the horizon, let alone airmass 2 (30 deg).
    skymap = read_skymap(multiorder_map(ZENITH_RA, -70.0, 3.0))
    found = observable_probability(skymap, night, CONSTRAINTS)
    assert found.probability < 1e-6
    assert found.unevaluated <= 1e-4


def test_observable_probability_is_large_for_a_blob_overhead_at_night(night, overhead_blob) -> None:
    found = observable_probability(overhead_blob, night, CONSTRAINTS)
    # The blob (95%) is up all night; of the uniform 5%, the part of the sky above 30 deg for long enough.
    assert 0.95 < found.probability < 1.0
    dark = night.dark("astronomical")
    assert found.first is not None and found.last is not None
    assert dark[0] <= found.first < found.last <= dark[1]


def test_observability_follows_the_darkness_asked_and_the_start(night, overhead_blob) -> None:
    # After dawn nothing is observable; from 11:00 UTC (04:00 local) the blob is still up, for less time.
    dark_end = night.dark("astronomical")[1]
    after_dawn = observable_probability(overhead_blob, night, CONSTRAINTS, start=dark_end)
    assert after_dawn.probability == 0.0
    late = observable_probability(overhead_blob, night, CONSTRAINTS, start=dark_end.replace(hour=11, minute=0))
    assert late.first is not None and late.first >= dark_end.replace(hour=11, minute=0)


def test_in_square_is_a_square_not_a_circle() -> None:
    fov = 1.0
    assert in_square(10.0, 0.0, 10.49, 0.49, fov)  # a corner, 0.69 deg away
    assert not in_square(10.0, 0.0, 10.51, 0.0, fov)
    assert in_square(10.0, 60.0, 10.0 + 0.49 / math.cos(math.radians(60)), 60.0, fov)  # RA spreads at high Dec
    assert not in_square(10.0, 60.0, 10.51, 60.51, fov)


def test_tiling_takes_the_blob_centre_first_and_never_counts_twice(night) -> None:
    skymap = read_skymap(multiorder_map(ZENITH_RA, ZENITH_DEC, 1.0, max_level=9))
    fov = 1.0
    tiling = tile(skymap, night, CONSTRAINTS, fov_deg=fov, budget_s=20 * 360.0)
    assert len(tiling.tiles) == 20
    first = tiling.tiles[0]
    assert in_square(first.ra_deg, first.dec_deg, ZENITH_RA, ZENITH_DEC, fov)
    assert first.probability > 0.1  # a 1 deg square centred on a sigma 1 deg blob holds erf(0.5 / sqrt 2)^2 = 15%
    assert [t.rank for t in tiling.tiles] == list(range(1, 21))
    probabilities = [t.probability for t in tiling.tiles]
    assert probabilities == sorted(probabilities, reverse=True)  # greedy: each takes what is left, less each time
    assert len({(t.nside, t.healpix) for t in tiling.tiles}) == 20
    marginals, union = recounted(skymap, tiling)  # brute force over every point the tiling counted
    assert probabilities == pytest.approx(marginals, abs=1e-12)
    assert tiling.probability == pytest.approx(union, abs=1e-9) and union < 1.0
    assert tiling.tiles[-1].cumulative == pytest.approx(tiling.probability, abs=1e-12)
    for chosen in tiling.tiles:  # each observable, with a window long enough for its block
        assert chosen.windows and all((end - start).total_seconds() >= 360 for start, end in chosen.windows)


def test_the_time_budget_caps_the_tiles(night, overhead_blob) -> None:
    block = CONSTRAINTS.duration_s + CONSTRAINTS.overhead_s
    assert len(tile(overhead_blob, night, CONSTRAINTS, fov_deg=2.0, budget_s=3 * block + 359).tiles) == 3
    assert tile(overhead_blob, night, CONSTRAINTS, fov_deg=2.0, budget_s=block - 1).tiles == ()
    with pytest.raises(InvalidInputError, match="^fov_deg: "):
        tile(overhead_blob, night, CONSTRAINTS, fov_deg=0.0, budget_s=block)
    with pytest.raises(InvalidInputError, match="^budget_s: "):
        tile(overhead_blob, night, CONSTRAINTS, fov_deg=2.0, budget_s=float("nan"))


def test_tiling_takes_only_tiles_observable_tonight(night) -> None:
    skymap = read_skymap(multiorder_map(ZENITH_RA, -70.0, 2.0))
    assert tile(skymap, night, CONSTRAINTS, fov_deg=1.0, budget_s=36000.0).tiles == ()


def test_tiles_near_the_pole_count_exactly_what_their_square_holds(night) -> None:
    # Near the pole HEALPix pixels are most distorted: every tile's count must still be the brute-force sum.
    skymap = read_skymap(multiorder_map(40.0, 87.0, 2.0))
    fov = 0.7
    tiling = tile(skymap, night, CONSTRAINTS, fov_deg=fov, budget_s=12 * 360.0)
    marginals, _union = recounted(skymap, tiling)
    assert [chosen.probability for chosen in tiling.tiles] == pytest.approx(marginals, abs=1e-12)
    assert len(tiling.tiles) == 12


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (b"", "skymap"),
        (b"SIMPLE  = not really a FITS file", "skymap"),
        (gzip.compress(b"plain text, gzipped", mtime=0), "skymap"),  # mtime 0: the same bytes (and test id) everywhere
        (fits_bytes({"PROB": np.ones(12)}, ORDERING="NESTED"), "ORDERING"),
        (fits_bytes({"PROB": np.ones(12)}), "UNIQ"),
        (fits_bytes({"UNIQ": np.arange(4, 16)}), "PROBDENSITY"),
        (fits_bytes({"UNIQ": np.arange(4.0, 16.0), "PROBDENSITY": np.ones(12)}), "UNIQ"),
        (fits_bytes({"UNIQ": np.arange(0, 12), "PROBDENSITY": np.ones(12)}), "UNIQ"),
        (fits_bytes({"UNIQ": np.array([4, 4, 5]), "PROBDENSITY": np.ones(3)}), "UNIQ"),
        (fits_bytes({"UNIQ": np.array([4, 16, 17]), "PROBDENSITY": np.ones(3)}), "UNIQ"),  # a pixel and its child
        (fits_bytes({"UNIQ": np.arange(4, 16), "PROBDENSITY": -np.ones(12)}), "PROBDENSITY"),
        (fits_bytes({"UNIQ": np.arange(4, 16), "PROBDENSITY": np.full(12, np.nan)}), "PROBDENSITY"),
        (fits_bytes({"UNIQ": np.arange(4, 16), "PROBDENSITY": np.zeros(12)}), "PROBDENSITY"),
        (fits_bytes({"UNIQ": np.arange(4, 16), "PROBDENSITY": np.ones(12)}, **{"DATE-OBS": "yesterday"}), "DATE-OBS"),
        (fits_bytes({"UNIQ": np.arange(4, 16), "PROBDENSITY": np.ones(12)}, MOCORDER=40), "MOCORDER"),
        (fits_bytes({"UNIQ": np.zeros(0, dtype=np.int64), "PROBDENSITY": np.zeros(0)}), "UNIQ"),
    ],
)
def test_what_is_not_a_multiorder_map_is_refused_naming_the_field(data: bytes, field: str) -> None:
    with pytest.raises(InvalidInputError) as refused:
        read_skymap(data)
    assert refused.value.details["field"] == field
    assert str(refused.value).startswith(f"{field}: ")


def test_a_density_per_square_degree_is_converted() -> None:
    table = Table({"UNIQ": np.arange(4, 16), "PROBDENSITY": np.full(12, 1 / 41252.96)})
    table["PROBDENSITY"].unit = "deg-2"
    buffer = BytesIO()
    table.write(buffer, format="fits")
    skymap = read_skymap(buffer.getvalue())
    assert skymap.total_probability == pytest.approx(1.0, rel=1e-6)
    assert credible_area_deg2(skymap, 0.5) == pytest.approx(41252.96 / 2, rel=1e-6)


def test_observable_probability_agrees_with_astropy_altaz(night) -> None:
    # An independent oracle, as the research note computes it: astropy's AltAz (its own Earth rotation,
    # precession and nutation) for every pixel the module evaluated, every five minutes of astronomical
    # darkness; a pixel counts when it is above 30 deg (airmass 2) at two samples in a row, about the block's
    # 6 minutes.  Only pixels whose best run is within a sample of the block's length can differ: 0.14% measured.
    from astropy import units
    from astropy.coordinates import AltAz, SkyCoord
    from astropy.time import Time

    from obslab.astro import earth_location

    skymap = read_skymap(multiorder_map(ZENITH_RA + 60.0, -25.0, 25.0, min_level=2, max_level=6))
    found = observable_probability(skymap, night, CONSTRAINTS)
    assert found.level == 4  # a broad map: nside 16 keeps it within MAX_PIXELS
    index, prob = flatten(skymap, 4)
    lon, lat = ah.healpix_to_lonlat(index, 16, order="nested")
    start, end = night.dark("astronomical")
    times = Time(start.replace(tzinfo=None)) + np.arange(0, (end - start).total_seconds() / 60, 5) * units.min
    frame = AltAz(obstime=times[:, None], location=earth_location(KITT_PEAK))
    altitude = SkyCoord(lon[None, :], lat[None, :]).transform_to(frame).alt.deg
    high = altitude >= 30.0
    observable = (high[1:] & high[:-1]).any(axis=0)
    assert 0.2 < found.probability < 0.9  # a broad map, partly observable: the comparison means something
    assert found.probability == pytest.approx(prob[observable].sum(), abs=0.003)


def test_every_tile_counts_exactly_the_points_in_its_square_across_the_sky(night) -> None:
    # Uniform above Dec 35 and within 3 deg of the equator, tiled with large fields until nothing is left:
    # tiles land on the pole and on the corners of HEALPix's base pixels (Dec 41.8 and 0, where a pixel has
    # seven neighbours), and each must hold exactly the points its square holds that no better tile took:
    # the neighbourhood searched for a tile's points misses none.
    lon, lat = ah.healpix_to_lonlat(np.arange(3072), 16, order="nested")
    density = ((lat.deg > 35) | (np.abs(lat.deg) < 3)).astype(float)
    skymap = read_skymap(fits_bytes({"UNIQ": np.arange(4**4 * 4, 4**4 * 16), "PROBDENSITY": density}))
    fov = 5.5
    tiling = tile(skymap, night, CONSTRAINTS, fov_deg=fov, budget_s=5000 * 360.0)
    assert 200 < len(tiling.tiles) < 5000  # every observable tile holding anything left
    assert max(t.dec_deg for t in tiling.tiles) > 85 and min(abs(t.dec_deg) for t in tiling.tiles) < 3
    marginals, _union = recounted(skymap, tiling)
    assert [chosen.probability for chosen in tiling.tiles] == pytest.approx(marginals, abs=1e-12)
