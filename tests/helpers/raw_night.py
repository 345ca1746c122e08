"""Small raw FITS files for ingest tests: cubes of 16x16 uint16 frames, archiver names, the keywords ingest reads."""

from __future__ import annotations

import bz2
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from astropy.io import fits

from obslab.observing.naming import make_name

NIGHT = "20261121"
#: The first exposure's start; the others follow at whole minutes.
DUSK = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
EXPTIME = 0.5
CAMERA = "ROBOAO"


def header(
    started: datetime,
    *,
    exptime: float = EXPTIME,
    cammode: str = "fast",
    ra: Any = "12:30:00.0",
    dec: Any = "+05:30:00",
    airmass: float | None = 1.2,
    drop: tuple[str, ...] = (),
    **extra: Any,
) -> dict[str, Any]:
    """The keywords a Robo-AO raw file carries (``drop`` leaves some out)."""
    cards: dict[str, Any] = {
        "DATE-OBS": started.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f"),
        "EXPTIME": exptime,
        "CAMMODE": cammode,
        "TELRA": ra,
        "TELDEC": dec,
        "AIRMASS": airmass,
        "INSTRUME": "ROBO-CAM",
        "CAMERA": CAMERA,
    } | extra
    return {key: value for key, value in cards.items() if key not in drop and value is not None}


def write_file(
    folder: Path,
    head: str,
    target: str,
    started: datetime,
    *,
    filter_name: str = "i",
    part: int | None = None,
    frames: int = 3,
    seed: int = 0,
    suffix: str = ".fits",
    name_started: datetime | None = None,
    **cards: Any,
) -> Path:
    """One raw file, a cube of ``frames`` 16x16 frames (one 2-D image when ``frames`` is 0), named as the archiver does.

    ``name_started`` is the start the name says (the exposure's; default ``started``, this file's DATE-OBS).
    """
    folder.mkdir(parents=True, exist_ok=True)
    name = make_name(head, target, CAMERA, filter_name, name_started or started, part=part) + suffix
    rng = np.random.default_rng([seed, frames, part or 0])
    shape = (frames, 16, 16) if frames else (16, 16)
    hdu = fits.PrimaryHDU(rng.integers(100, 4000, shape, dtype=np.uint16))
    for key, value in header(started, **cards).items():
        hdu.header[key] = value
    hdu.header["OBJECT"] = target
    hdu.header["COMMENT"] = "written by tests/helpers/raw_night.py"
    path = folder / name
    if suffix.endswith(".bz2"):
        plain = folder / (name + ".tmp")
        hdu.writeto(plain)
        path.write_bytes(bz2.compress(plain.read_bytes()))
        plain.unlink()
    else:
        hdu.writeto(path, overwrite=True)
    return path


def write_exposure(
    folder: Path,
    head: str,
    target: str,
    started: datetime,
    *,
    parts: tuple[int, ...] = (),
    frames: int = 3,
    exptime: float = EXPTIME,
    **kwargs: Any,
) -> list[Path]:
    """An exposure: one file of ``frames``, or consecutive parts ``_0``, ``_1``, ... of the given frame counts."""
    if not parts:
        return [write_file(folder, head, target, started, frames=frames, exptime=exptime, **kwargs)]
    paths, at = [], started
    for number, count in enumerate(parts):
        paths.append(
            write_file(
                folder, head, target, at, part=number, frames=count, exptime=exptime, name_started=started, **kwargs
            )
        )
        at += timedelta(seconds=exptime * count)
    return paths


def cut_short(path: Path, keep: int = 3500) -> Path:
    """Truncate ``path`` to its first ``keep`` bytes (its header whole, its data not)."""
    path.write_bytes(path.read_bytes()[:keep])
    return path
