"""The pipeline's stages against analytic cases and synthetic cubes with a known truth."""

from __future__ import annotations

import math

import numpy as np
import pytest

from obslab.observing import synthetic
from obslab.observing.optics import FILTER_WAVELENGTH_UM, ROBO_AO_KPNO, model_psf, psf_from_pupil, pupil
from obslab.observing.pipeline import stages
from tests.unit.test_optics import airy_pixels  # the analytic oracle

SI = FILTER_WAVELENGTH_UM["Si"]
SCALE = ROBO_AO_KPNO.pixel_scale_arcsec


# -- Strehl ------------------------------------------------------------------------------------------------------


def test_strehl_of_a_perfect_noiseless_frame_is_one() -> None:
    # The analytic obstructed Airy pattern, not the model the normaliser uses, on a sky of 50 counts.
    frame = airy_pixels(ROBO_AO_KPNO, SI, 191, sub=7)
    frame = 1e6 * frame / frame.sum() + 50.0
    result = stages.strehl(frame, ROBO_AO_KPNO, SI)
    assert result.ratio == pytest.approx(1.0, abs=0.02)
    assert result.lock_position == (95, 95)
    assert result.background == pytest.approx(50.0, abs=0.5)
    assert result.flag == "OK"
    # The diffraction-limited FWHM is about lambda/D (slightly less with the obstruction): 0.0855" in i'.
    assert 0.06 < result.core_arcsec < 0.1 and 0.06 < result.fwhm_arcsec < 0.1


def _low_order_phase(rms_waves: float, seed: int) -> np.ndarray:
    """A smooth random wavefront on the pupil's samples: up to 4 cycles across the pupil, piston and tilt removed,
    scaled to ``rms_waves`` over the (transmission-weighted) pupil, so its scattered light stays in the 3" box."""
    pup = pupil(ROBO_AO_KPNO, SI, 256)
    rng = np.random.default_rng(seed)
    y, x = pup.y_m / ROBO_AO_KPNO.diameter_m, pup.x_m / ROBO_AO_KPNO.diameter_m
    phase = np.zeros_like(y)
    for fy in range(-4, 5):
        for fx in range(-4, 5):
            if fy or fx:
                phase += rng.normal() * np.cos(2 * np.pi * (fy * y + fx * x) + rng.uniform(0, 2 * np.pi))
    weight = pup.transmission
    basis = np.stack([np.ones_like(y), y, x]).reshape(3, -1)
    coeffs = np.linalg.lstsq((basis * weight.ravel()).T, (phase * weight).ravel(), rcond=None)[0]
    phase -= (coeffs @ basis).reshape(y.shape)
    rms = math.sqrt((weight * phase**2).sum() / weight.sum())
    return phase * rms_waves / rms


@pytest.mark.parametrize("seed", [1, 2])
def test_strehl_of_a_small_known_wavefront_error_is_the_marechal_value(seed: int) -> None:
    sigma = 0.05  # waves RMS
    frame = psf_from_pupil(ROBO_AO_KPNO, SI, 256, phase_waves=_low_order_phase(sigma, seed))
    result = stages.strehl(1e6 * frame, ROBO_AO_KPNO, SI)
    marechal = math.exp(-((2 * math.pi * sigma) ** 2))
    assert result.ratio == pytest.approx(marechal, rel=0.02)
    assert result.ratio < 0.95  # and clearly below a perfect frame's


def test_strehl_flags_a_halo_wider_than_an_arcsecond() -> None:
    cube = synthetic.make_seeing_cube(3, 4, seeing_arcsec=2.0, read_noise=0.0, sky=5.0, dark=0.0, star_flux=1e7)
    image = stages.calibrate(cube.frames, np.full(cube.frames.shape[1:], 100.0), None).mean(axis=0)
    result = stages.strehl(image, ROBO_AO_KPNO, SI)
    assert result.halo_arcsec > 1.0 and result.flag == "BAD?"
    assert result.ratio < 0.05


# -- seeing ------------------------------------------------------------------------------------------------------


def _star(kind: str, fwhm_px: float, shape=(200, 200), centre=(101.3, 98.6)) -> np.ndarray:
    y, x = np.indices(shape, dtype=np.float64)
    r2 = (y - centre[0]) ** 2 + (x - centre[1]) ** 2
    if kind == "gauss":
        image = np.exp(-r2 / (2 * (fwhm_px / 2.3548200450309493) ** 2))
    else:
        beta = 3.0
        gamma = fwhm_px / (2 * math.sqrt(2 ** (1 / beta) - 1))
        image = (1 + r2 / gamma**2) ** (-beta)
    rng = np.random.default_rng(7)
    return 5000 * image + 40 + rng.normal(0, 2.0, shape)


@pytest.mark.parametrize("fwhm_arcsec", [0.8, 1.4])
def test_seeing_recovers_injected_gaussian_and_moffat_fwhm(fwhm_arcsec: float) -> None:
    fwhm_px = fwhm_arcsec / SCALE
    gauss = stages.seeing(_star("gauss", fwhm_px), SCALE)
    moffat = stages.seeing(_star("moffat", fwhm_px), SCALE)
    assert gauss.accepted and moffat.accepted
    assert gauss.fwhm_gauss_arcsec == pytest.approx(fwhm_arcsec, rel=0.02)
    assert gauss.seeing_arcsec == gauss.fwhm_gauss_arcsec
    assert moffat.fwhm_moffat_arcsec == pytest.approx(fwhm_arcsec, rel=0.02)
    assert gauss.position == pytest.approx((101.3, 98.6), abs=0.1)


def test_seeing_rejects_a_star_that_is_not_seeing_limited() -> None:
    result = stages.seeing(_star("gauss", 5.0), SCALE)
    assert not result.accepted
    assert "not seeing-limited" in result.reason and "10 px" in result.reason


def test_seeing_of_a_synthetic_seeing_exposure() -> None:
    detector_dark = synthetic.dark_current(4, (200, 200))
    cube = synthetic.make_seeing_cube(4, 20, shape=(200, 200), seeing_arcsec=1.1, dark=detector_dark)
    image = stages.calibrate(cube.frames, detector_dark + 100.0, None).mean(axis=0)
    result = stages.seeing(image, SCALE)
    assert result.accepted
    assert result.fwhm_moffat_arcsec == pytest.approx(1.1, rel=0.02)


# -- calibration -------------------------------------------------------------------------------------------------


def test_calibration_removes_a_known_dark_and_flat() -> None:
    shape = (64, 64)
    dark = synthetic.dark_current(11, shape, mean=5.0)
    flat = synthetic.flat_field(11, shape, rms=0.03, gradient=0.1)
    master_dark = stages.master_dark(synthetic.make_darks(12, 40, shape=shape, dark=dark))
    master_flat = stages.master_flat(synthetic.make_flats(13, 20, shape=shape, flat=flat, dark=dark), master_dark)
    # Each master dark pixel: mean of 40 frames of noise sqrt(5 + 16) e-; the flat from 20 frames of 20,000 e-.
    assert np.abs(master_dark - (dark + 100.0)).std() < 1.0
    assert np.abs(master_flat - flat).max() < 0.01 and master_flat.mean() == pytest.approx(1.0)
    # A uniform sky through the detector comes out uniform: the flat's 3% pattern and the dark's hot pixels gone.
    sky = synthetic.make_flats(14, 10, shape=shape, flat=flat, dark=dark, level=1000.0)
    raw_pattern = sky.astype(float).mean(axis=0)
    calibrated = stages.calibrate(sky, master_dark, master_flat).mean(axis=0)
    assert calibrated.mean() == pytest.approx(1000.0, rel=0.005)
    assert calibrated.std() < 0.25 * raw_pattern.std()
    # What is left is noise: sqrt(1000 + 5 + 4^2) e- per frame over 10 frames, and a little from the masters.
    assert calibrated.std() < 1.1 * math.sqrt(1021 / 10)


def test_master_dark_rejects_outliers_per_pixel() -> None:
    frames = np.full((12, 8, 8), 100.0) + np.random.default_rng(0).normal(0, 1, (12, 8, 8))
    frames[3, 2, 2] = 60000.0  # a cosmic ray in one frame
    assert stages.master_dark(frames)[2, 2] == pytest.approx(100.0, abs=1.5)


def test_too_few_darks_or_flats_are_refused_with_count_and_minimum() -> None:
    darks = synthetic.make_darks(1, 9, shape=(16, 16))
    with pytest.raises(ValueError, match="9 dark frames: at least 10 are needed"):
        stages.master_dark(darks)
    flats = synthetic.make_flats(1, 4, shape=(16, 16))
    with pytest.raises(ValueError, match="4 flat frames: at least 5 are needed"):
        stages.master_flat(flats, np.full((16, 16), 102.0))
    assert stages.MIN_DARK_FRAMES == 10 and stages.MIN_FLAT_FRAMES == 5


# -- registration, selection, shift-and-add ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cube_and_calibration():
    shape = (128, 128)
    dark = synthetic.dark_current(21, shape)
    flat = synthetic.flat_field(21, shape)
    cube = synthetic.make_cube(22, 300, shape=shape, dark=dark, flat=flat, jitter_px=2.0)
    master_dark = stages.master_dark(synthetic.make_darks(23, 20, shape=shape, dark=dark))
    master_flat = stages.master_flat(synthetic.make_flats(24, 10, shape=shape, flat=flat, dark=dark), master_dark)
    return cube, master_dark, master_flat


def test_registration_is_within_005_px_rms_of_the_true_shifts_on_the_selected_frames(cube_and_calibration) -> None:
    cube, dark, flat = cube_and_calibration
    registration = stages.register(cube.frames, dark, flat)
    chosen = stages.select(registration.quality, 0.2)
    error = registration.shifts[chosen] - cube.shifts[chosen]
    assert math.sqrt((error**2).mean()) < 0.05
    assert np.abs(error.mean(axis=0)).max() < 0.02  # no bias either
    assert registration.lock_position == pytest.approx((64, 64), abs=3)
    # The quality metric ranks frames by their true Strehl: the selection's is near the best possible.
    best_possible = np.sort(cube.strehl)[-chosen.size :].mean()
    assert cube.strehl[chosen].mean() > 0.9 * best_possible
    assert cube.strehl[chosen].mean() > 1.5 * cube.strehl.mean()


def test_select_takes_the_best_fraction_in_frame_order() -> None:
    quality = np.array([0.1, 0.9, 0.3, 0.8, 0.2, 0.7, 0.0, 0.5, 0.6, 0.4])
    assert stages.select(quality, 0.2).tolist() == [1, 3]
    assert stages.select(quality, 0.25).tolist() == [1, 3, 5]  # ceil: 2.5 frames is 3
    assert stages.select(quality, 1.0).tolist() == list(range(10))
    assert stages.select(quality[:1], 0.01).tolist() == [0]
    with pytest.raises(ValueError, match="fraction"):
        stages.select(quality, 0.0)


def test_shift_and_add_with_true_shifts_rebuilds_the_psf_on_a_pixel_centre() -> None:
    # Noiseless frames: the model PSF placed at known sub-pixel positions; stacking must undo the shifts.
    shifts = np.array([[0.3, -1.7], [-2.45, 0.5], [1.1, 2.2], [0.0, 0.0]])
    size = 64
    frames = np.stack([model_psf(ROBO_AO_KPNO, SI, size, center=(32 + dy, 32 + dx)) for dy, dx in shifts])
    for bins in (0, 8):
        stack = stages.shift_and_add(frames, shifts, target=(30, 33), subpixel_bins=bins)
        expected = model_psf(ROBO_AO_KPNO, SI, size, center=(30, 33))
        tolerance = 1e-4 if bins == 0 else 0.01  # grouping to 1/8 px blurs by at most 1/16 px
        assert np.abs(stack - expected).max() < tolerance * expected.max()


def test_lucky_stack_strehl_matches_the_true_shift_stack(cube_and_calibration) -> None:
    cube, dark, flat = cube_and_calibration
    result = stages.lucky_stack(cube.frames, dark, flat, fraction=0.2)
    assert result.selected.size == 60 and result.best.shape == result.full.shape == (128, 128)
    truth = stages.shift_and_add(
        cube.frames, cube.shifts, result.selected, dark=dark, flat=flat, target=result.target, subpixel_bins=0
    )
    ours = stages.strehl(result.best, ROBO_AO_KPNO, SI)
    reference = stages.strehl(truth, ROBO_AO_KPNO, SI)
    assert ours.ratio == pytest.approx(reference.ratio, rel=0.005)
    assert ours.lock_position == result.target
    # Lucky selection pays: the best 20% is sharper than all frames together.
    assert stages.strehl(result.full, ROBO_AO_KPNO, SI).ratio < 0.8 * ours.ratio
    threaded = stages.lucky_stack(cube.frames, dark, flat, fraction=0.2, workers=2)
    assert np.array_equal(threaded.selected, result.selected)
    assert np.allclose(threaded.best, result.best, rtol=0, atol=1e-3 * result.best.max())
