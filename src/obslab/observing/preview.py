"""A stack's preview: an 8-bit greyscale PNG, asinh-stretched, with a white scale bar (standard library and numpy).

The PNG is written by hand (signature, IHDR, IDAT, IEND; zlib and struct), so the bytes depend only on the image
and arguments: the same stack gives the same file, which the pipeline's fingerprints rely on.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def encode_png(grey: np.ndarray) -> bytes:
    """An 8-bit greyscale PNG of ``grey`` (uint8, (h, w)); row 0 is the top of the picture."""
    grey = np.ascontiguousarray(grey, dtype=np.uint8)
    if grey.ndim != 2 or 0 in grey.shape:
        raise ValueError(f"a preview needs a 2D image, not an array of shape {grey.shape}")
    h, w = grey.shape
    # Each scanline starts with its filter type: 0 (none) keeps the encoder trivial; zlib does the work.
    raw = np.hstack([np.zeros((h, 1), dtype=np.uint8), grey]).tobytes()
    header = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)  # depth 8, greyscale, deflate, no filter, no interlace
    return PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw, 9)) + _chunk(b"IEND", b"")


def stretch(image: np.ndarray, *, softening: float = 3.0) -> np.ndarray:
    """An asinh stretch to 0-255: the background (median) black, the peak white, and the faint halo visible.

    ``softening`` is in units of the background noise (the median absolute deviation): the stretch is linear
    below it and logarithmic above.
    """
    data = np.asarray(image, dtype=np.float64)
    finite = np.isfinite(data)
    if not finite.any():
        return np.zeros(data.shape, dtype=np.uint8)
    background = float(np.median(data[finite]))
    noise = 1.4826 * float(np.median(np.abs(data[finite] - background)))
    top = float(data[finite].max()) - background
    if top <= 0:
        return np.zeros(data.shape, dtype=np.uint8)
    soft = max(softening * noise, top * 1e-4)
    scaled = np.arcsinh(np.clip(np.where(finite, data - background, 0.0), 0, None) / soft) / np.arcsinh(top / soft)
    return np.clip(np.rint(scaled * 255), 0, 255).astype(np.uint8)


def preview_png(image: np.ndarray, pixel_scale_arcsec: float, *, scale_bar_arcsec: float = 1.0) -> bytes:
    """The PNG preview of a stack: asinh stretch, north (the FITS image's last row) up, a white bar of
    ``scale_bar_arcsec`` in the lower left corner (shortened to fit a small image)."""
    grey = stretch(image)[::-1].copy()  # FITS row 0 is the bottom of the sky picture; PNG row 0 is the top
    h, w = grey.shape
    length = int(round(scale_bar_arcsec / pixel_scale_arcsec))
    margin = max(2, min(h, w) // 16)
    length = max(1, min(length, w - 2 * margin))
    thickness = max(2, h // 100)
    bottom = h - margin
    grey[max(0, bottom - thickness) : bottom, margin : margin + length] = 255
    return encode_png(grey)
