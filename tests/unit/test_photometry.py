"""Aperture photometry against images of known sky and flux; the instrumental magnitude; metric units by name."""

from __future__ import annotations

import math

import numpy as np
import pytest

from obslab.observing import synthetic
from obslab.observing.pipeline.photometry import (
    ZERO_POINTS,
    aperture_photometry,
    clipped_median,
    instrumental_magnitude,
)
from obslab.observing.pipeline.writer import unit_of

SCALE = 0.0351594


def star_on_sky(flux: float, sky: float, *, fwhm_arcsec: float = 1.0, at: tuple[int, int] = (120, 140), seed: int = 0):
    """A Moffat star of ``flux`` moved to ``at`` on a flat ``sky``, with Gaussian noise of 1 ADU."""
    halo = np.roll(synthetic._halo((256, 256), fwhm_arcsec / SCALE), (at[0] - 128, at[1] - 128), axis=(0, 1))
    noise = np.random.default_rng(seed).standard_normal((256, 256))
    return flux * halo + sky + noise


@pytest.mark.parametrize(("flux", "sky"), [(2.0e5, 30.0), (5.0e4, 400.0), (1.0e6, 0.0)])
def test_sky_and_counts_are_recovered_from_an_image_of_known_truth(flux: float, sky: float) -> None:
    found = aperture_photometry(star_on_sky(flux, sky), SCALE)

    assert abs(found.position[0] - 120) <= 1 and abs(found.position[1] - 140) <= 1
    assert found.sky_adu == pytest.approx(sky, abs=0.05)
    # A 2.5" aperture holds all but a fraction of a per cent of a 1" Moffat of beta 4.765.
    assert found.counts_adu == pytest.approx(flux, rel=0.01)


def test_a_cosmic_ray_and_a_second_star_do_not_move_the_sky() -> None:
    image = star_on_sky(2.0e5, 30.0)
    image[10, 10] = 60000.0  # a cosmic ray far from the star
    image += np.roll(star_on_sky(2.0e4, 0.0, fwhm_arcsec=0.3), (100, -100), axis=(0, 1))  # a faint neighbour

    found = aperture_photometry(image, SCALE)
    assert abs(found.position[0] - 120) <= 1 and abs(found.position[1] - 140) <= 1  # the star, not the spike
    assert found.sky_adu == pytest.approx(30.0, abs=0.25)  # a plain mean of the same pixels is 1.9 high
    assert clipped_median(np.r_[np.full(1000, 5.0) + np.linspace(-1, 1, 1000), np.full(50, 1e4)]) == pytest.approx(
        5.0, abs=0.05
    )


def test_the_magnitude_is_minus_2_5_log_of_counts_per_second_plus_the_filters_zero_point() -> None:
    assert instrumental_magnitude(1.0e5, 0.1, "Si") == pytest.approx(-2.5 * 6 + ZERO_POINTS["Si"])
    # Ten times the counts per second: 2.5 magnitudes brighter; the same counts in half the time: 0.75 brighter.
    assert instrumental_magnitude(1.0e6, 0.1, "Si") - instrumental_magnitude(1.0e5, 0.1, "Si") == pytest.approx(-2.5)
    shorter = instrumental_magnitude(1.0e5, 0.05, "Sr") - instrumental_magnitude(1.0e5, 0.1, "Sr")
    assert shorter == pytest.approx(-2.5 * math.log10(2))
    assert instrumental_magnitude(1.0e5, 0.1, "Si", {"Si": 0.0}) == pytest.approx(-15.0)
    # Nothing is made up: no light, no frame time, or no zero point for the filter.
    assert instrumental_magnitude(-3.0, 0.1, "Si") is None
    assert instrumental_magnitude(1.0e5, 0.0, "Si") is None
    assert instrumental_magnitude(1.0e5, 0.1, "Hα") is None


@pytest.mark.parametrize(
    ("name", "unit"),
    [
        ("strehl_percent", "%"),
        ("seeing_nearest_arcsec", "arcsec"),
        ("sky_adu", "adu/px/frame"),
        ("counts_adu", "adu/frame"),
        ("dark_level_adu:6", "adu/px/frame"),
        ("flat_level_adu:lp600", "adu/px/frame"),
        ("magnitude", "mag"),
        ("frames", ""),
        ("quality_ok", ""),
    ],
)
def test_a_metrics_unit_follows_from_its_name(name: str, unit: str) -> None:
    assert unit_of(name) == unit
