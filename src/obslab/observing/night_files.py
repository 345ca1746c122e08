"""A night folder of synthetic raw FITS cubes, named and headed as the archiver's camera wrote them, with the truth.

``write_night`` makes ``<directory>/YYYYMMDD/``: darks per camera mode, flats per filter, ``seeing_`` exposures
and science exposures of several programs and filters (one split into parts ``_0`` and ``_1``), each file with
``<file>.truth.json`` beside it. Everything follows from ``seed``: the same call writes the same frames and
headers (the bytes of a ``.bz2`` too). The night is Kitt Peak's, whose dark hours (about 01:00 to 13:00 UTC) fall
in one UTC date, the folder's name. Header keywords written (those ``observing.header`` reads): ``DATE-OBS``,
``EXPTIME``, ``OBJECT``, ``PROGRAM``, ``OBSTYPE``, ``FILTER``, ``CAMERA``, ``CAMMODE``, ``TELRA``, ``TELDEC``,
``AIRMASS``, ``INSTRUME``, ``TELESCOP``, ``PIXSCALE``.

``write_exposures`` writes exposures someone else planned (the demo's nights), one file each, on the same
detector model.
"""

from __future__ import annotations

import bz2
import io
import json
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import numpy as np

from obslab.observing import synthetic
from obslab.observing.naming import make_name
from obslab.observing.optics import ROBO_AO_KPNO, Telescope

KPNO_LATITUDE_DEG = 31.9583
KPNO_LONGITUDE_DEG = -111.5967
FRAME_SECONDS = 0.1163  # the Robo-AO EMCCD's 8.6 Hz full-frame rate
BIAS = 100.0
READ_NOISE = 4.0
#: Camera modes: flats and their darks are taken in mode 0, science and seeing in mode 6 (higher gain, more dark).
FLAT_MODE, SCIENCE_MODE = "0", "6"
DARK_PER_MODE = {FLAT_MODE: 1.5, SCIENCE_MODE: 3.0}
_TARGETS = (  # (name, program): one name with underscores, as the archiver met them
    ("KOI-1230", "24"),
    ("HD_12345_B", "24.1"),
    ("WD1145+017", "31"),
    ("2MASS_J0123+4567", "24"),
    ("TYC4321-55-1", "31"),
)
_FILTERS = ("Si", "Sz", "lp600", "Sr")


@dataclass(frozen=True)
class _File:
    head: str  # program number or calibration prefix
    target: str
    program: str
    obstype: str
    filter_name: str
    mode: str
    exposure_start: datetime  # the exposure's start: its name's time
    part: int | None  # the part of a split exposure, None for a whole one
    frames: np.ndarray
    truth: dict
    pointing: tuple[float, float, float] | None  # RA, Dec (deg), airmass; None: not written (a calibration)
    frame_seconds: float = FRAME_SECONDS

    @property
    def started_at(self) -> datetime:
        """This file's first frame (a later part starts after the earlier parts' frames)."""
        return self.exposure_start + timedelta(seconds=(self.part or 0) * len(self.frames) * self.frame_seconds)


def _night_day(night_date: date | str) -> date:
    if isinstance(night_date, date):
        return night_date
    return datetime.strptime(str(night_date), "%Y%m%d").replace(tzinfo=UTC).date()


def _local_sidereal_deg(moment: datetime) -> float:
    days = (moment - datetime(2000, 1, 1, 12, tzinfo=UTC)).total_seconds() / 86400.0
    return (280.46061837 + 360.98564736629 * days + KPNO_LONGITUDE_DEG) % 360.0


def _pointing(rng, moment: datetime) -> tuple[float, float, float]:
    """(RA, Dec, airmass) of a target within two hours of the meridian at ``moment``, seen from Kitt Peak."""
    hour_angle = rng.uniform(-30.0, 30.0)
    dec = rng.uniform(-10.0, 65.0)
    ra = (_local_sidereal_deg(moment) - hour_angle) % 360.0
    phi, delta, h = (math.radians(v) for v in (KPNO_LATITUDE_DEG, dec, hour_angle))
    sin_alt = math.sin(phi) * math.sin(delta) + math.cos(phi) * math.cos(delta) * math.cos(h)
    return round(ra, 6), round(dec, 6), round(1.0 / sin_alt, 4)


def _header(file: _File, telescope: Telescope, camera: str):
    from astropy.io import fits

    header = fits.Header()
    header["DATE-OBS"] = (file.started_at.strftime("%Y-%m-%dT%H:%M:%S.%f"), "UTC start of the first frame")
    header["EXPTIME"] = (file.frame_seconds, "[s] per frame")
    header["OBJECT"] = file.target
    header["PROGRAM"] = file.program
    header["OBSTYPE"] = file.obstype
    header["FILTER"] = file.filter_name
    header["CAMERA"] = camera
    header["CAMMODE"] = (file.mode, "camera mode (read-out and gain)")
    if file.pointing is not None:
        ra, dec, airmass = file.pointing
        header["TELRA"] = (ra, "[deg] telescope pointing")
        header["TELDEC"] = (dec, "[deg] telescope pointing")
        header["AIRMASS"] = airmass
    header["INSTRUME"] = "ROBO-CAM"
    header["TELESCOP"] = telescope.name or "KPNO 2.1 m"
    header["PIXSCALE"] = (telescope.pixel_scale_arcsec, "[arcsec/px]")
    header["SYNTHET"] = (True, "truth in <file>.truth.json")
    return header


def _write_fits(path: Path, frames: np.ndarray, header, compress: bool) -> None:
    from astropy.io import fits

    buffer = io.BytesIO()
    fits.PrimaryHDU(data=frames, header=header).writeto(buffer)
    data = buffer.getvalue()
    path.write_bytes(bz2.compress(data, 9) if compress else data)  # bz2 has no timestamp: same frames, same bytes


def _seed(rng) -> int:
    return int(rng.integers(2**31))


def write_night(
    directory: str | Path,
    night_date: date | str,
    *,
    seed: int,
    n_science: int = 3,
    frames_per_cube: int = 80,
    n_seeing: int = 3,
    frames_per_seeing: int = 10,
    dark_frames: int = 12,
    flat_frames: int = 6,
    compress: bool = False,
    shape: tuple[int, int] = (256, 256),
    telescope: Telescope = ROBO_AO_KPNO,
    camera: str = "VIC",
    seeing_arcsec: float = 1.2,
) -> list[Path]:
    """Write one night's raw files into ``directory/YYYYMMDD/`` and return their paths in time order.

    Defaults make about 50 MB: three science exposures of 80 frames per file (the first split into two files),
    three seeing exposures of 10 frames, 12 darks per camera mode and 6 flats per filter, 256 x 256 uint16.
    ``seeing_arcsec`` is the night's zenith seeing; it drifts by +-20% through the night and grows with
    airmass^0.6 (the truth files hold each exposure's).
    """
    day = _night_day(night_date)
    rng = np.random.default_rng([seed, 15])
    folder = Path(directory) / day.strftime("%Y%m%d")
    folder.mkdir(parents=True, exist_ok=True)
    dusk = datetime.combine(day, time(2, 0), tzinfo=UTC)
    filters = [_FILTERS[i % len(_FILTERS)] for i in range(n_science)]
    flat_filters = sorted(set(filters) | {"Si"})  # the seeing exposures are in Si
    darks = {
        mode: synthetic.dark_current(seed * 100 + i, shape, mean=mean)
        for i, (mode, mean) in enumerate(DARK_PER_MODE.items())
    }
    pattern = synthetic.flat_field(seed, shape, rms=0.02, gradient=0.06)  # the detector's, in every filter
    flats = {}
    for i, name in enumerate(flat_filters):
        flat = pattern * synthetic.flat_field(seed * 100 + 50 + i, shape, rms=0.005, gradient=0.02)
        flats[name] = flat / flat.mean()
    noise = {"read_noise": READ_NOISE, "bias": BIAS}
    files: list[_File] = []
    moment = dusk
    for mode, dark in darks.items():
        frames = synthetic.make_darks(_seed(rng), dark_frames, shape=shape, dark=dark, **noise)
        truth = {"kind": "dark", "camera_mode": mode, "dark_mean": float(dark.mean()), **noise}
        zenith = (round(_local_sidereal_deg(moment), 6), KPNO_LATITUDE_DEG, 1.0)  # dome closed, telescope parked up
        files.append(_File("dark", "", "", "dark", "c", mode, moment, None, frames, truth, zenith))
        moment += timedelta(minutes=2, microseconds=int(rng.integers(1_000_000)))
    for name, flat in flats.items():
        level = 20000.0
        frames = synthetic.make_flats(
            _seed(rng), flat_frames, shape=shape, flat=flat, level=level, dark=darks[FLAT_MODE], **noise
        )
        truth = {
            "kind": "flat",
            "camera_mode": FLAT_MODE,
            "filter": name,
            "level": level,
            "flat_rms": float(flat.std()),
        }
        files.append(
            _File("flat", "", "", "flat", name, FLAT_MODE, moment, None, frames, truth, _pointing(rng, moment))
        )
        moment += timedelta(minutes=3, microseconds=int(rng.integers(1_000_000)))
    slots = n_science + n_seeing
    seeing_slots = {int(j * slots / n_seeing) for j in range(n_seeing)} if n_seeing else set()
    science = 0
    for slot in range(slots):
        moment = dusk + timedelta(hours=1 + 9.0 * slot / slots, microseconds=int(rng.integers(1_000_000)))
        pointing = _pointing(rng, moment)
        seeing = seeing_arcsec * (1 + 0.2 * math.sin(2 * math.pi * slot / slots + seed)) * pointing[2] ** 0.6
        seeing = round(seeing, 4)
        if slot in seeing_slots:
            cube = synthetic.make_seeing_cube(
                _seed(rng),
                frames_per_seeing,
                telescope=telescope,
                shape=shape,
                seeing_arcsec=seeing,
                dark=darks[SCIENCE_MODE],
                flat=flats["Si"],
                **noise,
            )
            truth = {"kind": "seeing", "camera_mode": SCIENCE_MODE, **cube.truth()}
            target = f"SAO{int(rng.integers(10000, 99999))}"
            files.append(
                _File("seeing", target, "", "seeing", "Si", SCIENCE_MODE, moment, None, cube.frames, truth, pointing)
            )
            continue
        target, program = _TARGETS[science % len(_TARGETS)]
        name = filters[science]
        parts = 2 if science == 0 else 1
        cube = synthetic.make_cube(
            _seed(rng),
            frames_per_cube * parts,
            telescope=telescope,
            filter_name=name,
            shape=shape,
            seeing_arcsec=seeing,
            strehl_mean=float(rng.uniform(0.04, 0.12)),
            jitter_px=float(rng.uniform(1.0, 2.5)),
            star_flux=float(rng.uniform(1e5, 4e5)),
            dark=darks[SCIENCE_MODE],
            flat=flats[name],
            **noise,
        )
        truth = {"kind": "science", "camera_mode": SCIENCE_MODE, **cube.truth()}
        for part in range(parts):
            chosen = slice(part * frames_per_cube, (part + 1) * frames_per_cube)
            part_truth = {**truth, "shifts": truth["shifts"][chosen], "strehl": truth["strehl"][chosen]}
            label = part if parts > 1 else None
            files.append(
                _File(
                    program,
                    target,
                    program,
                    "science",
                    name,
                    SCIENCE_MODE,
                    moment,
                    label,
                    cube.frames[chosen],
                    {**part_truth, "part": label},
                    pointing,
                )
            )
        science += 1
    return [_write_file(folder, file, telescope, camera, compress) for file in files]


def _write_file(folder: Path, file: _File, telescope: Telescope, camera: str, compress: bool) -> Path:
    stem = make_name(file.head, file.target, camera, file.filter_name, file.exposure_start, part=file.part)
    path = folder / (stem + (".fits.bz2" if compress else ".fits"))
    _write_fits(path, file.frames, _header(file, telescope, camera), compress)
    Path(f"{path}.truth.json").write_text(json.dumps({"file": path.name, **file.truth}, indent=1) + "\n")
    return path


@dataclass(frozen=True)
class PlannedFile:
    """One exposure someone planned, to be written as one raw file (``write_exposures``).

    ``kind`` is the name's head for a calibration or seeing exposure (``bias``, ``dark``, ``flat``, ``seeing``)
    and ``science`` otherwise (then ``program`` heads the name); ``exposure_s`` is spread over ``frames`` (the
    header's ``EXPTIME`` is ``exposure_s / frames``), so the exposure keeps its planned length however few frames
    are written. ``pointing`` is (RA, Dec, airmass), None for a calibration (no pointing keywords).
    """

    kind: str
    started_at: datetime
    frames: int
    exposure_s: float
    filter_name: str
    camera_mode: str
    program: str = ""
    target: str = ""
    pointing: tuple[float, float, float] | None = None
    seeing_arcsec: float = 1.2
    strehl_mean: float = 0.08
    star_flux: float = 2.0e5


def write_exposures(
    directory: str | Path,
    night_date: date | str,
    exposures: list[PlannedFile],
    *,
    seed: int,
    shape: tuple[int, int] = (256, 256),
    telescope: Telescope = ROBO_AO_KPNO,
    camera: str = "VIC",
) -> list[Path]:
    """Write the given exposures of one night into ``directory/YYYYMMDD/``, one file each, in the given order.

    The detector is the same all night (a dark current per camera mode, one flat pattern, a response per
    filter, as ``write_night`` makes them); each exposure's frames follow from ``seed`` and its place in the
    list, so the same call writes the same bytes. Spaces in a target become underscores in the name.
    """
    day = _night_day(night_date)
    folder = Path(directory) / day.strftime("%Y%m%d")
    folder.mkdir(parents=True, exist_ok=True)
    modes = sorted({planned.camera_mode for planned in exposures})
    darks = {
        mode: synthetic.dark_current(seed * 100 + i, shape, mean=DARK_PER_MODE.get(mode, 2.0))
        for i, mode in enumerate(modes)
    }
    pattern = synthetic.flat_field(seed, shape, rms=0.02, gradient=0.06)
    flats = {}
    for i, name in enumerate(sorted({planned.filter_name for planned in exposures})):
        flat = pattern * synthetic.flat_field(seed * 100 + 50 + i, shape, rms=0.005, gradient=0.02)
        flats[name] = flat / flat.mean()
    noise = {"read_noise": READ_NOISE, "bias": BIAS}
    written = []
    for index, planned in enumerate(exposures):
        cube_seed = int(np.random.default_rng([seed, 16, index]).integers(2**31))
        dark, flat = darks[planned.camera_mode], flats[planned.filter_name]
        truth: dict = {"kind": planned.kind, "camera_mode": planned.camera_mode, **noise}
        if planned.kind == "bias":
            frames = synthetic.make_darks(cube_seed, planned.frames, shape=shape, dark=0.0, **noise)
        elif planned.kind == "dark":
            frames = synthetic.make_darks(cube_seed, planned.frames, shape=shape, dark=dark, **noise)
            truth["dark_mean"] = float(dark.mean())
        elif planned.kind == "flat":
            frames = synthetic.make_flats(cube_seed, planned.frames, shape=shape, flat=flat, dark=dark, **noise)
            truth.update(filter=planned.filter_name, level=20000.0, flat_rms=float(flat.std()))
        else:
            common = {"telescope": telescope, "filter_name": planned.filter_name, "shape": shape, "dark": dark}
            common |= {"flat": flat, "seeing_arcsec": planned.seeing_arcsec, "star_flux": planned.star_flux, **noise}
            if planned.kind == "seeing":
                cube = synthetic.make_seeing_cube(cube_seed, planned.frames, **common)
            else:
                jitter = float(np.random.default_rng([cube_seed, 1]).uniform(1.0, 2.5))
                cube = synthetic.make_cube(
                    cube_seed, planned.frames, strehl_mean=planned.strehl_mean, jitter_px=jitter, **common
                )
            frames, truth = cube.frames, {**truth, **cube.truth()}
        head = planned.program if planned.kind == "science" else planned.kind
        file = _File(
            head,
            planned.target.replace(" ", "_"),
            planned.program,
            planned.kind,
            planned.filter_name,
            planned.camera_mode,
            planned.started_at,
            None,
            frames,
            truth,
            planned.pointing,
            planned.exposure_s / planned.frames,
        )
        written.append(_write_file(folder, file, telescope, camera, False))
    return written
