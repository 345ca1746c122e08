"""astropy set up for offline use, its UT1-UTC table kept compact, and the site as an astropy EarthLocation."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from astropy.coordinates import EarthLocation

    from obslab.settings import Site


def configure_astropy_offline() -> None:
    """Make astropy use only the IERS tables installed with it, and never download.

    ``auto_max_age = None`` matters as much as ``auto_download = False``: without it every
    AltAz transform raises once the shipped table is older than 30 days.  Predictions past
    the end of the shipped table degrade to a warning rather than a failure, which is far
    below the accuracy any scheduling decision needs.
    """
    from astropy.utils import iers

    iers.conf.auto_download = False
    iers.conf.auto_max_age = None
    iers.conf.iers_degraded_accuracy = "warn"


log = logging.getLogger(__name__)


def cache_dir() -> Path:
    """Where obslab keeps what it can rebuild: ``$XDG_CACHE_HOME/obslab``, else ``~/.cache/obslab``."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "obslab"


@functools.cache
def ut1_utc_table() -> Any:
    """UT1-UTC by day as an astropy IERS table, interpolated exactly as astropy's own, from a compact copy.

    astropy's table comes from the IERS-A and IERS-B text files it ships, parsed on first use: about 0.9 s in
    every new process (each report's kernel, each command that plans a night), for two columns of numbers. The
    two columns are kept in the cache folder, named by the astropy and IERS-data versions they came from, and
    read back in a millisecond; a copy that cannot be read or written only costs the parse.
    """
    import astropy
    import astropy.units as u
    import numpy as np
    from astropy.table import QTable
    from astropy.utils import iers

    try:
        from astropy_iers_data import __version__ as iers_version
    except ImportError:  # an astropy that still bundles its tables: its own version names them
        iers_version = astropy.__version__
    path = cache_dir() / f"ut1-utc-astropy-{astropy.__version__}-iers-{iers_version}.npz"
    try:
        with path.open("rb") as file, np.load(file, allow_pickle=False) as stored:  # numpy leaks a bad zip's file
            mjd, ut1_utc = stored["mjd"], stored["ut1_utc"]
    except Exception as unreadable:  # missing, cut short, not a zip, other arrays: each only means a rebuild
        if path.exists():
            log.warning("rebuilding the UT1-UTC cache %s: %s", path, unreadable)
        full = iers.earth_orientation_table.get()
        mjd = np.asarray(full["MJD"].to_value(u.d), dtype=float)
        ut1_utc = np.asarray(full["UT1_UTC"].to_value(u.s), dtype=float)
        _keep(path, mjd=mjd, ut1_utc=ut1_utc)
    return iers.IERS(QTable([mjd * u.d, ut1_utc * u.s], names=["MJD", "UT1_UTC"]))


def _keep(path: Path, **arrays: Any) -> None:
    """Write ``arrays`` to ``path`` whole (another process may be reading it), or not at all."""
    import numpy as np

    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with partial.open("wb") as file:
            np.savez(file, **arrays)
        os.replace(partial, path)
    except OSError as unwritable:
        log.info("UT1-UTC table not cached (%s): it will be parsed again next time", unwritable)
        with contextlib.suppress(OSError):
            partial.unlink()


def earth_location(site: Site) -> EarthLocation:
    """The site as an EarthLocation built from configured coordinates (never a name look-up)."""
    import astropy.units as u
    from astropy.coordinates import EarthLocation

    return EarthLocation.from_geodetic(
        lon=site.longitude_deg * u.deg, lat=site.latitude_deg * u.deg, height=site.height_m * u.m
    )


def angular_separation_deg(ra1: float, dec1: float, ra2: float, dec2: float) -> float:
    """True great-circle distance in degrees.

    Vincenty's formula: stable at every separation, unlike the cosine rule.
    """
    import math

    l1, b1, l2, b2 = map(math.radians, (ra1, dec1, ra2, dec2))
    dl = l2 - l1
    numerator = math.hypot(
        math.cos(b2) * math.sin(dl), math.cos(b1) * math.sin(b2) - math.sin(b1) * math.cos(b2) * math.cos(dl)
    )
    denominator = math.sin(b1) * math.sin(b2) + math.cos(b1) * math.cos(b2) * math.cos(dl)
    return math.degrees(math.atan2(numerator, denominator))


def unit_vectors(ra_rad: Any, dec_rad: Any) -> Any:
    """Directions as unit vectors, shape (3, n), from right ascensions and declinations in radians (arrays)."""
    import numpy as np

    return np.array([np.cos(dec_rad) * np.cos(ra_rad), np.cos(dec_rad) * np.sin(ra_rad), np.sin(dec_rad)])


def parse_ra_deg(text: str, *, field: str = "ra") -> float:
    """Right ascension from degrees ("83.63") or sexagesimal hours ("05:34:31.9", "5h34m31.9s"), in [0, 360)."""
    return _parse_angle(text, field, hours=True) % 360.0


def parse_dec_deg(text: str, *, field: str = "dec") -> float:
    """Declination from degrees ("-5.39") or sexagesimal degrees ("-05:23:28", "-5d23m28s"), in [-90, 90]."""
    value = _parse_angle(text, field, hours=False)
    if not -90.0 <= value <= 90.0:
        from obslab.errors import InvalidInputError

        raise InvalidInputError(field, text, "a declination from -90 to 90 degrees")
    return value


def _parse_angle(text: str, field: str, *, hours: bool) -> float:
    import astropy.units as u
    from astropy.coordinates import Angle

    from obslab.errors import InvalidInputError

    cleaned = text.strip()
    # A bare number is degrees; sexagesimal RA (colons or h/m/s) is hours, as catalogues write it.
    sexagesimal = any(mark in cleaned for mark in ":hms ") or (not hours and "d" in cleaned)
    unit = u.hourangle if hours and sexagesimal else u.deg
    try:
        return float(Angle(cleaned, unit=unit).to_value(u.deg))
    except (ValueError, u.UnitsError):
        kind = "right ascension in degrees or hh:mm:ss" if hours else "declination in degrees or dd:mm:ss"
        raise InvalidInputError(field, text, kind) from None
