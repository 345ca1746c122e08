"""Pipeline status for people: per night and stage, how many are in each state, and what failed and why (reads)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from obslab.observing.models import Exposure, Night, PipelineStage
from obslab.observing.pipeline.graph import DEPENDS_ON
from obslab.observing.types import StageState


@dataclass(frozen=True)
class StageCount:
    stage: str
    counts: dict[str, int]  # state -> how many
    last_finished: datetime | None


@dataclass(frozen=True)
class Failure:
    stage: str
    exposure: str | None
    retries: int
    error: str


@dataclass(frozen=True)
class NightStatus:
    night: date
    stages: tuple[StageCount, ...]
    failures: tuple[Failure, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "night": self.night.strftime("%Y%m%d"),
            "stages": [asdict(s) for s in self.stages],
            "failures": [asdict(f) for f in self.failures],
        }


def night_status(session: Session, night_date: date | None = None, *, limit: int = 7) -> list[NightStatus]:
    """The given night, or the latest ``limit`` nights with any stage recorded, newest first."""
    nights = select(Night).order_by(Night.night_date.desc())
    nights = nights.where(Night.night_date == night_date) if night_date else nights.limit(limit)
    found = []
    for night in session.scalars(nights):
        rows = session.execute(
            select(PipelineStage, Exposure.name)
            .outerjoin(Exposure, Exposure.id == PipelineStage.exposure_id)
            .where(PipelineStage.night_id == night.id)
        ).all()
        counts: dict[str, dict[str, int]] = defaultdict(lambda: {state.value: 0 for state in StageState})
        last: dict[str, datetime | None] = defaultdict(lambda: None)
        failures = []
        for row, exposure in rows:
            counts[row.stage][row.state.value] += 1
            if row.finished_at and (last[row.stage] is None or row.finished_at > last[row.stage]):
                last[row.stage] = row.finished_at
            if row.state is StageState.FAILED:
                failures.append(Failure(row.stage, exposure, row.retries, row.error or ""))
        stages = tuple(StageCount(s, dict(counts[s]), last[s]) for s in DEPENDS_ON if s in counts)
        order = list(DEPENDS_ON)
        failures.sort(key=lambda f: (order.index(f.stage) if f.stage in order else 99, f.exposure or ""))
        found.append(NightStatus(night.night_date, stages, tuple(failures)))
    return found
