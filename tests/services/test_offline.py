"""Nothing in obslab needs the network: astropy is configured offline, and the demo loads with no internet."""

from __future__ import annotations

import socket
import warnings
from pathlib import Path
from typing import Any

import astropy.units as u
import pytest
from astropy.coordinates import AltAz, SkyCoord
from astropy.time import Time
from astropy.utils import iers
from astropy.utils.data import conf as data_conf
from sqlalchemy.orm import Session, sessionmaker

import obslab  # noqa: F401  (importing obslab is what configures astropy)
from obslab.astro import earth_location
from obslab.demo import load_demo
from obslab.observing.models import Exposure
from tests.helpers.support import KITT_PEAK, fixed_clock

LOOPBACK = ("127.", "::1", "localhost")


@pytest.fixture
def no_internet(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Refuse astropy downloads and any socket connection or name look-up beyond loopback."""
    attempts: list[Any] = []
    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo

    def guarded_connect(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else str(address)
        if self.family in (socket.AF_INET, socket.AF_INET6) and not str(host).startswith(LOOPBACK):
            attempts.append(address)
            raise OSError(f"test forbids network access to {address!r}")
        return real_connect(self, address)

    def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None and not str(host).startswith(LOOPBACK):
            attempts.append(host)
            raise OSError(f"test forbids name look-up of {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
    monkeypatch.setattr(data_conf, "allow_internet", False)
    return attempts


def test_importing_obslab_configures_astropy_offline() -> None:
    assert iers.conf.auto_download is False
    assert iers.conf.auto_max_age is None


def test_altaz_far_past_the_shipped_iers_table_works_offline(no_internet: list[Any]) -> None:
    # The trap: without auto_max_age=None this raises once the shipped table is a month old.
    location = earth_location(KITT_PEAK)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "degraded accuracy" past the table's end is expected here
        altaz = SkyCoord(279.23 * u.deg, 38.78 * u.deg).transform_to(
            AltAz(obstime=Time("2031-06-21T06:00:00"), location=location)
        )
    assert -90 <= altaz.alt.deg <= 90
    assert no_internet == []


def test_demo_loads_with_no_internet(no_internet: list[Any], sessions: sessionmaker[Session], tmp_path: Path) -> None:
    with sessions() as session, session.begin():
        summary = load_demo(session, site=KITT_PEAK, seed=11, now=fixed_clock, raw_dir=tmp_path / "raw")
    assert summary.total_inserted > 0
    with sessions() as session:
        airmasses = session.query(Exposure.airmass).filter(Exposure.airmass.is_not(None)).all()
    assert airmasses and all(1.0 <= airmass < 3.0 for (airmass,) in airmasses)
    assert no_internet == []
