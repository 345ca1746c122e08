"""JSON parameter values come back exactly as stored, types included, on every backend."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from obslab.catalog.models import Observation, ObservationParameter
from obslab.catalog.types import ObservationStatus

# Values SQLite's numeric affinity would have rewritten: 0.0 -> 0, 1e10 -> 10000000000, rounding.
VALUES = [
    0.0,
    3.0,
    1e10,
    0.1 + 0.2,
    123456789.12345679,
    -0.0025,
    7,
    "0.0",
    "007",
    "  HETG ",
    True,
    None,
    [1.5, "Y"],
    {"x": 2.0},
]


def test_parameter_values_round_trip_exactly(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, session.begin():
        observation = Observation(
            obsid=1,
            sequence_number="1",
            target_name="Cas A",
            ra_deg=350.85,
            dec_deg=58.815,
            instrument="ACIS-S",
            obs_type="GO",
            status=ObservationStatus.UNOBSERVED,
            pi_name="Hughes",
            approved_exposure_ks=50.0,
        )
        observation.parameters = [
            ObservationParameter(name=f"p{i}", rank=0, value=value) for i, value in enumerate(VALUES)
        ]
        session.add(observation)
    with sessions() as session:
        read = session.scalars(select(ObservationParameter.value).order_by(ObservationParameter.id)).all()
    assert read == VALUES
    assert [type(value) for value in read] == [type(value) for value in VALUES]
