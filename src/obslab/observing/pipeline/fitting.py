"""Least-squares fits of star profiles (2D Gaussian, 2D Moffat, radial Moffat) in numpy, no scipy needed.

A small Levenberg-Marquardt with bounds (steps are clipped into them) and a forward-difference Jacobian: the
models have at most seven parameters and are fitted to a few thousand pixels, so this is milliseconds.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

GAUSS_FWHM = 2 * math.sqrt(2 * math.log(2))  # 2.3548


@dataclass(frozen=True)
class Fit:
    params: np.ndarray
    cost: float  # sum of squared residuals
    converged: bool


def levenberg_marquardt(
    residuals: Callable[[np.ndarray], np.ndarray],
    p0: np.ndarray,
    *,
    lower: np.ndarray,
    upper: np.ndarray,
    max_iter: int = 100,
    tol: float = 1e-10,
) -> Fit:
    """Minimise ``sum(residuals(p)**2)`` from ``p0`` within ``[lower, upper]``."""
    p = np.clip(np.asarray(p0, dtype=np.float64), lower, upper)
    r = residuals(p)
    cost = float(r @ r)
    damping = 1e-3
    for _ in range(max_iter):
        jac = np.empty((r.size, p.size))
        for k in range(p.size):
            h = 1e-6 * max(abs(p[k]), 1e-3)
            q = p.copy()
            q[k] = q[k] + h if q[k] + h <= upper[k] else q[k] - h
            jac[:, k] = (residuals(q) - r) / (q[k] - p[k])
        a = jac.T @ jac
        g = jac.T @ r
        improved = False
        while damping < 1e12:
            try:
                step = np.linalg.solve(a + damping * np.diag(np.diag(a) + 1e-12), -g)
            except np.linalg.LinAlgError:
                damping *= 10
                continue
            trial = np.clip(p + step, lower, upper)
            r_trial = residuals(trial)
            cost_trial = float(r_trial @ r_trial)
            if cost_trial < cost:
                done = cost - cost_trial <= tol * max(cost, 1e-300)
                p, r, cost, damping = trial, r_trial, cost_trial, max(damping / 3, 1e-12)
                improved = True
                break
            damping *= 4
        if not improved or done:
            return Fit(p, cost, True)
    return Fit(p, cost, False)


def gaussian_2d(p: np.ndarray, y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """amplitude, y0, x0, sigma_y, sigma_x, theta, background: an elliptical Gaussian rotated by theta."""
    amp, y0, x0, sy, sx, theta, bg = p
    c, s = math.cos(theta), math.sin(theta)
    dy, dx = y - y0, x - x0
    u = c * dx + s * dy
    v = -s * dx + c * dy
    return amp * np.exp(-0.5 * ((u / sx) ** 2 + (v / sy) ** 2)) + bg


def moffat_2d(p: np.ndarray, y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """amplitude, y0, x0, gamma, alpha, background: a circular Moffat."""
    amp, y0, x0, gamma, alpha, bg = p
    return amp * (1 + ((y - y0) ** 2 + (x - x0) ** 2) / gamma**2) ** (-alpha) + bg


def moffat_fwhm(gamma: float, alpha: float) -> float:
    return 2 * gamma * math.sqrt(2 ** (1 / alpha) - 1)


def _start(image: np.ndarray) -> tuple[float, float, float, float, float]:
    bg = float(np.median(image))
    peak_y, peak_x = np.unravel_index(int(np.argmax(image)), image.shape)
    amp = float(image[peak_y, peak_x]) - bg
    # A first width from the number of pixels above half the peak: area = pi (FWHM/2)^2.
    half = max(int(np.count_nonzero(image - bg > amp / 2)), 1)
    fwhm = 2 * math.sqrt(half / math.pi)
    return amp, float(peak_y), float(peak_x), max(fwhm, 1.0), bg


def fit_gaussian_2d(image: np.ndarray) -> Fit:
    """An elliptical 2D Gaussian fitted to ``image``; ``params`` as ``gaussian_2d`` takes them, y/x in its pixels."""
    y, x = np.indices(image.shape, dtype=np.float64)
    y, x, data = y.ravel(), x.ravel(), np.asarray(image, dtype=np.float64).ravel()
    amp, y0, x0, fwhm, bg = _start(np.asarray(image, dtype=np.float64))
    sigma = fwhm / GAUSS_FWHM
    h, w = image.shape
    p0 = np.array([amp, y0, x0, sigma, sigma, 0.0, bg])
    scale = max(abs(amp), 1e-12)
    lower = np.array([0.0, -1.0, -1.0, 0.2, 0.2, -math.pi / 2, bg - 10 * scale])
    upper = np.array([10 * scale, h, w, 4.0 * max(h, w), 4.0 * max(h, w), math.pi / 2, bg + 10 * scale])
    return levenberg_marquardt(lambda p: gaussian_2d(p, y, x) - data, p0, lower=lower, upper=upper)


def fit_moffat_2d(image: np.ndarray) -> Fit:
    """A circular 2D Moffat fitted to ``image``; ``params`` as ``moffat_2d`` takes them."""
    y, x = np.indices(image.shape, dtype=np.float64)
    y, x, data = y.ravel(), x.ravel(), np.asarray(image, dtype=np.float64).ravel()
    amp, y0, x0, fwhm, bg = _start(np.asarray(image, dtype=np.float64))
    alpha = 3.0
    gamma = fwhm / (2 * math.sqrt(2 ** (1 / alpha) - 1))
    h, w = image.shape
    p0 = np.array([amp, y0, x0, gamma, alpha, bg])
    scale = max(abs(amp), 1e-12)
    lower = np.array([0.0, -1.0, -1.0, 0.1, 0.3, bg - 10 * scale])
    upper = np.array([10 * scale, h, w, 10.0 * max(h, w), 50.0, bg + 10 * scale])
    return levenberg_marquardt(lambda p: moffat_2d(p, y, x) - data, p0, lower=lower, upper=upper)


def fit_radial_moffat(radius: np.ndarray, values: np.ndarray) -> tuple[float, float, float] | None:
    """(amplitude, gamma, alpha) of ``a (1 + (r/gamma)^2)^-alpha`` fitted to points; None when there are too few."""
    radius = np.asarray(radius, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    if np.unique(np.round(radius, 6)).size < 3:
        return None
    amp = float(values[np.argmin(radius)])
    if amp <= 0:
        return None
    half = radius[values >= amp / 2]
    gamma0 = max(float(half.max()) if half.size else 1.0, 0.3)
    p0 = np.array([amp, gamma0, 2.5])
    lower = np.array([0.0, 0.05, 0.3])
    upper = np.array([100 * amp, 1e4, 50.0])

    def residuals(p: np.ndarray) -> np.ndarray:
        return p[0] * (1 + (radius / p[1]) ** 2) ** (-p[2]) - values

    fit = levenberg_marquardt(residuals, p0, lower=lower, upper=upper)
    return float(fit.params[0]), float(fit.params[1]), float(fit.params[2])
