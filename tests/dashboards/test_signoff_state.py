"""The sign-off board's state: rows as the service gives them, actions only where allowed, refusals write nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from obslab.audit import AuditEvent
from obslab.catalog.changes.signoff import sign_off
from obslab.catalog.changes.submit import submit_change
from obslab.catalog.models import Observation
from obslab.dashboards.context import DashboardContext, ViewingUser
from obslab.dashboards.signoff import SignoffBoard
from obslab.dashboards.state.signoff import SignoffState
from obslab.settings import Settings
from tests.helpers.catalog_world import PEOPLE, World, build_world
from tests.helpers.support import fixed_clock, table_counts


@pytest.fixture
def world(migrated_url: str, sessions: sessionmaker[Session]) -> Iterator[tuple[World, dict[str, str]]]:
    with sessions() as session, session.begin():
        w = build_world(session)

        def submit(who: str, obsid: int, edits: list[Any], comment: str = "") -> str:
            version = session.scalar(select(Observation.version).where(Observation.obsid == obsid))
            return submit_change(
                session, w.users[who], obsid, seen_version=version, edits=edits, comment=comment, now=fixed_clock
            )[0].label

        labels = {
            "frame": submit("pat", w.acis, [("frame_time", 0, 2.8)], "<script>alert(1)</script>"),
            "hrc": submit("quinn", w.hrc, [("hrc_si_mode", 0, "HRCIZB")]),
        }
    yield w, labels


def board_for(migrated_url: str, sessions: sessionmaker[Session], who: str) -> SignoffState:
    viewer = ViewingUser(who, who.title(), tuple(PEOPLE[who]), True)
    return SignoffState(DashboardContext(Settings(database_url=migrated_url), sessions, viewer), now=fixed_clock)


def test_rows_and_actions_follow_the_viewer(
    migrated_url: str, sessions: sessionmaker[Session], world: tuple[World, dict[str, str]]
) -> None:
    _w, labels = world
    ops = board_for(migrated_url, sessions, "ops")
    assert sorted(ops.rows["revision"]) == sorted(labels.values())
    by_label = ops.rows.set_index("revision")
    assert (
        by_label.loc[labels["frame"], "actions"] == "Sign ACIS"
        and by_label.loc[labels["hrc"], "actions"] == "Sign General"
    )
    assert (
        by_label.loc[labels["frame"], "acis"] == "pending"
        and by_label.loc[labels["frame"], "general"] == "not required"
    )
    assert list(board_for(migrated_url, sessions, "sam").rows["actions"]) == ["", ""]
    ops.pending_area = "hrc_si"
    assert list(ops.rows["revision"]) == [labels["hrc"]]


def test_steps_that_are_not_the_viewers_are_named_with_why_not(
    migrated_url: str, sessions: sessionmaker[Session], world: tuple[World, dict[str, str]]
) -> None:
    _w, labels = world
    sam = board_for(migrated_url, sessions, "quinn")  # a support scientist: verifies, signs no area
    frame = sam.row(labels["frame"])
    assert frame is not None and frame.actions == ("discard",)
    blocked = dict(sam.blocked_actions(frame))
    assert set(blocked) == {"Sign ACIS", "Sign ACIS SI mode", "Verify and approve"}
    assert "arcops" in blocked["Sign ACIS"] and "you have usint" in blocked["Sign ACIS"]
    assert "the acis role" in blocked["Sign ACIS SI mode"]
    assert "still waiting for ACIS, ACIS SI mode" in blocked["Verify and approve"]
    # Once both areas have signed, the verifier's own step opens and nothing is left blocked for them.
    for who, area in (("ops", "acis"), ("acisa", "acis_si")):
        signer = board_for(migrated_url, sessions, who)
        assert signer.act(labels["frame"], f"sign:{area}"), signer.error
    sam.refresh()
    assert sam.blocked_actions(sam.row(labels["frame"])) == []
    assert sam.row(labels["frame"]).actions == ("verify", "approve")
    # Someone obslab does not know is told how to become someone it does.
    stranger = SignoffState(
        DashboardContext(Settings(database_url=migrated_url), sessions, ViewingUser("zed", "zed", (), False)),
        now=fixed_clock,
    )
    assert all("not an obslab user" in why for _name, why in stranger.blocked_actions(stranger.row(labels["hrc"])))


def test_an_action_runs_through_the_service_and_a_refusal_changes_nothing(
    migrated_url: str, sessions: sessionmaker[Session], world: tuple[World, dict[str, str]]
) -> None:
    w, labels = world
    ops = board_for(migrated_url, sessions, "ops")
    assert ops.act(labels["frame"], "sign:acis") and ops.error == ""
    assert "sign acis done" in ops.message and "sign:" not in ops.message
    assert ops.rows.set_index("revision").loc[labels["frame"], "acis"] == "signed (ops)"

    # Not offered to this viewer: refused in the board's words; nothing written but the refusal's audit event.
    with sessions() as session:
        before = table_counts(session)
    assert not ops.act(labels["frame"], "sign:acis_si")
    assert "not open to you" in ops.error
    with sessions() as session:
        after = table_counts(session)
        refusal = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert after == before | {"audit_events": before["audit_events"] + 1}
    assert (refusal.action, refusal.actor_name, refusal.after["attempt"]) == (
        "refused",
        "ops",
        f"sign:acis_si {labels['frame']}",
    )
    # Someone else signs the HRC revision's general area after this board was drawn: the board's version is stale.
    stale_board = board_for(migrated_url, sessions, "root")
    with sessions() as session, session.begin():
        version = next(c.version for c in ops.row(labels["hrc"]).cells if c.area == "general")
        sign_off(session, w.users["ops"], labels["hrc"], "general", seen_version=version, now=fixed_clock)
    with sessions() as session:
        before = table_counts(session)
    assert not stale_board.act(labels["hrc"], "sign:general")
    assert "changed by ops" in stale_board.error
    with sessions() as session:
        assert table_counts(session) == before
    assert (
        stale_board.rows.set_index("revision").loc[labels["hrc"], "general"] == "signed (ops)"
    )  # refreshed after the refusal


def test_the_revision_detail_puts_original_requested_and_current_side_by_side(
    migrated_url: str, sessions: sessionmaker[Session], world: tuple[World, dict[str, str]]
) -> None:
    _w, labels = world
    root = board_for(migrated_url, sessions, "root")
    frame = next(row for row in root.values(labels["frame"]) if row.name == "frame_time")
    assert (frame.original, frame.requested, frame.current, frame.changed, frame.applied) == (
        3.2,
        2.8,
        3.2,
        True,
        False,
    )
    assert sum(row.changed for row in root.values(labels["frame"])) == 1 and len(root.values(labels["frame"])) > 20
    for area in ("acis", "acis_si"):
        assert root.act(labels["frame"], f"sign:{area}"), root.error
    assert root.act(labels["frame"], "verify"), root.error
    frame = next(row for row in root.values(labels["frame"]) if row.name == "frame_time")
    assert (frame.current, frame.applied) == (2.8, True)
    assert root.values("30001.999") == [] and "30001.999" in root.error
    board = SignoffBoard(state=root)
    board.__panel__()
    shown = board._values(labels["frame"])
    assert "Frame time" in shown[0].object and "applied" in shown[0].object
    # Every column has a title, each area's the label the change rules give it.
    assert set(board.table.titles) >= set(root.columns())
    assert [board.table.titles[area.key] for area in root.rules.areas] == [area.label for area in root.rules.areas]
    assert board.table.value is root.rows  # the table follows the state's rows


def test_the_selection_follows_its_revision_and_the_next_success_clears_a_refusal(
    migrated_url: str, sessions: sessionmaker[Session], world: tuple[World, dict[str, str]]
) -> None:
    _w, labels = world
    ops = board_for(migrated_url, sessions, "ops")
    assert ops.empty_text("rows") == "No revisions match these filters."

    def highlighted() -> str | None:
        return None if ops.selected_row is None else ops.rows.iloc[ops.selected_row]["revision"]

    ops.select(labels["hrc"])
    assert highlighted() == ops.selected == labels["hrc"]
    for order in ("obsid", "newest"):
        ops.sort = order
        assert highlighted() == ops.selected == labels["hrc"]  # its row, wherever the sort put it
    ops.pending_area = "acis"  # the HRC revision waits for no ACIS sign-off: it leaves the board, and the selection
    assert labels["hrc"] not in set(ops.rows["revision"]) and (ops.selected, ops.selected_row) == ("", None)
    ops.pending_area = ""
    assert not ops.act(labels["frame"], "sign:acis_si") and "not open to you" in ops.error
    ops.text = "no such text"
    assert ops.error == "" and ops.rows.empty
