"""My recent actions' state: actions with their undo, undos through the services, stale and late ones refused."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from obslab.access import find_user
from obslab.audit import AuditEvent
from obslab.catalog.changes.signoff import discard, sign_off, undo_sign_off, verify
from obslab.catalog.changes.submit import submit_change
from obslab.catalog.lookup import current_values
from obslab.catalog.models import Observation, Revision, SignOff
from obslab.dashboards.context import DashboardContext, ViewingUser
from obslab.dashboards.state.actions import ActionsState
from obslab.settings import Settings
from tests.helpers.catalog_world import World, build_world
from tests.helpers.support import FIXED_NOW, refusals_since, table_counts


def at(hours: float = 0) -> Callable[[], datetime]:
    return lambda: FIXED_NOW + timedelta(hours=hours)


class Desk:
    """The catalog world, and the services run as its people, each action in a transaction of its own."""

    def __init__(self, url: str, sessions: sessionmaker[Session]) -> None:
        self.url, self.sessions = url, sessions
        with sessions() as session, session.begin():
            self.world: World = build_world(session)

    def user(self, session: Session, who: str) -> Any:
        return find_user(session, who)

    def submit(self, who: str, obsid: int, edits: list[Any], hours: float, **kwargs: Any) -> str:
        with self.sessions() as session, session.begin():
            seen = session.scalar(select(Observation.version).where(Observation.obsid == obsid)) or 1
            revision, _check = submit_change(
                session, self.user(session, who), obsid, seen_version=seen, edits=edits, now=at(hours), **kwargs
            )
            return revision.label

    def sign(self, who: str, label: str, area: str, hours: float) -> None:
        with self.sessions() as session, session.begin():
            seen = self.signoff(session, label, area).version
            sign_off(session, self.user(session, who), label, area, seen_version=seen, now=at(hours))

    def verify(self, who: str, label: str, hours: float) -> None:
        with self.sessions() as session, session.begin():
            verify(
                session,
                self.user(session, who),
                label,
                seen_version=self.revision(session, label).version,
                now=at(hours),
            )

    def revision(self, session: Session, label: str) -> Revision:
        obsid, number = label.split(".")
        return session.scalars(
            select(Revision).where(Revision.obsid == int(obsid), Revision.number == int(number))
        ).one()

    def signoff(self, session: Session, label: str, area: str) -> SignOff:
        return next(s for s in self.revision(session, label).signoffs if s.area == area)

    def state(self, who: str, now: Callable[[], datetime] | None = None) -> ActionsState:
        now = now or at()
        viewer = ViewingUser(who, who.title(), (), True)
        return ActionsState(DashboardContext(Settings(database_url=self.url), self.sessions, viewer), now=now)

    def counts(self) -> dict[str, int]:
        with self.sessions() as session:
            return table_counts(session)

    def events(self, label: str) -> list[tuple[str, str]]:
        with self.sessions() as session:
            return [
                (e.action, e.actor_name)
                for e in session.scalars(
                    select(AuditEvent).where(AuditEvent.entity_id == label).order_by(AuditEvent.id)
                )
            ]


@pytest.fixture
def desk(migrated_url: str, sessions: sessionmaker[Session]) -> Iterator[Desk]:
    yield Desk(migrated_url, sessions)


def shown(state: ActionsState) -> list[tuple[str, str, str]]:
    return [(row.revision, row.what, row.undo) for row in state.rows.itertuples()]


def test_the_viewers_actions_appear_newest_first_with_their_undo(desk: Desk) -> None:
    w = desk.world
    hrc = desk.submit("root", w.hrc, [("hrc_si_mode", 0, "HRCIZB")], -2)  # pending: general, hrc_si
    desk.sign("root", hrc, "hrc_si", -1)
    acis = desk.submit("pat", w.acis, [("frame_time", 0, 2.8)], -0.5)

    root = desk.state("root")
    assert shown(root) == [
        (hrc, "signed hrc_si", "Undo sign-off (hrc_si)"),
        (hrc, "submitted norm", "hrc_si already acted on it"),
    ]
    assert list(root.rows["at"]) == ["2026-11-21 17:30", "2026-11-21 16:30"]
    assert list(root.rows["until"]) == ["undo until 2026-11-23 17:30 UTC (47 h 00 min left)", ""]
    assert [a.undo for a in root.actions] == ["undo_sign_off:hrc_si", None]

    pat = desk.state("pat")
    assert shown(pat) == [(acis, "submitted norm", "Withdraw")]
    assert list(pat.rows["until"]) == ["undo until 2026-11-23 18:00 UTC (47 h 30 min left)"]
    # Nobody else sees them: not the other user-interface scientist, not the operator, not an unknown viewer.
    for other in ("quinn", "ops", "nobody"):
        state = desk.state(other)
        assert (
            state.rows.empty
            and list(state.rows.columns) == ["revision", "what", "at", "undo", "until"]
            and state.error == ""
        )


def test_undoing_a_sign_off_reverts_it_and_is_audited(desk: Desk) -> None:
    w = desk.world
    label = desk.submit("pat", w.acis, [("frame_time", 0, 2.8)], -3)  # pending: acis, acis_si
    desk.sign("ops", label, "acis", -2)
    ops = desk.state("ops")
    assert shown(ops) == [(label, "signed acis", "Undo sign-off (acis)")]
    ops.select(label, "signed acis")
    assert ops.selected is not None and ops.describe(ops.selected) == f"Undo sign-off (acis) of {label}"

    assert ops.undo(label, "undo_sign_off:acis"), ops.error
    assert ops.error == "" and ops.message == f"undid your acis sign-off of {label}: it is pending again"
    assert ops.rows.empty and ops.selected is None  # refreshed: nothing left to undo
    with desk.sessions() as session:
        acis = desk.signoff(session, label, "acis")
        assert (acis.state.value, acis.actor_id, acis.acted_at) == ("pending", None, None)
    assert desk.events(label)[-1] == ("signoff.undone", "ops")
    # The submitter may withdraw it again now that nobody has acted on it.
    assert shown(desk.state("pat")) == [(label, "submitted norm", "Withdraw")]


def test_withdrawing_ones_own_submission(desk: Desk) -> None:
    w = desk.world
    label = desk.submit("pat", w.hrc, [("hrc_si_mode", 0, "HRCIZB")], -1)
    pat = desk.state("pat")
    assert pat.undo(label, "submitted norm"), pat.error
    assert pat.message == f"withdrew {label} (submitted norm)" and pat.rows.empty
    with desk.sessions() as session:
        revision = desk.revision(session, label)
        assert revision.withdrawn_at == FIXED_NOW and revision.closed_at == FIXED_NOW
    assert desk.events(label)[-1] == ("revision.withdrawn", "pat")


def test_undoing_a_verification_puts_the_catalog_back(desk: Desk) -> None:
    w = desk.world
    label = desk.submit("pat", w.acis, [("frame_time", 0, 2.8)], -3)
    desk.sign("ops", label, "acis", -2)
    desk.sign("acisa", label, "acis_si", -2)
    desk.verify("pat", label, -1)
    pat = desk.state("pat")
    assert shown(pat) == [
        (label, "verified", "Undo verification"),
        (label, "submitted norm", "acis, acis_si, verification already acted on it"),
    ]
    assert pat.undo(label, "verified"), pat.error
    assert pat.message == f"undid your verification of {label}: it is open again"
    with desk.sessions() as session:
        observation = session.scalars(select(Observation).where(Observation.obsid == w.acis)).one()
        assert current_values(session, observation)["frame_time", 0] == 3.2
        assert desk.revision(session, label).closed_at is None
    assert desk.events(label)[-1] == ("verification.undone", "pat")


def test_a_stale_undo_is_refused_with_the_services_message_and_writes_nothing(desk: Desk) -> None:
    w = desk.world
    label = desk.submit("pat", w.acis, [("frame_time", 0, 2.8)], -1)
    pat = desk.state("pat")
    assert shown(pat) == [(label, "submitted norm", "Withdraw")]
    # Quinn discards it through the service after pat's page was drawn.
    with desk.sessions() as session, session.begin():
        discard(
            session, desk.user(session, "quinn"), label, seen_version=desk.revision(session, label).version, now=at()
        )
    before = desk.counts()
    assert not pat.undo(label, "withdraw")
    assert pat.error.startswith(f"revision {label} was changed by quinn at 2026-11-21 18:30:00 UTC after you loaded it")
    assert pat.message == ""
    assert desk.counts() == before
    with desk.sessions() as session:
        assert desk.revision(session, label).withdrawn_at is None
    # Refreshed after the refusal: it now says why not.
    assert shown(pat) == [(label, "submitted norm", "acis, acis_si, verification already acted on it")]
    assert (
        not pat.undo(label, "submitted norm")
        and "cannot be undone: acis, acis_si, verification already acted" in pat.error
    )


def test_a_sign_off_taken_back_and_given_again_elsewhere_makes_the_shown_one_stale(desk: Desk) -> None:
    w = desk.world
    label = desk.submit("pat", w.acis, [("frame_time", 0, 2.8)], -3)
    desk.sign("ops", label, "acis", -2)
    ops = desk.state("ops")
    # Ops undoes and signs again in another window: the sign-off's version moves on.
    with desk.sessions() as session, session.begin():
        undo_sign_off(
            session,
            desk.user(session, "ops"),
            label,
            "acis",
            seen_version=desk.signoff(session, label, "acis").version,
            now=at(-1),
        )
    desk.sign("ops", label, "acis", -0.5)
    before = desk.counts()
    assert not ops.undo(label, "signed acis")
    assert f"the acis sign-off of {label} was changed by ops" in ops.error and "reload and try again" in ops.error
    assert desk.counts() == before
    assert list(ops.rows["at"]) == ["2026-11-21 18:00"]  # refreshed: the newer sign-off, which can be undone
    assert ops.undo(label, "signed acis"), ops.error


def test_outside_the_48_hour_window(desk: Desk) -> None:
    w = desk.world
    label = desk.submit("pat", w.hrc, [("hrc_si_mode", 0, "HRCIZB")], 0)
    assert shown(desk.state("pat", at(47))) == [(label, "submitted norm", "Withdraw")]
    assert list(desk.state("pat", at(47.5)).rows["until"]) == ["undo until 2026-11-23 18:30 UTC (0 h 30 min left)"]
    assert desk.state("pat", at(49)).rows.empty  # gone from the list once the window has passed

    # Shown while the window was open, undone after it closed: the service refuses, nothing is written.
    clock = {"now": FIXED_NOW + timedelta(hours=47)}
    pat = desk.state("pat", lambda: clock["now"])
    clock["now"] = FIXED_NOW + timedelta(hours=49)
    before = desk.counts()
    assert not pat.undo(label, "withdraw")
    assert pat.error == f"submitting {label} can only be undone within 48 hours of it"
    assert desk.counts() == before and pat.rows.empty


def test_an_unknown_viewer_may_not_undo_and_unknown_actions_are_refused(desk: Desk) -> None:
    w = desk.world
    label = desk.submit("pat", w.hrc, [("hrc_si_mode", 0, "HRCIZB")], -1)
    pat = desk.state("pat")
    before = desk.counts()
    # The account goes between drawing the page and clicking: refused as the service layer refuses strangers.
    pat.context = DashboardContext(pat.context.settings, pat.context.sessions, ViewingUser("ghost", "", (), False))
    assert not pat.undo(label, "withdraw") and pat.error == "ghost is not a known user and may not act"
    other = desk.state("quinn")
    assert not other.undo(label, "withdraw") and "one of your recent actions shown" in other.error
    with desk.sessions() as session:
        assert refusals_since(session, before) == ["ghost"]  # audited under the name the page acted as


# Library deprecations, not ours: Bokeh's ColumnDataSource.from_df (under the Tabulator) still calls
# reset_index(inplace=True), deprecated by pandas 3.1; Panel 1.9 announces renames for 2.0 (Widget.name -> label,
# Button.button_type -> color) that every view of the house pattern still uses.
def test_the_view_builds(desk: Desk) -> None:
    from obslab.dashboards.actions import MyActions

    w = desk.world
    label = desk.submit("pat", w.hrc, [("hrc_si_mode", 0, "HRCIZB")], -1)
    state = desk.state("pat")
    view = MyActions(state=state)
    assert view.__panel__() is not None
    assert view.undo_button.disabled and view.undo_button.name == "Undo"
    state.select(label, "withdraw")
    assert (
        not view.undo_button.disabled
        and view.undo_button.name == f"Withdraw {label}"
        and view.undo_button.button_type == "danger"
    )
    assert "obslab-actions-table" in view.table.css_classes and "obslab-actions-undo" in view.undo_button.css_classes
    view.undo_button.clicks += 1
    assert (
        state.message == f"withdrew {label} (submitted norm)" and view.table.value.empty and view.undo_button.disabled
    )


def test_the_selection_follows_its_action_and_an_empty_list_says_so(desk: Desk) -> None:
    w = desk.world
    hrc = desk.submit("root", w.hrc, [("hrc_si_mode", 0, "HRCIZB")], -2)
    root = desk.state("root")
    root.select(hrc, "submitted norm")
    assert root.selected_row == 0 and root.rows.iloc[0]["what"] == "submitted norm"
    desk.sign("root", hrc, "hrc_si", -1)  # a newer action goes on top of the list
    root.refresh()
    assert root.selected is not None and root.selected.what == "submitted norm"
    assert root.selected_row == 1 and root.rows.iloc[1]["what"] == "submitted norm"
    assert root.undo(hrc, "undo_sign_off:hrc_si") and root.rows.iloc[root.selected_row]["what"] == "submitted norm"
    nobody = desk.state("quinn")
    assert nobody.rows.empty and nobody.empty_text("rows") == (
        "Nothing of yours to undo: you have not acted in the last 48 hours."
    )
