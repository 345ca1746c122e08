"""A page says, before anyone clicks, why the viewer may not act, and how to fix it."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from obslab.dashboards.context import DashboardContext, ViewingUser
from obslab.dashboards.state.base import DashboardState
from obslab.settings import Settings


def state_for(url: str, sessions: sessionmaker[Session], viewer: ViewingUser) -> DashboardState:
    return DashboardState(DashboardContext(Settings(database_url=url), sessions, viewer))


def test_the_refusal_names_the_role_or_the_fix(migrated_url: str, sessions: sessionmaker[Session]) -> None:
    scheduler = state_for(migrated_url, sessions, ViewingUser("nina", "Nina", ("scheduler",), True))
    staff = state_for(migrated_url, sessions, ViewingUser("sam", "Sam", ("staff", "pipeline"), True))
    stranger = state_for(migrated_url, sessions, ViewingUser("jovyan", "", (), False))
    admin = state_for(migrated_url, sessions, ViewingUser("ada", "Ada", ("admin",), True))

    assert scheduler.refusal("scheduler", "store night plans") == ""
    # Admin holds every role, as the services' require_role says: no button is disabled for her.
    assert admin.refusal("scheduler", "store night plans") == admin.refusal({"acis", "hrc"}, "sign") == ""
    assert scheduler.refusal({"usint", "admin"}, "submit change requests") == (
        "to submit change requests you need the admin or usint role; you have scheduler"
    )
    assert staff.refusal("scheduler", "store night plans") == (
        "to store night plans you need the scheduler role; you have staff, pipeline"
    )
    assert stranger.refusal("scheduler", "store night plans") == (
        "jovyan is not an obslab user, so this page is read-only: an admin adds you with "
        "'obslab users add jovyan --role ROLE', or set OBSLAB_ACTING_USER to a user's name"
    )


def test_the_header_tells_a_stranger_the_page_is_read_only_and_how_to_fix_it(
    migrated_url: str, sessions: sessionmaker[Session]
) -> None:
    from obslab.dashboards.shell import header_html

    stranger = DashboardContext(Settings(database_url=migrated_url), sessions, ViewingUser("j<o>vyan", "", (), False))
    known = DashboardContext(
        Settings(database_url=migrated_url), sessions, ViewingUser("nina", "Nina", ("usint",), True)
    )
    text = header_html(stranger, "catalog")
    assert "read-only: not an obslab user; an admin adds you with" in text and "OBSLAB_ACTING_USER" in text
    assert "obslab users add j&lt;o&gt;vyan --role ROLE" in text and "j<o>vyan" not in text
    assert "read-only" not in header_html(known, "catalog")


def test_a_signed_in_stranger_is_not_told_to_set_a_variable(migrated_url: str, sessions: sessionmaker[Session]) -> None:
    hub_stranger = state_for(migrated_url, sessions, ViewingUser("jovyan", "", (), False, signed_in=True))
    assert hub_stranger.refusal("scheduler", "store night plans") == (
        "jovyan is not an obslab user, so this page is read-only: an admin adds you with "
        "'obslab users add jovyan --role ROLE'"
    )


def test_a_refused_action_is_audited_under_the_viewer_and_writes_nothing_else(
    migrated_url: str, sessions: sessionmaker[Session]
) -> None:
    from sqlalchemy import select

    from obslab.audit import AuditEvent
    from obslab.errors import PermissionDeniedError
    from obslab.users import add_user

    with sessions() as session, session.begin():
        add_user(session, "sam", ["staff"])
    context = DashboardContext(Settings(database_url=migrated_url), sessions, ViewingUser("sam", "", ("staff",), True))
    page = DashboardState(context)

    def store_plan(session: Session) -> None:
        add_user(session, "written-then-refused", ["staff"])
        raise PermissionDeniedError("storing night plans needs the scheduler role")

    assert not page.run(store_plan) and page.error == "storing night plans needs the scheduler role"
    with sessions() as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    refusal = events[-1]
    assert [event.action for event in events] == ["user.created", "refused"]
    assert refusal.actor_name == "sam" and refusal.after == {
        "attempt": "store_plan",
        "reason": "storing night plans needs the scheduler role",
        "where": "dashboard:dashboard",
    }


def test_a_page_context_for_a_signed_in_viewer_shares_the_process_engine(
    migrated_url: str, sessions: sessionmaker[Session]
) -> None:
    from obslab.users import add_user

    with sessions() as session, session.begin():
        add_user(session, "nina", ["scheduler"], full_name="Nina")
    process = DashboardContext(Settings(database_url=migrated_url), sessions, ViewingUser("hub-service", "", (), False))
    page = process.for_viewer("nina")
    assert page.sessions is process.sessions and page.identity == "nina"
    assert page.viewer == ViewingUser("nina", "Nina", ("scheduler",), True, signed_in=True)
