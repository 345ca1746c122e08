"""Night plans stored as versions, re-planned from a time after weather, explained, compared; `obslab plan` on top."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import click.testing
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from obslab.cli import main
from obslab.errors import NotFoundError, ObslabError, PermissionDeniedError
from obslab.scheduling.models import ObservingRequest, Schedule
from obslab.scheduling.service import compare, explain, far_night_notes, lost_ranges, plan, plan_and_save
from obslab.scheduling.types import RejectionReason, ScheduleStatus
from obslab.scheduling.views import change_from_parent, recent_alerts, stored_plan
from obslab.scheduling.visibility import PlanRequest
from obslab.users import add_user
from tests.helpers.schedule_world import NIGHT, add_requests
from tests.helpers.support import KITT_PEAK, fixed_clock, table_counts


@pytest.fixture
def world(migrated_url: str, sessions: sessionmaker[Session]) -> dict[str, Any]:
    with sessions() as session, session.begin():
        users = {
            "nina": add_user(session, "nina", ["scheduler"], now=fixed_clock),
            "sam": add_user(session, "sam", ["staff"], now=fixed_clock),
        }
        ids = add_requests(session)
    return {"users": users, "ids": ids}


def test_plans_are_versions_and_a_replan_keeps_the_block_in_progress(
    sessions: sessionmaker[Session], world: dict[str, Any]
) -> None:
    ids = world["ids"]
    with sessions() as session, session.begin():
        first = plan_and_save(session, world["users"]["nina"], KITT_PEAK, NIGHT, seen_version=0, now=fixed_clock)
        assert first.schedule.version_number == 1 and first.schedule.reason == "initial"
        placed = {int(b.request.id) for b in first.plan.blocks}
        assert {ids["M42"], ids["Pleiades"], ids["TwinHigh"]} <= placed and ids["SouthPole"] not in placed
    with sessions() as session:
        assert explain(session, ids["SouthPole"])["reason"] == RejectionReason.NEVER_VISIBLE.value
        outranked = explain(session, ids["TwinLow"])
        assert (
            outranked["reason"] == "outranked" and outranked["outranked_by"][0] == "TwinHigh"
        )  # highest priority first
        assert explain(session, ids["M42"])["scheduled"] is True
        # Every output prints the request's name: it is accepted as well as its number, in any case.
        assert explain(session, "m42") == explain(session, str(ids["M42"])) == explain(session, ids["M42"])
        with pytest.raises(NotFoundError, match=r"request 'REQ-9999' does not exist: give its number \(e.g. 4\)"):
            explain(session, "REQ-9999")
    running = next(b for b in first.plan.blocks if int(b.request.id) == ids["M42"])
    now = running.start + timedelta(minutes=5)
    with sessions() as session, session.begin():
        again = plan_and_save(
            session,
            world["users"]["nina"],
            KITT_PEAK,
            NIGHT,
            seen_version=1,
            planned_from=now,
            lost=[(now + timedelta(minutes=40), now + timedelta(hours=2))],
            now=fixed_clock,
        )
        assert again.schedule.version_number == 2 and again.schedule.reason == "weather" and again.kept == (ids["M42"],)
        kept = next(b for b in again.schedule.blocks if b.request_id == ids["M42"])
        assert (kept.start, kept.end) == (running.start, running.end)
        lost_start, lost_end = now + timedelta(minutes=40), now + timedelta(hours=2)
        assert all(b.end <= lost_start or b.start >= lost_end for b in again.schedule.blocks)
    with sessions() as session:
        versions = session.scalars(
            select(Schedule).where(Schedule.night == NIGHT).order_by(Schedule.version_number)
        ).all()
        assert [v.status for v in versions] == [ScheduleStatus.SUPERSEDED, ScheduleStatus.ACTIVE] and versions[
            1
        ].parent_id == versions[0].id
        difference = compare(versions[0], versions[1])
        assert difference["from"] == 1 and difference["to"] == 2 and ids["M42"] not in difference["removed"]


def test_what_if_writes_nothing_and_saving_needs_the_scheduler_role(
    sessions: sessionmaker[Session], world: dict[str, Any]
) -> None:
    with sessions() as session:
        before = table_counts(session)
        result, _kept = plan(session, KITT_PEAK, NIGHT)
        assert result.blocks
        session.rollback()
    with sessions() as session:
        assert table_counts(session) == before
    with sessions() as session, session.begin():
        with pytest.raises(
            PermissionDeniedError, match="sam may not save night plans: that needs the role 'scheduler'"
        ):
            plan_and_save(session, world["users"]["sam"], KITT_PEAK, NIGHT, seen_version=0, now=fixed_clock)
    with sessions() as session:
        assert table_counts(session) == before


def cli(url: str, who: str, *args: str) -> click.testing.Result:
    return CliRunner().invoke(main, ["plan", *args], env={"OBSLAB_DATABASE_URL": url, "OBSLAB_ACTING_USER": who})


def test_obslab_plan_json_explain_and_refusals(
    migrated_url: str, sessions: sessionmaker[Session], world: dict[str, Any]
) -> None:
    ids = world["ids"]
    dry = cli(migrated_url, "sam", "--night", NIGHT.isoformat(), "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    shown = json.loads(dry.output)
    assert shown["schedule_version"] is None and shown["twilight"] == "astronomical"
    assert shown["site"] == {"latitude_deg": 31.9583, "longitude_deg": -111.5967, "height_m": 2096.0}
    assert {b["request"] for b in shown["blocks"]} >= {ids["M42"], ids["TwinHigh"]}
    block = shown["blocks"][0]
    assert set(block) >= {
        "request",
        "ra_deg",
        "dec_deg",
        "start",
        "end",
        "min_altitude_deg",
        "max_airmass",
        "min_moon_separation_deg",
    }
    assert block["max_airmass"] is None  # constraints that do not apply are null
    assert {u["request"]: u["reason"] for u in shown["unscheduled"]} == {
        ids["SouthPole"]: "never_visible",
        ids["TwinLow"]: "outranked",
    }
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Schedule)) == 0
    saved = cli(migrated_url, "nina", "--night", NIGHT.isoformat())
    assert saved.exit_code == 0 and "stored as version 1" in saved.output and "never_visible" in saved.output
    explained = cli(migrated_url, "sam", "explain", str(ids["TwinLow"]))
    assert explained.exit_code == 0 and "outranked" in explained.output and "TwinHigh (priority 8)" in explained.output
    replan = cli(
        migrated_url, "nina", "--night", NIGHT.isoformat(), "--from", "07:00", "--lost", "08:00-09:30", "--json"
    )
    assert replan.exit_code == 0 and json.loads(replan.output)["schedule_version"] == 2
    assert json.loads(replan.output)["planned_from"].startswith(f"{NIGHT + timedelta(days=1)}T07:00")
    for args, message in [
        (("--night", "2026-13-01"), "night: '2026-13-01' is not allowed"),
        (("--night", NIGHT.isoformat(), "--from", "25:00"), "from: '25:00' is not allowed"),
        (("--night", NIGHT.isoformat(), "--lost", "09:00-08:00"), "a time range whose start is before its end"),
        (("explain", "99999"), "request '99999' does not exist"),
    ]:
        refused = cli(migrated_url, "nina", *args)
        assert refused.exit_code != 0 and message in refused.output and "Traceback" not in refused.output, (
            args,
            refused.output,
        )
    refused = cli(migrated_url, "sam", "--night", NIGHT.isoformat())
    assert refused.exit_code == 1 and "sam may not save night plans" in refused.output
    with sessions() as session:
        before = table_counts(session)
    stale = cli(migrated_url, "nina", "--night", NIGHT.isoformat(), "--seen-version", "1")
    assert stale.exit_code == 1 and "Traceback" not in stale.output, stale.output
    assert "was stored as version 2 by nina at" in stale.output and "you saw version 1" in stale.output
    with sessions() as session:
        assert table_counts(session) == before
    stated = cli(migrated_url, "nina", "--night", NIGHT.isoformat(), "--seen-version", "2", "--json")
    assert stated.exit_code == 0 and json.loads(stated.output)["schedule_version"] == 3


def test_a_replan_from_a_plan_someone_replaced_is_refused_naming_who_and_when(
    sessions: sessionmaker[Session], world: dict[str, Any]
) -> None:
    nina = world["users"]["nina"]
    with sessions() as session, session.begin():
        plan_and_save(session, nina, KITT_PEAK, NIGHT, seen_version=0, now=fixed_clock)
    with sessions() as session:
        before = table_counts(session)
    for seen, message in [
        (0, r"the plan of 2026-11-21 was stored as version 1 by nina at 2026-11-21 18:30:00 UTC .*you saw version 0"),
        (3, r"seen_version: 3 is not allowed"),
        (-1, r"seen_version: -1 is not allowed"),
    ]:
        with sessions() as session, session.begin():
            with pytest.raises(ObslabError, match=message) as refused:
                plan_and_save(session, nina, KITT_PEAK, NIGHT, seen_version=seen, now=fixed_clock)
        assert refused.value.code == ("stale" if seen == 0 else "invalid_input")
    with sessions() as session:
        assert table_counts(session) == before


def test_every_request_left_out_of_the_demo_night_has_a_reason(demo_sessions: sessionmaker[Session]) -> None:
    with demo_sessions() as session:
        pending = session.scalar(
            select(func.count()).select_from(ObservingRequest).where(ObservingRequest.status == "pending")
        )
        result, _kept = plan(session, KITT_PEAK, NIGHT)
    assert len(result.blocks) >= 5 and len(result.blocks) + len(result.unscheduled) == pending
    assert result.unscheduled, "the demo night should be oversubscribed"
    for left in result.unscheduled:
        assert isinstance(left.reason, RejectionReason) and len(left.detail) > 20, left
    assert len({left.reason for left in result.unscheduled}) >= 3  # the demo shows several kinds of reason


def test_the_stored_plan_read_model_shows_the_requests_as_they_are_now(
    sessions: sessionmaker[Session], world: dict[str, Any]
) -> None:
    with sessions() as session, session.begin():
        first = plan_and_save(session, world["users"]["nina"], KITT_PEAK, NIGHT, seen_version=0, now=fixed_clock)
        again = plan_and_save(session, world["users"]["nina"], KITT_PEAK, NIGHT, seen_version=1, now=fixed_clock)
        gone = first.schedule.blocks[0].request_id
        names = {b.request.id: b.request.name for b in first.plan.blocks}
    with sessions() as session:
        shown = stored_plan(session, again.schedule)
        assert [row.name for row in shown.blocks] == [names[b.request_id] for b in again.schedule.blocks]
        assert {row.reason for row in shown.unscheduled} == {"never_visible", "outranked"}
        assert [r.id for r in shown.chosen] == [b.request_id for b in again.schedule.blocks]
        assert set(shown.blocks[0].as_dict()) == {"request", "name", "target", "priority", "start", "end", "slew_s"}
        assert change_from_parent(session, again.schedule) == compare(first.schedule, again.schedule)
        assert change_from_parent(session, first.schedule) is None
    with sessions() as session, session.begin():
        session.delete(session.get(ObservingRequest, gone))
    with sessions() as session:
        row = next(row for row in stored_plan(session, again.schedule).blocks if row.request == gone)
        assert (row.name, row.target, row.priority) == ("", "", None)  # deleted since the plan was made


def test_recent_alerts_is_empty_before_any_alert(sessions: sessionmaker[Session], world: dict[str, Any]) -> None:
    with sessions() as session:
        assert recent_alerts(session) == []


def test_a_night_far_from_today_or_from_every_window_is_planned_with_a_warning(
    sessions: sessionmaker[Session], world: dict[str, Any]
) -> None:
    with sessions() as session:
        far, _kept = plan(session, KITT_PEAK, date(1999, 6, 1), now=fixed_clock)
        near, _kept = plan(session, KITT_PEAK, NIGHT, now=fixed_clock)
    today = fixed_clock().astimezone(KITT_PEAK.zone).date()
    assert (
        f"night 1999-06-01 is {(today - date(1999, 6, 1)).days} days before today ({today}): check the date"
        in far.notes
    )
    assert not any("check the date" in note or "time window" in note for note in near.notes)

    window = (datetime(2026, 11, 21, 19, tzinfo=UTC), datetime(2026, 11, 22, 19, tzinfo=UTC))
    christmas = (datetime(2026, 12, 24, 3, tzinfo=UTC), datetime(2026, 12, 25, 5, tzinfo=UTC))
    windowed = [PlanRequest(1, 0.0, 0.0, 600.0, windows=(christmas,))]
    (note,) = far_night_notes(NIGHT, window, NIGHT, windowed)
    assert (
        note == f"no request's time window falls in night {NIGHT}: the 1 windows run from 2026-12-24 to 2026-12-25 UTC"
    )
    assert far_night_notes(NIGHT, window, NIGHT + timedelta(days=60), []) == []


def test_a_what_if_says_what_it_would_change_and_a_longer_search_is_asked_in_seconds(
    migrated_url: str, sessions: sessionmaker[Session], world: dict[str, Any]
) -> None:
    ids = world["ids"]
    first = cli(migrated_url, "nina", "--night", NIGHT.isoformat(), "--json")
    assert first.exit_code == 0, first.output
    stored = json.loads(first.output)
    assert stored["schedule_version"] == 1 and stored["change"] is None  # nothing to compare with yet
    # The same inputs again: the plan in force is kept as it is, and the what-if says so.
    same = cli(migrated_url, "sam", "--night", NIGHT.isoformat(), "--dry-run", "--json", "--search-seconds", "0.2")
    assert same.exit_code == 0, same.output
    change = json.loads(same.output)["change"]
    assert change == {"from": 1, "added": [], "removed": [], "moved": [], "unchanged": len(stored["blocks"])}
    text = cli(migrated_url, "sam", "--night", NIGHT.isoformat(), "--dry-run")
    assert "what-if: nothing stored; against version 1: 0 added, 0 removed, 0 moved" in text.output
    # Weather over M42's block: the what-if names what moves or goes, against the stored version.
    m42 = next(b for b in stored["blocks"] if b["request"] == ids["M42"])
    start = datetime.fromisoformat(m42["start"])
    lost = f"{start:%H:%M}-{start + timedelta(minutes=20):%H:%M}"
    with sessions() as session:
        result, _kept = plan(session, KITT_PEAK, NIGHT, lost=lost_ranges(KITT_PEAK, NIGHT, [lost]), now=fixed_clock)
    moved = {m["request"] for m in result.change["moved"]}
    assert result.change["from"] == 1 and (ids["M42"] in moved or ids["M42"] in result.change["removed"])
    too_long = cli(migrated_url, "sam", "--night", NIGHT.isoformat(), "--dry-run", "--search-seconds", "600")
    assert too_long.exit_code != 0 and "600" in too_long.output
    with pytest.raises(ObslabError, match="search_seconds"):
        with sessions() as session:
            plan(session, KITT_PEAK, NIGHT, search_seconds=-1.0, now=fixed_clock)
