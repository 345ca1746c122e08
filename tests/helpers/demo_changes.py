"""Change requests on the demo observatory for browser tests: an ACIS observation free to change, one opened."""

from __future__ import annotations

from sqlalchemy import select

from obslab.access import find_user
from obslab.catalog.changes.submit import submit_change
from obslab.catalog.lookup import current_values
from obslab.catalog.models import EDITABLE_STATUSES, Observation, Revision
from obslab.db import make_engine, make_session_factory, transaction


def candidate(url: str, *, skip: int = 0) -> tuple[int, str]:
    """An ACIS observation that can change and be approved, with no open revision (the demo has several)."""
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            open_revisions = select(Revision.obsid).where(Revision.closed_at.is_(None))
            return tuple(
                session.execute(
                    select(Observation.obsid, Observation.target_name)
                    .where(
                        Observation.instrument.like("ACIS%"),
                        Observation.status.in_(EDITABLE_STATUSES),
                        Observation.approved.is_(False),
                        Observation.si_mode.is_not(None),
                        Observation.obsid.not_in(open_revisions),
                    )
                    .order_by(Observation.obsid)
                    .offset(skip)
                    .limit(1)
                ).one()
            )
    finally:
        engine.dispose()


def open_acis_change(url: str, submitter: str, *, skip: int = 0) -> str:
    """``submitter`` asks for the other ACIS telemetry format on a candidate: the label (ACIS areas pending)."""
    obsid, _name = candidate(url, skip=skip)
    engine = make_engine(url)
    try:
        with transaction(make_session_factory(engine)) as session:
            observation = session.scalar(select(Observation).where(Observation.obsid == obsid))
            pack = current_values(session, observation).get(("bep_pack", 0))
            revision, _check = submit_change(
                session,
                find_user(session, submitter),
                obsid,
                seen_version=observation.version,
                edits=[("bep_pack", 0, "VF" if pack == "F" else "F")],
                comment="the other telemetry format",
            )
            return revision.label
    finally:
        engine.dispose()
