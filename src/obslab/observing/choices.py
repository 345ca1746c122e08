"""What the run browser offers to filter by, and the configuration an exposure was taken with, as a viewer may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from obslab.access import User
from obslab.configs.models import InstrumentConfiguration
from obslab.observing.models import Exposure
from obslab.observing.programs import visible_exposures


def exposure_choices(session: Session, viewer: User) -> dict[str, list[str]]:
    """The programs, filters and camera modes of the exposures ``viewer`` may see, each sorted."""
    seen = visible_exposures(viewer)
    return {
        name: sorted(v for v in session.scalars(select(column).where(seen).distinct()) if v)
        for name, column in (
            ("program", Exposure.program),
            ("filter_name", Exposure.filter_name),
            ("camera_mode", Exposure.camera_mode),
        )
    }


@dataclass(frozen=True)
class ConfigurationLabel:
    """The configuration version an exposure's products were stamped with, as a page names and links it."""

    instrument: str
    version_number: int
    valid_from: datetime
    valid_to: datetime | None

    @property
    def text(self) -> str:
        start = f"{self.instrument} version {self.version_number}, valid from {self.valid_from:%Y-%m-%d %H:%M} UTC"
        return start + (f" to {self.valid_to:%Y-%m-%d %H:%M} UTC" if self.valid_to else ", still in force")


def configuration_label(session: Session, configuration_id: int | None) -> ConfigurationLabel | None:
    """The label of configuration record ``configuration_id`` (None when there is none, or it is gone)."""
    row = session.get(InstrumentConfiguration, configuration_id) if configuration_id is not None else None
    if row is None:
        return None
    return ConfigurationLabel(row.instrument, row.version_number, row.valid_from, row.valid_to)
