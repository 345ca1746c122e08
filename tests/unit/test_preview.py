"""The preview PNG: a valid greyscale PNG, decoded independently, with its scale bar, byte-for-byte repeatable."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

from obslab.observing.optics import FILTER_WAVELENGTH_UM, ROBO_AO_KPNO, model_psf
from obslab.observing.preview import PNG_SIGNATURE, encode_png, png_text, preview_png, stretch


def chunks_of(png: bytes) -> list[tuple[bytes, bytes]]:
    """Every chunk (kind, data) in order, checking each CRC."""
    assert png[:8] == PNG_SIGNATURE
    position, chunks = 8, []
    while position < len(png):
        (length,) = struct.unpack(">I", png[position : position + 4])
        kind, data = png[position + 4 : position + 8], png[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", png[position + 8 + length : position + 12 + length])
        assert crc == zlib.crc32(kind + data) & 0xFFFFFFFF
        chunks.append((kind, data))
        position += 12 + length
    return chunks


def decode(png: bytes) -> np.ndarray:
    """A minimal PNG reader for 8-bit greyscale with filter 0, checking every chunk's CRC (the oracle)."""
    chunks = [chunk for chunk in chunks_of(png) if chunk[0] not in (b"tEXt", b"iTXt")]
    assert [kind for kind, _ in chunks] == [b"IHDR", b"IDAT", b"IEND"]
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (depth, colour, interlace) == (8, 0, 0)
    rows = np.frombuffer(zlib.decompress(chunks[1][1]), dtype=np.uint8).reshape(height, width + 1)
    assert np.all(rows[:, 0] == 0)
    return rows[:, 1:]


def test_encode_png_round_trips_and_pillow_agrees() -> None:
    grey = (np.arange(12 * 7) % 256).astype(np.uint8).reshape(12, 7)
    png = encode_png(grey)
    assert np.array_equal(decode(png), grey)
    image_module = pytest.importorskip("PIL.Image")
    import io

    with image_module.open(io.BytesIO(png)) as picture:
        assert picture.mode == "L" and picture.size == (7, 12)
        assert np.array_equal(np.asarray(picture), grey)


def test_preview_has_the_star_bright_the_sky_dark_and_a_scale_bar_of_one_arcsecond() -> None:
    scale = ROBO_AO_KPNO.pixel_scale_arcsec
    image = 1e5 * model_psf(ROBO_AO_KPNO, FILTER_WAVELENGTH_UM["Si"], 128, center=(80, 40)) + 20.0
    image += np.random.default_rng(1).normal(0, 1.0, image.shape)
    png = preview_png(image, scale, scale_bar_arcsec=1.0)
    grey = decode(png)
    assert grey.shape == (128, 128)
    # The picture is flipped so that the FITS image's last row is on top: row 80 is picture row 127 - 80.
    assert grey[127 - 80, 40] == 255
    assert np.median(grey) < 40
    # The bar: 1" is 28 px, white, in the lower left, on the otherwise dark sky.
    margin, bar_rows = 128 // 16, grey[128 - 128 // 16 - 2 : 128 - 128 // 16]
    white = np.flatnonzero(bar_rows.min(axis=0) == 255)
    assert white[0] == margin and white.size == round(1.0 / scale)
    assert preview_png(image, scale) == png  # the same bytes every time


def test_stretch_handles_flat_and_non_finite_images() -> None:
    assert np.all(stretch(np.zeros((4, 4))) == 0)
    nan_image = np.full((4, 4), np.nan)
    assert np.all(stretch(nan_image) == 0)
    mixed = np.array([[0.0, np.nan], [1.0, 100.0]])
    assert stretch(mixed).max() == 255
    with pytest.raises(ValueError, match="2D image"):
        encode_png(np.zeros((2, 2, 3), dtype=np.uint8))


def test_text_chunks_carry_the_provenance_before_the_image_data_and_pillow_reads_them() -> None:
    grey = (np.arange(6 * 5) % 256).astype(np.uint8).reshape(6, 5)
    text = {"obslabv": "0.1.0", "stage": "preview", "inputs": "20p.fits", "note": "Strehl 12 % \u2014 \u00e9t\u00e9"}
    png = encode_png(grey, text)
    kinds = [kind for kind, _ in chunks_of(png)]
    assert kinds == [b"IHDR", b"tEXt", b"tEXt", b"tEXt", b"iTXt", b"IDAT", b"IEND"]  # the dash is not Latin-1
    assert (b"tEXt", b"obslabv\x000.1.0") in chunks_of(png)
    assert png_text(png) == text and np.array_equal(decode(png), grey)
    assert png_text(encode_png(grey)) == {}
    image_module = pytest.importorskip("PIL.Image")
    import io

    with image_module.open(io.BytesIO(png)) as picture:
        picture.load()
        assert picture.text == text
        assert np.array_equal(np.asarray(picture), grey)


def test_preview_png_adds_its_text_without_changing_the_picture() -> None:
    image = np.random.default_rng(2).normal(0, 1, (32, 32))
    plain = preview_png(image, ROBO_AO_KPNO.pixel_scale_arcsec)
    stamped = preview_png(image, ROBO_AO_KPNO.pixel_scale_arcsec, text={"stagev": "2"})
    assert png_text(stamped) == {"stagev": "2"} and np.array_equal(decode(stamped), decode(plain))


@pytest.mark.parametrize("keyword", ["", "x" * 80, "caf\u00e9\u2014", "tab\there"])
def test_a_text_keyword_png_cannot_hold_is_refused(keyword: str) -> None:
    with pytest.raises(ValueError, match="1 to 79 printable Latin-1"):
        encode_png(np.zeros((2, 2), dtype=np.uint8), {keyword: "value"})


def test_a_damaged_text_chunk_is_refused_by_the_reader() -> None:
    png = bytearray(encode_png(np.zeros((2, 2), dtype=np.uint8), {"stage": "preview"}))
    png[png.index(b"preview")] ^= 0x20  # "Preview": the CRC no longer matches
    with pytest.raises(ValueError, match="CRC mismatch"):
        png_text(bytes(png))
    with pytest.raises(ValueError, match="not a PNG"):
        png_text(b"GIF89a")
