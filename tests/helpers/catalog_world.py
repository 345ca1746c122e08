"""A small catalog for change-request tests: one person per role and three observations with realistic parameters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from obslab.access import User
from obslab.catalog.models import Observation, ObservationParameter
from obslab.catalog.types import ObservationStatus
from obslab.users import add_user
from tests.helpers.support import FIXED_NOW

PEOPLE = {
    "pat": ["usint"],
    "quinn": ["usint"],
    "ops": ["arcops"],
    "acisa": ["acis"],
    "hrch": ["hrc"],
    "sam": ["staff"],
    "mia": ["mp"],
    "root": ["admin"],
}

ACIS_S = {
    "targname": "Cas A",
    "ra": 350.85,
    "dec": 58.815,
    "instrument": "ACIS-S",
    "grating": "NONE",
    "type": "GO",
    "si_mode": "TE_0002A",
    "y_det_offset": 0.0,
    "z_det_offset": 0.0,
    "dither_flag": "Y",
    "y_amp": 0.002222,
    "y_freq": 0.00036,
    "y_phase": 0.0,
    "z_amp": 0.002222,
    "z_freq": 0.000509,
    "z_phase": 0.0,
    "exp_mode": "TE",
    "bep_pack": "VF",
    "frame_time": 3.2,
    "most_efficient": "N",
    "ccds2_on": "Y",
    "ccds3_on": "Y",
    "window_flag": "N",
    "roll_flag": "N",
    "spwindow_flag": "N",
    "remarks": "",
    "seq_nbr": "500001",
    "status": "unobserved",
}
HRC_I = {
    "targname": "Polaris",
    "ra": 37.954561,
    "dec": 89.264109,
    "instrument": "HRC-I",
    "grating": "NONE",
    "type": "GTO",
    "si_mode": "HRCIS",
    "hrc_si_mode": "HRCIS",
    "hrc_timing_mode": "N",
    "hrc_zero_block": "N",
    "dither_flag": "N",
    "window_flag": "N",
    "roll_flag": "N",
    "spwindow_flag": "N",
    "seq_nbr": "500002",
    "status": "scheduled",
}


@dataclass
class World:
    users: dict[str, User]
    acis: int = 30001
    hrc: int = 30002
    observed: int = 30003
    no_si_mode: int = 30004


def observation(
    obsid: int,
    params: dict[str, Any],
    status: ObservationStatus,
    *,
    si_mode: str | None = "x",
    scheduled_at: datetime | None = None,
) -> Observation:
    obs = Observation(
        obsid=obsid,
        sequence_number=str(params["seq_nbr"]),
        target_name=params["targname"],
        ra_deg=params["ra"],
        dec_deg=params["dec"],
        instrument=params["instrument"],
        grating=params["grating"],
        obs_type=params["type"],
        status=status,
        pi_name="Hughes",
        si_mode=params.get("si_mode") if si_mode else None,
        approved_exposure_ks=50.0,
        scheduled_at=scheduled_at,
        created_at=FIXED_NOW,
    )
    obs.parameters = [
        ObservationParameter(name=name, rank=0, value=value)
        for name, value in params.items()
        if not (name == "si_mode" and not si_mode)
    ]
    return obs


def build_world(session: Session) -> World:
    users = {
        name: add_user(session, name, roles, email=f"{name}@obs.example", full_name=name.title(), now=lambda: FIXED_NOW)
        for name, roles in PEOPLE.items()
    }
    world = World(users)
    session.add_all(
        [
            observation(world.acis, ACIS_S, ObservationStatus.UNOBSERVED),
            observation(world.hrc, HRC_I, ObservationStatus.SCHEDULED, scheduled_at=FIXED_NOW + timedelta(days=3)),
            observation(world.observed, {**ACIS_S, "seq_nbr": "500003"}, ObservationStatus.OBSERVED),
            observation(world.no_si_mode, {**ACIS_S, "seq_nbr": "500004"}, ObservationStatus.UNOBSERVED, si_mode=None),
        ]
    )
    session.flush()
    return world


def submit_frame_time_change(session: Session, world: World) -> str:
    """pat asks for a shorter ACIS frame time on ``world.acis``: the label (areas acis and acis_si pending)."""
    from obslab.catalog.changes.submit import submit_change

    obs = session.scalar(select(Observation).where(Observation.obsid == world.acis))
    assert obs is not None
    revision, _check = submit_change(
        session,
        world.users["pat"],
        world.acis,
        seen_version=obs.version,
        edits=[("frame_time", 0, 2.8)],
        comment="faster",
        now=lambda: FIXED_NOW,
    )
    return revision.label
