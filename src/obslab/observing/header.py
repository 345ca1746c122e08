"""The raw-file header keywords ingest reads, turned into typed values, and the header kept as JSON (pure).

Keywords a camera's raw files must carry (ingest refuses a file without them):

``DATE-OBS``
    ISO 8601 start of the file's first frame, UTC (``2026-11-21T03:04:05.123456``; a zone, if given, is
    converted to UTC).
``EXPTIME``
    Seconds per frame, a number >= 0 (0 for a bias).

Keywords read when present:

``NAXIS`` / ``NAXIS3``
    Frames: a 3-D cube holds ``NAXIS3`` frames along its third axis, a 2-D image is one frame.
``OBJECT``, ``PROGRAM``, ``FILTER``
    Target, program and filter; the file name says these too and is what ingest records, so the header's
    values only fill in what the name leaves empty (a calibration name has no object).
``OBSTYPE``, ``CAMERA``
    Kept in the header JSON only (the name says the kind and the camera).
``CAMMODE``
    The camera mode (read-out speed and gain as the camera names it), up to 16 characters; darks are
    matched to exposures by it.
``TELRA`` / ``TELDEC``
    Telescope pointing, in degrees (numbers) or sexagesimal text, ``'hh:mm:ss.s'`` for RA (hours) and
    ``'+dd:mm:ss'`` for Dec; ``RA`` / ``DEC`` are read when ``TELRA`` / ``TELDEC`` are absent.
``AIRMASS``
    A number >= 1.
``INSTRUME``
    The instrument whose configuration in force is stamped on the exposure; ``ROBO-CAM`` when absent.

A deployment checks its camera against this list; every other keyword is kept in the header JSON as well.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from obslab.errors import ObslabError

#: The instrument stamped when a header has no ``INSTRUME``.
DEFAULT_INSTRUMENT = "ROBO-CAM"
#: Every keyword ingest reads, for a deployment to check its camera against.
KEYWORDS = (
    "DATE-OBS",
    "EXPTIME",
    "NAXIS",
    "NAXIS3",
    "OBJECT",
    "PROGRAM",
    "OBSTYPE",
    "FILTER",
    "CAMERA",
    "CAMMODE",
    "TELRA",
    "TELDEC",
    "RA",
    "DEC",
    "AIRMASS",
    "INSTRUME",
)
REQUIRED = ("DATE-OBS", "EXPTIME")
#: Column widths of what is recorded from the header (exposures.camera_mode, instrument names).
MAX_CAMERA_MODE = 16
MAX_INSTRUMENT = 32
_SEXAGESIMAL = re.compile(r"^\s*([+-]?)\s*(\d{1,3})[:\s]+(\d{1,2})[:\s]+(\d{1,2}(?:\.\d*)?)\s*$")
_TEXT_CARDS = ("COMMENT", "HISTORY")


class RawFileError(ObslabError):
    """A raw file ingest cannot use; ``file`` names it and ``problem`` says what is wrong with it."""

    code = "bad_raw_file"

    def __init__(self, file: str, problem: str, **details: Any) -> None:
        super().__init__(f"{file}: {problem}", file=file, problem=problem, **details)
        self.file = file
        self.problem = problem


class HeaderError(RawFileError):
    """A header keyword missing or with a value ingest cannot use: names file, keyword, value and what is allowed."""

    code = "bad_header"

    def __init__(self, file: str, keyword: str, value: Any, allowed: str) -> None:
        problem = (
            f"the header has no {keyword}; expected {allowed}"
            if value is None
            else f"{keyword} = {_shown(value)} is not allowed; expected {allowed}"
        )
        super().__init__(file, problem)
        self.details.update(keyword=keyword, value=value if _json_scalar(value) else str(value), allowed=allowed)
        self.keyword = keyword


@dataclass(frozen=True)
class RawHeader:
    """What ingest takes from one raw file's header, typed."""

    date_obs: datetime  # UTC start of the file's first frame
    exptime_s: float  # seconds per frame
    n_frames: int
    object_name: str
    program: str
    obstype: str
    filter_name: str
    camera: str
    camera_mode: str
    ra_deg: float | None
    dec_deg: float | None
    airmass: float | None
    instrument: str

    @property
    def ended_at(self) -> datetime:
        """The end of the file's last frame (frames are consecutive)."""
        return self.date_obs + timedelta(seconds=self.exptime_s * self.n_frames)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _json_scalar(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return value is None or isinstance(value, str | int | bool)


def _get(header: Mapping[str, Any], keyword: str) -> Any:
    """The keyword's value, None when absent or blank (astropy's Undefined, an empty string)."""
    value = header.get(keyword) if keyword in header else None
    if value is None or type(value).__name__ == "Undefined":
        return None
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _number(value: Any) -> float | None:
    """A finite number, from a number or numeric text; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _text(header: Mapping[str, Any], keyword: str) -> str:
    value = _get(header, keyword)
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def parse_date_obs(value: Any) -> datetime | None:
    """``DATE-OBS`` as an aware UTC time (no zone means UTC); None when it is not an ISO date and time."""
    if not isinstance(value, str) or "T" not in value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def angle_deg(value: Any, *, hours: bool) -> float | None:
    """An angle in degrees from a number of degrees or sexagesimal text (hours when ``hours``); None if neither."""
    number = _number(value)
    if number is not None:
        return number
    if not isinstance(value, str):
        return None
    match = _SEXAGESIMAL.match(value)
    if match is None:
        return None
    sign, whole, minutes, seconds = match.groups()
    if int(minutes) >= 60 or float(seconds) >= 60:
        return None
    magnitude = int(whole) + int(minutes) / 60 + float(seconds) / 3600
    return (-1 if sign == "-" else 1) * magnitude * (15 if hours else 1)


def _position(header: Mapping[str, Any], file: str) -> tuple[float | None, float | None]:
    found: list[float | None] = []
    for keywords, hours, low, high, allowed in (
        (("TELRA", "RA"), True, 0.0, 360.0, "degrees from 0 to 360, or 'hh:mm:ss.s' (hours)"),
        (("TELDEC", "DEC"), False, -90.0, 90.0, "degrees from -90 to +90, or '+dd:mm:ss'"),
    ):
        keyword = next((k for k in keywords if _get(header, k) is not None), None)
        if keyword is None:
            found.append(None)
            continue
        raw = _get(header, keyword)
        angle = angle_deg(raw, hours=hours)
        if angle is None or not low <= angle <= high:
            raise HeaderError(file, keyword, raw, allowed)
        found.append(angle % 360.0 if hours else angle)
    return found[0], found[1]


def _frames(header: Mapping[str, Any], file: str) -> int:
    naxis = _get(header, "NAXIS")
    if naxis is None:  # a dict of keywords rather than a whole header: the frame count alone
        naxis = 3 if _get(header, "NAXIS3") is not None else 2
    if naxis == 2:
        return 1
    if naxis != 3:
        raise HeaderError(file, "NAXIS", naxis, "2 (one image) or 3 (a cube of frames along the third axis)")
    frames = _get(header, "NAXIS3")
    if isinstance(frames, bool) or not isinstance(frames, int) or frames < 1:
        raise HeaderError(file, "NAXIS3", frames, "the number of frames, a whole number of at least 1")
    return frames


def read_header(header: Mapping[str, Any], file: str) -> RawHeader:
    """The keywords ingest reads from ``header`` (an astropy Header or a dict), typed.

    Parameters
    ----------
    header
        The primary header, or the JSON kept from it (:func:`header_json`).
    file
        The file's name, for the refusal.

    Raises
    ------
    HeaderError
        Naming the file, the keyword, its value and what is allowed.
    """
    raw_date = _get(header, "DATE-OBS")
    if raw_date is None:
        raise HeaderError(file, "DATE-OBS", None, "the UTC start of the first frame, e.g. '2026-11-21T03:04:05.1'")
    date_obs = parse_date_obs(raw_date)
    if date_obs is None:
        raise HeaderError(file, "DATE-OBS", raw_date, "an ISO date and time, UTC, e.g. '2026-11-21T03:04:05.1'")
    raw_exptime = _get(header, "EXPTIME")
    exptime = _number(raw_exptime)
    if raw_exptime is None:
        raise HeaderError(file, "EXPTIME", None, "the seconds per frame, a number >= 0")
    if exptime is None or exptime < 0:
        raise HeaderError(file, "EXPTIME", raw_exptime, "the seconds per frame, a number >= 0")
    raw_airmass = _get(header, "AIRMASS")
    airmass = _number(raw_airmass)
    if raw_airmass is not None and (airmass is None or airmass < 1.0):
        raise HeaderError(file, "AIRMASS", raw_airmass, "a number >= 1")
    camera_mode = _text(header, "CAMMODE")
    if len(camera_mode) > MAX_CAMERA_MODE:
        raise HeaderError(file, "CAMMODE", camera_mode, f"a camera mode of at most {MAX_CAMERA_MODE} characters")
    instrument = _text(header, "INSTRUME") or DEFAULT_INSTRUMENT
    if len(instrument) > MAX_INSTRUMENT:
        raise HeaderError(file, "INSTRUME", instrument, f"an instrument name of at most {MAX_INSTRUMENT} characters")
    ra_deg, dec_deg = _position(header, file)
    return RawHeader(
        date_obs=date_obs,
        exptime_s=exptime,
        n_frames=_frames(header, file),
        object_name=_text(header, "OBJECT"),
        program=_text(header, "PROGRAM"),
        obstype=_text(header, "OBSTYPE"),
        filter_name=_text(header, "FILTER"),
        camera=_text(header, "CAMERA"),
        camera_mode=camera_mode,
        ra_deg=ra_deg,
        dec_deg=dec_deg,
        airmass=airmass,
        instrument=instrument,
    )


def _json_value(value: Any) -> str | int | float | bool | None:
    if type(value).__name__ == "Undefined":
        return None
    if _json_scalar(value):
        return value
    if isinstance(value, int):  # numpy integers
        return int(value)
    return str(value)  # NaN, infinity, complex values: kept as text, since JSON has no such numbers


def _cards(header: Any) -> Iterable[tuple[str, Any]]:
    if hasattr(header, "cards"):  # an astropy Header: COMMENT and HISTORY may repeat
        return ((card.keyword, card.value) for card in header.cards)
    return header.items()


def header_json(header: Any) -> dict[str, str | int | float | bool | None]:
    """The header as JSON-safe values: blank cards dropped, COMMENT and HISTORY each one text of their lines."""
    kept: dict[str, Any] = {}
    text: dict[str, list[str]] = {}
    for keyword, value in _cards(header):
        if not keyword:
            continue
        if keyword in _TEXT_CARDS:
            line = str(value).rstrip() if value is not None and type(value).__name__ != "Undefined" else ""
            if line:
                text.setdefault(keyword, []).append(line)
            continue
        kept[keyword] = _json_value(value)
    for keyword, lines in text.items():
        kept[keyword] = "\n".join(lines)
    return kept
