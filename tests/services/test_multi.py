"""One change request copied to several observations: family and ranked-table rules, skips reported, all or nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from obslab.catalog.changes.multi import Outcome, submit_to_many, versions_as_read_now
from obslab.catalog.changes.submit import ChangeRefusedError
from obslab.catalog.models import Observation, ObservationParameter, ObservationStatus, Revision
from obslab.notify import Notification
from tests.helpers.catalog_world import ACIS_S, World, build_world, observation
from tests.helpers.support import fixed_clock, table_counts

TWIN, WINDOWED, SAME_ALREADY, EFFICIENT = 32001, 32002, 32003, 32004


@pytest.fixture
def world(sessions: sessionmaker[Session]) -> Iterator[tuple[Session, World]]:
    with sessions() as session:
        with session.begin():
            built = build_world(session)
            windowed = observation(
                WINDOWED, {**ACIS_S, "seq_nbr": "700002", "window_flag": "Y"}, ObservationStatus.UNOBSERVED
            )
            windowed.parameters += [
                ObservationParameter(name="window_constraint", rank=1, value="Y"),
                ObservationParameter(name="tstart", rank=1, value="2027-03-01T00:00:00"),
                ObservationParameter(name="tstop", rank=1, value="2027-03-09T00:00:00"),
            ]
            # Already has the offsets and frame time, and a window table of its own (so no window rows are copied).
            same = observation(
                SAME_ALREADY,
                {**ACIS_S, "seq_nbr": "700003", "y_det_offset": 1.5, "frame_time": 2.8, "window_flag": "Y"},
                ObservationStatus.SCHEDULED,
            )
            same.parameters += [ObservationParameter(name="window_constraint", rank=1, value="P")]
            session.add_all(
                [
                    observation(TWIN, {**ACIS_S, "seq_nbr": "700001"}, ObservationStatus.UNOBSERVED),
                    windowed,
                    same,
                    observation(
                        EFFICIENT,
                        {**ACIS_S, "seq_nbr": "700004", "frame_time": None, "most_efficient": "Y"},
                        ObservationStatus.UNOBSERVED,
                    ),
                ]
            )
        session.commit()
        yield session, built


def versions(session: Session) -> dict[int, int]:
    return dict(session.execute(select(Observation.obsid, Observation.version)).all())


EDITS = [
    ("y_det_offset", 0, 1.5),
    ("frame_time", 0, 2.8),
    ("window_flag", 0, "Y"),
    ("window_constraint", 1, "Y"),
    ("tstart", 1, "2027-01-10T00:00:00"),
    ("tstop", 1, "2027-01-20T00:00:00"),
]


def test_copies_follow_the_family_and_table_rules_and_skips_are_reported(world: tuple[Session, World]) -> None:
    session, w = world
    seen = versions(session) | {99999: 1}
    session.commit()
    with session.begin():
        results = submit_to_many(
            session,
            w.users["pat"],
            w.acis,
            [TWIN, w.hrc, WINDOWED, SAME_ALREADY, w.observed, 99999],
            seen_versions=seen,
            edits=EDITS,
            comment="same fix",
            now=fixed_clock,
        )
    by_obsid = {result.obsid: result for result in results}
    assert [(r.obsid, r.outcome) for r in results] == [
        (w.acis, Outcome.SUBMITTED),
        (TWIN, Outcome.SUBMITTED),
        (w.hrc, Outcome.SUBMITTED),
        (WINDOWED, Outcome.SUBMITTED),
        (SAME_ALREADY, Outcome.NO_CHANGE),
        (w.observed, Outcome.NOT_EDITABLE),
        (99999, Outcome.UNKNOWN),
    ]

    def changed(obsid: int) -> set[str]:
        revision = session.scalars(select(Revision).where(Revision.obsid == obsid)).one()
        return {f"{v.name}[{v.rank}]" if v.rank else v.name for v in revision.values if v.changed}

    everything = {"y_det_offset", "frame_time", "window_flag", "window_constraint[1]", "tstart[1]", "tstop[1]"}
    assert changed(w.acis) == everything and changed(TWIN) == everything
    # HRC: no ACIS frame time; windows copied (its table, empty, equals the source's).
    assert changed(w.hrc) == everything - {"frame_time"}
    assert any("frame_time: ACIS parameters apply to ACIS only" in reason for reason in by_obsid[w.hrc].left_out)
    # Its own time window differs from the source's (none), so the window rows are left out.
    assert changed(WINDOWED) == {"y_det_offset", "frame_time"}
    assert sum("time constraints table differs" in reason for reason in by_obsid[WINDOWED].left_out) == 3


def test_a_refusal_on_any_observation_refuses_the_whole_request(world: tuple[Session, World]) -> None:
    session, w = world
    before = table_counts(session)
    seen = versions(session)
    session.commit()
    with pytest.raises(
        ChangeRefusedError, match=f"obsid {EFFICIENT}: change refused: exactly one of frame_time / most_efficient"
    ):
        with session.begin():
            submit_to_many(
                session,
                w.users["pat"],
                w.acis,
                [TWIN, EFFICIENT],
                seen_versions=seen,
                edits=[("frame_time", 0, 2.8)],
                now=fixed_clock,
            )
    assert table_counts(session) == before


def test_operations_hear_once_when_one_request_changes_several_observations(world: tuple[Session, World]) -> None:
    session, w = world
    seen = versions(session)
    session.commit()
    with session.begin():
        submit_to_many(
            session,
            w.users["pat"],
            w.acis,
            [TWIN],
            seen_versions=seen,
            edits=[("y_det_offset", 0, 1.5)],
            now=fixed_clock,
        )
    mail = session.scalars(select(Notification).where(Notification.kind == "revision.several")).one()
    assert (
        mail.recipients == ["ops@obs.example"]
        and f"{w.acis}.001, {TWIN}.001" in mail.body
        and "y_det_offset = 1.5" in mail.body
    )


def test_versions_as_read_now_vouch_only_for_the_source_version_given(world: tuple[Session, World]) -> None:
    session, w = world
    current = versions(session)
    read = versions_as_read_now(session, w.acis, [TWIN, w.hrc, 99999])
    assert read == {w.acis: current[w.acis], TWIN: current[TWIN], w.hrc: current[w.hrc], 99999: 0}
    shown = versions_as_read_now(session, w.acis, [TWIN], source_seen_version=current[w.acis] + 5)
    assert shown == {w.acis: current[w.acis] + 5, TWIN: current[TWIN]}
    # An unknown source is left out, so submit_to_many says the source is not in the catalog.
    assert versions_as_read_now(session, 99999, [TWIN]) == {TWIN: current[TWIN]}
