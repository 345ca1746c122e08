"""Configuration writes: who may, refusals that write nothing, stale and racing writers, audit, new-hardware mail."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from obslab.audit import AuditEvent
from obslab.configs.service import history, latest_version_number, record_configuration
from obslab.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError, StaleError
from obslab.notify import Notification
from tests.conftest import BACKEND
from tests.helpers.config_world import STARTS, VIRUS, Desk, build_desk, focal_plane
from tests.helpers.support import FIXED_NOW, table_counts


@pytest.fixture
def desk(sessions: sessionmaker[Session]) -> Iterator[Desk]:
    with sessions() as session:
        yield build_desk(session)


def refused(desk: Desk, error: type[Exception], match: str, action: Any, *args: Any, **kwargs: Any) -> None:
    """``action`` raises ``error`` matching ``match`` and leaves every table as it was."""
    desk.session.commit()
    before = table_counts(desk.session)
    desk.session.commit()
    with pytest.raises(error, match=match):
        action(*args, **kwargs)
    desk.session.rollback()
    assert table_counts(desk.session) == before
    desk.session.commit()


def notices(desk: Desk) -> list[Notification]:
    desk.session.commit()
    return list(desk.session.scalars(select(Notification).order_by(Notification.id)))


def test_only_the_telescope_and_admin_roles_write(desk: Desk) -> None:
    for who in ("pat", "pia", "sam"):
        refused(
            desk,
            PermissionDeniedError,
            rf"{who} may not record configurations of VIRUS: that needs one of the roles 'admin', 'telescope'",
            desk.record,
            focal_plane(4),
            STARTS[0],
            who=who,
        )
    assert desk.record(focal_plane(4), STARTS[0], who="tcs").version_number == 1
    assert desk.record(focal_plane(5), STARTS[1], who="root").version_number == 2
    refused(
        desk,
        PermissionDeniedError,
        "pat may not correct",
        desk.correct,
        focal_plane(4),
        STARTS[0],
        STARTS[1],
        who="pat",
    )
    assert desk.correct(focal_plane(4, platesc=0.99), STARTS[0], STARTS[1], who="tcs").version_number == 3
    desk.users["tcs"].is_active = False
    refused(desk, PermissionDeniedError, "tcs is not an active user", desk.record, focal_plane(5), STARTS[2])


def test_a_stale_seen_version_is_refused_naming_who_recorded_and_writes_nothing(desk: Desk) -> None:
    desk.record(focal_plane(4), STARTS[0])
    desk.record(focal_plane(5), STARTS[1], who="root", at=STARTS[1] + timedelta(hours=3))
    message = r"recorded as version 2 by root at 2026-02-04 21:00:00 UTC after you loaded it \(you saw version 1\)"
    refused(desk, StaleError, message, desk.record, focal_plane(6), STARTS[2], seen_version=1)
    refused(desk, StaleError, message, desk.correct, focal_plane(4), STARTS[0], STARTS[1], seen_version=1)
    refused(
        desk,
        InvalidInputError,
        "seen_version: 3 .* expected 2, the highest version of VIRUS",
        desk.record,
        focal_plane(6),
        STARTS[2],
        seen_version=3,
    )
    refused(desk, InvalidInputError, "seen_version: True", desk.record, focal_plane(6), STARTS[2], seen_version=True)
    refused(
        desk,
        InvalidInputError,
        "expected 0: ROBO-CAM has no versions",
        desk.record,
        focal_plane(1),
        STARTS[0],
        instrument="ROBO-CAM",
        seen_version=1,
    )


def _race(sessions: sessionmaker[Session], desk: Desk, instrument: str, start: datetime) -> StaleError:
    """Two writers who saw the same version: the first commits, the second must be refused as stale."""
    desk.session.commit()
    first, second = sessions(), sessions()
    try:
        second.begin()
        seen = latest_version_number(second, instrument)  # on SQLite the second's snapshot is taken here
        with first.begin():
            record_configuration(
                first, desk.users["tcs"], instrument, focal_plane(6), valid_from=start, seen_version=seen
            )
        with pytest.raises(StaleError, match="reload and try again") as refusal:
            record_configuration(
                second, desk.users["root"], instrument, focal_plane(7), valid_from=start, seen_version=seen
            )
        second.rollback()
    finally:
        first.close()
        second.close()
    return refusal.value


def test_two_writers_who_saw_the_same_version_the_second_is_stale(sessions: sessionmaker[Session], desk: Desk) -> None:
    desk.record(focal_plane(4), STARTS[0])
    _race(sessions, desk, VIRUS, STARTS[1])
    _race(sessions, desk, "ROBO-CAM", STARTS[1])  # a new instrument: no row to lock, the unique number decides
    desk.session.commit()
    assert [(v.version_number, len(v.items)) for v in history(desk.session, VIRUS)] == [(1, 4), (2, 6)]
    assert [(v.version_number, len(v.items)) for v in history(desk.session, "ROBO-CAM")] == [(1, 6)]


def test_a_writer_waiting_on_the_lock_is_refused_naming_the_winner_on_postgresql(
    sessions: sessionmaker[Session], desk: Desk
) -> None:
    """The second writer reads while the first holds the row: it must end stale, never with a raw error."""
    desk.record(focal_plane(4), STARTS[0])
    desk.session.commit()
    first, second = sessions(), sessions()
    started, outcome = threading.Event(), {}

    def other() -> None:
        try:
            with second.begin():
                seen = latest_version_number(second, VIRUS)
                started.set()
                record_configuration(
                    second, desk.users["root"], VIRUS, focal_plane(7), valid_from=STARTS[2], seen_version=seen
                )
        except Exception as error:  # noqa: BLE001 - the test asserts which
            outcome["error"] = error

    try:
        with first.begin():
            record_configuration(first, desk.users["tcs"], VIRUS, focal_plane(6), valid_from=STARTS[1], seen_version=1)
            thread = threading.Thread(target=other)
            thread.start()
            assert started.wait(30)
            time.sleep(0.5)  # let the other reach the lock (PostgreSQL) or its write (SQLite) and wait
        thread.join(60)
    finally:
        first.close()
        second.close()
    assert isinstance(outcome.get("error"), StaleError), outcome
    if BACKEND == "postgresql":  # it waited on the row lock, then saw the winner's version
        assert "recorded as version 2 by tcs" in str(outcome["error"])
    assert [v.version_number for v in history(desk.session, VIRUS)] == [1, 2]


BAD_ITEMS = [
    ({}, "items: {} is not allowed; expected a non-empty mapping"),
    ([("013", {})], "items: .* expected a non-empty mapping"),
    ({"": {"specid": 1}}, "items: '' .* item keys of 1-64 characters"),
    ({"x" * 65: {"specid": 1}}, "item keys of 1-64 characters"),
    ({"013": [1, 2]}, r"items\['013'\]: \[1, 2\] .* a mapping of attribute name to value"),
    ({"013": {"specid": [1]}}, r"items\['013'\].specid: \[1\] .* text, a finite number"),
    ({"013": {"x_fp": float("nan")}}, r"items\['013'\].x_fp: nan"),
    (
        {"013": {"ifuid": "042"}, "021": {"ifuid": "042"}},
        r"items\['021'\].ifuid: '042' .* each IFU in one item only, but item '013' holds it too",
    ),
    (
        {"013": {"specid": 8}, "021": {"specid": "008"}},
        r"items\['021'\].specid: '008' .* each spectrograph in one item only, but item '013'",
    ),
]


@pytest.mark.parametrize(("items", "match"), BAD_ITEMS)
def test_items_are_refused_naming_field_value_and_what_is_allowed(desk: Desk, items: Any, match: str) -> None:
    refused(desk, InvalidInputError, match, desk.record, items, STARTS[0])


def test_placeholders_may_repeat(desk: Desk) -> None:
    items = focal_plane(3) | {
        "000": {"specid": 900, "ifuid": "900"},
        "LRS2-B": {"specid": 900, "ifuid": "900"},
        "HPF": {"specid": "999", "ifuid": 901},
    }
    assert len(desk.record(items, STARTS[0]).items) == 6


def test_times_and_names_are_refused_naming_what_is_allowed(desk: Desk) -> None:
    desk.record(focal_plane(4), STARTS[0])
    desk.record(focal_plane(5), STARTS[1])
    refused(
        desk,
        InvalidInputError,
        r"valid_from: '2026-01-20T18:00:00\+00:00' .* a time after 2026-02-04T18:00:00\+00:00, when version 2 "
        r"of VIRUS starts; .* correct that period \(correct_configuration\)",
        desk.record,
        focal_plane(6),
        STARTS[0] + timedelta(days=15),
    )
    refused(desk, InvalidInputError, "a time after", desk.record, focal_plane(6), STARTS[1])  # the same start
    refused(
        desk,
        InvalidInputError,
        "valid_from: .* a time with a zone",
        desk.record,
        focal_plane(6),
        datetime(2026, 5, 1),  # noqa: DTZ001 - the naive time is the point
    )
    refused(
        desk,
        InvalidInputError,
        "instrument: '' .* a name of 1-32",
        desk.record,
        focal_plane(6),
        STARTS[2],
        instrument="",
    )
    refused(desk, InvalidInputError, "a name of 1-32", desk.record, focal_plane(6), STARTS[2], instrument="V" * 33)
    refused(desk, InvalidInputError, "source: ''", desk.record, focal_plane(6), STARTS[2], source="")
    refused(
        desk,
        InvalidInputError,
        r"valid_from: .* a time at or after 2026-01-05T18:00:00\+00:00, when the known history of VIRUS starts",
        desk.correct,
        focal_plane(4),
        STARTS[0] - timedelta(days=1),
        STARTS[1],
    )
    refused(
        desk,
        InvalidInputError,
        "valid_to: .* a time after valid_from",
        desk.correct,
        focal_plane(4),
        STARTS[1],
        STARTS[0],
    )
    refused(
        desk,
        InvalidInputError,
        "comment: '  ' .* the reason",
        desk.correct,
        focal_plane(4),
        STARTS[0],
        STARTS[1],
        comment="  ",
    )
    refused(
        desk,
        NotFoundError,
        "ROBO-CAM has no recorded configuration",
        desk.correct,
        focal_plane(4),
        STARTS[0],
        None,
        instrument="ROBO-CAM",
    )
    refused(
        desk,
        ConflictError,
        "after now .* check the clock",
        desk.correct,
        focal_plane(4),
        STARTS[0],
        STARTS[1],
        at=STARTS[0],
    )


def test_writes_are_audited_with_versions_period_and_item_counts(desk: Desk) -> None:
    first = focal_plane(4)
    second = {key: dict(value) for key, value in first.items() if key != "014"} | {"021": {"specid": 30}}
    second["011"]["x_fp"] = 1.5
    desk.record(first, STARTS[0], source="tcs", comment="first light")
    desk.record(second, STARTS[1])
    desk.session.commit()
    events = desk.session.scalars(
        select(AuditEvent).where(AuditEvent.entity_type == "instrument_configuration").order_by(AuditEvent.id)
    ).all()
    assert [(e.action, e.entity_id, e.actor_name) for e in events] == [
        ("configs.recorded", "VIRUS/1", "tcs"),
        ("configs.recorded", "VIRUS/2", "tcs"),
    ]
    assert events[0].before is None
    assert events[1].before == {"version": 1, "valid_to": None}
    assert events[1].after == {
        "instrument": VIRUS,
        "version": 2,
        "valid_from": STARTS[1].isoformat(),
        "valid_to": None,
        "source": "manual",
        "items": 4,
        "added": 1,
        "removed": 1,
        "changed": 1,
    }
    assert events[0].after["source"] == "tcs" and events[0].after["added"] == 4


def test_new_spectrographs_and_ifus_are_reported_once_to_admins_and_pipeline(desk: Desk) -> None:
    desk.record(focal_plane(3), STARTS[0])
    [first] = notices(desk)
    assert (first.kind, first.recipients) == ("configs.new_hardware", ["pia@obs.example", "root@obs.example"])
    assert "3 spectrograph(s), 3 IFU(s)" in first.subject and "VIRUS configuration version 1" in first.subject
    assert "  1 in item 011\n" in first.body and "  100 in item 011\n" in first.body
    # Seats moved, placeholders added: no new hardware, no report.
    moved = {f"02{n}": value for n, value in enumerate(focal_plane(3).values(), start=1)}
    desk.record(moved | {"000": {"specid": 900, "ifuid": "900"}}, STARTS[1])
    assert len(notices(desk)) == 1
    # One new IFU in a new seat, one new spectrograph behind an old bundle.
    third = moved | {"031": {"specid": 50, "ifuid": "555"}}
    third["021"] = third["021"] | {"specid": 51}
    desk.record(third, STARTS[2])
    report = notices(desk)[-1]
    assert len(notices(desk)) == 2
    assert "version 3: new hardware (2 spectrograph(s), 1 IFU(s))" in report.subject
    body = report.body
    assert "New spectrographs (specid):\n  51 in item 021\n  50 in item 031\n" in body
    assert "New IFUs (ifuid):\n  555 in item 031\n" in body
    assert f"Valid from {STARTS[2].isoformat()}" in body and "by tcs" in body
    # A correction takes that hardware out of the history, the next version brings it back: the same report
    # (its dedupe key is the instrument and the new hardware) is not sent again.
    desk.correct(moved, STARTS[2], None, at=FIXED_NOW)
    desk.record(third, STARTS[3], at=FIXED_NOW)
    assert len(notices(desk)) == 2
    assert [v.current for v in history(desk.session, VIRUS)] == [True, True, False, True, True]


def test_no_report_when_nobody_reads_it(desk: Desk) -> None:
    for name in ("root", "pia"):
        desk.users[name].email = None
    desk.record(focal_plane(3), STARTS[0])
    assert notices(desk) == []
