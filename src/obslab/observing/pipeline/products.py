"""Product files: where each goes, and writing them atomically (a temporary name, then a rename) with provenance."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

#: Temporary files carry this suffix until renamed; a killed writer leaves one, never a half product.
PARTIAL = ".partial"


def night_folder(products_dir: Path, night_key: str) -> Path:
    return products_dir / night_key


def exposure_folder(products_dir: Path, night_key: str, exposure: str) -> Path:
    return products_dir / night_key / exposure


def calibration_path(products_dir: Path, night_key: str, kind: str, key: str) -> Path:
    """``dark_<mode>.fits`` or ``flat_<filter>.fits`` in the night's ``calib`` folder, as the archiver laid them out."""
    return products_dir / night_key / "calib" / f"{kind}_{key}.fits"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_atomically(path: Path, write: Any) -> str:
    """Write through ``write(temporary_path)``, fsync, rename into place; return the file's SHA-256."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}{PARTIAL}")
    try:
        write(temporary)
        with temporary.open("rb") as stream:
            os.fsync(stream.fileno())
        checksum = sha256_file(temporary)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return checksum


def _cards(values: Mapping[str, Any]) -> Any:
    """A FITS header of ``values``: keys of at most 8 letters, upper-cased; strings may be long (CONTINUE cards)."""
    from astropy.io import fits

    header = fits.Header()
    for key, value in values.items():
        if len(key) > 8:
            raise ValueError(f"provenance key {key!r} is longer than a FITS keyword (8 characters)")
        header[key.upper()] = value if isinstance(value, (int, float, bool)) else str(value)
    return header


def write_fits(path: Path, data: np.ndarray, provenance: Mapping[str, Any]) -> str:
    """A FITS image with the provenance as header cards (keys of at most 8 letters; long values CONTINUE)."""
    from astropy.io import fits

    header = _cards(provenance)

    def write(temporary: Path) -> None:
        fits.PrimaryHDU(data=np.asarray(data, dtype=np.float32), header=header).writeto(temporary)

    return _write_atomically(path, write)


def _column(name: str, values: Any) -> np.ndarray:
    """One table column as FITS can hold it: text as ASCII bytes (at least one character wide), numbers as given."""
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"table column {name!r} must be one value per row, not an array of shape {array.shape}")
    if array.dtype.kind == "U":
        width = max(1, max((len(text) for text in array.tolist()), default=1))
        return np.array([text.encode("ascii", "replace") for text in array.tolist()], dtype=f"S{width}")
    return array


def write_fits_table(
    path: Path,
    columns: Mapping[str, Any],
    provenance: Mapping[str, Any],
    *,
    name: str,
    header_extra: Mapping[str, Any] | None = None,
) -> str:
    """A FITS table: the provenance in the primary header (as ``write_fits``, so ``read_provenance`` reads it),
    the rows in a binary table extension.

    Parameters
    ----------
    columns
        Column name to one value per row, in the table's column order; every column has the same length.
        Text columns are stored as ASCII (anything else becomes ``?``).
    name
        The extension's EXTNAME (``SHIFTS``, ``STREHL``, ``SEEING``), to open it by name.
    header_extra
        More cards for the table's own header (keys of at most 8 letters), e.g. what every row shares.
    """
    from astropy.io import fits

    primary = _cards(provenance)
    arrays = [_column(key, values) for key, values in columns.items()]
    if len({array.size for array in arrays}) > 1:
        raise ValueError(f"table {name}: the columns differ in length ({[array.size for array in arrays]})")
    rows = np.rec.fromarrays(arrays, names=list(columns))
    table_header = _cards(header_extra or {})

    def write(temporary: Path) -> None:
        table = fits.BinTableHDU(data=rows, header=table_header, name=name)
        fits.HDUList([fits.PrimaryHDU(header=primary), table]).writeto(temporary)

    return _write_atomically(path, write)


def read_provenance(path: Path, keys: tuple[str, ...]) -> dict[str, Any]:
    from astropy.io import fits

    header = fits.getheader(path)
    return {key: header[key.upper()] for key in keys if key.upper() in header}


def write_bytes(path: Path, content: bytes) -> str:
    return _write_atomically(path, lambda temporary: temporary.write_bytes(content))


def read_fits(path: Path) -> np.ndarray:
    from astropy.io import fits

    with fits.open(path, memmap=False) as hdus:
        return np.asarray(hdus[0].data, dtype=np.float32)


def remove_replaced(products_dir: Path, paths: list[str]) -> None:
    """Delete the files of products a rerun replaced, so the folder holds the recorded products only; a path
    outside ``products_dir`` (a product recorded elsewhere, a raw file) is never touched."""
    root = products_dir.resolve()
    for path in map(Path, paths):
        if path.resolve().is_relative_to(root):
            path.unlink(missing_ok=True)


def sweep_partials(folder: Path) -> list[Path]:
    """Remove what killed writers left behind under ``folder`` (never a product: those have no PARTIAL suffix)."""
    if not folder.is_dir():
        return []
    found = sorted(folder.rglob(f"*{PARTIAL}"))
    for path in found:
        path.unlink(missing_ok=True)
    return found
