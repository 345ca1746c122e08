"""Lucky-imaging frames with a known truth (seeded, deterministic): a star, sky, dark, flat, photon and read noise.

A frame's star is the telescope's diffraction-limited core (``optics.model_psf``) times the frame's instantaneous
Strehl plus a seeing halo (a Moffat of the seeing FWHM, beta 4.765, the Kolmogorov value of Trujillo et al. 2001)
times one minus it, both moved by the frame's true shift exactly (a phase ramp on their spectra, computed once).
Counts are electrons at gain 1: ``(star + sky) * flat + dark`` with photon noise, then read noise and a bias.
Photon noise is drawn from a Poisson law where a pixel expects fewer than ``POISSON_BELOW`` electrons and from the
normal law of the same mean and variance above it (indistinguishable there, and ten times faster), with the read
noise added to the same draw.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from obslab.observing import fourier
from obslab.observing.optics import ROBO_AO_KPNO, Telescope, model_psf, wavelength_of

MOFFAT_BETA = 4.765
POISSON_BELOW = 20.0
_BATCH = 64  # frames per FFT batch: large enough to amortise, small enough to stay in a few tens of MB


@dataclass(frozen=True)
class SyntheticCube:
    """Frames (uint16, (n, h, w)) and their truth: the star's shift (dy, dx) from ``center``, Strehl, seeing."""

    frames: np.ndarray
    shifts: np.ndarray  # (n, 2): (dy, dx) in px of the star from ``center``
    strehl: np.ndarray  # (n,): each frame's instantaneous Strehl (0 for a seeing-limited cube)
    seeing_arcsec: float
    filter_name: str
    telescope: Telescope
    center: tuple[int, int]  # (h // 2, w // 2): a zero shift puts the star on this pixel's centre
    star_flux: float
    sky: float
    params: dict = field(default_factory=dict)

    def truth(self) -> dict:
        """The truth as plain JSON values (what ``night_files`` writes beside each file)."""
        return {
            "center": list(self.center),
            "shifts": np.round(self.shifts, 6).tolist(),
            "strehl": np.round(self.strehl, 6).tolist(),
            "seeing_arcsec": self.seeing_arcsec,
            "filter": self.filter_name,
            "star_flux": self.star_flux,
            "sky": self.sky,
            **self.params,
        }


def flat_field(seed: int, shape: tuple[int, int] = (256, 256), *, rms: float = 0.02, gradient: float = 0.05):
    """A flat field of mean 1: ``rms`` pixel-to-pixel response and a smooth gradient of ``gradient`` across it."""
    rng = np.random.default_rng([seed, 1])
    h, w = shape
    y, x = np.meshgrid(np.linspace(-0.5, 0.5, h), np.linspace(-0.5, 0.5, w), indexing="ij")
    angle = rng.uniform(0, 2 * np.pi)
    smooth = 1 + gradient * (np.cos(angle) * x + np.sin(angle) * y) - 0.5 * gradient * (x**2 + y**2)
    flat = smooth * (1 + rms * rng.standard_normal(shape))
    return flat / flat.mean()


def dark_current(seed: int, shape: tuple[int, int] = (256, 256), *, mean: float = 2.0, hot_fraction: float = 2e-3):
    """Dark current per pixel per frame (electrons): a gamma-distributed pattern around ``mean``, a few hot pixels."""
    rng = np.random.default_rng([seed, 2])
    dark = rng.gamma(4.0, mean / 4.0, shape)
    hot = rng.random(shape) < hot_fraction
    dark[hot] += rng.uniform(20, 200, int(hot.sum())) * max(mean, 0.1)
    return dark


def _expected_to_counts(rng, expected: np.ndarray, read_noise: float, bias: float) -> np.ndarray:
    """Noisy uint16 counts for expected electrons (float32 array, changed in place)."""
    low = expected < POISSON_BELOW
    noise = rng.standard_normal(expected.shape, dtype=np.float32)
    counts = expected + noise * np.sqrt(expected + np.float32(read_noise**2))
    if low.any():
        lam = expected[low]
        counts[low] = rng.poisson(lam) + noise[low] * np.float32(read_noise)
    counts += np.float32(bias)
    np.rint(counts, out=counts)
    np.clip(counts, 0, 65535, out=counts)
    return counts.astype(np.uint16)


def _halo(shape: tuple[int, int], fwhm_px: float, beta: float = MOFFAT_BETA) -> np.ndarray:
    h, w = shape
    gamma = fwhm_px / (2 * np.sqrt(2 ** (1 / beta) - 1))
    y = np.arange(h) - h // 2
    x = np.arange(w) - w // 2
    # Periodic distances, so the halo is what the FFT shift assumes: light leaving one edge enters the other.
    y = np.minimum(np.abs(y), h - np.abs(y))
    x = np.minimum(np.abs(x), w - np.abs(x))
    r2 = y[:, None] ** 2 + x[None, :] ** 2
    halo = (1 + r2 / gamma**2) ** (-beta)
    return halo / halo.sum()


def _core(telescope: Telescope, wavelength_um: float, shape: tuple[int, int]) -> np.ndarray:
    h, w = shape
    size = max(h, w)
    psf = model_psf(telescope, wavelength_um, size)
    c = size // 2
    core = psf[c - h // 2 : c - h // 2 + h, c - w // 2 : c - w // 2 + w]
    return core / core.sum()


def _render(
    rng,
    shifts: np.ndarray,
    strehl: np.ndarray,
    core: np.ndarray | None,
    halo: np.ndarray,
    *,
    star_flux: float,
    sky: float,
    dark: np.ndarray | float,
    flat: np.ndarray | None,
    read_noise: float,
    bias: float,
) -> np.ndarray:
    shape = halo.shape
    n = len(shifts)
    f_halo = fourier.rfft2(halo.astype(np.float32))
    f_core = fourier.rfft2(core.astype(np.float32)) if core is not None else None
    frames = np.empty((n, *shape), dtype=np.uint16)
    background = np.float32(sky) * (np.ones(shape, np.float32) if flat is None else flat.astype(np.float32))
    background = background + np.asarray(dark, dtype=np.float32)
    gain = np.float32(1.0) if flat is None else flat.astype(np.float32)
    for start in range(0, n, _BATCH):
        stop = min(n, start + _BATCH)
        s = strehl[start:stop, None, None].astype(np.float32)
        spectrum = f_halo[None] * (1 - s)
        if f_core is not None:
            spectrum = spectrum + f_core[None] * s
        ramp_y, ramp_x = fourier.shift_ramps(shifts[start:stop], shape)
        spectrum *= ramp_y
        spectrum *= ramp_x
        star = fourier.irfft2(spectrum, shape, workers=2).astype(np.float32, copy=False)
        np.maximum(star, 0, out=star)  # FFT round-off around zero: expected counts cannot be negative
        expected = star * np.float32(star_flux) * gain + background
        frames[start:stop] = _expected_to_counts(rng, expected, read_noise, bias)
    return frames


def _jitter(rng, n: int, jitter_px: float) -> np.ndarray:
    # Residual tip-tilt: a random walk pulled back to the centre (an AR(1) process) of stationary RMS jitter_px.
    rho = 0.9
    steps = rng.standard_normal((n, 2)) * jitter_px * np.sqrt(1 - rho**2)
    shifts = np.empty((n, 2))
    shifts[0] = rng.standard_normal(2) * jitter_px
    for i in range(1, n):
        shifts[i] = rho * shifts[i - 1] + steps[i]
    return np.clip(shifts, -4 * jitter_px, 4 * jitter_px)


def make_cube(
    seed: int,
    n_frames: int,
    *,
    telescope: Telescope = ROBO_AO_KPNO,
    filter_name: str = "Si",
    shape: tuple[int, int] = (256, 256),
    seeing_arcsec: float = 1.2,
    strehl_mean: float = 0.08,
    strehl_range: tuple[float, float] = (0.01, 0.35),
    jitter_px: float = 2.0,
    star_flux: float = 2.0e5,
    sky: float = 30.0,
    read_noise: float = 4.0,
    dark: np.ndarray | float = 2.0,
    flat: np.ndarray | None = None,
    bias: float = 100.0,
) -> SyntheticCube:
    """A lucky-imaging cube of one star: instantaneous Strehl from a gamma law of mean ``strehl_mean`` clipped to
    ``strehl_range``, jitter of RMS ``jitter_px`` per axis, ``star_flux`` electrons per frame, ``sky`` electrons
    per pixel per frame; ``dark`` is electrons per pixel per frame (a number or a map from ``dark_current``),
    ``flat`` the response (``flat_field``; None for a perfect one).
    """
    rng = np.random.default_rng(seed)
    wavelength = wavelength_of(filter_name)
    shifts = _jitter(rng, n_frames, jitter_px)
    strehl = np.clip(rng.gamma(3.0, strehl_mean / 3.0, n_frames), *strehl_range)
    core = _core(telescope, wavelength, shape)
    halo = _halo(shape, seeing_arcsec / telescope.pixel_scale_arcsec)
    frames = _render(
        rng,
        shifts,
        strehl,
        core,
        halo,
        star_flux=star_flux,
        sky=sky,
        dark=dark,
        flat=flat,
        read_noise=read_noise,
        bias=bias,
    )
    center = (shape[0] // 2, shape[1] // 2)
    params = {"jitter_px": jitter_px, "strehl_mean": strehl_mean, "read_noise": read_noise, "bias": bias}
    return SyntheticCube(frames, shifts, strehl, seeing_arcsec, filter_name, telescope, center, star_flux, sky, params)


def make_seeing_cube(
    seed: int,
    n_frames: int,
    *,
    telescope: Telescope = ROBO_AO_KPNO,
    filter_name: str = "Si",
    shape: tuple[int, int] = (256, 256),
    seeing_arcsec: float = 1.2,
    star_flux: float = 2.0e5,
    sky: float = 30.0,
    read_noise: float = 4.0,
    dark: np.ndarray | float = 2.0,
    flat: np.ndarray | None = None,
    bias: float = 100.0,
) -> SyntheticCube:
    """A seeing-limited cube (a ``seeing_`` exposure): no diffraction core, a Moffat of FWHM ``seeing_arcsec``.

    The star does not move: the image motion is part of the seeing FWHM, so the summed frames' FWHM is the truth.
    """
    rng = np.random.default_rng(seed)
    wavelength_of(filter_name)  # refuse an unknown filter here as make_cube does
    shifts = np.zeros((n_frames, 2))
    strehl = np.zeros(n_frames)
    halo = _halo(shape, seeing_arcsec / telescope.pixel_scale_arcsec)
    frames = _render(
        rng,
        shifts,
        strehl,
        None,
        halo,
        star_flux=star_flux,
        sky=sky,
        dark=dark,
        flat=flat,
        read_noise=read_noise,
        bias=bias,
    )
    center = (shape[0] // 2, shape[1] // 2)
    params = {"moffat_beta": MOFFAT_BETA, "read_noise": read_noise, "bias": bias}
    return SyntheticCube(frames, shifts, strehl, seeing_arcsec, filter_name, telescope, center, star_flux, sky, params)


def make_darks(
    seed: int,
    n_frames: int,
    *,
    shape: tuple[int, int] = (256, 256),
    dark: np.ndarray | float = 2.0,
    read_noise: float = 4.0,
    bias: float = 100.0,
) -> np.ndarray:
    """Dark frames (uint16, (n, h, w)): bias plus dark current, with its shot noise and read noise."""
    rng = np.random.default_rng(seed)
    expected = np.broadcast_to(np.asarray(dark, dtype=np.float32), (n_frames, *shape)).copy()
    return _expected_to_counts(rng, expected, read_noise, bias)


def make_flats(
    seed: int,
    n_frames: int,
    *,
    shape: tuple[int, int] = (256, 256),
    flat: np.ndarray | None = None,
    level: float = 20000.0,
    dark: np.ndarray | float = 2.0,
    read_noise: float = 4.0,
    bias: float = 100.0,
) -> np.ndarray:
    """Flat frames (uint16, (n, h, w)): a uniform illumination of ``level`` electrons through ``flat``, plus dark."""
    rng = np.random.default_rng(seed)
    response = np.ones(shape, np.float32) if flat is None else np.asarray(flat, dtype=np.float32)
    expected = np.broadcast_to(level * response + np.asarray(dark, dtype=np.float32), (n_frames, *shape)).copy()
    return _expected_to_counts(rng, expected, read_noise, bias)
