"""One observation by obsid (optionally locked) and its current parameter values, for reads and writes alike."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from obslab.catalog.models import Observation, ObservationParameter
from obslab.errors import NotFoundError


def find_observation(session: Session, obsid: int, *, lock: bool = False) -> Observation:
    """The observation, or NotFoundError; ``lock`` holds its row until the transaction ends (PostgreSQL;
    SQLite transactions see one snapshot and a conflicting write fails instead)."""
    query = select(Observation).where(Observation.obsid == obsid)
    observation = session.scalar(query.with_for_update() if lock else query)
    if observation is None:
        raise NotFoundError(f"obsid {obsid} is not in the catalog", obsid=obsid)
    return observation


def current_values(session: Session, observation: Observation) -> dict[tuple[str, int], Any]:
    """The observation's parameters as (name, rank) -> value."""
    rows = session.execute(
        select(ObservationParameter.name, ObservationParameter.rank, ObservationParameter.value).where(
            ObservationParameter.observation_id == observation.id
        )
    )
    return {(name, rank): value for name, rank, value in rows}
