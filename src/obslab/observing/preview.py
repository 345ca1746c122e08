"""A stack's preview: an 8-bit greyscale PNG, asinh-stretched, with a white scale bar (standard library and numpy).

The PNG is written by hand (signature, IHDR, text chunks, IDAT, IEND; zlib and struct), so the bytes depend only on
the image and arguments: the same stack gives the same file, which the pipeline's fingerprints rely on. The text
chunks carry the product's provenance (``tEXt``, or ``iTXt`` for text Latin-1 cannot spell); ``png_text`` reads them.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Mapping

import numpy as np

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _text_chunk(keyword: str, text: str) -> bytes:
    """A ``tEXt`` chunk, or an uncompressed ``iTXt`` (UTF-8) when the text is not Latin-1 as ``tEXt`` requires."""
    try:
        name = keyword.encode("latin-1") if keyword.isprintable() else b""
    except UnicodeEncodeError:
        name = b""
    if not 1 <= len(name) <= 79:
        raise ValueError(f"a PNG text keyword is 1 to 79 printable Latin-1 characters, not {keyword!r}")
    if "\0" in text:
        raise ValueError(f"PNG text {keyword!r} holds a NUL character, which ends a PNG text field")
    try:
        return _chunk(b"tEXt", name + b"\0" + text.encode("latin-1"))
    except UnicodeEncodeError:
        # keyword, NUL, not compressed, method 0, no language tag, no translated keyword, then the UTF-8 text
        return _chunk(b"iTXt", name + b"\0\0\0\0\0" + text.encode("utf-8"))


def encode_png(grey: np.ndarray, text: Mapping[str, str] | None = None) -> bytes:
    """An 8-bit greyscale PNG of ``grey`` (uint8, (h, w)); row 0 is the top of the picture.

    ``text`` becomes one text chunk per entry (keyword, text), before the image data, in the mapping's order.
    """
    grey = np.ascontiguousarray(grey, dtype=np.uint8)
    if grey.ndim != 2 or 0 in grey.shape:
        raise ValueError(f"a preview needs a 2D image, not an array of shape {grey.shape}")
    h, w = grey.shape
    # Each scanline starts with its filter type: 0 (none) keeps the encoder trivial; zlib does the work.
    raw = np.hstack([np.zeros((h, 1), dtype=np.uint8), grey]).tobytes()
    header = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)  # depth 8, greyscale, deflate, no filter, no interlace
    texts = b"".join(_text_chunk(keyword, value) for keyword, value in (text or {}).items())
    return (
        PNG_SIGNATURE + _chunk(b"IHDR", header) + texts + _chunk(b"IDAT", zlib.compress(raw, 9)) + _chunk(b"IEND", b"")
    )


def png_text(png: bytes) -> dict[str, str]:
    """The ``tEXt`` and uncompressed ``iTXt`` entries of a PNG, keyword to text (a chunk with a bad CRC is refused)."""
    if png[:8] != PNG_SIGNATURE:
        raise ValueError("not a PNG file (no PNG signature)")
    found, position = {}, 8
    while position + 12 <= len(png):
        (length,) = struct.unpack(">I", png[position : position + 4])
        kind, data = png[position + 4 : position + 8], png[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", png[position + 8 + length : position + 12 + length])
        if crc != zlib.crc32(kind + data) & 0xFFFFFFFF:
            raise ValueError(f"PNG chunk {kind!r} at byte {position} is damaged (CRC mismatch)")
        if kind == b"tEXt":
            keyword, _, value = data.partition(b"\0")
            found[keyword.decode("latin-1")] = value.decode("latin-1")
        elif kind == b"iTXt":
            keyword, _, rest = data.partition(b"\0")
            if rest[:1] == b"\0" and rest[2:].count(b"\0") >= 2:  # not compressed
                _language, _translated, value = rest[2:].split(b"\0", 2)
                found[keyword.decode("latin-1")] = value.decode("utf-8")
        elif kind == b"IEND":
            break
        position += 12 + length
    return found


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


def preview_png(
    image: np.ndarray,
    pixel_scale_arcsec: float,
    *,
    scale_bar_arcsec: float = 1.0,
    text: Mapping[str, str] | None = None,
) -> bytes:
    """The PNG preview of a stack: asinh stretch, north (the FITS image's last row) up, a white bar of
    ``scale_bar_arcsec`` in the lower left corner (shortened to fit a small image); ``text`` (e.g. the provenance)
    as PNG text chunks."""
    grey = stretch(image)[::-1].copy()  # FITS row 0 is the bottom of the sky picture; PNG row 0 is the top
    h, w = grey.shape
    length = int(round(scale_bar_arcsec / pixel_scale_arcsec))
    margin = max(2, min(h, w) // 16)
    length = max(1, min(length, w - 2 * margin))
    thickness = max(2, h // 100)
    bottom = h - margin
    grey[max(0, bottom - thickness) : bottom, margin : margin + length] = 255
    return encode_png(grey, text)
