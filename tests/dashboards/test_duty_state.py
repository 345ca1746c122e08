"""The duty roster's state: rows as the service gives them, actions as the viewer, refusals shown, nothing written."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from obslab.access import find_user
from obslab.audit import AuditEvent
from obslab.catalog.changes.duty import extend, roster, sign_up, split
from obslab.dashboards.context import DashboardContext, ViewingUser
from obslab.dashboards.state.duty import NOT_STANDARD, DutyState
from obslab.db import Clock
from obslab.settings import Settings
from obslab.users import add_user
from tests.helpers.catalog_world import World, build_world
from tests.helpers.support import FIXED_NOW, fixed_clock, refusals_since, table_counts

# FIXED_NOW is Saturday 2026-11-21, so the roster shown starts on Monday 2026-11-16.
WEEKS = [date(2026, 11, 16) + timedelta(days=7 * n) for n in range(6)]
SCRIPTED = "<script>alert('x')</script> O'Brien"


@pytest.fixture
def world(sessions: sessionmaker[Session]) -> Iterator[World]:
    with sessions() as session, session.begin():
        w = build_world(session)
        w.users["rob"] = add_user(session, "rob", ["usint"], full_name=SCRIPTED, now=fixed_clock)
        extend(session, w.users["pat"], WEEKS[-1] + timedelta(days=6), now=fixed_clock)  # six open weeks
    yield w


def state_for(
    url: str, sessions: sessionmaker[Session], who: str, *, weeks: int = 4, now: Clock = fixed_clock
) -> DutyState:
    viewer = ViewingUser(who, who.title(), (), True)
    return DutyState(DashboardContext(Settings(database_url=url), sessions, viewer), now=now, weeks=weeks)


def service_version(sessions: sessionmaker[Session], starts_on: date) -> int:
    with sessions() as session:
        return next(s.version for s in roster(session, starts_on, starts_on) if s.starts_on == starts_on)


def as_service(
    sessions: sessionmaker[Session], who: str, action: Callable[..., Any], starts_on: date, *args: str
) -> None:
    """Change a slot directly through the service, as someone else at another screen would."""
    seen = service_version(sessions, starts_on)
    with sessions() as session, session.begin():
        action(session, find_user(session, who), starts_on, *args, seen_version=seen, now=fixed_clock)


def shown(state: DutyState) -> list[tuple[str, str, str, str]]:
    return [(r.starts_on, r.ends_on, r.person, r.status) for r in state.rows.itertuples()]


def test_rows_reflect_the_roster_and_the_viewers_actions(
    migrated_url: str, sessions: sessionmaker[Session], world: World
) -> None:
    as_service(sessions, "pat", sign_up, WEEKS[1], "quinn")
    as_service(sessions, "pat", split, WEEKS[3])
    sam = state_for(migrated_url, sessions, "sam")
    assert sam.error == "" and not sam.may_change
    assert shown(sam) == [
        ("2026-11-16", "2026-11-22", "", "open"),
        ("2026-11-23", "2026-11-29", "quinn", "filled"),
        ("2026-11-30", "2026-12-06", "", "open"),
        ("2026-12-07", "2026-12-09", "", "open"),
        ("2026-12-10", "2026-12-13", "", "open"),
    ]
    by_start = sam.rows.set_index("starts_on")
    assert (by_start.loc["2026-11-23", "assigned_by"], by_start.loc["2026-11-23", "name"]) == ("pat", "Quinn")
    assert list(sam.rows["note"]) == ["", "", "", NOT_STANDARD, NOT_STANDARD]
    assert list(sam.rows["current"]) == [True, False, False, False, False] and sam.on_duty == ""
    assert list(sam.rows["actions"]) == [""] * 5  # staff may look, not change
    assert list(sam.rows["version"]) == [
        service_version(sessions, date.fromisoformat(d)) for d in sam.rows["starts_on"]
    ]

    pat = state_for(migrated_url, sessions, "pat")
    assert pat.may_change
    # Week 1 cannot be deleted: its only neighbour in the roster, week 2, is taken.
    assert list(pat.rows["actions"]) == ["sign up, split", "unlock"] + ["sign up, split, delete"] * 3
    pat.weeks = 6
    assert list(pat.rows["starts_on"])[-1] == WEEKS[5].isoformat()


def test_the_on_duty_marker_follows_now(migrated_url: str, sessions: sessionmaker[Session], world: World) -> None:
    as_service(sessions, "pat", sign_up, WEEKS[0], "quinn")
    as_service(sessions, "pat", sign_up, WEEKS[1], "pat")
    saturday = state_for(migrated_url, sessions, "sam")
    assert saturday.on_duty == "quinn" and saturday.today == FIXED_NOW.date()
    assert shown(saturday)[:2] == [
        ("2026-11-16", "2026-11-22", "quinn", "on duty now"),
        ("2026-11-23", "2026-11-29", "pat", "filled"),
    ]
    monday = state_for(migrated_url, sessions, "sam", now=lambda: FIXED_NOW + timedelta(days=2))
    assert (
        monday.on_duty == "pat" and monday.rows.iloc[0]["starts_on"] == "2026-11-23"
    )  # the roster starts on the new Monday
    assert shown(monday)[0][3] == "on duty now" and list(monday.rows["current"]) == [True, False, False, False]
    later = state_for(migrated_url, sessions, "sam", now=lambda: FIXED_NOW + timedelta(days=9))
    assert (
        later.on_duty == ""
        and shown(later)[0] == ("2026-11-30", "2026-12-06", "", "open")
        and bool(later.rows.iloc[0]["current"])
    )


def test_actions_run_through_the_service_and_are_audited(
    migrated_url: str, sessions: sessionmaker[Session], world: World
) -> None:
    pat = state_for(migrated_url, sessions, "pat")
    assert pat.sign_up(WEEKS[1]) and pat.error == ""
    assert pat.message == "pat is on duty 2026-11-23 .. 2026-11-29"
    assert pat.rows.set_index("starts_on").loc["2026-11-23", ["person", "assigned_by"]].tolist() == ["pat", "pat"]
    assert pat.sign_up(WEEKS[2].isoformat(), "quinn")
    with sessions() as session:
        assert [(s.person, s.assigned_by) for s in roster(session, WEEKS[1], WEEKS[2])] == [
            ("pat", "pat"),
            ("quinn", "pat"),
        ]
        events = session.execute(
            select(AuditEvent.action, AuditEvent.actor_name, AuditEvent.entity_id, AuditEvent.after)
            .where(AuditEvent.entity_type == "duty_shift")
            .order_by(AuditEvent.id)
        ).all()
    assert [(e.action, e.actor_name, e.entity_id, e.after["person"]) for e in events] == [
        ("duty.signed_up", "pat", "2026-11-23", "pat"),
        ("duty.signed_up", "pat", "2026-11-30", "quinn"),
    ]

    quinn = state_for(migrated_url, sessions, "quinn")
    assert quinn.unlock(WEEKS[2]) and "2026-11-30 .. 2026-12-06 is open again" == quinn.message
    assert quinn.split(WEEKS[3]) and quinn.message == "split into 2026-12-07 .. 2026-12-09 and 2026-12-10 .. 2026-12-13"
    assert quinn.delete(WEEKS[3]) and "its days are now in 2026-12-07 .. 2026-12-13" in quinn.message
    assert shown(quinn)[2:] == [("2026-11-30", "2026-12-06", "", "open"), ("2026-12-07", "2026-12-13", "", "open")]
    quinn.weeks = 8
    assert quinn.extend(date(2027, 1, 5)) and quinn.message == "added 2 open slot(s) through 2027-01-10"  # whole weeks
    assert quinn.extend("2027-01-03") and quinn.message == "nothing to add: the roster already runs through 2027-01-03"
    assert list(quinn.rows["starts_on"])[-2:] == ["2026-12-28", "2027-01-04"] and len(quinn.rows) == 8
    with sessions() as session:
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.action.like("duty.%")).order_by(AuditEvent.id)
        ).all()
    assert actions[-5:] == ["duty.signed_up", "duty.unlocked", "duty.split", "duty.deleted", "duty.extended"]


def test_a_refusal_shows_the_services_message_and_changes_nothing(
    migrated_url: str, sessions: sessionmaker[Session], world: World
) -> None:
    ops = state_for(migrated_url, sessions, "ops")
    with sessions() as session:
        before = table_counts(session)
    assert not ops.sign_up(WEEKS[1], "quinn")
    assert ops.error.startswith("ops may not change the duty roster: that needs the role 'usint'") and ops.message == ""
    assert not ops.extend(date(2027, 6, 1)) and "ops may not extend the duty roster" in ops.error
    stranger = state_for(migrated_url, sessions, "nobody")
    assert stranger.error == "" and not stranger.may_change and len(stranger.rows) == 4  # unknown viewers may look
    assert not stranger.split(WEEKS[1]) and stranger.error == "nobody is not a known user and may not act"
    pat = state_for(migrated_url, sessions, "pat")
    assert not pat.sign_up(WEEKS[1], "ops") and "person: 'ops' is not allowed" in pat.error
    assert not pat.unlock("2026-11-17")  # no slot starts there
    assert "starts_on: '2026-11-17' is not allowed; expected the first day of a slot shown" in pat.error
    assert not pat.split("next week") and "a day as YYYY-MM-DD" in pat.error
    with sessions() as session:
        assert refusals_since(session, before) == ["ops", "ops", "nobody"]  # bad input is no refusal of a person

    # Quinn signs up for week 2 at another screen after pat's roster was drawn: pat's version is stale.
    as_service(sessions, "quinn", sign_up, WEEKS[1], "quinn")
    with sessions() as session:
        before = table_counts(session)
    assert pat.rows.set_index("starts_on").loc["2026-11-23", "person"] == ""  # pat still sees it open
    assert not pat.sign_up(WEEKS[1])
    assert "changed by quinn" in pat.error and "reload and try again" in pat.error and pat.message == ""
    with sessions() as session:
        assert table_counts(session) == before
        assert [s.person for s in roster(session, WEEKS[1], WEEKS[1])] == ["quinn"]
    assert pat.rows.set_index("starts_on").loc["2026-11-23", "person"] == "quinn"  # refreshed after the refusal
    assert pat.unlock(WEEKS[1]) and pat.error == ""  # now at the current version
    pat.refresh()
    assert (pat.error, pat.message) == ("", "")


# Bokeh (building the Tabulator's data) still calls DataFrame.reset_index(inplace=True), which pandas 3.1 deprecates.
def test_people_text_is_kept_as_is_and_the_view_escapes_it(
    migrated_url: str, sessions: sessionmaker[Session], world: World
) -> None:
    from obslab.dashboards.duty import DutyRoster

    as_service(sessions, "pat", sign_up, WEEKS[0], "rob")
    state = state_for(migrated_url, sessions, "pat")
    assert state.on_duty == "rob" and state.rows.iloc[0]["name"] == SCRIPTED  # the state holds text, not HTML
    view = DutyRoster(state=state)
    page = view.__panel__()
    assert page.get_root() is not None and view.table.value is state.rows  # builds down to the Bokeh models
    view._row_clicked(SimpleNamespace(row=0))  # a click on the first row selects its slot
    assert state.selected == "2026-11-16" and view.unlock.visible and not view.sign_me_up.visible
    for rendered in (view._selected_html(state.selected, state.rows), view._now_html(state.on_duty, state.rows)):
        assert (
            "<script>" not in rendered and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; O&#x27;Brien" in rendered
        )
    state.select(WEEKS[1])
    assert view.sign_me_up.visible and view.split.visible and view.delete.visible and not view.unlock.visible
    view.sign_me_up.clicks += 1  # the button acts on the selected slot as the viewer
    assert state.rows.set_index("starts_on").loc["2026-11-23", "person"] == "pat" and state.error == ""
    state.select("2099-01-05")
    assert state.selected == "" and not view.unlock.visible


def test_the_selection_follows_its_slot_and_the_next_success_clears_a_refusal(
    migrated_url: str, sessions: sessionmaker[Session], world: World
) -> None:
    pat = state_for(migrated_url, sessions, "pat", weeks=3)
    assert pat.empty_text("rows") == "The roster has no weeks in this range yet."

    def highlighted() -> str | None:
        return None if pat.selected_row is None else pat.rows.iloc[pat.selected_row]["starts_on"]

    pat.select(WEEKS[2])
    assert highlighted() == pat.selected == "2026-11-30" and pat.selected_row == 2
    assert pat.split(WEEKS[1])  # a row more above it: the selection is still its slot, one row further down
    assert highlighted() == pat.selected == "2026-11-30" and pat.selected_row == 3
    pat.weeks = 2  # no longer shown: nothing selected, nothing highlighted
    assert (pat.selected, pat.selected_row) == ("", None)
    assert not pat.unlock(WEEKS[0]) and pat.error == "the duty slot of 2026-11-16 is already open"
    assert pat.sign_up(WEEKS[0]) and pat.error == "" and pat.message.startswith("pat is on duty")
