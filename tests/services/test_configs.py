"""Configuration history on both time axes: valid at, as recorded at, corrections of past periods, diffs, one query."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from random import Random

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker

from obslab.audit import AuditEvent
from obslab.configs.models import InstrumentConfiguration
from obslab.configs.service import (
    as_recorded_at,
    configuration_id_at,
    diff_versions,
    get_version,
    history,
    instruments,
    valid_at,
)
from obslab.configs.types import AttributeChange
from obslab.demo.configs import VIRUS as DEMO_VIRUS
from obslab.errors import NotFoundError
from tests.helpers.config_world import LATE, STARTS, VIRUS, Desk, build_desk, focal_plane
from tests.helpers.support import FIXED_NOW

TICK = timedelta(microseconds=1)


@pytest.fixture
def desk(sessions: sessionmaker[Session]) -> Iterator[Desk]:
    with sessions() as session:
        yield build_desk(session)


def timeline(desk: Desk) -> list[tuple[int, str, str | None]]:
    """The current records as (version, start, end), in time order."""
    return [
        (v.version_number, v.valid_from.isoformat(), v.valid_to.isoformat() if v.valid_to else None)
        for v in sorted(history(desk.session, VIRUS), key=lambda v: v.valid_from)
        if v.current
    ]


def number(version: object) -> int | None:
    return getattr(version, "version_number", None)


def test_a_new_version_closes_the_one_in_force_and_valid_at_turns_at_its_start(desk: Desk) -> None:
    first = desk.record(focal_plane(10), STARTS[0])
    desk.record(focal_plane(12), STARTS[1])
    session = desk.session
    assert first.valid_to == STARTS[1]  # the version in force closes at the new start, in place
    assert number(valid_at(session, VIRUS, STARTS[1])) == 2  # T == valid_from is the new version
    assert number(valid_at(session, VIRUS, STARTS[1] - TICK)) == 1  # just before is the old one
    assert number(valid_at(session, VIRUS, STARTS[0])) == 1
    assert valid_at(session, VIRUS, STARTS[0] - TICK) is None  # before the first record nothing was known
    assert number(valid_at(session, VIRUS, STARTS[1] + timedelta(days=3650))) == 2
    assert valid_at(session, "ROBO-CAM", STARTS[1]) is None
    assert len(valid_at(session, VIRUS, STARTS[1]).items) == 12
    assert timeline(desk) == [(1, STARTS[0].isoformat(), STARTS[1].isoformat()), (2, STARTS[1].isoformat(), None)]
    assert instruments(session) == [VIRUS]


def test_a_recording_made_after_its_start_is_seen_correctly_on_both_axes(desk: Desk) -> None:
    desk.record(focal_plane(10), STARTS[0])
    desk.record(focal_plane(12), STARTS[1], at=STARTS[1] + timedelta(hours=14))  # pushed the next morning
    session, during = desk.session, STARTS[1] + timedelta(hours=3)
    assert number(valid_at(session, VIRUS, during)) == 2  # telescope time: version 2 was in force
    believed = as_recorded_at(session, VIRUS, during, known_at=during)
    assert number(believed) == 1  # record time: at the moment itself obslab still believed version 1 ...
    assert believed.valid_to is None  # ... and believed it open-ended, though it is closed in place now
    assert number(as_recorded_at(session, VIRUS, during, known_at=STARTS[1] + timedelta(hours=14))) == 2
    assert as_recorded_at(session, VIRUS, during, known_at=STARTS[0]) is None  # before the first recording
    assert number(as_recorded_at(session, VIRUS, STARTS[0], known_at=FIXED_NOW)) == 1
    assert as_recorded_at(session, VIRUS, STARTS[0], known_at=FIXED_NOW).valid_to == STARTS[1]


def test_a_corrected_past_period_is_kept_as_believed_before_the_correction(desk: Desk) -> None:
    planes = [focal_plane(10), focal_plane(12), focal_plane(14)]
    for plane, start in zip(planes, STARTS, strict=False):
        desk.record(plane, start)
    corrected = focal_plane(12, platesc=1.01)
    start, end = STARTS[0] + timedelta(days=10), STARTS[1] + timedelta(days=10)
    correction_at = STARTS[2] + timedelta(days=5)
    row = desk.correct(corrected, start, end, at=correction_at)
    assert row.version_number == 4
    session = desk.session
    # The current history still tiles: the head of version 1 and the tail of version 2 came back as copies.
    assert timeline(desk) == [
        (5, STARTS[0].isoformat(), start.isoformat()),
        (4, start.isoformat(), end.isoformat()),
        (6, end.isoformat(), STARTS[2].isoformat()),
        (3, STARTS[2].isoformat(), None),
    ]
    records = history(session, VIRUS)
    assert [(v.version_number, v.current) for v in records] == [
        (1, False),
        (2, False),
        (3, True),
        (4, True),
        (5, True),
        (6, True),
    ]
    assert records[0].superseded_at == correction_at and records[4].recorded_at == correction_at
    assert records[4].items == planes[0] and records[5].items == planes[1] and records[3].items == corrected
    assert records[0].valid_to == STARTS[1]  # the superseded record keeps the period it claimed
    # Telescope time as known now.
    assert number(valid_at(session, VIRUS, start - TICK)) == 5
    assert number(valid_at(session, VIRUS, start)) == 4
    assert number(valid_at(session, VIRUS, STARTS[1])) == 4
    assert number(valid_at(session, VIRUS, end)) == 6
    # Record time: before the correction the old, wrong records; from it on the corrected one.
    inside = start + timedelta(days=1)
    before, after = correction_at - TICK, correction_at
    assert number(as_recorded_at(session, VIRUS, inside, known_at=before)) == 1
    assert number(as_recorded_at(session, VIRUS, STARTS[1] + TICK, known_at=before)) == 2
    assert number(as_recorded_at(session, VIRUS, inside, known_at=after)) == 4
    assert as_recorded_at(session, VIRUS, inside, known_at=after).items == corrected
    assert number(as_recorded_at(session, VIRUS, STARTS[0], known_at=after)) == 5
    assert number(as_recorded_at(session, VIRUS, STARTS[0], known_at=before)) == 1
    assert as_recorded_at(session, VIRUS, STARTS[0], known_at=before).valid_to == STARTS[1]
    # Audit: which records were superseded, the period, and how the correction differs from each.
    audit = session.scalar(select(AuditEvent).where(AuditEvent.action == "configs.corrected"))
    assert audit.entity_id == "VIRUS/4" and audit.actor_name == "root"
    assert audit.after | {"comment": ""} == {
        "instrument": VIRUS,
        "version": 4,
        "valid_from": start.isoformat(),
        "valid_to": end.isoformat(),
        "items": 12,
        "copies": [5, 6],
        "comment": "",
    }
    assert [(s["version"], s["added"], s["removed"], s["changed"]) for s in audit.before["superseded"]] == [
        (1, 2, 0, 10),
        (2, 0, 0, 12),
    ]


def test_corrections_inside_one_version_and_through_the_version_in_force(desk: Desk) -> None:
    desk.record(focal_plane(10), STARTS[0])
    desk.record(focal_plane(12), STARTS[1])
    middle = STARTS[0] + timedelta(days=5), STARTS[0] + timedelta(days=6)
    desk.correct(focal_plane(10, ifurot=180.0), *middle, at=STARTS[2])
    assert timeline(desk) == [
        (4, STARTS[0].isoformat(), middle[0].isoformat()),
        (3, middle[0].isoformat(), middle[1].isoformat()),
        (5, middle[1].isoformat(), STARTS[1].isoformat()),
        (2, STARTS[1].isoformat(), None),
    ]
    # Open-ended: the version in force now is replaced from the start given; its head stays as it was.
    later = STARTS[1] + timedelta(days=2)
    desk.correct(focal_plane(12, ifurot=180.0), later, None, at=STARTS[2] + timedelta(days=1))
    assert timeline(desk)[-2:] == [(7, STARTS[1].isoformat(), later.isoformat()), (6, later.isoformat(), None)]
    assert number(valid_at(desk.session, VIRUS, FIXED_NOW)) == 6
    # A new version closes the corrected one like any other.
    desk.record(focal_plane(13), STARTS[3])
    assert timeline(desk)[-2:] == [(6, later.isoformat(), STARTS[3].isoformat()), (8, STARTS[3].isoformat(), None)]


def test_the_demo_history_answers_on_both_axes(demo_sessions: sessionmaker[Session]) -> None:
    """VIRUS version 4 was superseded by the correction 5 for the same period."""
    with demo_sessions() as session:
        four, five = get_version(session, DEMO_VIRUS, 4), get_version(session, DEMO_VIRUS, 5)
        assert (four.current, five.current, four.valid_from, four.valid_to) == (
            False,
            True,
            five.valid_from,
            five.valid_to,
        )
        inside = four.valid_from + timedelta(days=3)
        assert number(valid_at(session, DEMO_VIRUS, inside)) == 5
        assert number(as_recorded_at(session, DEMO_VIRUS, inside, known_at=five.recorded_at - TICK)) == 4
        assert number(as_recorded_at(session, DEMO_VIRUS, inside, known_at=five.recorded_at)) == 5
        assert number(valid_at(session, DEMO_VIRUS, four.valid_from - TICK)) == 3
        assert [v.version_number for v in history(session, DEMO_VIRUS)] == [1, 2, 3, 4, 5, 6]
        changes = diff_versions(session, DEMO_VIRUS, 4, 5)
        assert {c.attribute for c in changes.changed} == {"specid"} and len(changes.changed) == 2


def test_diff_versions_attribute_by_attribute(desk: Desk) -> None:
    first = focal_plane(3)
    second = {key: dict(value) for key, value in first.items() if key != "013"}
    second["011"]["ifuid"] = "777"
    second["012"].pop("platesc")
    second["014"] = {"specid": 40, "ifuid": "400"}
    desk.record(first, STARTS[0])
    desk.record(second, STARTS[1])
    diff = diff_versions(desk.session, VIRUS, 1, 2)
    assert diff.added == ("014",) and diff.removed == ("013",)
    assert diff.changed == (
        AttributeChange("011", "ifuid", "100", "777"),
        AttributeChange("012", "platesc", 1.0, None),
    )
    assert diff_versions(desk.session, VIRUS, 1, 1).empty
    assert diff_versions(desk.session, VIRUS, 2, 1).added == ("013",)
    with pytest.raises(NotFoundError, match="VIRUS has no configuration version 9: its versions are 1 to 2"):
        diff_versions(desk.session, VIRUS, 1, 9)
    with pytest.raises(NotFoundError, match="it has no recorded configuration"):
        get_version(desk.session, "ROBO-CAM", 1)
    assert get_version(desk.session, VIRUS, 2).items["014"] == {"specid": 40, "ifuid": "400"}
    assert get_version(desk.session, VIRUS, 2).as_dict()["valid_from"] == STARTS[1].isoformat()


def test_configuration_id_at_is_the_record_valid_at_returns_for_random_moments(desk: Desk) -> None:
    for n, start in enumerate(STARTS):
        desk.record(focal_plane(10 + n), start)
    desk.correct(focal_plane(11, platesc=1.02), STARTS[0] + timedelta(days=20), STARTS[2] + timedelta(hours=1))
    session = desk.session
    ids = {r.version_number: r.id for r in session.scalars(select(InstrumentConfiguration))}
    rng = Random(13)
    span = (STARTS[-1] - STARTS[0]).total_seconds() + 86400 * 60
    moments = [STARTS[0] - timedelta(days=3) + timedelta(seconds=rng.uniform(0, span)) for _ in range(300)]
    moments += [m + d for m in STARTS for d in (-TICK, timedelta(0), TICK)]
    for moment in moments:
        version = valid_at(session, VIRUS, moment)
        expected = ids[version.version_number] if version is not None else None
        assert configuration_id_at(session, VIRUS, moment) == expected, moment


def _statements(session: Session) -> Iterator[list[str]]:
    """The SQL statements the session's connection runs inside the ``with`` block."""
    session.execute(select(1))  # begin first: SQLite's BEGIN is a statement of its own
    seen: list[str] = []
    connection = session.connection()

    def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(connection, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(connection, "before_cursor_execute", count)


def test_configuration_id_at_is_one_indexed_statement_and_reads_do_not_grow_with_versions(desk: Desk) -> None:
    for n, start in enumerate(STARTS):
        desk.record(focal_plane(20 + n), start, at=start + LATE)
    desk.session.commit()
    counting = _statements(desk.session)
    seen = next(counting)
    assert configuration_id_at(desk.session, VIRUS, STARTS[2] + TICK) is not None
    assert len(seen) == 1 and "ORDER BY instrument_configurations.valid_from DESC" in seen[0]
    assert "LIMIT" in seen[0]
    seen.clear()
    assert len(history(desk.session, VIRUS)) == 5
    assert len(seen) == 2  # the records with who recorded them, then every item in one more query
    seen.clear()
    valid_at(desk.session, VIRUS, STARTS[3])
    as_recorded_at(desk.session, VIRUS, STARTS[3], known_at=FIXED_NOW)
    diff_versions(desk.session, VIRUS, 1, 5)
    assert len(seen) == 6
    counting.close()
