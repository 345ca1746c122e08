"""Raw file names as the Robo-AO archiver writes them, parsed and made (pure: no database, no files).

``<program>_<object>_<camera>_<filter>_<marker>_<YYYYMMDD>_<HHMMSS.ffffff>[_<part>].fits[.bz2]``: the object
may contain underscores (the fields either side of it are fixed, so it is what is left between them); a long
observation is split into parts ``_0``, ``_1``, ... that are one exposure. A science name starts with a
program number (``24``, ``24.1``); a name starting with ``bias``, ``dark``, ``flat``, ``seeing`` or
``pointing`` is a calibration or auxiliary exposure, whose object part may be empty.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from obslab.observing.types import ExposureKind

SUFFIXES = (".fits.bz2", ".fits")
_PREFIXES = {kind.value: kind for kind in ExposureKind if kind is not ExposureKind.SCIENCE}
_PROGRAM = re.compile(r"^\d+(\.\d+)?$")
_DATE = re.compile(r"^\d{8}$")
_TIME = re.compile(r"^\d{6}\.\d{6}$")
_PART = re.compile(r"^\d{1,3}$")


class BadNameError(ValueError):
    """A file name that is not an archiver name; the message says which part is wrong."""


@dataclass(frozen=True)
class RawName:
    """What a raw file's name says: the exposure it belongs to and the part of it this file holds."""

    exposure: str  # the name without part and suffix: the exposure's identity
    kind: ExposureKind
    program: str  # "" for calibration and auxiliary exposures
    target: str
    camera: str
    filter_name: str
    marker: str
    started_at: datetime  # UTC, from the name (the header's DATE-OBS is what ingest records)
    part: int | None  # None for a file that is the whole exposure

    @property
    def night_key(self) -> str:
        return self.exposure.rsplit("_", 2)[-2]


def strip_suffix(filename: str) -> str:
    for suffix in SUFFIXES:
        if filename.endswith(suffix):
            return filename[: -len(suffix)]
    raise BadNameError(f"{filename!r} is not a FITS file: the name must end in {' or '.join(SUFFIXES)}")


def parse_name(filename: str) -> RawName:
    """The parts of one raw file's name (a bare file name, not a path); refused with the reason if it is not one."""
    stem = strip_suffix(filename)
    fields = stem.split("_")
    part: int | None = None
    if len(fields) > 1 and _PART.match(fields[-1]) and _TIME.match(fields[-2]):
        part, fields = int(fields[-1]), fields[:-1]
    if len(fields) < 6:
        raise BadNameError(
            f"{filename!r} is not an archiver name: expected "
            "<program>_<object>_<camera>_<filter>_<marker>_<YYYYMMDD>_<HHMMSS.ffffff>.fits"
        )
    head, *middle, camera, filter_name, marker, day, clock = fields
    if not _DATE.match(day) or not _TIME.match(clock):
        raise BadNameError(f"{filename!r}: the name must end in _YYYYMMDD_HHMMSS.ffffff, not _{day}_{clock}")
    try:
        started = datetime.strptime(f"{day}{clock}", "%Y%m%d%H%M%S.%f").replace(tzinfo=UTC)
    except ValueError:
        raise BadNameError(f"{filename!r}: {day}_{clock} is not a date and time") from None
    if head.lower() in _PREFIXES:
        kind, program = _PREFIXES[head.lower()], ""
    elif _PROGRAM.match(head):
        kind, program = ExposureKind.SCIENCE, head
        if not middle:
            raise BadNameError(f"{filename!r}: a science name needs an object between program and camera")
    else:
        allowed = ", ".join(sorted(_PREFIXES))
        raise BadNameError(f"{filename!r}: the name must start with a program number or one of {allowed}, not {head!r}")
    exposure = "_".join([head, *middle, camera, filter_name, marker, day, clock])
    return RawName(exposure, kind, program, "_".join(middle), camera, filter_name, marker, started, part)


def make_name(
    head: str,
    target: str,
    camera: str,
    filter_name: str,
    started_at: datetime,
    *,
    marker: str = "o",
    part: int | None = None,
) -> str:
    """The file name of an exposure (``head`` is the program number or a calibration prefix), without suffix."""
    moment = started_at.astimezone(UTC)
    fields = [head, *([target] if target else []), camera, filter_name, marker, moment.strftime("%Y%m%d_%H%M%S.%f")]
    if part is not None:
        fields.append(str(part))
    return "_".join(fields)
