"""The change-request editor's state: a form from the schema, live checks, confirm, submit; refusals write nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from obslab.catalog.changes.submit import submit_change
from obslab.catalog.models import Observation, ObservationParameter, Revision, SignOff
from obslab.dashboards.context import DashboardContext, ViewingUser
from obslab.dashboards.editor import ChangeEditor
from obslab.dashboards.state.editor import EditorState
from obslab.settings import Settings
from tests.helpers.catalog_world import PEOPLE, World, build_world
from tests.helpers.support import fixed_clock, refusals_since, table_counts


@pytest.fixture
def world(migrated_url: str, sessions: sessionmaker[Session]) -> World:
    with sessions() as session, session.begin():
        return build_world(session)


def editor_for(url: str, sessions: sessionmaker[Session], who: str, obsid: int | None = None) -> EditorState:
    viewer = ViewingUser(who, who.title(), tuple(PEOPLE.get(who, ())), who in PEOPLE)
    state = EditorState(DashboardContext(Settings(database_url=url), sessions, viewer), now=fixed_clock)
    if obsid is not None:
        state.obsid = str(obsid)
        assert state.load(), state.error
    return state


def parameter(sessions: sessionmaker[Session], obsid: int, name: str, rank: int = 0) -> Any:
    with sessions() as session:
        return session.scalar(
            select(ObservationParameter.value)
            .join(Observation)
            .where(Observation.obsid == obsid, ObservationParameter.name == name, ObservationParameter.rank == rank)
        )


def test_the_form_follows_the_schema_with_the_stored_values(
    migrated_url: str, sessions: sessionmaker[Session], world: World
) -> None:
    state = editor_for(migrated_url, sessions, "pat", world.acis)
    keys = [group.key for group in state.groups]
    assert keys[:2] == ["general", "target"] and "acis" in keys and "other" not in keys
    assert state.field("frame_time").current == "3.2" and state.field("targname").current == "Cas A"
    assert state.field("instrument").choices is not None and "HRC-I" in state.field("instrument").choices
    windows = next(group for group in state.groups if group.key == "time_windows")
    assert windows.ranked and windows.ranks == (1,)  # nothing stored: one spare row to fill in
    assert state.summary["editable"] and state.may_submit and state.problems == [] and state.stage == "edit"


def test_a_bad_value_is_named_at_once_and_blocks_the_review(
    migrated_url: str, sessions: sessionmaker[Session], world: World
) -> None:
    state = editor_for(migrated_url, sessions, "pat", world.acis)
    state.set_value("frame_time", 0, "fast")
    assert [(p["severity"], p["key"]) for p in state.problems] == [("error", "frame_time")]
    assert "'fast'" in state.problems[0]["message"] and "a number" in state.problems[0]["message"]
    with sessions() as session:
        before = table_counts(session)
    assert not state.review() and "fix the 1 problem listed first" in state.error and state.stage == "edit"
    assert not state.submit() and "review the request first" in state.error
    with sessions() as session:
        assert table_counts(session) == before
    state.set_value("frame_time", 0, " 3.2 ")  # back to the stored value: no edit, no problem
    assert state.edits == {} and state.problems == []
    assert not state.review() and "nothing to submit" in state.error


def test_review_shows_the_diff_warnings_and_areas_then_submit_writes_the_revision(
    migrated_url: str, sessions: sessionmaker[Session], world: World
) -> None:
    state = editor_for(migrated_url, sessions, "pat", world.acis)
    state.set_value("frame_time", 0, "2.8")
    state.set_value("dec", 0, "59.0")  # 11 arcmin north: a warning, not an error
    assert [p["severity"] for p in state.problems] and all(p["severity"] == "warning" for p in state.problems)
    assert any(p["name"] == "dec" and "arcmin" in p["message"] for p in state.problems)
    state.comment = "Shorter frame time <b>please</b>"
    assert state.review() and state.stage == "confirm"
    assert ("Frame time (s)", "3.2", "2.8") in state.diff() and len(state.diff()) == 2
    assert state.areas == ["General", "ACIS", "ACIS SI mode"]
    assert state.submit(), state.error
    assert state.stage == "done" and state.revision == f"{world.acis}.001"
    assert state.message == f"submitted {world.acis}.001; waiting for General, ACIS, ACIS SI mode"
    with sessions() as session:
        revision = session.scalar(select(Revision).where(Revision.obsid == world.acis))
        assert revision.comment == "Shorter frame time <b>please</b>"
        states = dict(
            session.execute(select(SignOff.area, SignOff.state).where(SignOff.revision_id == revision.id)).all()
        )
    assert {area for area, s in states.items() if s.value == "pending"} == {
        "general",
        "acis",
        "acis_si",
        "verification",
    }
    assert parameter(sessions, world.acis, "frame_time") == 3.2  # requested, not applied until verification


def test_a_change_made_meanwhile_refuses_the_submission_naming_who(
    migrated_url: str, sessions: sessionmaker[Session], world: World
) -> None:
    state = editor_for(migrated_url, sessions, "pat", world.acis)
    state.set_value("frame_time", 0, "2.8")
    assert state.review()
    with sessions() as session, session.begin():
        version = session.scalar(select(Observation.version).where(Observation.obsid == world.acis))
        submit_change(
            session,
            world.users["quinn"],
            world.acis,
            seen_version=version,
            edits=[("bep_pack", 0, "F")],
            now=fixed_clock,
        )
    with sessions() as session:
        before = table_counts(session)
    assert not state.submit()
    assert "quinn" in state.error and str(world.acis) in state.error and state.stage == "confirm"
    with sessions() as session:
        assert table_counts(session) == before
    assert state.load() and state.field("bep_pack").current == "VF"  # requested values wait for verification


def test_a_viewer_without_the_role_may_try_but_not_submit(
    migrated_url: str, sessions: sessionmaker[Session], world: World
) -> None:
    state = editor_for(migrated_url, sessions, "sam", world.acis)
    assert not state.may_submit
    state.set_value("frame_time", 0, "2.8")
    assert state.review()
    with sessions() as session:
        before = table_counts(session)
    assert not state.submit() and "sam may not submit change requests" in state.error
    with sessions() as session:
        assert refusals_since(session, before) == ["sam"]


def test_bad_obsids_and_locked_observations(migrated_url: str, sessions: sessionmaker[Session], world: World) -> None:
    state = editor_for(migrated_url, sessions, "pat")
    state.obsid = "30001x"
    assert not state.load() and "obsid" in state.error and "'30001x'" in state.error and state.loaded == 0
    state.obsid = "99999"
    assert not state.load() and "99999 is not in the catalog" in state.error
    state.obsid = str(world.observed)
    assert state.load() and not state.summary["editable"]
    state.set_value("frame_time", 0, "2.8")
    assert state.problems[0]["name"] == "status" and "observed and cannot be changed" in state.problems[0]["message"]
    assert not state.review()


def test_an_instrument_switch_warns_and_needs_the_new_family(
    migrated_url: str, sessions: sessionmaker[Session], world: World
) -> None:
    state = editor_for(migrated_url, sessions, "pat", world.acis)
    state.set_value("instrument", 0, "HRC-I")
    assert any(p["severity"] == "error" and p["name"] == "hrc_si_mode" for p in state.problems)  # HRC needs an SI mode
    state.set_value("hrc_si_mode", 0, "HRCIS")
    assert not [p for p in state.problems if p["severity"] == "error"]
    assert state.review()
    changed = {row[0] for row in state.diff()}
    assert "Frame time (s)" in changed  # the ACIS family's values are emptied by the switch
    assert "HRC SI mode" in state.areas


def test_approve_as_is_changes_only_the_approved_state(
    migrated_url: str, sessions: sessionmaker[Session], world: World
) -> None:
    state = editor_for(migrated_url, sessions, "pat", world.acis)
    state.set_value("frame_time", 0, "2.8")
    state.kind = "asis"
    assert state.edit_list() == [] and state.review() and state.diff() == []
    assert state.submit(), state.error
    with sessions() as session:
        assert session.scalar(select(Observation.approved).where(Observation.obsid == world.acis)) is True
    assert parameter(sessions, world.acis, "frame_time") == 3.2


def test_the_view_builds_its_inputs_and_marks_a_wrong_one(
    migrated_url: str, sessions: sessionmaker[Session], world: World
) -> None:
    editor = ChangeEditor(state=editor_for(migrated_url, sessions, "pat", world.acis))
    editor.__panel__()
    frame = editor._inputs["frame_time", 0]
    frame.value = "fast"
    assert editor.state.edits == {("frame_time", 0): "fast"}
    assert "obslab-field-error" in frame.css_classes
    frame.value = "2.8"
    assert "obslab-field-error" not in frame.css_classes
    editor.state.obsid = str(world.hrc)
    editor.state.load()
    assert ("hrc_si_mode", 0) in editor._inputs and ("frame_time", 0) in editor._inputs
    assert editor._inputs["hrc_si_mode", 0].value == "HRCIS"


def test_a_refused_load_clears_the_form_of_the_last_observation(
    migrated_url: str, sessions: sessionmaker[Session], world: World
) -> None:
    state = editor_for(migrated_url, sessions, "pat", world.acis)
    state.set_value("frame_time", 0, "fast")
    assert state.problems and state.groups and state.edits
    state.obsid = "99999"
    assert not state.load() and "99999 is not in the catalog" in state.error
    assert (state.loaded, state.groups, state.summary, state.edits, state.problems) == (0, [], {}, {}, [])
    assert not state.review() and state.stage == "edit"
    state.obsid = str(world.hrc)
    assert state.load() and state.error == "" and state.loaded == world.hrc
