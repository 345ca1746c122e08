"""JSON alert notices in today's producers' shapes (LVK igwn.gwalert, Swift BAT-GUANO, Einstein Probe, IceCube).

Built from code after the published field names, for the demo's feed, the tests and the benchmarks; the sky
maps are made here too, as LVK writes them (multi-order FITS), so nothing of a megabyte is committed.
"""

from __future__ import annotations

import base64
import json
import math
from datetime import datetime, timedelta
from io import BytesIO
from typing import Any

import numpy as np

#: The Kafka topics these notices arrive on.
GWALERT_TOPIC = "igwn.gwalert"
GUANO_TOPIC = "gcn.notices.swift.bat.guano"
EINSTEIN_PROBE_TOPIC = "gcn.notices.einstein_probe.wxt.alert"
ICECUBE_TOPIC = "gcn.notices.icecube.gold_bronze_track_alerts"
#: Where GCN's Unified Schema lives; a notice names its own schema, and GCN names its topic after the path.
SCHEMA = "https://gcn.nasa.gov/schema/v7.2.1/gcn/notices"


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def fisher_density(ra_deg: np.ndarray, dec_deg: np.ndarray, ra0: float, dec0: float, sigma_deg: float) -> np.ndarray:
    """The Fisher (von Mises) distribution on the sphere, per steradian: a Gaussian blob of width ``sigma_deg``."""
    kappa = 1.0 / math.radians(sigma_deg) ** 2
    a, d, a0, d0 = (np.radians(x) for x in (ra_deg, dec_deg, ra0, dec0))
    cos_theta = np.sin(d) * np.sin(d0) + np.cos(d) * np.cos(d0) * np.cos(a - a0)
    return kappa / (2 * math.pi * -math.expm1(-2 * kappa)) * np.exp(kappa * (cos_theta - 1))


def multiorder_map(
    ra0: float,
    dec0: float,
    sigma_deg: float,
    *,
    weight: float = 1.0,
    min_level: int = 3,
    max_level: int = 8,
    split_above: float = 2e-4,
    extra: dict | None = None,
) -> bytes:
    """A multi-order FITS map of weight x Fisher blob + (1 - weight) x uniform, as LVK writes them.

    Like BAYESTAR's, pixels are split while they hold more than ``split_above`` (mean density x area).
    """
    import astropy_healpix as ah
    from astropy.table import Table

    uniq, density = [], []
    level, ipix = min_level, np.arange(12 * 4**min_level)
    while len(ipix):
        # Each pixel's mean density, from its 64 descendants three levels down, as a map's pixels hold the
        # probability integrated over them (a density sampled only at pixel centres misses the curvature).
        fine = (ipix[:, None] * 64 + np.arange(64)).ravel()
        lon, lat = ah.healpix_to_lonlat(fine, 1 << (level + 3), order="nested")
        rho = fisher_density(lon.deg, lat.deg, ra0, dec0, sigma_deg).reshape(-1, 64).mean(axis=1)
        rho = weight * rho + (1 - weight) / (4 * math.pi)
        area = ah.nside_to_pixel_area(1 << level).to_value("sr")
        split = (rho * area > split_above) & (level < max_level)
        uniq.append(ah.level_ipix_to_uniq(level, ipix[~split]))
        density.append(rho[~split])
        ipix = (ipix[split][:, None] * 4 + np.arange(4)).ravel()
        level += 1
    table = Table({"UNIQ": np.concatenate(uniq).astype(np.int64), "PROBDENSITY": np.concatenate(density)})
    table["PROBDENSITY"].unit = "sr-1"
    table.meta.update({"ORDERING": "NUNIQ", "MOCORDER": max_level, "OBJECT": "S261208ab"})
    table.meta.update({"DATE-OBS": "2026-12-08T05:06:07.5"} | (extra or {}))
    buffer = BytesIO()
    table.write(buffer, format="fits")
    return buffer.getvalue()


def gwalert(
    alert_type: str,
    superevent: str,
    *,
    created: datetime,
    skymap: bytes | None = None,
    **event: Any,
) -> bytes:
    """LVK's envelope (user guide): alert_type, time_created, superevent_id, urls, event (null on a retraction)."""
    body = None
    if alert_type != "RETRACTION":
        body = {
            "time": _iso(created - timedelta(seconds=30)),
            "far": 9.11069936486e-14,
            "significant": True,
            "instruments": ["H1", "L1", "V1"],
            "group": "CBC",
            "pipeline": "gstlal",
            "search": "AllSky",
            "properties": {"HasNS": 0.95, "HasRemnant": 0.91, "HasMassGap": 0.01},
            "classification": {"BNS": 0.95, "NSBH": 0.01, "BBH": 0.03, "Terrestrial": 0.01},
            "duration": None,
            "central_frequency": None,
            "skymap": base64.b64encode(skymap or b"").decode(),
        } | event
    return json.dumps(
        {
            "alert_type": alert_type,
            "time_created": _iso(created),
            "superevent_id": superevent,
            "urls": {"gracedb": f"https://gracedb.ligo.org/superevents/{superevent}/view/"},
            "event": body,
            "external_coinc": None,
        }
    ).encode()


def guano(
    alert_type: str, record: int, *, trigger: datetime, ra: float | None = None, dec: float | None = None, **extra: Any
) -> bytes:
    """Swift BAT-GUANO's shape (gcn-schema swift/bat/guano): an id list, record numbers counting up."""
    fields: dict[str, Any] = {
        "$schema": f"{SCHEMA}/swift/bat/guano.schema.json",
        "mission": "Swift",
        "instrument": "BAT-GUANO",
        "messenger": "EM",
        "record_number": record,
        "alert_datetime": _iso(trigger + timedelta(minutes=10 * record)),
        "alert_tense": "current",
        "alert_type": alert_type,
        "trigger_time": _iso(trigger),
        "follow_up_event": "Fermi 694215970",
        "id": ["694215995"],
    }
    if ra is not None and dec is not None:
        fields |= {"ra": ra, "dec": dec, "ra_dec_error": 0.05, "containment_probability": 0.9}
    return json.dumps(fields | extra, indent=2).encode()


def einstein_probe(*, trigger: datetime, ra: float, dec: float, **extra: Any) -> bytes:
    """Einstein Probe WXT's alert (gcn-schema einstein_probe/wxt): no alert type or tense, an error circle."""
    fields = {
        "$schema": f"{SCHEMA}/einstein_probe/wxt/alert.schema.json",
        "instrument": "WXT",
        "trigger_time": _iso(trigger),
        "id": ["01708973486"],
        "ra": ra,
        "dec": dec,
        "ra_dec_error": 0.0489,
        "image_energy_range": [0.5, 4],
        "net_count_rate": 0.61,
        "image_snr": 11.8,
        "additional_info": "This is a test alert from the EP demo.",
    }
    return json.dumps(fields | extra, indent=2).encode()


def icecube(*, trigger: datetime, ra: float, dec: float, pipeline: str = "Gold Track Alert", **extra: Any) -> bytes:
    """IceCube's gold or bronze track alert: a 90% circle and a map URL beside it."""
    fields = {
        "$schema": f"{SCHEMA}/icecube/gold_bronze_track_alerts.schema.json",
        "mission": "IceCube",
        "instrument": "IC86",
        "messenger": "Neutrino",
        "pipeline": pipeline,
        "record_number": 1,
        "event_name": ["IceCube-261208A"],
        "id": ["140078_30891383"],
        "alert_datetime": _iso(trigger + timedelta(minutes=2)),
        "alert_type": "initial",
        "alert_tense": "current",
        "ra": ra,
        "dec": dec,
        "ra_dec_error": 0.5,
        "containment_probability": 0.9,
        "healpix_url": "https://roc.icecube.wisc.edu/public/alerts/run00140078.evt000030891383.skymap.fits.gz",
        "trigger_time": _iso(trigger),
        "p_astro": 0.34064,
        "far": 8.029e-8,
    }
    return json.dumps(fields | extra, indent=2).encode()
