"""Requests for planning tests: two that fit, one never visible from Kitt Peak, a low- and a high-priority twin."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session

from obslab.scheduling.models import ObservingRequest, RequestWindow
from obslab.scheduling.night import night_geometry
from tests.helpers.support import KITT_PEAK

NIGHT = date(2026, 11, 21)


def add_requests(session: Session) -> dict[str, int]:
    """Four requests: two that fit, one never visible from Kitt Peak, one outranked by a stronger twin."""
    night = night_geometry(KITT_PEAK, NIGHT)
    window = [(night.midnight - timedelta(minutes=50), night.midnight + timedelta(minutes=50))]
    rows = {
        "M42": dict(ra_deg=83.82, dec_deg=-5.39, duration_s=1800.0, priority=5.0),
        "Pleiades": dict(ra_deg=56.75, dec_deg=24.12, duration_s=1200.0, priority=3.0),
        "SouthPole": dict(ra_deg=10.0, dec_deg=-85.0, duration_s=600.0, priority=9.0),
        "TwinLow": dict(ra_deg=30.0, dec_deg=20.0, duration_s=5400.0, priority=1.0),
        "TwinHigh": dict(ra_deg=31.0, dec_deg=20.0, duration_s=5400.0, priority=8.0),
    }
    ids = {}
    for name, values in rows.items():
        request = ObservingRequest(name=name, target_name=name, **values)
        if name.startswith("Twin"):
            request.windows = [RequestWindow(start=start, end=end) for start, end in window]
        session.add(request)
        session.flush()
        ids[name] = request.id
    return ids
