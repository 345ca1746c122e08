"""Aperture photometry of a registered stack (pure): the sky level, the target's counts and its instrumental magnitude.

Units follow the stacks: a stack is the *mean* of its calibrated frames, so its pixels are ADU per frame. The sky
is ADU per pixel per frame, the counts ADU per frame; the magnitude divides the counts by the seconds per frame
(the header's ``EXPTIME``), so exposures of different frame rates compare.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from obslab.observing.pipeline.measure import box_smooth

#: Nominal zero points per filter: the instrumental magnitude of a source giving 1 ADU per second, for the
#: KPNO 2.1 m with the Robo-AO EMCCD at unit gain (about 25 in SDSS i' from the collecting area and a 20 per cent
#: throughput). They are not a photometric calibration: ``magnitude`` is instrumental, for trending and for
#: telling bright from faint. A deployment that calibrates them changes them here (the Strehl stage's parameters
#: carry them, so every exposure's magnitude is measured again).
ZERO_POINTS: dict[str, float] = {"Sg": 25.1, "Sr": 25.2, "Si": 24.9, "Sz": 24.0, "lp600": 25.6, "c": 26.0}
#: The aperture's radius and the inner edge of the sky region, in arcsec: 2.5" holds more than 99 per cent of
#: a 1.2" seeing halo (a Moffat of beta 4.765) and the whole diffraction-limited core; the sky is every pixel
#: beyond 3" from the star.
APERTURE_ARCSEC = 2.5
SKY_INNER_ARCSEC = 3.0
#: Fewer sky pixels than this and the sky is taken from every pixel outside the aperture.
MIN_SKY_PIXELS = 500


@dataclass(frozen=True)
class Photometry:
    """The sky level (ADU per pixel per frame), the target's counts above it in the aperture (ADU per frame)."""

    sky_adu: float
    counts_adu: float
    position: tuple[int, int]  # the star (row, column)
    aperture_px: float
    sky_pixels: int


def clipped_median(values: np.ndarray, *, sigma: float = 3.0, passes: int = 5) -> float:
    """The median of ``values`` after rejecting, up to ``passes`` times, those beyond ``sigma`` robust deviations
    (1.4826 times the median absolute deviation) from the median: stars, hot pixels and cosmic rays go."""
    data = np.asarray(values, dtype=np.float64).ravel()
    data = data[np.isfinite(data)]
    if data.size == 0:
        return float("nan")
    for _ in range(passes):
        centre = np.median(data)
        spread = 1.4826 * np.median(np.abs(data - centre))
        if spread == 0:
            break
        kept = data[np.abs(data - centre) <= sigma * spread]
        if kept.size == data.size:
            break
        data = kept
    return float(np.median(data))


def star_position(image: np.ndarray) -> tuple[int, int]:
    """The brightest spot of the image after a 3 x 3 median (a hot pixel or a cosmic ray of up to four pixels is
    gone) and a 5 x 5 box mean (a speckle or the noise does not decide)."""
    data = np.pad(np.asarray(image, dtype=np.float64), 1, mode="edge")
    despiked = np.median(np.lib.stride_tricks.sliding_window_view(data, (3, 3)), axis=(-2, -1))
    smooth = box_smooth(despiked, 2)
    y, x = np.unravel_index(int(np.argmax(smooth)), smooth.shape)
    return int(y), int(x)


def aperture_photometry(
    image: np.ndarray,
    pixel_scale_arcsec: float,
    *,
    aperture_arcsec: float = APERTURE_ARCSEC,
    sky_inner_arcsec: float = SKY_INNER_ARCSEC,
    position: tuple[int, int] | None = None,
) -> Photometry:
    """The sky and the target's counts of a stack.

    The sky is the sigma-clipped median (``clipped_median``) of the pixels farther than ``sky_inner_arcsec``
    from the star (of every pixel outside the aperture when fewer than ``MIN_SKY_PIXELS`` are); the counts are
    the sum over the pixels whose centres lie within ``aperture_arcsec`` of the star, less the sky times their
    number. The star is ``position``, default the brightest spot (``star_position``).
    """
    data = np.asarray(image, dtype=np.float64)
    if data.ndim != 2:
        raise ValueError(f"photometry needs an image (h, w), not an array of shape {data.shape}")
    at = star_position(data) if position is None else position
    y, x = np.indices(data.shape)
    radius = np.hypot(y - at[0], x - at[1]) * pixel_scale_arcsec
    inside = radius <= aperture_arcsec
    far = radius > sky_inner_arcsec
    if far.sum() < MIN_SKY_PIXELS:
        far = ~inside
    sky = clipped_median(data[far])
    counts = float(data[inside].sum() - sky * inside.sum())
    return Photometry(sky, counts, at, aperture_arcsec / pixel_scale_arcsec, int(far.sum()))


def instrumental_magnitude(
    counts_adu: float, frame_seconds: float, filter_name: str, zero_points: dict[str, float] | None = None
) -> float | None:
    """-2.5 log10(counts per second) + the filter's zero point; None when the counts are not positive, the frame
    time is unknown, or the filter has no zero point (nothing is made up)."""
    zero_point = (ZERO_POINTS if zero_points is None else zero_points).get(filter_name)
    if zero_point is None or not frame_seconds > 0 or not counts_adu > 0 or not math.isfinite(counts_adu):
        return None
    return -2.5 * math.log10(counts_adu / frame_seconds) + zero_point
