"""Express approval: a status per listed obsid, and the approvable ones approved in one transaction."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from obslab.catalog.changes.express import ExpressStatus, express_approve, express_check
from obslab.catalog.changes.submit import submit_change
from obslab.catalog.models import Observation, Revision
from obslab.catalog.types import ObservationStatus
from obslab.errors import InvalidInputError, PermissionDeniedError
from obslab.notify import Notification
from tests.helpers.catalog_world import ACIS_S, World, build_world, observation
from tests.helpers.support import FIXED_NOW, fixed_clock, table_counts


@pytest.fixture
def world(sessions: sessionmaker[Session]) -> Iterator[tuple[Session, World]]:
    with sessions() as session:
        with session.begin():
            built = build_world(session)
            # A run of approvable observations, one already approved, one last submitted by quinn.
            session.add_all(
                [
                    observation(31000 + n, {**ACIS_S, "seq_nbr": str(600000 + n)}, ObservationStatus.UNOBSERVED)
                    for n in range(1, 6)
                ]
            )
            session.flush()
            for obsid, who, kind in ((31002, "pat", "asis"), (31003, "quinn", "norm")):
                version = session.scalar(select(Observation.version).where(Observation.obsid == obsid))
                edits = [("y_det_offset", 0, 1.0)] if kind == "norm" else []
                submit_change(
                    session, built.users[who], obsid, seen_version=version, kind=kind, edits=edits, now=fixed_clock
                )
        yield session, built


def test_every_obsid_gets_a_status_in_list_order(world: tuple[Session, World]) -> None:
    session, w = world
    rows = express_check(session, w.users["pat"], f"31001-31003; 99999 {w.observed},{w.no_si_mode}  31001")
    assert [(row.obsid, row.status) for row in rows] == [
        (31001, ExpressStatus.APPROVABLE),
        (31002, ExpressStatus.ALREADY_APPROVED),
        (31003, ExpressStatus.OTHER_SUBMITTER),
        (99999, ExpressStatus.UNKNOWN),
        (w.observed, ExpressStatus.NOT_EDITABLE),
        (w.no_si_mode, ExpressStatus.MISSING_SI_MODE),
    ]
    assert rows[2].detail == "last revision by quinn" and rows[2].approvable
    with pytest.raises(InvalidInputError, match="obsids"):
        express_check(session, w.users["pat"], "31001-abc")


def test_approvable_obsids_are_approved_together_with_one_summary_mail(world: tuple[Session, World]) -> None:
    session, w = world
    session.commit()
    with session.begin():
        result = express_approve(session, w.users["pat"], "31001-31005 99999", now=fixed_clock)
    assert result.approved == ("31001.001", "31003.002", "31004.001", "31005.001")
    assert [(row.obsid, row.status) for row in result.skipped] == [
        (31002, ExpressStatus.ALREADY_APPROVED),
        (99999, ExpressStatus.UNKNOWN),
    ]
    approved = dict(
        session.execute(
            select(Observation.obsid, Observation.approved).where(Observation.obsid.between(31001, 31005))
        ).all()
    )
    assert approved == {31001: True, 31002: True, 31003: True, 31004: True, 31005: True}
    revisions = session.scalars(select(Revision).where(Revision.obsid == 31004)).all()
    assert [(r.kind.value, r.submitted_at, r.closed_at) for r in revisions] == [("asis", FIXED_NOW, FIXED_NOW)]
    mails = session.scalars(select(Notification).where(Notification.kind == "revision.express")).all()
    assert len(mails) == 1 and "31005.001" in mails[0].body and "99999: unknown obsid" in mails[0].body


def test_express_needs_a_submitter_and_writes_nothing_otherwise(world: tuple[Session, World]) -> None:
    session, w = world
    before = table_counts(session)
    session.commit()
    with pytest.raises(PermissionDeniedError, match="ops may not submit"), session.begin():
        express_approve(session, w.users["ops"], "31001", now=fixed_clock)
    assert table_counts(session) == before
