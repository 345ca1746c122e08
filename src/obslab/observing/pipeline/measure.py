"""Strehl of a stack and seeing of a seeing-limited exposure, measured as the archiver did (pure)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from obslab.observing.optics import Telescope, box_pixels, peak_ratio
from obslab.observing.pipeline.fitting import (
    GAUSS_FWHM,
    fit_gaussian_2d,
    fit_moffat_2d,
    fit_radial_moffat,
    moffat_fwhm,
)

#: The archiver's quality flag: a real core is at least this wide, a real halo at most this.
MIN_CORE_ARCSEC = 0.04
MAX_HALO_ARCSEC = 1.0
#: A seeing exposure whose star is narrower than this (in pixels) is not seeing-limited: the archiver's 10 px,
#: 0.35" at Robo-AO's 0.035"/px, below any seeing at Kitt Peak, so such a star had the AO loop closed on it.
MIN_SEEING_FWHM_PX = 10.0


def box_smooth(image: np.ndarray, half: int) -> np.ndarray:
    """A (2 half + 1)^2 box mean (edge pixels repeated), through cumulative sums."""
    padded = np.pad(image, half, mode="edge")
    c = np.pad(np.cumsum(np.cumsum(padded, axis=0), axis=1), ((1, 0), (1, 0)))
    k = 2 * half + 1
    h, w = image.shape
    return (c[k : k + h, k : k + w] - c[:h, k : k + w] - c[k : k + h, :w] + c[:h, :w]) / k**2


def _clipped_background(values: np.ndarray, sigma: float = 3.0, passes: int = 3) -> float:
    values = np.asarray(values, dtype=np.float64).ravel()
    for _ in range(passes):
        centre, spread = np.median(values), values.std()
        kept = values[np.abs(values - centre) <= sigma * spread]
        if kept.size == values.size or kept.size < 10:
            break
        values = kept
    return float(np.mean(values))


def _background_outside(image: np.ndarray, position: tuple[int, int], radius: float) -> float:
    """The sigma-clipped mean of the pixels farther than ``radius`` from ``position`` (all pixels if none are)."""
    y, x = np.indices(image.shape)
    far = np.hypot(y - position[0], x - position[1]) > radius
    return _clipped_background(image[far] if far.sum() >= 100 else image)


def _peak_position(image: np.ndarray, margin: int) -> tuple[int, int]:
    h, w = image.shape
    my, mx = min(margin, (h - 1) // 2), min(margin, (w - 1) // 2)
    inner = image[my : h - my, mx : w - mx]
    y, x = np.unravel_index(int(np.argmax(inner)), inner.shape)
    return int(y) + my, int(x) + mx


def _cut(image: np.ndarray, position: tuple[int, int], half: int) -> tuple[np.ndarray, int, int]:
    y0, x0 = max(0, position[0] - half), max(0, position[1] - half)
    y1, x1 = min(image.shape[0], position[0] + half + 1), min(image.shape[1], position[1] + half + 1)
    return image[y0:y1, x0:x1], y0, x0


@dataclass(frozen=True)
class StrehlResult:
    """A stack's Strehl ratio and the archiver's companions: core and halo sizes, FWHM, flag, lock position."""

    ratio: float  # Strehl as a fraction (the archiver stored ratio_percent)
    peak_over_flux: float  # the stack's peak over its flux in the box
    model_peak_over_flux: float  # the same for the model PSF: the normaliser
    core_arcsec: float  # FWHM of a Moffat fitted to the radial profile's core (nan when it cannot be fitted)
    halo_arcsec: float  # FWHM of a Moffat fitted to the profile between core and halo radii
    fwhm_arcsec: float  # FWHM of a 2D Gaussian fitted to the box
    flag: str  # "OK" or "BAD?"
    lock_position: tuple[int, int]  # the peak (row, column)
    background: float
    box_px: int

    @property
    def ratio_percent(self) -> float:
        return 100.0 * self.ratio

    def as_dict(self) -> dict:
        return {
            "ratio_percent": round(self.ratio_percent, 4),
            "core_arcsec": self.core_arcsec,
            "halo_arcsec": self.halo_arcsec,
            "fwhm_arcsec": self.fwhm_arcsec,
            "flag": self.flag,
            "lock_position": list(self.lock_position),
        }


def strehl(
    stack: np.ndarray,
    telescope: Telescope,
    wavelength_um: float,
    *,
    box_arcsec: float = 3.0,
    background: float | None = None,
    core_radius_arcsec: float = 0.075,
    halo_radius_arcsec: float = 0.7,
) -> StrehlResult:
    """The Strehl ratio of a registered stack: its peak over its flux in a ``box_arcsec`` box centred on the peak,
    divided by the same ratio for the model PSF (``optics.peak_ratio``).

    The background (default: the sigma-clipped mean beyond a box's width from the peak) is taken off first. Core
    and halo sizes are FWHMs of Moffats fitted to the radial profile within ``core_radius_arcsec`` and between it
    and ``halo_radius_arcsec`` (the archiver fitted 3 and 20 pixels of its 2x drizzled images; on native pixels 3
    would leave only two radii, so the core takes 0.075", about 2 px). Flag ``OK`` when the core is at least
    0.04" and the halo at most 1.0", else ``BAD?``, as the archiver had it.
    """
    image = np.asarray(stack, dtype=np.float64)
    scale = telescope.pixel_scale_arcsec
    side = box_pixels(box_arcsec, scale)
    half = side // 2
    peak_at = _peak_position(image, half)
    if background is None:
        background = _background_outside(image, peak_at, side)
    image = image - background
    box, y0, x0 = _cut(image, peak_at, half)
    flux = float(box.sum())
    peak = float(image[peak_at])
    ratio_stack = peak / flux if flux > 0 else float("nan")
    model = peak_ratio(telescope, float(wavelength_um), float(box_arcsec))
    y, x = np.indices(box.shape)
    radius = np.hypot(y + y0 - peak_at[0], x + x0 - peak_at[1]) * scale
    core = fit_radial_moffat(radius[radius <= core_radius_arcsec], box[radius <= core_radius_arcsec])
    ring = (radius > core_radius_arcsec) & (radius <= halo_radius_arcsec)
    halo = fit_radial_moffat(radius[ring], box[ring])
    core_arcsec = moffat_fwhm(core[1], core[2]) if core else float("nan")
    halo_arcsec = moffat_fwhm(halo[1], halo[2]) if halo else float("nan")
    gauss = fit_gaussian_2d(box)
    fwhm_arcsec = GAUSS_FWHM * 0.5 * (gauss.params[3] + gauss.params[4]) * scale
    ok = core_arcsec >= MIN_CORE_ARCSEC and halo_arcsec <= MAX_HALO_ARCSEC  # nan compares False: BAD?
    return StrehlResult(
        ratio=ratio_stack / model,
        peak_over_flux=ratio_stack,
        model_peak_over_flux=model,
        core_arcsec=core_arcsec,
        halo_arcsec=halo_arcsec,
        fwhm_arcsec=float(fwhm_arcsec),
        flag="OK" if ok else "BAD?",
        lock_position=peak_at,
        background=float(background),
        box_px=side,
    )


@dataclass(frozen=True)
class SeeingResult:
    """The seeing of one seeing-limited exposure: FWHM from a 2D Gaussian and from a 2D Moffat, in arcsec."""

    accepted: bool
    reason: str  # why it was rejected, "" when accepted
    seeing_arcsec: float  # the Gaussian FWHM (the archiver's default fit); nan when rejected before fitting
    fwhm_gauss_arcsec: float
    fwhm_moffat_arcsec: float
    fwhm_y_arcsec: float
    fwhm_x_arcsec: float
    moffat_alpha: float
    position: tuple[float, float]  # the star (row, column) in the image

    def as_dict(self) -> dict:
        return {
            "accepted": self.accepted,
            "reason": self.reason,
            "seeing_arcsec": self.seeing_arcsec,
            "fwhm_gauss_arcsec": self.fwhm_gauss_arcsec,
            "fwhm_moffat_arcsec": self.fwhm_moffat_arcsec,
            "fwhm_y_arcsec": self.fwhm_y_arcsec,
            "fwhm_x_arcsec": self.fwhm_x_arcsec,
            "position": list(self.position),
        }


def seeing(
    image: np.ndarray,
    pixel_scale_arcsec: float,
    *,
    box_px: int = 150,
    min_fwhm_px: float = MIN_SEEING_FWHM_PX,
    background: float | None = None,
) -> SeeingResult:
    """The seeing FWHM of the star in a calibrated seeing-limited image (a cube is averaged over its frames).

    The star is the brightest spot of the image smoothed by a 5 x 5 box; a ``box_px`` box around it is fitted with
    a 2D Gaussian (FWHM = 2.3548 mean(sigma_x, sigma_y)) and a circular 2D Moffat (FWHM = 2 gamma
    sqrt(2^(1/alpha) - 1)) after the sigma-clipped background is taken off. Rejected, with the reason, when the
    Gaussian FWHM is under ``min_fwhm_px`` pixels (not seeing-limited) or a fit fails. Unlike the archiver this
    does not smooth by 1 px first (that widens a star) and does not clean cosmic rays (none in a summed
    seeing exposure of short frames that a 3-sigma background clip does not handle).
    """
    data = np.asarray(image, dtype=np.float64)
    if data.ndim == 3:
        data = data.mean(axis=0)
    smooth = box_smooth(data, 2)
    position = _peak_position(smooth, 2)
    if background is None:
        background = _background_outside(data, position, box_px / 2)
    box, y0, x0 = _cut(data - background, position, box_px // 2)
    nan = float("nan")
    if not np.isfinite(box).all() or box.max() <= 0:
        return SeeingResult(False, "no star above the background", nan, nan, nan, nan, nan, nan, position)
    gauss = fit_gaussian_2d(box)
    moffat = fit_moffat_2d(box)
    sy, sx = float(gauss.params[3]), float(gauss.params[4])
    fwhm_gauss_px = GAUSS_FWHM * 0.5 * (sy + sx)
    fwhm_moffat_px = moffat_fwhm(float(moffat.params[3]), float(moffat.params[4]))
    star = (float(gauss.params[1]) + y0, float(gauss.params[2]) + x0)
    theta = float(gauss.params[5])
    # The Gaussian's axes are rotated by theta; report the FWHM along rows and columns.
    fwhm_y = GAUSS_FWHM * math.sqrt((sy * math.cos(theta)) ** 2 + (sx * math.sin(theta)) ** 2)
    fwhm_x = GAUSS_FWHM * math.sqrt((sx * math.cos(theta)) ** 2 + (sy * math.sin(theta)) ** 2)
    reason = ""
    if not gauss.converged:  # a Moffat fit may run to its alpha bound on a Gaussian-like star: still reported
        reason = "the Gaussian fit did not converge"
    elif fwhm_gauss_px < min_fwhm_px:
        reason = f"FWHM {fwhm_gauss_px:.1f} px is under {min_fwhm_px:g} px: not seeing-limited"
    return SeeingResult(
        accepted=not reason,
        reason=reason,
        seeing_arcsec=fwhm_gauss_px * pixel_scale_arcsec,
        fwhm_gauss_arcsec=fwhm_gauss_px * pixel_scale_arcsec,
        fwhm_moffat_arcsec=fwhm_moffat_px * pixel_scale_arcsec,
        fwhm_y_arcsec=fwhm_y * pixel_scale_arcsec,
        fwhm_x_arcsec=fwhm_x * pixel_scale_arcsec,
        moffat_alpha=float(moffat.params[4]),
        position=star,
    )
