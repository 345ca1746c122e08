"""Raw FITS files: one streamed read for header, checksum and completeness; frames for the stages."""

from __future__ import annotations

import bz2
import hashlib
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from obslab.observing.rawfits import RawFileError, read_frames, read_raw
from tests.helpers.raw_night import cut_short, write_file

START = datetime(2026, 11, 21, 3, tzinfo=UTC)


def test_a_cube_and_its_compressed_copy_read_the_same(tmp_path: Path) -> None:
    plain = write_file(tmp_path, "24", "M31", START, frames=4)
    packed = write_file(tmp_path, "24", "M31", START, frames=4, suffix=".fits.bz2")
    raw, raw_bz2 = read_raw(plain), read_raw(packed)
    assert raw.header == raw_bz2.header and raw.header.n_frames == 4
    assert raw.sha256 == hashlib.sha256(plain.read_bytes()).hexdigest() != raw_bz2.sha256
    assert raw_bz2.sha256 == hashlib.sha256(packed.read_bytes()).hexdigest()
    assert raw.size_bytes == plain.stat().st_size and raw.path == plain.resolve() and raw.name == plain.name
    assert np.array_equal(read_frames(plain), read_frames(packed))


def test_several_bzip2_streams_are_one_file_and_a_cut_stream_is_truncated(tmp_path: Path) -> None:
    plain = write_file(tmp_path, "24", "M31", START, frames=3)
    data = plain.read_bytes()
    multi = tmp_path / plain.name.replace(".fits", "_m.fits.bz2")
    multi.write_bytes(bz2.compress(data[:3000]) + bz2.compress(data[3000:]))  # as parallel bzip2 writes
    assert read_raw(multi).header == read_raw(plain).header
    cut = tmp_path / plain.name.replace(".fits", "_c.fits.bz2")
    cut.write_bytes(bz2.compress(data)[:-20])
    with pytest.raises(RawFileError, match="is truncated: its compressed stream ends early"):
        read_raw(cut)
    fake = tmp_path / plain.name.replace(".fits", "_f.fits.bz2")
    fake.write_bytes(data)
    with pytest.raises(RawFileError, match="is not a bzip2-compressed file"):
        read_raw(fake)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "is empty, not a FITS file"),
        (b"NOT FITS" * 500, "is not a FITS file: it does not begin with 'SIMPLE  ='"),
        (b"SIMPLE  =                    T" + bytes(range(256)) * 12, "holds characters other than printable ASCII"),
        (b"SIMPLE  =                    T" + b" " * 3000, "the file ends inside its header"),
    ],
)
def test_what_is_not_fits_is_refused_by_name(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "x.fits"
    path.write_bytes(content)
    with pytest.raises(RawFileError, match=problem) as refused:
        read_raw(path)
    assert refused.value.file == "x.fits" and str(refused.value).startswith("x.fits: ")


def test_data_shorter_than_the_header_announces_is_truncated(tmp_path: Path) -> None:
    path = cut_short(write_file(tmp_path, "24", "M31", START, frames=3), keep=2880 + 1000)
    with pytest.raises(RawFileError, match="is truncated: 1000 bytes of data where its header announces 1536"):
        read_raw(path)


def test_a_header_only_file_holds_no_image(tmp_path: Path) -> None:
    path = tmp_path / "x.fits"
    hdu = fits.PrimaryHDU()
    hdu.header["DATE-OBS"], hdu.header["EXPTIME"] = "2026-11-21T03:00:00", 1.0
    hdu.writeto(path)
    with pytest.raises(RawFileError, match=r"x.fits: NAXIS = 0 is not allowed; expected 2 \(one image\) or 3"):
        read_raw(path)


def test_frames_come_as_a_native_cube(tmp_path: Path) -> None:
    image = write_file(tmp_path, "seeing", "", START, frames=0)
    frames = read_frames(image)
    assert frames.shape == (1, 16, 16) and frames.dtype == np.uint16 and frames.dtype.isnative
    assert np.array_equal(frames[0], fits.getdata(image))
    floats = tmp_path / "f.fits"
    fits.PrimaryHDU(np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)).writeto(floats)
    cube = read_frames(floats)
    assert cube.dtype == np.float32 and cube.dtype.isnative and cube[1, 2, 3] == 23.0
