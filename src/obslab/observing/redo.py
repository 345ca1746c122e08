"""Force a pipeline stage of one exposure to run again: for the program's members and admins, audited.

The mark is what the run browser's "force redo" records; the next ``obslab pipeline run`` runs the stage and
clears it (``planning.decide``). A stage already queued or running, or already marked, is refused.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from obslab.access import User, require_active
from obslab.audit import record_event
from obslab.db import Clock, utcnow
from obslab.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from obslab.locking import flush
from obslab.observing.models import Exposure, PipelineStage, ProgramMember
from obslab.observing.pipeline.graph import EXPOSURE_STAGES
from obslab.observing.programs import visible_exposures
from obslab.observing.types import StageState


def force_redo(session: Session, actor: User, exposure_name: str, stage: str, *, now: Clock = utcnow) -> PipelineStage:
    """Mark ``stage`` of ``exposure_name`` to be run again by the next pipeline run."""
    require_active(actor, "force a stage to run again")
    if stage not in EXPOSURE_STAGES:
        raise InvalidInputError("stage", stage, f"one of {', '.join(EXPOSURE_STAGES)}")
    exposure = session.scalar(select(Exposure).where(Exposure.name == exposure_name, visible_exposures(actor)))
    if exposure is None:
        raise NotFoundError(f"no exposure {exposure_name!r} that you may see")
    member = exposure.program_id is not None and session.get(ProgramMember, (exposure.program_id, actor.id))
    if not (actor.has_role("admin") or member):
        raise PermissionDeniedError(
            f"{actor.username} may not force a redo of {exposure_name}: that needs membership of program "
            f"{exposure.program or '(none)'} or the admin role",
            username=actor.username,
        )
    row = session.scalar(
        select(PipelineStage)
        .where(PipelineStage.exposure_id == exposure.id, PipelineStage.stage == stage)
        .with_for_update()
    )
    if row is None:
        raise NotFoundError(f"{stage} of {exposure_name} has never been planned; run the pipeline for its night first")
    if row.state in (StageState.QUEUED, StageState.RUNNING):
        raise ConflictError(f"{stage} of {exposure_name} is {row.state.value} now; it will run without a redo")
    if row.force_redo:
        raise ConflictError(f"{stage} of {exposure_name} is already marked to run again")
    row.force_redo, row.updated_at, row.updated_by_id = True, now(), actor.id
    flush(session, f"{stage} of {exposure_name}")
    record_event(
        session,
        actor=actor,
        action="pipeline_stage.force_redo",
        entity_type="pipeline_stage",
        entity_id=row.id,
        before={"state": row.state.value},
        after={"exposure": exposure_name, "stage": stage},
        now=now,
    )
    return row
