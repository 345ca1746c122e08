"""Force redo: members of the exposure's program and admins mark a stage; refused while queued or marked; audited."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from obslab.access import find_user
from obslab.audit import AuditEvent
from obslab.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from obslab.observing.models import Exposure, PipelineStage
from obslab.observing.pipeline.executors import ThreadExecutor
from obslab.observing.pipeline.runner import RunOptions, run_night
from obslab.observing.redo import force_redo
from obslab.observing.types import StageState
from tests.helpers.pipeline_night import NIGHT, NightFiles, reduced_night
from tests.helpers.support import fixed_clock


@pytest.fixture
def night(sessions: sessionmaker[Session], tmp_path: Path) -> NightFiles:
    people = {"root": ["admin"], "sara": ["staff"], "ann": ["usint"]}
    return reduced_night(sessions, tmp_path, people, {"ann": "4"})


def redo(sessions: sessionmaker[Session], who: str, exposure: str, stage: str) -> None:
    with sessions() as session, session.begin():
        force_redo(session, find_user(session, who), exposure, stage, now=fixed_clock)


def test_a_member_marks_a_stage_the_next_run_redoes_it_and_the_mark_is_audited(
    sessions: sessionmaker[Session], night: NightFiles, tmp_path: Path
) -> None:
    redo(sessions, "ann", night.science[0], "strehl")
    with pytest.raises(ConflictError, match="already marked to run again"):
        redo(sessions, "ann", night.science[0], "strehl")
    with sessions() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "pipeline_stage.force_redo"))
        assert event.actor_name == "ann" and event.after == {"exposure": night.science[0], "stage": "strehl"}
    pool = ThreadExecutor(2)
    try:
        summary = run_night(sessions, NIGHT, pool, products_dir=tmp_path / "products", options=RunOptions())
    finally:
        pool.close()
    assert [(o.exposure, o.stage) for o in summary.outcomes if o.outcome == "done"] == [(night.science[0], "strehl")]
    redo(sessions, "root", night.science[1], "stack")  # an admin may, for any program


def test_who_may_not_and_what_is_refused(sessions: sessionmaker[Session], night: NightFiles) -> None:
    with pytest.raises(NotFoundError, match="that you may see"):
        redo(sessions, "ann", night.science[1], "stack")  # another program's: not even seen
    with pytest.raises(PermissionDeniedError, match="sara may not force a redo"):
        redo(sessions, "sara", night.science[0], "stack")  # staff see all but are not members
    with pytest.raises(InvalidInputError, match="stage"):
        redo(sessions, "ann", night.science[0], "bake")
    with sessions() as session, session.begin():
        row = session.scalar(
            select(PipelineStage)
            .join(Exposure, Exposure.id == PipelineStage.exposure_id)
            .where(Exposure.name == night.science[0], PipelineStage.stage == "stack")
        )
        row.state = StageState.QUEUED  # as a run in progress has it
    with pytest.raises(ConflictError, match="is queued now"):
        redo(sessions, "ann", night.science[0], "stack")
