"""Daily reminders: a nag per first pending area, verification per submitter, duty hand-overs, roster warnings; once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from obslab.catalog.changes.duty import extend, sign_up
from obslab.catalog.changes.reminders import build_reminders
from obslab.catalog.changes.signoff import sign_off
from obslab.catalog.changes.submit import submit_change
from obslab.catalog.models import Observation
from obslab.cli import main
from obslab.notify import Notification
from tests.helpers.catalog_world import World, build_world
from tests.helpers.support import fixed_clock

FRIDAY = date(2026, 11, 27)


@pytest.fixture
def world(sessions: sessionmaker[Session]) -> Iterator[tuple[Session, World]]:
    with sessions() as session:
        with session.begin():
            w = build_world(session)

            def submit(who: str, obsid: int, edits: list) -> str:  # type: ignore[type-arg]
                version = session.scalar(select(Observation.version).where(Observation.obsid == obsid))
                return submit_change(
                    session, w.users[who], obsid, seen_version=version, edits=edits, now=fixed_clock, notify=False
                )[0].label

            acis = submit("pat", w.acis, [("frame_time", 0, 2.8)])  # waits for acis (general not needed)
            submit("quinn", w.hrc, [("hrc_si_mode", 0, "HRCIZB")])  # waits for general, then hrc_si
            sign_off(session, w.users["ops"], acis, "acis", seen_version=1, now=fixed_clock)  # now waits for acis_si
            offset = submit("pat", w.hrc, [("y_det_offset", 0, 1.0)])
            sign_off(session, w.users["ops"], offset, "general", seen_version=1, now=fixed_clock)  # ready to verify
            extend(session, w.users["pat"], date(2026, 12, 20), now=fixed_clock)
            sign_up(session, w.users["pat"], date(2026, 11, 30), "quinn", seen_version=1, now=fixed_clock)
        yield session, w


def mails(session: Session) -> dict[str, Notification]:
    return {n.dedupe_key: n for n in session.scalars(select(Notification).where(Notification.kind == "reminder"))}


def remind(session: Session, day: date) -> list[str]:
    session.commit()
    with session.begin():
        return build_reminders(session, day, now=fixed_clock)


def test_reminders_follow_the_working_order_and_are_written_once(world: tuple[Session, World]) -> None:
    session, w = world
    written = remind(session, FRIDAY)
    assert (
        set(written)
        == set(mails(session))
        == {
            "reminder:signoff:acis_si:2026-11-27",  # its acis area is signed: the ACIS team is next
            "reminder:signoff:general:2026-11-27",  # general before hrc_si: the HRC team is not nagged yet
            "reminder:verify:pat:2026-11-27",
            "reminder:roster-short:2026-11-23",  # filled only to 2026-12-06
            "reminder:roster-open:2026-12-07",  # Friday, and the slot after next is open
        }
    )
    sent = mails(session)
    assert sent["reminder:signoff:acis_si:2026-11-27"].recipients == ["acisa@obs.example"]
    assert sent["reminder:signoff:general:2026-11-27"].recipients == ["ops@obs.example"]
    assert f"{w.acis}.001" in sent["reminder:signoff:acis_si:2026-11-27"].body
    assert sent["reminder:verify:pat:2026-11-27"].recipients == ["pat@obs.example"]
    assert sent["reminder:roster-short:2026-11-23"].recipients == ["root@obs.example"]
    assert remind(session, FRIDAY) == []  # a second run the same day adds nothing


def test_duty_hand_over_two_days_ahead_and_on_the_day(world: tuple[Session, World]) -> None:
    session, _w = world
    assert "reminder:roster-short:2026-11-23" in remind(session, FRIDAY)
    saturday = remind(session, FRIDAY + timedelta(days=1))
    assert (
        "reminder:duty:first:2026-11-30" in saturday and "reminder:roster-short:2026-11-23" not in saturday
    )  # weekly at most
    monday = remind(session, date(2026, 11, 30))
    assert "reminder:duty:second:2026-11-30" in monday and "reminder:roster-short:2026-11-30" in monday
    assert mails(session)["reminder:duty:first:2026-11-30"].recipients == ["quinn@obs.example"]


def test_the_command_writes_reminders_for_a_given_day(migrated_url: str, world: tuple[Session, World]) -> None:
    result = CliRunner().invoke(
        main, ["notify", "reminders", "--date", "2026-11-27"], env={"OBSLAB_DATABASE_URL": migrated_url}
    )
    assert result.exit_code == 0 and "5 reminder(s) written for 2026-11-27" in result.output
    again = CliRunner().invoke(
        main, ["notify", "reminders", "--date", "2026-11-27"], env={"OBSLAB_DATABASE_URL": migrated_url}
    )
    assert "0 reminder(s) written" in again.output
