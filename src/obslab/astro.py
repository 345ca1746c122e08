"""astropy set up for offline use, and the configured site as an astropy EarthLocation."""

from __future__ import annotations

from typing import TYPE_CHECKING

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


def earth_location(site: Site) -> EarthLocation:
    """The site as an EarthLocation built from configured coordinates (never a name look-up)."""
    import astropy.units as u
    from astropy.coordinates import EarthLocation

    return EarthLocation.from_geodetic(
        lon=site.longitude_deg * u.deg, lat=site.latitude_deg * u.deg, height=site.height_m * u.m
    )
