"""The model PSF against the analytic obstructed Airy pattern, its exact sub-pixel centring, and the normaliser."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import j1

from obslab.observing import fourier
from obslab.observing.optics import (
    ARCSEC,
    FILTER_WAVELENGTH_UM,
    ROBO_AO_KPNO,
    Telescope,
    box_pixels,
    model_psf,
    peak_ratio,
    wavelength_of,
)

SI = FILTER_WAVELENGTH_UM["Si"]


def airy_pixels(telescope: Telescope, wavelength_um: float, size: int, sub: int = 11) -> np.ndarray:
    """The obstructed Airy pattern integrated over pixels by ``sub`` x ``sub`` point samples (the oracle)."""
    eps = telescope.obstruction_m / telescope.diameter_m
    offsets = ((np.arange(size * sub) + 0.5) / sub - 0.5) - size // 2  # pixel units, 0 at the centre pixel's centre
    r = np.hypot(offsets[:, None], offsets[None, :]) * telescope.pixel_scale_arcsec * ARCSEC
    v = math.pi * telescope.diameter_m * r / (wavelength_um * 1e-6)
    v = np.where(v == 0, 1e-12, v)
    amplitude = 2 * j1(v) / v - eps**2 * 2 * j1(eps * v) / (eps * v)
    intensity = amplitude**2
    return intensity.reshape(size, sub, size, sub).sum(axis=(1, 3))


@pytest.mark.parametrize("filter_name", ["Sg", "Si", "Sz"])
def test_model_psf_matches_the_analytic_obstructed_airy_pattern(filter_name: str) -> None:
    wavelength = FILTER_WAVELENGTH_UM[filter_name]
    size = 65
    model = model_psf(ROBO_AO_KPNO, wavelength, size)
    oracle = airy_pixels(ROBO_AO_KPNO, wavelength, size)
    c, h = size // 2, 10
    # Compare shapes within the inner 21 x 21 pixels, each normalised to its flux there (the FFT field folds the far
    # wings back in; the analytic pattern does not).
    inner_model = model[c - h : c + h + 1, c - h : c + h + 1]
    inner_oracle = oracle[c - h : c + h + 1, c - h : c + h + 1]
    inner_model = inner_model / inner_model.sum()
    inner_oracle = inner_oracle / inner_oracle.sum()
    assert np.unravel_index(np.argmax(model), model.shape) == (c, c)
    assert abs(inner_model.max() / inner_oracle.max() - 1) < 0.003
    assert np.abs(inner_model - inner_oracle).max() < 0.003 * inner_oracle.max()


def test_model_psf_sums_to_one_and_is_symmetric() -> None:
    psf = model_psf(ROBO_AO_KPNO, SI, 64)
    assert psf.sum() == pytest.approx(1.0, abs=1e-12)
    c = 32
    assert psf[c - 5, c] == pytest.approx(psf[c + 5, c], rel=1e-9)
    assert psf[c, c - 3] == pytest.approx(psf[c - 3, c], rel=1e-9)
    assert not psf.flags.writeable  # cached arrays must not be changed by a caller


def test_a_sub_pixel_centre_is_the_fourier_shift_of_the_centred_psf() -> None:
    """Si is sampled above Nyquist (lambda/D = 2.4 px), so the pupil tilt and the spectrum's ramp must agree."""
    size = 64
    centred = model_psf(ROBO_AO_KPNO, SI, size)
    moved = model_psf(ROBO_AO_KPNO, SI, size, center=(32.3, 31.55))
    expected = fourier.fourier_shift(centred, (0.3, -0.45))
    assert np.abs(moved - expected).max() < 1e-4 * centred.max()
    # And by the requested amount, the right way: the first harmonic's phase moves by -2 pi shift / size.
    before, after = np.fft.fft2(centred), np.fft.fft2(moved)
    dy = -np.angle(after[1, 0] / before[1, 0]) * size / (2 * np.pi)
    dx = -np.angle(after[0, 1] / before[0, 1]) * size / (2 * np.pi)
    assert (dy, dx) == pytest.approx((0.3, -0.45), abs=1e-4)


def test_peak_ratio_is_the_model_peak_over_its_box_flux_and_grows_with_wavelength_squared_at_fine_sampling() -> None:
    side = box_pixels(3.0, ROBO_AO_KPNO.pixel_scale_arcsec)
    assert side == 85
    ratios = {name: peak_ratio(ROBO_AO_KPNO, FILTER_WAVELENGTH_UM[name]) for name in ("Si", "Sz")}
    # Peak over total for an obstructed aperture, point-sampled: pi/4 (1 - eps^2) (D p / lambda)^2; pixel
    # integration lowers it a little and the box holds a little less than the total, raising it.
    eps = ROBO_AO_KPNO.obstruction_m / ROBO_AO_KPNO.diameter_m
    for name, ratio in ratios.items():
        dp = ROBO_AO_KPNO.diameter_m * ROBO_AO_KPNO.pixel_scale_arcsec * ARCSEC / (FILTER_WAVELENGTH_UM[name] * 1e-6)
        analytic = math.pi / 4 * (1 - eps**2) * dp**2
        assert 0.85 * analytic < ratio < 1.05 * analytic
    assert ratios["Si"] > ratios["Sz"]


def test_unknown_filter_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown filter 'Hα'.*Sg, Sr, Si, Sz, lp600, c"):
        wavelength_of("Hα")
