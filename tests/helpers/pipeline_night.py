"""A small night of raw cubes with known truth for the pipeline tests, ingested into a test database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from astropy.io import fits
from sqlalchemy.orm import Session, sessionmaker

from obslab.observing import synthetic
from obslab.observing.ingest import ingest_night
from obslab.observing.naming import make_name

NIGHT = "20261205"
START = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)


@dataclass(frozen=True)
class NightFiles:
    folder: Path
    science: tuple[str, ...]  # exposure names
    truth_seeing: float


def _write(
    folder: Path,
    head: str,
    target: str,
    filter_name: str,
    start: datetime,
    frames: np.ndarray,
    part: int | None = None,
    named: datetime | None = None,
    **extra: str,
) -> Path:
    """One raw file; a later part of an exposure keeps the exposure's name (``named``) with its own DATE-OBS."""
    path = folder / (make_name(head, target, "VIC", filter_name, named or start, part=part) + ".fits")
    header = fits.Header()
    header["DATE-OBS"] = start.strftime("%Y-%m-%dT%H:%M:%S.%f")
    header["EXPTIME"] = 0.1
    header.update({"OBJECT": target, "FILTER": filter_name, "CAMERA": "VIC", "CAMMODE": "0", "INSTRUME": "ROBO-CAM"})
    header.update({"TELRA": 10.0, "TELDEC": 20.0, "AIRMASS": 1.1, **extra})
    fits.PrimaryHDU(frames, header=header).writeto(path, overwrite=True)
    return path


def write_night(
    root: Path, *, key: str = NIGHT, darks: int = 12, science_frames: int = 60, seed: int = 0
) -> NightFiles:
    """Darks (mode 0), flats in Si and Sr, one seeing exposure, two science exposures (one split in two parts)."""
    folder = root / key
    folder.mkdir(parents=True, exist_ok=True)
    start = datetime.strptime(key, "%Y%m%d").replace(tzinfo=UTC) + timedelta(days=1, hours=2)
    flat, dark = synthetic.flat_field(seed + 1), synthetic.dark_current(seed + 2)
    if darks:
        _write(folder, "dark", "", "Si", start, synthetic.make_darks(seed + 3, darks, dark=dark), OBSTYPE="dark")
    for i, filter_name in enumerate(("Si", "Sr")):
        frames = synthetic.make_flats(seed + 4 + i, 6, flat=flat, dark=dark)
        _write(folder, "flat", "", filter_name, start + timedelta(minutes=1 + i), frames, OBSTYPE="flat")
    seeing = synthetic.make_seeing_cube(seed + 7, 8, dark=dark, flat=flat, seeing_arcsec=1.2)
    _write(folder, "seeing", "", "Si", start + timedelta(minutes=5), seeing.frames, OBSTYPE="seeing")
    names = []
    for k, (program, target, filter_name) in enumerate((("4", "351_Yrsa", "Si"), ("24.1", "HD 1", "Sr"))):
        cube = synthetic.make_cube(seed + 10 + k, science_frames, filter_name=filter_name, dark=dark, flat=flat)
        moment = start + timedelta(minutes=10 + 5 * k)
        extra = {"OBSTYPE": "science", "PROGRAM": program}
        if k == 0:
            half = science_frames // 2
            _write(folder, program, target, filter_name, moment, cube.frames[:half], part=0, **extra)
            later = moment + timedelta(seconds=0.1 * half)
            _write(folder, program, target, filter_name, later, cube.frames[half:], part=1, named=moment, **extra)
        else:
            _write(folder, program, target, filter_name, moment, cube.frames, **extra)
        names.append(make_name(program, target, "VIC", filter_name, moment))
    return NightFiles(folder, tuple(names), 1.2)


def ingest(sessions: sessionmaker[Session], folder: Path) -> None:
    with sessions() as session, session.begin():
        report = ingest_night(session, folder, site_name="Kitt Peak")
        assert not report.refused, report.refused


def reduce(sessions: sessionmaker[Session], key: str, products: Path) -> None:
    """Run the night's pipeline on two threads (what the tests of the read side start from)."""
    from obslab.observing.pipeline.executors import ThreadExecutor
    from obslab.observing.pipeline.runner import run_night

    pool = ThreadExecutor(2)
    try:
        run_night(sessions, key, pool, products_dir=products)
    finally:
        pool.close()


def reduced_night(
    sessions: sessionmaker[Session], root: Path, people: dict[str, list[str]], members: dict[str, str]
) -> NightFiles:
    """People added (an admin among them), the small night written, ingested and reduced, program members set."""
    from obslab.access import find_user
    from obslab.observing.programs import add_member
    from obslab.users import add_user
    from tests.helpers.support import fixed_clock

    with sessions() as session, session.begin():
        for name, roles in people.items():
            add_user(session, name, roles, email=f"{name}@obs.example", now=fixed_clock)
    files = write_night(root / "raw", science_frames=30)
    ingest(sessions, files.folder)
    reduce(sessions, NIGHT, root / "products")
    with sessions() as session, session.begin():
        admin = next(find_user(session, n) for n, roles in people.items() if "admin" in roles)
        for username, program in members.items():
            add_member(session, admin, program, username, now=fixed_clock)
    return files


def pipeline_command(url: str, products: Path, *args: str, who: str = "pipe", **settings: str) -> Any:
    """``obslab pipeline ARGS`` as a user runs it, acting as ``who``, with one retry and any other OBSLAB_ settings."""
    from click.testing import CliRunner

    from obslab.cli import main

    env = {"OBSLAB_DATABASE_URL": url, "OBSLAB_PRODUCTS_DIR": str(products), "OBSLAB_PIPELINE_MAX_RETRIES": "1"}
    return CliRunner().invoke(main, ["pipeline", *args], env=env | settings | {"OBSLAB_ACTING_USER": who})


def night_for_the_command(sessions: sessionmaker[Session], root: Path) -> NightFiles:
    """The small night (30 science frames), ingested, with ``pipe`` (pipeline role) and ``sam`` (usint) to run it."""
    from obslab.users import add_user
    from tests.helpers.support import fixed_clock

    with sessions() as session, session.begin():
        add_user(session, "pipe", ["pipeline"], email="pipe@obs.example", now=fixed_clock)
        add_user(session, "sam", ["usint"], email="sam@obs.example", now=fixed_clock)
    files = write_night(root, science_frames=30)
    ingest(sessions, files.folder)
    return files
