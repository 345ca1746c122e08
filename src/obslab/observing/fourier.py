"""Real 2D FFTs and sub-pixel shift phase ramps shared by the optics model, the synthetic frames and the stacker.

scipy's FFT is used when it is installed (about 3x numpy's here, and it takes ``workers``); numpy's otherwise,
so the pipeline does not depend on scipy. Shifts follow one convention everywhere: shifting an image by
``(dy, dx)`` moves its content to larger row and column indices, periodically (the FFT's wrap-around).
"""

from __future__ import annotations

import numpy as np

try:  # scipy is optional: faster, and multithreaded with ``workers``
    from scipy import fft as _scipy_fft
except ImportError:  # pragma: no cover - the test environment has scipy
    _scipy_fft = None


def rfft2(images: np.ndarray, *, workers: int = 1) -> np.ndarray:
    """The real 2D FFT over the last two axes (complex64 for float32 input with scipy)."""
    if _scipy_fft is not None:
        return _scipy_fft.rfft2(images, workers=workers)
    return np.fft.rfft2(images)


def irfft2(spectra: np.ndarray, shape: tuple[int, int], *, workers: int = 1) -> np.ndarray:
    """The inverse of ``rfft2`` for images of ``shape`` (h, w)."""
    if _scipy_fft is not None:
        return _scipy_fft.irfft2(spectra, s=shape, workers=workers)
    return np.fft.irfft2(spectra, s=shape)


def shift_ramps(shifts: np.ndarray, shape: tuple[int, int], dtype=np.complex64) -> tuple[np.ndarray, np.ndarray]:
    """Separable phase ramps that shift by ``shifts`` (n, 2) as (dy, dx): (n, h, 1) and (n, 1, w//2+1).

    Multiplying an ``rfft2`` spectrum by ``ramp_y * ramp_x`` and inverting shifts the image exactly (for a
    band-limited image; in general it is the periodic sinc interpolation). The Nyquist row and column get a
    real ramp (cos) so that the result stays real and the operation is its own inverse with the opposite shift.
    """
    h, w = shape
    shifts = np.asarray(shifts, dtype=np.float64).reshape(-1, 2)
    ky = np.fft.fftfreq(h)
    kx = np.fft.rfftfreq(w)
    ramp_y = np.exp(-2j * np.pi * shifts[:, :1] * ky[None, :])
    ramp_x = np.exp(-2j * np.pi * shifts[:, 1:] * kx[None, :])
    if h % 2 == 0:
        ramp_y[:, h // 2] = ramp_y[:, h // 2].real
    if w % 2 == 0:
        ramp_x[:, w // 2] = ramp_x[:, w // 2].real
    return ramp_y[:, :, None].astype(dtype), ramp_x[:, None, :].astype(dtype)


def fourier_shift(image: np.ndarray, shift: tuple[float, float]) -> np.ndarray:
    """One image shifted by (dy, dx) pixels through its spectrum (periodic; exact for band-limited images)."""
    image = np.asarray(image, dtype=np.float64)
    ramp_y, ramp_x = shift_ramps(np.asarray([shift]), image.shape, dtype=np.complex128)
    return irfft2(rfft2(image) * ramp_y[0] * ramp_x[0], image.shape)
