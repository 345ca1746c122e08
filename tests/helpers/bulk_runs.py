"""Many generated exposures with their metrics, programs and members, inserted fast (the run browser at scale)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from random import Random
from typing import Any

from sqlalchemy import Engine, insert, select

from obslab.access import Role, User, user_roles
from obslab.observing.models import Exposure, Metric, Night, Program, ProgramMember
from obslab.observing.types import ExposureKind

CHUNK = 5_000
FILTERS = ("Sg", "Sr", "Si", "Sz", "lp600", "c")
PROGRAMS = tuple(f"{year}.{n}" if n else str(year) for year in range(20, 27) for n in range(3))
PER_NIGHT = 100
#: The member whose view the benchmark takes: in three of the programs, so the access rule has work to do.
MEMBER = "bench-member"
MEMBER_PROGRAMS = PROGRAMS[:3]
STAFF = "bench-staff"


def _users(connection: Any) -> dict[str, int]:
    roles = dict(connection.execute(select(Role.name, Role.id)).all())
    ids = {}
    for username, role in ((MEMBER, "pipeline"), (STAFF, "staff")):
        ids[username] = connection.execute(
            insert(User).values(username=username, full_name=username, email=f"{username}@obslab.example", version=1)
        ).inserted_primary_key[0]
        connection.execute(insert(user_roles).values(user_id=ids[username], role_id=roles[role]))
    return ids


def insert_exposures(engine: Engine, count: int, *, seed: int = 1, first_night: date = date(2024, 1, 1)) -> None:
    """Insert ``count`` exposures (a tenth calibrations, the rest science in ``PROGRAMS``), ``PER_NIGHT`` a night,
    each science one with its Strehl, FWHM, quality and seeing; plus the two users the benchmark looks as."""
    rng = Random(seed)
    moment = datetime(2026, 12, 1, tzinfo=UTC)
    targets = [f"HIP {rng.randrange(1, 120_000)}" for _ in range(2_000)]
    places = {t: (rng.uniform(0, 360), math.degrees(math.asin(rng.uniform(-0.6, 1)))) for t in targets}
    with engine.begin() as connection:
        users = _users(connection)
        programs = {
            code: connection.execute(insert(Program).values(code=code, created_at=moment)).inserted_primary_key[0]
            for code in PROGRAMS
        }
        connection.execute(
            insert(ProgramMember),
            [{"program_id": programs[c], "user_id": users[MEMBER], "added_at": moment} for c in MEMBER_PROGRAMS],
        )
        nights = -(-count // PER_NIGHT)
        connection.execute(
            insert(Night),
            [
                {"night_date": first_night + timedelta(days=i), "site_name": "Kitt Peak", "created_at": moment}
                for i in range(nights)
            ],
        )
        night_ids = dict(connection.execute(select(Night.night_date, Night.id)).all())
        exposures: list[dict[str, Any]] = []
        for i in range(count):
            night = first_night + timedelta(days=i // PER_NIGHT)
            started = datetime.combine(night, datetime.min.time(), tzinfo=UTC) + timedelta(
                hours=2, seconds=300 * (i % PER_NIGHT)
            )
            science = rng.random() >= 0.1
            code = rng.choice(PROGRAMS) if science else ""
            target = rng.choice(targets) if science else ""
            ra, dec = places[target] if science else (None, None)
            filter_name = rng.choice(FILTERS)
            exposures.append(
                {
                    "night_id": night_ids[night],
                    "name": f"{code or 'cal'}_{target.replace(' ', '')}_{filter_name}_{started:%Y%m%d_%H%M%S}_{i}",
                    "kind": ExposureKind.SCIENCE if science else rng.choice([ExposureKind.DARK, ExposureKind.FLAT]),
                    "program": code,
                    "program_id": programs[code] if science else None,
                    "target_name": target,
                    "ra_deg": ra,
                    "dec_deg": dec,
                    "unit_x": None if ra is None else math.cos(math.radians(dec)) * math.cos(math.radians(ra)),
                    "unit_y": None if ra is None else math.cos(math.radians(dec)) * math.sin(math.radians(ra)),
                    "unit_z": None if ra is None else math.sin(math.radians(dec)),
                    "filter_name": filter_name,
                    "camera_mode": rng.choice(["6", "6", "1"]),
                    "exposure_s": float(rng.choice([30, 60, 90, 120, 180])),
                    "started_at": started,
                    "ended_at": started + timedelta(seconds=200),
                    "comment": "",
                    "version": 1,
                    "updated_at": moment,
                }
            )
        for start in range(0, len(exposures), CHUNK):
            connection.execute(insert(Exposure), exposures[start : start + CHUNK])
        science_rows = connection.execute(
            select(Exposure.id, Exposure.night_id, Exposure.started_at).where(Exposure.kind == ExposureKind.SCIENCE)
        ).all()
        metrics = []
        for exposure_id, night_id, started in science_rows:
            strehl = rng.uniform(2, 30)
            for name, value in (
                ("strehl_percent", strehl),
                ("fwhm_arcsec", rng.uniform(0.06, 0.2)),
                ("quality_ok", 1.0 if strehl > 4 else 0.0),
                ("seeing_nearest_arcsec", rng.uniform(0.8, 2.5)),
            ):
                metrics.append(
                    {
                        "night_id": night_id,
                        "exposure_id": exposure_id,
                        "name": name,
                        "value": value,
                        "unit": "",
                        "measured_at": started,
                        "source": "bench",
                    }
                )
        for start in range(0, len(metrics), CHUNK):
            connection.execute(insert(Metric), metrics[start : start + CHUNK])
