"""Synthetic frames: deterministic, the star where the truth says, and the noise the detector model promises."""

from __future__ import annotations

import json

import numpy as np
import pytest

from obslab.observing import synthetic
from obslab.observing.optics import FILTER_WAVELENGTH_UM, ROBO_AO_KPNO, model_psf


def test_a_cube_is_seeded_and_deterministic() -> None:
    a = synthetic.make_cube(5, 12, shape=(64, 64))
    b = synthetic.make_cube(5, 12, shape=(64, 64))
    c = synthetic.make_cube(6, 12, shape=(64, 64))
    assert a.frames.dtype == np.uint16 and a.frames.shape == (12, 64, 64)
    assert np.array_equal(a.frames, b.frames) and np.array_equal(a.shifts, b.shifts)
    assert not np.array_equal(a.frames, c.frames)
    assert a.shifts.shape == (12, 2) and a.strehl.shape == (12,)
    truth = json.loads(json.dumps(a.truth()))
    assert truth["center"] == [32, 32] and len(truth["shifts"]) == 12 and truth["seeing_arcsec"] == 1.2


def test_the_star_is_at_the_true_sub_pixel_shift() -> None:
    """A bright, noiseless, perfectly corrected cube is the model PSF centred at centre + shift in every frame."""
    flux = 5e5  # a peak of about 48,000 e-, under the uint16 ceiling
    cube = synthetic.make_cube(
        9, 6, shape=(64, 64), strehl_range=(1.0, 1.0), star_flux=flux, sky=0.0, dark=0.0, read_noise=0.0, bias=0.0
    )
    assert np.abs(cube.shifts).max() > 0.5  # they do move
    for frame, (dy, dx) in zip(cube.frames, cube.shifts, strict=True):
        expected = flux * model_psf(ROBO_AO_KPNO, FILTER_WAVELENGTH_UM["Si"], 64, center=(32 + dy, 32 + dx))
        # Every pixel within 5 sigma of its photon noise (plus rounding), and the brightest pixel where expected.
        assert np.all(np.abs(frame - expected) < 5 * np.sqrt(expected + 1) + 0.5)
        assert np.unravel_index(np.argmax(frame), frame.shape) == (round(32 + dy), round(32 + dx))


def test_strehl_and_jitter_follow_the_parameters() -> None:
    cube = synthetic.make_cube(3, 400, shape=(32, 32), strehl_mean=0.1, strehl_range=(0.02, 0.3), jitter_px=1.5)
    assert cube.strehl.min() >= 0.02 and cube.strehl.max() <= 0.3
    assert cube.strehl.mean() == pytest.approx(0.1, rel=0.15)
    assert cube.shifts.std(axis=0) == pytest.approx([1.5, 1.5], rel=0.35)


def test_sky_counts_have_poisson_and_read_noise_around_dark_flat_and_bias() -> None:
    shape = (64, 64)
    flat = synthetic.flat_field(2, shape, rms=0.02, gradient=0.05)
    dark = synthetic.dark_current(2, shape, mean=3.0, hot_fraction=0.0)
    for sky in (8.0, 80.0):  # the Poisson branch and the normal branch of the photon noise
        cube = synthetic.make_cube(4, 200, shape=shape, star_flux=0.0, sky=sky, dark=dark, flat=flat, read_noise=3.0)
        data = cube.frames.astype(np.float64)
        expected = sky * flat + dark
        residual = data.mean(axis=0) - (expected + 100.0)
        assert abs(residual.mean()) < 0.05  # each pixel's mean has noise sqrt(variance / 200); 4096 pixels here
        assert residual.std() == pytest.approx(np.sqrt((expected.mean() + 9.0) / 200), rel=0.1)
        variance = data.var(axis=0).mean()
        assert variance == pytest.approx(expected.mean() + 9.0 + 1 / 12, rel=0.03)


def test_flats_and_darks_carry_the_detector_pattern() -> None:
    shape = (48, 48)
    flat = synthetic.flat_field(8, shape, rms=0.03, gradient=0.1)
    assert flat.mean() == pytest.approx(1.0) and 0.02 < flat.std() < 0.06
    dark = synthetic.dark_current(8, shape, mean=2.0, hot_fraction=0.01)
    assert dark.max() > 20 and np.median(dark) < 3  # hot pixels on a low floor
    frames = synthetic.make_flats(1, 10, shape=shape, flat=flat, dark=dark, level=10000.0)
    mean = frames.astype(np.float64).mean(axis=0) - 100.0 - dark
    assert np.corrcoef(mean.ravel(), flat.ravel())[0, 1] > 0.95
    darks = synthetic.make_darks(1, 10, shape=shape, dark=dark)
    assert np.corrcoef(darks.mean(axis=0).ravel(), dark.ravel())[0, 1] > 0.95


def test_a_seeing_cube_has_no_core_and_does_not_move() -> None:
    cube = synthetic.make_seeing_cube(
        2, 20, shape=(96, 96), seeing_arcsec=1.0, star_flux=2e6, read_noise=0.0, sky=0.0, dark=0.0
    )
    assert np.all(cube.strehl == 0) and np.all(cube.shifts == 0)
    mean = cube.frames.astype(np.float64).mean(axis=0) - 100.0
    assert np.unravel_index(np.argmax(mean), mean.shape) == (48, 48)
    # The Moffat of FWHM 1" (28.44 px), beta 4.765: at 14 px from the peak (1 + (14/gamma)^2)^-beta = 0.527.
    gamma = 28.44 / (2 * np.sqrt(2 ** (1 / 4.765) - 1))
    ring = (mean[48, 48 + 14] + mean[48, 48 - 14] + mean[48 + 14, 48] + mean[48 - 14, 48]) / 4
    assert ring / mean[48, 48] == pytest.approx((1 + (14 / gamma) ** 2) ** -4.765, rel=0.03)


def test_unknown_filter_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown filter 'V'"):
        synthetic.make_cube(1, 2, filter_name="V", shape=(16, 16))


def test_a_night_folder_has_archiver_names_the_headers_ingest_reads_and_the_truth(tmp_path) -> None:
    from astropy.io import fits

    from obslab.observing.header import read_header
    from obslab.observing.naming import parse_name
    from obslab.observing.night_files import write_night
    from obslab.observing.rawfits import read_frames
    from obslab.observing.types import ExposureKind

    common = {"seed": 4, "n_science": 2, "frames_per_cube": 6, "frames_per_seeing": 3, "shape": (32, 32)}
    paths = write_night(tmp_path, "20261121", **common)
    assert all(path.parent == tmp_path / "20261121" for path in paths)
    names = [parse_name(path.name) for path in paths]
    kinds = [name.kind for name in names]
    assert kinds.count(ExposureKind.DARK) == 2 and kinds.count(ExposureKind.SEEING) == 3
    assert {name.filter_name for name in names if name.kind is ExposureKind.FLAT} == {"Si", "Sz"}
    split = [name for name in names if name.part is not None]
    assert [name.part for name in split] == [0, 1] and split[0].exposure == split[1].exposure
    assert {name.night_key for name in names} == {"20261121"}
    for path, name in zip(paths, names, strict=True):
        header = read_header(fits.getheader(path), path.name)
        frames = read_frames(path)
        truth = json.loads(path.with_name(path.name + ".truth.json").read_text())
        assert frames.dtype == np.uint16 and frames.shape[1:] == (32, 32) and header.n_frames == len(frames)
        assert header.date_obs.strftime("%Y%m%d") == "20261121" and 1.0 <= header.airmass < 3.0
        assert header.instrument == "ROBO-CAM" and header.camera_mode in {"0", "6"}
        if name.kind is ExposureKind.DARK:
            assert len(frames) >= 10 and header.program == ""
        if name.kind is ExposureKind.FLAT:
            assert len(frames) >= 5 and header.camera_mode == "0"
        if name.kind is ExposureKind.SCIENCE:
            assert header.program == name.program and header.object_name == name.target
            assert len(truth["shifts"]) == len(truth["strehl"]) == len(frames) and truth["seeing_arcsec"] > 0
    # A later part starts when the earlier part's frames end.
    first, second = (read_header(fits.getheader(p), p.name) for p in paths if parse_name(p.name).part is not None)
    assert (second.date_obs - first.date_obs).total_seconds() == pytest.approx(6 * 0.1163, abs=1e-5)
    # Seeded: the same call writes the same bytes, compressed too.
    again = write_night(tmp_path / "again", "20261121", **common)
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in paths]
    packed = write_night(tmp_path / "bz2", "20261121", compress=True, **common)
    assert all(p.name.endswith(".fits.bz2") for p in packed)
    assert np.array_equal(read_frames(packed[-1]), read_frames(paths[-1]))
