"""The sign-off board: which revisions show, their badges, and only the actions the viewer's roles allow."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from obslab.catalog.changes.guards import find_revision
from obslab.catalog.changes.signoff import sign_off, verify, withdraw
from obslab.catalog.changes.submit import submit_change
from obslab.catalog.changes.views.board import board
from obslab.catalog.changes.views.revision import revision_views
from obslab.catalog.models import Observation, Revision
from obslab.errors import InvalidInputError
from tests.helpers.catalog_world import World, build_world
from tests.helpers.support import FIXED_NOW


def at(hours: float) -> Any:
    return lambda: FIXED_NOW + timedelta(hours=hours)


@pytest.fixture
def world(sessions: sessionmaker[Session]) -> Iterator[tuple[Session, World, dict[str, Revision]]]:
    """pat: a frame-time change on ACIS (t=0) and a comment change on HRC (t=1); quinn: an offset on ACIS (t=2,
    superseding pat's); pat's old HRC approval, verified 3 days ago, and a withdrawn one."""
    with sessions() as session, session.begin():
        w = build_world(session)

        def submit(who: str, obsid: int, edits: list[Any], hours: float, kind: str = "norm") -> Revision:
            version = session.scalar(select(Observation.version).where(Observation.obsid == obsid))
            return submit_change(
                session, w.users[who], obsid, seen_version=version, edits=edits, kind=kind, now=at(hours)
            )[0]

        old = submit("pat", w.hrc, [("dec", 0, 89.3)], -80)
        sign_off(session, w.users["ops"], old.label, "general", seen_version=1, now=at(-79))
        verify(session, w.users["pat"], old.label, seen_version=old.version, now=at(-78))
        gone = submit("pat", w.hrc, [], -2, kind="asis")
        withdraw(session, w.users["pat"], gone.label, seen_version=gone.version, now=at(-1))
        revisions = {
            "frame": submit("pat", w.acis, [("frame_time", 0, 2.8)], 0),
            "comment": submit("pat", w.hrc, [("comments", 0, "<b>please</b> check")], 1),
            "offset": submit("quinn", w.acis, [("y_det_offset", 0, 1.0)], 2),
        }
    with sessions() as session:
        yield session, w, revisions


def test_open_revisions_newest_first_with_badges(world: tuple[Session, World, dict[str, Revision]]) -> None:
    session, w, r = world
    rows = board(session, w.users["sam"], now=at(3))
    assert [row.label for row in rows] == [r["offset"].label, r["comment"].label, r["frame"].label]
    badges = {row.label: set(row.badges) for row in rows}
    assert badges[r["frame"].label] == {"several revisions open", "superseded"}
    assert badges[r["offset"].label] == {"several revisions open"}
    assert badges[r["comment"].label] == {"new comment"}
    assert all(row.actions == () for row in rows)  # staff sees, never acts
    # The old verification is 78 hours old: off the board; seen again 36 hours after it.
    assert f"{w.hrc}.001" in [row.label for row in board(session, None, now=at(-60))]


def test_actions_follow_the_viewers_roles(world: tuple[Session, World, dict[str, Revision]]) -> None:
    session, w, r = world
    actions = {
        who: {row.label: row.actions for row in board(session, w.users[who], now=at(3))}
        for who in ("ops", "acisa", "pat", "root")
    }
    assert actions["ops"][r["frame"].label] == ("sign:acis",) and actions["ops"][r["comment"].label] == (
        "sign:general",
    )
    assert actions["acisa"][r["frame"].label] == ("sign:acis_si",) and actions["acisa"][r["offset"].label] == ()
    assert actions["pat"][r["frame"].label] == ("discard",)
    assert actions["root"][r["frame"].label] == ("sign:acis", "sign:acis_si", "discard")
    for area in ("acis", "acis_si"):
        signoff = next(s for s in r["frame"].signoffs if s.area == area)
        session.commit()
        with session.begin():
            sign_off(session, w.users["root"], r["frame"].label, area, seen_version=signoff.version, now=at(3))
    assert {row.label: row.actions for row in board(session, w.users["pat"], now=at(4))}[r["frame"].label] == (
        "verify",
        "approve",
    )


def test_filters_and_sorts(world: tuple[Session, World, dict[str, Revision]]) -> None:
    session, w, r = world
    labels = lambda **kw: [row.label for row in board(session, w.users["pat"], now=at(3), **kw)]  # noqa: E731
    assert labels(pending_area="acis_si") == [r["frame"].label]
    assert labels(obsid=w.hrc) == [r["comment"].label]
    assert labels(submitter="quinn") == [r["offset"].label]
    assert labels(text="PLEASE") == [] and labels(text="cas a") == [r["offset"].label, r["frame"].label]
    assert labels(sort="obsid") == [r["offset"].label, r["frame"].label, r["comment"].label]
    assert labels(sort="mine")[-1] == r["offset"].label
    with pytest.raises(InvalidInputError, match="sort: 'date'"):
        board(session, None, sort="date")
    with pytest.raises(InvalidInputError, match="pending_area: 'hrc'"):
        board(session, None, pending_area="hrc")


def test_board_rows_and_revision_views_agree_on_every_sign_off(
    world: tuple[Session, World, dict[str, Revision]],
) -> None:
    """The board reads plain columns for speed and the revision view reads ORM rows: one serialiser, one answer."""
    session, w, r = world
    sign_off(session, w.users["ops"], r["frame"].label, "acis", seen_version=1, now=at(2.5))
    rows = board(session, w.users["ops"], now=at(3))
    revisions = [find_revision(session, row.label) for row in rows]
    for row, view in zip(rows, revision_views(session, revisions), strict=True):
        data = json.loads(json.dumps(row.as_dict()))
        assert data["signoffs"] == view.as_dict()["signoffs"], row.label
        assert (data["revision"], data["version"], data["submitted_by"]) == (
            view.label,
            view.version,
            view.submitted_by,
        )
    signed = next(s for s in rows[-1].as_dict()["signoffs"] if s["area"] == "acis")
    assert (signed["state"], signed["by"]) == ("signed", "ops")
