"""The pipeline's pure stages: calibration, registration, selection and shift-and-add (arrays in, results out).

Strehl and seeing are measured in ``measure.py`` and re-exported here, so the runner imports every stage from one
place. Conventions: images are indexed (row, column) = (y, x); pixel i spans i - 0.5 to i + 0.5; a frame's
*shift* is the star's (dy, dx) from the frame centre ``(h // 2, w // 2)``, the same as ``synthetic``'s truth.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from obslab.observing import fourier
from obslab.observing.pipeline.measure import SeeingResult, StrehlResult, box_smooth, seeing, strehl

__all__ = [
    "MIN_DARK_FRAMES",
    "MIN_FLAT_FRAMES",
    "LuckyResult",
    "Registration",
    "SeeingResult",
    "StrehlResult",
    "calibrate",
    "find_lock",
    "flat_levels",
    "lucky_stack",
    "master_dark",
    "master_flat",
    "register",
    "seeing",
    "select",
    "shift_and_add",
    "strehl",
]

#: The archiver needed more than 9 darks (per camera mode) and more than 4 flats (per filter).
MIN_DARK_FRAMES = 10
MIN_FLAT_FRAMES = 5


# -- calibration ------------------------------------------------------------------------------------------------


def _clipped_mean(frames: np.ndarray, sigma: float, passes: int = 2) -> np.ndarray:
    """Per-pixel mean over frames, after ``passes`` rounds of rejecting values beyond ``sigma`` standard deviations."""
    data = np.asarray(frames, dtype=np.float64)
    keep = np.ones(data.shape, dtype=bool)
    for _ in range(passes):
        count = np.maximum(keep.sum(axis=0), 1)
        mean = np.where(keep, data, 0).sum(axis=0) / count
        var = np.where(keep, (data - mean) ** 2, 0).sum(axis=0) / count
        keep = np.abs(data - mean) <= sigma * np.sqrt(var) + 1e-12
    count = np.maximum(keep.sum(axis=0), 1)
    return np.where(keep, data, 0).sum(axis=0) / count


def _require(frames: np.ndarray, minimum: int, what: str) -> np.ndarray:
    frames = np.asarray(frames)
    if frames.ndim != 3:
        raise ValueError(f"{what} frames must be a cube (n, h, w), not an array of shape {frames.shape}")
    if frames.shape[0] < minimum:
        raise ValueError(f"{frames.shape[0]} {what} frames: at least {minimum} are needed for a master {what}")
    return frames


def master_dark(frames: np.ndarray, *, sigma: float = 3.0) -> np.ndarray:
    """The master dark of one camera mode: a two-pass per-pixel sigma-clipped mean (bias included).

    Fewer than ``MIN_DARK_FRAMES`` frames are refused with a ValueError naming the count and the minimum (the
    runner then copies the nearest night's calibration). The archiver also took a corner's mean off as a bias
    level; here the bias stays in the master dark, which is subtracted whole, so nothing needs it separately.
    """
    return _clipped_mean(_require(frames, MIN_DARK_FRAMES, "dark"), sigma)


def master_flat(frames: np.ndarray, dark: np.ndarray, *, sigma: float = 3.0) -> np.ndarray:
    """The master flat of one filter: each frame dark-subtracted and scaled to mean 1 (lamp or twilight levels
    differ), sigma-clipped per pixel, normalised to mean 1. Fewer than ``MIN_FLAT_FRAMES`` frames are refused."""
    frames = _require(frames, MIN_FLAT_FRAMES, "flat")
    data = np.asarray(frames, dtype=np.float64) - np.asarray(dark, dtype=np.float64)
    levels = flat_levels(frames, dark)
    if np.any(levels <= 0):
        raise ValueError(f"flat frames {np.flatnonzero(levels <= 0).tolist()} have no signal above the dark")
    flat = _clipped_mean(data / levels[:, None, None], sigma)
    return flat / flat.mean()


def flat_levels(frames: np.ndarray, dark: np.ndarray) -> np.ndarray:
    """Each flat frame's mean level above the dark (ADU per pixel), before any normalisation: the lamp or
    twilight brightness the frame saw (the calibration stage trends their median)."""
    data = np.asarray(frames, dtype=np.float64) - np.asarray(dark, dtype=np.float64)
    return data.mean(axis=(1, 2))


def _inverse_flat(flat: np.ndarray | None, shape) -> np.ndarray:
    if flat is None:
        return np.ones(shape, dtype=np.float32)
    flat = np.asarray(flat, dtype=np.float64)
    # Dead pixels (response near 0) would blow up; they get 0 so they add nothing to a stack.
    return np.where(flat > 0.05, 1.0 / np.where(flat > 0.05, flat, 1.0), 0.0).astype(np.float32)


def calibrate(frames: np.ndarray, dark: np.ndarray | None, flat: np.ndarray | None) -> np.ndarray:
    """(frames - dark) / flat as float32, for one frame (h, w) or a cube (n, h, w)."""
    data = np.asarray(frames, dtype=np.float32)
    if dark is not None:
        data = data - np.asarray(dark, dtype=np.float32)
    return data * _inverse_flat(flat, data.shape[-2:])


# -- registration -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Registration:
    """Each frame's star: sub-pixel shift (dy, dx) from the frame centre, quality (brightest-speckle peak over the
    flux around it), and the lock position (row, column) the search was centred on; background per pixel."""

    shifts: np.ndarray  # (n, 2)
    quality: np.ndarray  # (n,)
    peak: np.ndarray  # (n,) background-subtracted brightest pixel
    flux: np.ndarray  # (n,) background-subtracted flux in the search window
    lock_position: tuple[int, int]
    background: float
    center: tuple[int, int]

    @property
    def positions(self) -> np.ndarray:
        """The star's (row, column) in each frame."""
        return self.shifts + np.asarray(self.center, dtype=np.float64)


def find_lock(
    frames: np.ndarray, dark: np.ndarray | None = None, flat: np.ndarray | None = None, *, edge_px: int = 30
) -> tuple[tuple[int, int], float]:
    """(lock position (row, column), background per pixel) from the mean of up to 64 frames spread over the cube.

    The star is the brightest spot of the mean smoothed by a 5 x 5 box, at least ``edge_px`` from the edges (as the
    archiver's guide-star search was); the background is the median of the mean frame, whose pixels are mostly sky.
    """
    n = frames.shape[0]
    picks = np.unique(np.linspace(0, n - 1, min(n, 64)).astype(int))
    mean = calibrate(frames[picks], dark, flat).mean(axis=0)
    background = float(np.median(mean))
    smooth = box_smooth(mean.astype(np.float64), 2)
    h, w = smooth.shape
    edge = min(edge_px, (h - 1) // 2, (w - 1) // 2)
    inner = smooth[edge : h - edge, edge : w - edge]
    y, x = np.unravel_index(int(np.argmax(inner)), inner.shape)
    return (int(y) + edge, int(x) + edge), background


def _gauss3(left: np.ndarray, centre: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Sub-pixel offset of a peak from three samples: the vertex of a parabola through their logarithms.

    Exact for a Gaussian; on the sampled, obstructed Airy core of Robo-AO in i' its bias is under 0.01 px
    (measured across pixel phases), where a parabola through the values themselves is biased by 0.04 px.
    """
    floor = np.float32(1e-6) * np.maximum(centre, 1)
    ll, lc, lr = (np.log(np.maximum(v, floor)) for v in (left, centre, right))
    denom = ll - 2 * lc + lr
    offset = np.where(denom < 0, 0.5 * (ll - lr) / np.where(denom < 0, denom, -1), 0.0)
    return np.clip(offset, -0.5, 0.5)


def register(
    frames: np.ndarray,
    dark: np.ndarray | None = None,
    flat: np.ndarray | None = None,
    *,
    search_px: int = 24,
    lock: tuple[int, int] | None = None,
    background: float | None = None,
) -> Registration:
    """Every frame's star to sub-pixel accuracy, vectorised over frames.

    Only a window of +-``search_px`` around the lock position is calibrated (so a cube costs a few per cent of
    calibrating it whole); in it each frame's brightest pixel is its brightest speckle, refined by a three-point
    Gaussian on each axis. The quality metric is that peak over the window's flux (both background-subtracted), a
    Strehl proxy. ``lock`` and ``background`` default to ``find_lock``'s; pass them to register chunks of one cube
    alike. The jitter this follows is what stays inside the window; a star outside it is a bad frame.
    """
    frames = np.asarray(frames)
    n, h, w = frames.shape
    if lock is None or background is None:
        found_lock, found_background = find_lock(frames, dark, flat)
        lock = found_lock if lock is None else lock
        background = found_background if background is None else background
    y0, y1 = max(0, lock[0] - search_px), min(h, lock[0] + search_px + 1)
    x0, x1 = max(0, lock[1] - search_px), min(w, lock[1] + search_px + 1)
    window = frames[:, y0:y1, x0:x1].astype(np.float32)
    if dark is not None:
        window -= np.asarray(dark, dtype=np.float32)[y0:y1, x0:x1]
    window *= _inverse_flat(flat, (h, w))[y0:y1, x0:x1]
    window -= np.float32(background)
    wh, ww = window.shape[1:]
    flat_view = window.reshape(n, -1)
    best = flat_view.argmax(axis=1)
    py, px = np.divmod(best, ww)
    peak = flat_view[np.arange(n), best]
    flux = flat_view.sum(axis=1, dtype=np.float64)
    # Three-point refinement needs both neighbours: a peak on the window's edge is refined from the next pixel in.
    cy, cx = np.clip(py, 1, wh - 2), np.clip(px, 1, ww - 2)
    rows = np.arange(n)
    centre = window[rows, cy, cx]
    dy = _gauss3(window[rows, cy - 1, cx], centre, window[rows, cy + 1, cx])
    dx = _gauss3(window[rows, cy, cx - 1], centre, window[rows, cy, cx + 1])
    positions = np.stack([cy + y0 + dy, cx + x0 + dx], axis=1).astype(np.float64)
    center = (h // 2, w // 2)
    quality = np.where(flux > 0, peak / np.maximum(flux, 1e-12), 0.0)
    return Registration(
        shifts=positions - np.asarray(center, dtype=np.float64),
        quality=quality.astype(np.float64),
        peak=peak.astype(np.float64),
        flux=flux,
        lock_position=(int(lock[0]), int(lock[1])),
        background=float(background),
        center=center,
    )


def select(quality: np.ndarray, fraction: float = 0.2) -> np.ndarray:
    """Indices (ascending) of the best ``fraction`` of frames by quality (at least one frame)."""
    if not 0 < fraction <= 1:
        raise ValueError(f"the selected fraction must be in (0, 1], not {fraction}")
    quality = np.asarray(quality)
    count = max(1, int(math.ceil(fraction * quality.size - 1e-9)))
    best = np.argpartition(-quality, count - 1)[:count] if count < quality.size else np.arange(quality.size)
    return np.sort(best)


# -- shift-and-add ----------------------------------------------------------------------------------------------


def _stack_sum(
    frames: np.ndarray,
    moves: np.ndarray,
    indices: np.ndarray,
    dark: np.ndarray | None,
    flat: np.ndarray | None,
    subpixel_bins: int,
    workers: int,
) -> np.ndarray:
    """The sum of the frames ``indices``, calibrated, each moved by ``moves`` (dy, dx): its spectrum (rfft2)."""
    h, w = frames.shape[1:]
    inverse = _inverse_flat(flat, (h, w))
    dark32 = None if dark is None else np.asarray(dark, dtype=np.float32)
    if subpixel_bins:
        # Frames whose moves share a fractional part to 1/bins are summed with integer rolls, and the group is
        # moved by its members' mean fractional part with one FFT: 64 FFTs for bins = 8, however many frames.
        # The members' spread around that mean (RMS 1/(bins sqrt 12) px per axis) blurs the stack slightly.
        quantised = np.floor(moves * subpixel_bins + 0.5).astype(np.int64)
        whole = np.floor_divide(quantised, subpixel_bins)
        group = (quantised - whole * subpixel_bins) @ np.array([subpixel_bins, 1])
    else:  # exact: every frame moved by its own phase ramp
        whole = np.zeros_like(moves, dtype=np.int64)
        group = np.arange(len(moves))
    spectrum = np.zeros((h, w // 2 + 1), dtype=np.complex128)
    for g in np.unique(group):
        members = np.flatnonzero(group == g)
        acc = np.zeros((h, w), dtype=np.float32)
        for start in range(0, members.size, 64):
            batch = members[start : start + 64]
            data = frames[indices[batch]].astype(np.float32)
            if dark32 is not None:
                data -= dark32
            data *= inverse
            for frame, (wy, wx) in zip(data, whole[batch], strict=True):
                acc += np.roll(frame, (int(wy), int(wx)), axis=(0, 1)) if wy or wx else frame
        fraction = (moves[members] - whole[members]).mean(axis=0)
        ramp_y, ramp_x = fourier.shift_ramps(fraction[None], (h, w), dtype=np.complex128)
        spectrum += fourier.rfft2(acc, workers=workers) * (ramp_y[0] * ramp_x[0])
    return spectrum


def shift_and_add(
    frames: np.ndarray,
    shifts: np.ndarray,
    indices: np.ndarray | None = None,
    *,
    dark: np.ndarray | None = None,
    flat: np.ndarray | None = None,
    target: tuple[int, int] | None = None,
    subpixel_bins: int = 8,
    workers: int = 1,
    mean: bool = True,
) -> np.ndarray:
    """The calibrated frames ``indices`` (default all) moved so that each star lands on ``target`` and added.

    Parameters
    ----------
    shifts
        Each frame's star (dy, dx) from the frame centre, e.g. ``Registration.shifts`` or the synthetic truth.
    target
        The pixel (row, column) the stars land on; default the frame centre moved by the selected frames' median
        shift, rounded, so the stack's star sits on a pixel centre (as the model PSF of the Strehl normaliser does).
    subpixel_bins
        Fractional moves are grouped to 1/``subpixel_bins`` px and each group is moved exactly (Fourier) by its
        mean; 0 moves every frame by its own exact shift (slower: one FFT per frame).
    mean
        The mean of the frames (default) or their sum (to add partial stacks made in parallel).
    """
    frames = np.asarray(frames)
    n, h, w = frames.shape
    indices = np.arange(n) if indices is None else np.asarray(indices, dtype=np.int64)
    shifts = np.asarray(shifts, dtype=np.float64)[indices]
    center = np.array([h // 2, w // 2], dtype=np.float64)
    if target is None:
        target_yx = center + np.round(np.median(shifts, axis=0)) if indices.size else center
    else:
        target_yx = np.asarray(target, dtype=np.float64)
    if indices.size == 0:
        return np.zeros((h, w))
    moves = target_yx - (center + shifts)
    spectrum = _stack_sum(frames, moves, indices, dark, flat, subpixel_bins, workers)
    image = fourier.irfft2(spectrum, (h, w), workers=workers)
    return image / indices.size if mean else image


@dataclass(frozen=True)
class LuckyResult:
    """The lucky-imaging products of one exposure: the best ``fraction`` stack, the all-frames stack, and how."""

    best: np.ndarray  # mean of the selected frames, registered (the archiver's 20p.fits)
    full: np.ndarray  # mean of all frames, registered (100p.fits)
    registration: Registration
    selected: np.ndarray  # frame indices in the best stack
    fraction: float
    target: tuple[int, int]  # where the star sits in both stacks (row, column)


def lucky_stack(
    frames: np.ndarray,
    dark: np.ndarray | None,
    flat: np.ndarray | None,
    *,
    fraction: float = 0.2,
    search_px: int = 24,
    subpixel_bins: int = 8,
    workers: int = 1,
) -> LuckyResult:
    """Register every frame, select the best ``fraction`` and stack them, and stack all frames, on one target.

    ``workers`` > 1 registers chunks of frames and stacks the two products in a thread pool (numpy releases the GIL).
    """
    frames = np.asarray(frames)
    n, h, w = frames.shape
    lock, background = find_lock(frames, dark, flat)
    if workers > 1 and n >= 2 * workers:
        bounds = np.linspace(0, n, workers + 1).astype(int)
        with ThreadPoolExecutor(workers) as pool:
            parts = list(
                pool.map(
                    lambda b: register(
                        frames[b[0] : b[1]], dark, flat, search_px=search_px, lock=lock, background=background
                    ),
                    zip(bounds[:-1], bounds[1:], strict=True),
                )
            )
        registration = Registration(
            shifts=np.concatenate([p.shifts for p in parts]),
            quality=np.concatenate([p.quality for p in parts]),
            peak=np.concatenate([p.peak for p in parts]),
            flux=np.concatenate([p.flux for p in parts]),
            lock_position=lock,
            background=background,
            center=(h // 2, w // 2),
        )
    else:
        registration = register(frames, dark, flat, search_px=search_px, lock=lock, background=background)
    selected = select(registration.quality, fraction)
    median = np.round(np.median(registration.shifts[selected], axis=0)).astype(int)
    target = (h // 2 + int(median[0]), w // 2 + int(median[1]))

    def stack(indices: np.ndarray) -> np.ndarray:
        return shift_and_add(
            frames, registration.shifts, indices, dark=dark, flat=flat, target=target, subpixel_bins=subpixel_bins
        )

    if workers > 1:
        with ThreadPoolExecutor(2) as pool:
            best, full = pool.map(stack, [selected, np.arange(n)])
    else:
        best, full = stack(selected), stack(np.arange(n))
    return LuckyResult(best, full, registration, selected, fraction, target)
