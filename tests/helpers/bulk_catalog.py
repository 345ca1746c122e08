"""Fill a migrated database with many generated observations quickly, for large-catalog tests and benchmarks."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from random import Random
from typing import Any

from sqlalchemy import Engine

from obslab.catalog.models import Observation
from obslab.catalog.types import ObservationStatus

#: Obsids of generated observations start here (above the demo's 20001-20600, so both can coexist).
FIRST_OBSID = 100_001
#: Rows per INSERT round trip.
CHUNK = 5_000
INSTRUMENTS = ("ACIS-S", "ACIS-I", "HRC-I", "HRC-S")
OBS_TYPES = ("GO", "TOO", "GTO", "CAL", "DDT")
PI_NAMES = (
    "Abernathy",
    "Baptiste",
    "Castellanos",
    "Dubois",
    "Eriksen",
    "Fitzgerald",
    "Gonzaga",
    "Hoffmann",
    "Ishikawa",
    "Jablonski",
    "Kariuki",
    "Lindgren",
    "Mahlangu",
    "Nakashima",
    "Okonkwo",
)
TARGET_STEMS = ("NGC", "IC", "Abell", "PSR J", "SDSS J", "XMMU J", "GRB", "CXOU J")
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def generate_observations(count: int, *, seed: int = 1) -> list[dict[str, Any]]:
    """``count`` observation rows as dicts for ``Observation.__table__``, the same for the same seed.

    Positions are uniform on the sphere; exposures are rounded to 0.1 ks and instruments, types,
    statuses and PIs come from short lists, so every sort key has many ties.
    """
    rng = Random(seed)
    statuses = list(ObservationStatus)
    rows = []
    for index in range(count):
        ra = rng.uniform(0.0, 360.0)
        dec = math.degrees(math.asin(rng.uniform(-1.0, 1.0)))
        ra_rad, dec_rad = math.radians(ra), math.radians(dec)
        status = rng.choice(statuses)
        scheduled = _EPOCH + timedelta(hours=rng.randrange(0, 24 * 400)) if rng.random() < 0.5 else None
        rows.append(
            {
                "obsid": FIRST_OBSID + index,
                "sequence_number": f"{rng.randint(1, 9)}{index % 100_000:05d}",
                "proposal_number": f"26{rng.randint(1, 9)}0{index // 3 % 10_000:04d}",
                "target_name": f"{rng.choice(TARGET_STEMS)} {rng.randint(1, 9999)}",
                "ra_deg": ra,
                "dec_deg": dec,
                # The mapper event that keeps the unit vector in step does not run for Core inserts.
                "unit_x": math.cos(dec_rad) * math.cos(ra_rad),
                "unit_y": math.cos(dec_rad) * math.sin(ra_rad),
                "unit_z": math.sin(dec_rad),
                "instrument": rng.choice(INSTRUMENTS),
                "grating": "NONE",
                "obs_type": rng.choice(OBS_TYPES),
                "status": status,
                "pi_name": rng.choice(PI_NAMES),
                "si_mode": None,
                "approved_exposure_ks": round(rng.uniform(1.0, 60.0), 1),
                "scheduled_at": scheduled,
                "planned_at": None,
                "on_active_list": False,
                "approved": rng.random() < 0.2,
                "created_at": _EPOCH,
                "updated_at": _EPOCH,
                "updated_by_id": None,
                "version": 1,
            }
        )
    return rows


def insert_observations(engine: Engine, count: int, *, seed: int = 1) -> list[dict[str, Any]]:
    """Insert ``count`` generated observations into the migrated database behind ``engine``; return the rows.

    SQLAlchemy Core executemany in chunks, one transaction: fast on SQLite and PostgreSQL alike.
    """
    rows = generate_observations(count, seed=seed)
    table = Observation.__table__
    with engine.begin() as connection:
        for start in range(0, len(rows), CHUNK):
            connection.execute(table.insert(), rows[start : start + CHUNK])
    return rows
