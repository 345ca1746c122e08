"""The telescope's diffraction-limited PSF, computed from its annular pupil, and the Strehl normaliser (pure)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

ARCSEC = math.pi / (180 * 3600)  # radians per arcsecond


@dataclass(frozen=True)
class Telescope:
    """An unaberrated telescope: aperture, central obstruction (both diameters) and the detector's pixel scale."""

    diameter_m: float
    obstruction_m: float
    pixel_scale_arcsec: float
    name: str = ""

    def lambda_over_d_px(self, wavelength_um: float) -> float:
        """The diffraction scale lambda/D in detector pixels."""
        return wavelength_um * 1e-6 / self.diameter_m / ARCSEC / self.pixel_scale_arcsec


#: The Robo-AO camera on the KPNO 2.1 m (seed §5.1: D = 1.85 m effective, secondary 0.879 m, 0.0351594"/px).
ROBO_AO_KPNO = Telescope(diameter_m=1.85, obstruction_m=0.879, pixel_scale_arcsec=0.0351594, name="KPNO 2.1 m Robo-AO")

#: Central wavelengths in micrometres. Sg, Sr, Si, Sz: the SDSS g', r', i', z' effective wavelengths of
#: Fukugita et al. (1996, AJ 111, 1748, table 2a). lp600: the 600 nm long-pass, whose red end is the EMCCD's
#: falling quantum efficiency near 1 um; its photon-weighted centre for a solar-type star is near i', so we take
#: 0.77 um (an approximation). c (clear, 0.4-1.0 um): 0.70 um, the wavelength the archiver's lucky-imaging
#: reduction used for every filter (seed §5.6).
FILTER_WAVELENGTH_UM: dict[str, float] = {
    "Sg": 0.4825,
    "Sr": 0.6261,
    "Si": 0.7672,
    "Sz": 0.9097,
    "lp600": 0.77,
    "c": 0.70,
}


def wavelength_of(filter_name: str) -> float:
    """The central wavelength of a filter in micrometres; an unknown filter is refused naming the known ones."""
    try:
        return FILTER_WAVELENGTH_UM[filter_name]
    except KeyError:
        known = ", ".join(FILTER_WAVELENGTH_UM)
        raise ValueError(f"unknown filter {filter_name!r}: known filters are {known}") from None


def box_pixels(box_arcsec: float, pixel_scale_arcsec: float) -> int:
    """The side in pixels of the (odd, so centred) box of ``box_arcsec`` used for Strehl flux sums."""
    side = max(3, int(round(box_arcsec / pixel_scale_arcsec)))
    return side if side % 2 else side + 1


@dataclass(frozen=True)
class Pupil:
    """The pupil sampled for one PSF computation: coordinates (m) and transmission of the samples that matter.

    ``transmission`` is the fraction of each sample inside the annulus (grey at the edges, so the sampled area is
    right to well under 0.1%; ``psf_from_pupil`` undoes the slight smoothing this is); ``phase_waves`` given to
    ``psf_from_pupil`` must have its shape. Against the analytic obstructed Airy pattern integrated over pixels,
    the PSF is right to 0.2% of its peak.
    """

    y_m: np.ndarray
    x_m: np.ndarray
    transmission: np.ndarray
    step_m: float
    n_fft: int
    oversample: int
    size: int


def _oversample(telescope: Telescope, wavelength_um: float) -> int:
    # The intensity is computed on sub-pixels p/k; k odd so a pixel's centre is a sub-pixel's centre, and fine
    # enough (3 sub-pixels per lambda/(2D) at least) that binning k x k sub-pixels integrates over the pixel well.
    k = max(3, math.ceil(3.0 / telescope.lambda_over_d_px(wavelength_um) * 2))
    return k if k % 2 else k + 1


@lru_cache(maxsize=32)
def pupil(telescope: Telescope, wavelength_um: float, size: int) -> Pupil:
    """The annular pupil sampled so that its FFT gives the PSF on ``size`` x ``size`` pixels (k x k sub-pixels each)."""
    k = _oversample(telescope, wavelength_um)
    n_fft = size * k
    # FFT sampling: focal-plane step lambda / (n_fft * step) must be one sub-pixel, p / k.
    step = wavelength_um * 1e-6 * k / (n_fft * telescope.pixel_scale_arcsec * ARCSEC)
    half = int(math.ceil(telescope.diameter_m / 2 / step)) + 1
    if 2 * half + 1 > n_fft // 2:
        raise ValueError(f"{size} px is too small a field for the pupil's FFT at {wavelength_um} um")
    offsets = np.arange(-half, half + 1) * step
    # Grey edges: the fraction of each sample's square inside the annulus, from 8 x 8 sub-samples.
    sub = (np.arange(8) + 0.5) / 8 - 0.5
    fine = (offsets[:, None] + sub[None, :] * step).ravel()
    r = np.hypot(fine[:, None], fine[None, :])
    inside = (r <= telescope.diameter_m / 2) & (r >= telescope.obstruction_m / 2)
    m = offsets.size
    transmission = inside.reshape(m, 8, m, 8).mean(axis=(1, 3))
    y, x = np.meshgrid(offsets, offsets, indexing="ij")
    for array in (y, x, transmission):
        array.setflags(write=False)
    return Pupil(y, x, transmission, step, n_fft, k, size)


def psf_from_pupil(
    telescope: Telescope,
    wavelength_um: float,
    size: int,
    *,
    phase_waves: np.ndarray | None = None,
    center: tuple[float, float] | None = None,
) -> np.ndarray:
    """The PSF on ``size`` x ``size`` detector pixels, integrated over each pixel, normalised to sum 1.

    Parameters
    ----------
    phase_waves
        A wavefront error in waves on ``pupil(...)``'s samples (None for a perfect telescope).
    center
        The PSF centre (row, column) in pixel coordinates (pixel i spans i-0.5 to i+0.5); the default is
        ``(size // 2, size // 2)``. The shift is a tilt in the pupil, so it is exact for any sub-pixel offset.

    The FFT field is the returned field, so light beyond it folds back in (periodic), as it does for every
    FFT-based PSF; make ``size`` larger than the region you measure.
    """
    pup = pupil(telescope, wavelength_um, size)
    k, n_fft = pup.oversample, pup.n_fft
    cy, cx = (size // 2, size // 2) if center is None else center
    # A tilt exp(+2 pi i j s / N) across the pupil moves the FFT's peak from index 0 to index s; the centre of
    # pixel c is sub-pixel c * k + k // 2, and that holds for fractional c too.
    sy, sx = cy * k + k // 2, cx * k + k // 2
    m = pup.transmission.shape[0]
    j = np.arange(m)
    field = pup.transmission * np.exp(2j * np.pi * (j[:, None] * sy + j[None, :] * sx) / n_fft)
    if phase_waves is not None:
        field = field * np.exp(2j * np.pi * np.asarray(phase_waves))
    grid = np.zeros((n_fft, n_fft), dtype=np.complex128)
    grid[:m, :m] = field
    intensity = np.abs(np.fft.fft2(grid)) ** 2
    # The grey edges are the pupil smoothed by one sample's square, which multiplies the intensity by
    # sinc^2(q / n_fft) along each axis (q sub-pixels from the centre): divide it out.
    qy = (np.arange(n_fft) - sy + n_fft / 2) % n_fft - n_fft / 2
    qx = (np.arange(n_fft) - sx + n_fft / 2) % n_fft - n_fft / 2
    intensity /= (np.sinc(qy / n_fft) ** 2)[:, None] * (np.sinc(qx / n_fft) ** 2)[None, :]
    # Integrate over pixels exactly: the sub-sampled intensity is band-limited (it is sampled above Nyquist), so
    # multiplying its spectrum by the pixel's transfer function sinc(f p) sinc(g p) and sampling each pixel's
    # centre is the integral over the pixel (summing k x k sub-samples would be a midpoint rule, 1% off at the
    # peak for k = 3).
    transfer = np.sinc(np.fft.fftfreq(n_fft, d=1.0 / k))  # frequencies in cycles per pixel
    spectrum = np.fft.fft2(intensity) * transfer[:, None] * transfer[None, :]
    integrated = np.fft.ifft2(spectrum).real
    pixels = integrated[k // 2 :: k, k // 2 :: k]
    return pixels / pixels.sum()


@lru_cache(maxsize=64)
def _model_psf_cached(telescope: Telescope, wavelength_um: float, size: int, center: tuple[float, float] | None):
    psf = psf_from_pupil(telescope, wavelength_um, size, center=center)
    psf.setflags(write=False)
    return psf


def model_psf(
    telescope: Telescope, wavelength_um: float, size: int, *, center: tuple[float, float] | None = None
) -> np.ndarray:
    """The diffraction-limited PSF (annular aperture) on ``size`` x ``size`` pixels, summing to 1 (cached, read-only).

    ``center`` is (row, column) in pixels, default ``(size // 2, size // 2)``; see ``psf_from_pupil``.
    """
    key = None if center is None else (float(center[0]), float(center[1]))
    return _model_psf_cached(telescope, float(wavelength_um), int(size), key)


@lru_cache(maxsize=64)
def peak_ratio(telescope: Telescope, wavelength_um: float, box_arcsec: float = 3.0) -> float:
    """The Strehl normaliser: the model PSF's peak pixel over its flux in the box of ``box_arcsec`` around it.

    Computed on a field twice the box (so the wrap-around of the FFT puts almost nothing into the box), with the
    PSF centred on a pixel, as a stack registered on its peak is.
    """
    side = box_pixels(box_arcsec, telescope.pixel_scale_arcsec)
    size = 2 * side + 1
    psf = model_psf(telescope, wavelength_um, size)
    c, h = size // 2, side // 2
    box = psf[c - h : c + h + 1, c - h : c + h + 1]
    return float(psf[c, c] / box.sum())
