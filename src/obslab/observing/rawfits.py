"""Raw FITS files (``.fits``, ``.fits.bz2``): header, checksum and a completeness check in one pass; frames for stages.

Ingest reads each file once, as a stream: the bytes on disk go to SHA-256, and (decompressed, for ``.bz2``) the
primary header is collected up to its ``END`` card while the data after it is only counted, never kept, so a
file of many frames costs one read and little memory. A file is refused, by name and with the reason, when it
is not FITS, is truncated (its data shorter than ``NAXIS1 * NAXIS2 * NAXIS3 * |BITPIX| / 8`` bytes, or a
compressed stream that ends early) or its header lacks what :mod:`obslab.observing.header` requires.
"""

from __future__ import annotations

import bz2
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from math import prod
from pathlib import Path
from typing import IO, Any

import numpy as np

from obslab.observing.header import RawFileError, RawHeader, header_json, read_header

__all__ = ["RawFile", "RawFileError", "read_frames", "read_raw"]

BLOCK = 2880  # FITS headers and data come in blocks of 2880 bytes, headers as 36 cards of 80 characters
CARD = 80
CHUNK = 1 << 20
#: A header longer than this (about 2.9 MB) is not a camera's header: the file is refused rather than read on.
MAX_HEADER_BLOCKS = 1000
BITPIX = frozenset({8, 16, 32, 64, -32, -64})
_END = b"END" + b" " * 5


@dataclass(frozen=True)
class RawFile:
    """One raw file as ingest records it."""

    path: Path  # resolved, absolute
    size_bytes: int
    sha256: str
    modified_at: datetime  # UTC
    header: RawHeader
    header_json: dict[str, Any]

    @property
    def name(self) -> str:
        return self.path.name


def _chunks(stream: IO[bytes], digest: Any) -> Iterator[bytes]:
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
        yield chunk


def _inflate(chunks: Iterator[bytes], name: str) -> Iterator[bytes]:
    """The decompressed bytes of a bzip2 file (several streams, as parallel bzip2 writes, one after another)."""
    decompressor, fed, streams = bz2.BZ2Decompressor(), False, 1
    for chunk in chunks:
        data = chunk
        while streams:
            try:
                out = decompressor.decompress(data, CHUNK)  # bounded: a compressed cube of zeros inflates a lot
            except OSError as error:
                if streams == 1:
                    raise RawFileError(name, f"is not a bzip2-compressed file ({error})") from None
                streams = 0  # as bzip2 and Python's bz2 do: what follows the last whole stream is ignored
                break
            fed = fed or bool(data)
            data = b""
            if out:
                yield out
            if decompressor.eof:
                data, decompressor, fed, streams = decompressor.unused_data, bz2.BZ2Decompressor(), False, streams + 1
                if not data:
                    break
            elif decompressor.needs_input:
                break
    if streams and fed and not decompressor.eof:
        raise RawFileError(name, "is truncated: its compressed stream ends early")


def _check_block(block: bytes, name: str, first: bool) -> bool:
    """Whether ``block`` (one header block) holds the END card; refuse what cannot be a FITS header."""
    if first and not block.startswith(b"SIMPLE  ="):
        raise RawFileError(name, "is not a FITS file: it does not begin with 'SIMPLE  ='")
    if any(byte < 32 or byte > 126 for byte in block):
        raise RawFileError(name, "is not a FITS file: its header holds characters other than printable ASCII")
    return any(block[at : at + len(_END)] == _END for at in range(0, BLOCK, CARD))


def _split(pieces: Iterator[bytes], name: str) -> tuple[bytes, int]:
    """The primary header's bytes (to its END card's block) and how many bytes follow it."""
    header, pending, data_bytes, done = bytearray(), bytearray(), 0, False
    for piece in pieces:
        if done:
            data_bytes += len(piece)
            continue
        pending += piece
        while len(pending) >= BLOCK and not done:
            block = bytes(pending[:BLOCK])
            del pending[:BLOCK]
            done = _check_block(block, name, first=not header)
            header += block
            if not done and len(header) >= MAX_HEADER_BLOCKS * BLOCK:
                raise RawFileError(name, f"is not a camera's FITS file: no END card in its first {len(header)} bytes")
        if done:
            data_bytes += len(pending)
            pending.clear()
    if not done:
        if not header and not pending:
            raise RawFileError(name, "is empty, not a FITS file")
        if not header and not pending.startswith(b"SIMPLE  ="):
            raise RawFileError(name, "is not a FITS file: it does not begin with 'SIMPLE  ='")
        raise RawFileError(name, "is truncated: the file ends inside its header, before the END card")
    return bytes(header), data_bytes


def _data_size(header: Any, name: str) -> int:
    """Bytes of primary data the header announces (no padding: a writer may leave the last block short)."""
    bitpix, naxis = header.get("BITPIX"), header.get("NAXIS")
    if bitpix not in BITPIX:
        raise RawFileError(name, f"has BITPIX = {bitpix!r}; expected one of {', '.join(map(str, sorted(BITPIX)))}")
    if not isinstance(naxis, int) or isinstance(naxis, bool) or naxis < 0:
        raise RawFileError(name, f"has NAXIS = {naxis!r}; expected the number of axes")
    axes = [header.get(f"NAXIS{n}") for n in range(1, naxis + 1)]
    if any(not isinstance(a, int) or isinstance(a, bool) or a < 0 for a in axes):
        raise RawFileError(name, f"has axis lengths {axes!r}; expected whole numbers")
    return prod(axes) * abs(bitpix) // 8 if naxis else 0


def read_raw(path: str | Path) -> RawFile:
    """One raw file's header, size, modification time and SHA-256, its data checked complete, in one read.

    Raises
    ------
    RawFileError
        Naming the file and what is wrong (a :class:`~obslab.observing.header.HeaderError` for the header's
        keywords).
    """
    from astropy.io import fits

    resolved = Path(path).resolve()
    name = resolved.name
    digest = hashlib.sha256()
    try:
        stat = resolved.stat()
        with resolved.open("rb") as stream:
            pieces = _chunks(stream, digest)
            if name.endswith(".bz2"):
                pieces = _inflate(pieces, name)
            header_bytes, data_bytes = _split(pieces, name)
    except OSError as error:
        raise RawFileError(name, f"cannot be read: {error.strerror or error}") from None
    try:
        header = fits.Header.fromstring(header_bytes.decode("ascii"))
    except (ValueError, KeyError, IndexError) as error:
        raise RawFileError(name, f"has a header astropy cannot read: {error}") from None
    typed = read_header(header, name)
    expected = _data_size(header, name)
    if expected == 0:
        raise RawFileError(name, "holds no image: NAXIS is 0 or an axis is empty")
    if data_bytes < expected:
        raise RawFileError(
            name,
            f"is truncated: {data_bytes} bytes of data where its header announces {expected} "
            f"(NAXIS1 x NAXIS2 x NAXIS3 x |BITPIX|/8)",
        )
    return RawFile(
        path=resolved,
        size_bytes=stat.st_size,
        sha256=digest.hexdigest(),
        modified_at=datetime.fromtimestamp(stat.st_mtime, UTC),
        header=typed,
        header_json=header_json(header),
    )


def read_frames(path: str | Path) -> np.ndarray:
    """The frames of a raw file as an array (frames, height, width), scaled (BZERO/BSCALE), in native byte order.

    A 2-D image is one frame: shape (1, height, width).
    """
    from astropy.io import fits

    name = Path(path).name
    try:
        with fits.open(path, memmap=False) as hdus:
            data = hdus[0].data
    except (OSError, ValueError, EOFError) as error:
        raise RawFileError(name, f"cannot be read as FITS: {error}") from None
    if data is None or data.ndim not in (2, 3):
        shape = None if data is None else data.shape
        raise RawFileError(name, f"holds no image or cube of frames (data shape {shape})")
    frames = data[np.newaxis] if data.ndim == 2 else data
    return frames.astype(frames.dtype.newbyteorder("="), copy=False)
