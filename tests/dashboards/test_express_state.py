"""Express approval's state: check, approve the approvable, refusals shown; a changed list is checked again."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from obslab.catalog.models import Observation
from obslab.dashboards.context import DashboardContext, ViewingUser
from obslab.dashboards.state.express import ExpressState
from obslab.settings import Settings
from tests.helpers.catalog_world import World, build_world
from tests.helpers.support import fixed_clock, refusals_since, table_counts


def state_for(url: str, sessions: sessionmaker[Session], who: str) -> ExpressState:
    return ExpressState(
        DashboardContext(Settings(database_url=url), sessions, ViewingUser(who, who, (), True)), now=fixed_clock
    )


def test_check_then_approve(migrated_url: str, sessions: sessionmaker[Session]) -> None:
    with sessions() as session, session.begin():
        w: World = build_world(session)
    state = state_for(migrated_url, sessions, "pat")
    state.obsids = f"{w.acis}-{w.hrc}; {w.observed} 99999"
    assert not state.approve() and "check the list first" in state.error
    state.check()
    assert (
        list(state.rows["status"]) == ["approvable", "approvable", "not editable", "unknown obsid"]
        and state.approvable == 2
    )
    state.obsids += f", {w.no_si_mode}"  # changed: must be checked again
    assert state.approvable == 0 and not state.approve()
    state.check()
    assert state.approve() and state.message == f"approved 2: {w.acis}.001, {w.hrc}.001"
    assert list(state.rows["status"])[:2] == ["already approved", "already approved"] and state.approvable == 0
    with sessions() as session:
        assert session.scalars(select(Observation.approved).where(Observation.obsid.in_([w.acis, w.hrc]))).all() == [
            True,
            True,
        ]


def test_a_viewer_without_the_role_is_refused_and_nothing_changes(
    migrated_url: str, sessions: sessionmaker[Session]
) -> None:
    with sessions() as session, session.begin():
        w: World = build_world(session)
    state = state_for(migrated_url, sessions, "ops")
    state.obsids = str(w.acis)
    state.check()
    with sessions() as session:
        before = table_counts(session)
    assert not state.approve() and "ops may not submit change requests" in state.error
    with sessions() as session:
        assert refusals_since(session, before) == ["ops"]
    bad = state_for(migrated_url, sessions, "pat")
    bad.obsids = "20001-abc"
    bad.check()
    assert "obsids" in bad.error


def test_the_rows_are_always_those_of_the_list_as_typed(migrated_url: str, sessions: sessionmaker[Session]) -> None:
    with sessions() as session, session.begin():
        w: World = build_world(session)
    state = state_for(migrated_url, sessions, "pat")
    assert state.rows.empty and state.empty_text("rows").startswith("Paste obsids")
    state.obsids = f"{w.acis}, {w.hrc}"
    state.check()
    assert list(state.rows["obsid"]) == [w.acis, w.hrc] and state.approvable == 2
    # A refused list: its refusal, and no rows of the list before.
    state.obsids = "20001-abc"
    state.check()
    assert "obsids" in state.error and state.rows.empty and state.approvable == 0
    # Typing a new list puts the refusal away; its rows come with its check.
    state.obsids = str(w.acis)
    assert state.error == "" and state.rows.empty
    state.check()
    assert list(state.rows["obsid"]) == [w.acis] and state.error == ""
    state.obsids += ", 99999"
    assert state.rows.empty and state.approvable == 0 and not state.approve()


def test_a_refused_approval_keeps_the_checked_rows(migrated_url: str, sessions: sessionmaker[Session]) -> None:
    with sessions() as session, session.begin():
        w: World = build_world(session)
    state = state_for(migrated_url, sessions, "ops")
    state.obsids = str(w.acis)
    state.check()
    assert not state.approve() and "ops may not submit change requests" in state.error
    assert list(state.rows["status"]) == ["approvable"]  # still the statuses of the list shown
    state.check()
    assert state.error == ""
