"""The run browser's state: who sees which nights and exposures, filters, paging, the detail, force redo, refusals."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from obslab.audit import AuditEvent
from obslab.dashboards.context import DashboardContext, ViewingUser
from obslab.dashboards.runs import ExposureView, RunBrowser
from obslab.dashboards.state.runs import NO_PROGRAM, RunsState
from obslab.db import make_engine, make_session_factory
from obslab.demo.nights import PROGRAM_MEMBERS
from obslab.observing.alarms import AlarmView
from obslab.observing.models import Exposure, Night, PipelineStage
from obslab.settings import Settings
from tests.helpers.support import fixed_clock

HOSTILE = "<img src=x onerror=window.__pwned=1>"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def state_for(url: str, sessions: sessionmaker[Session], username: str, roles: tuple[str, ...]) -> RunsState:
    viewer = ViewingUser(username, username, roles, True)
    return RunsState(DashboardContext(Settings(database_url=url), sessions, viewer), now=fixed_clock)


def programs_of(username: str) -> set[str]:
    return {code for code, members in PROGRAM_MEMBERS.items() if username in members}


def visible_count(sessions: sessionmaker[Session], programs: set[str] | None) -> int:
    """Exposures a viewer may see, counted apart from the read model: theirs, and the calibrations of their nights."""
    with sessions() as session:
        exposures = session.execute(select(Exposure.night_id, Exposure.program)).all()
    if programs is None:
        return len(exposures)
    nights = {night for night, program in exposures if program in programs}
    return sum(1 for night, program in exposures if program in programs or (program == "" and night in nights))


@pytest.fixture
def staff(demo_database: str, demo_sessions: sessionmaker[Session]) -> RunsState:
    return state_for(demo_database, demo_sessions, "sobrien", ("staff", "usint"))


@pytest.fixture
def member(demo_database: str, demo_sessions: sessionmaker[Session]) -> RunsState:
    return state_for(demo_database, demo_sessions, "cfernandez", ("pipeline",))


def test_staff_see_every_night_and_every_exposure_newest_first(
    staff: RunsState, demo_sessions: sessionmaker[Session]
) -> None:
    assert staff.error == ""
    with demo_sessions() as session:
        nights = session.scalars(select(Night.night_date).join(Exposure).distinct()).all()
    assert list(staff.nights["night"]) == sorted((n.isoformat() for n in nights), reverse=True)
    assert staff.nights["exposures"].sum() == staff.total == visible_count(demo_sessions, None)
    assert (staff.nights["calibration"] == "done").all() and staff.nights["seeing_median_arcsec"].notna().all()
    started = list(staff.rows["started_at"])
    assert started == sorted(started, reverse=True) and len(staff.rows) == min(50, staff.total)
    assert set(staff.param.program.objects.values()) == {"", *PROGRAM_MEMBERS}


def test_a_member_sees_their_programs_and_the_calibrations_of_their_nights_only(
    member: RunsState, demo_sessions: sessionmaker[Session]
) -> None:
    mine = programs_of("cfernandez")
    assert member.error == "" and member.total == visible_count(demo_sessions, mine)
    assert set(member.rows["program"]) <= mine | {NO_PROGRAM}
    assert set(member.param.program.objects.values()) == {"", *mine}
    with demo_sessions() as session:
        foreign = session.scalar(select(Exposure.name).where(Exposure.program.not_in(mine | {""})).limit(1))
    member.select(foreign)
    assert member.detail is None and member.error == f"no exposure {foreign!r} that you may see"


def test_picking_a_night_shows_its_exposures_and_filters_narrow_in_the_database(staff: RunsState) -> None:
    night = str(staff.nights.iloc[1]["night"])
    expected = int(staff.nights.iloc[1]["exposures"])
    staff.pick_night(night)
    assert staff.selected_night == night and staff.total == expected and set(staff.rows["night"]) == {night}
    staff.program = "24"
    assert staff.total > 0 and set(staff.rows["program"]) == {"24"} and set(staff.rows["night"]) == {night}
    staff.strehl_min = 10.0
    assert (staff.rows["strehl_percent"] >= 10.0).all()
    staff.night_from = "2020-01-01"  # a range is no longer the night picked
    assert staff.selected_night == ""
    staff.clear_filters()
    assert staff.selected_night == "" and staff.total == int(staff.nights["exposures"].sum())


def test_pages_and_sorts_cover_every_match_once(staff: RunsState) -> None:
    staff.page_size = 25
    seen = []
    for page in range(1, staff.page_count + 1):
        staff.go_to(page)
        seen += list(staff.rows["name"])
    assert len(seen) == len(set(seen)) == staff.total and staff.page_count == -(-staff.total // 25)
    staff.go_to(99)
    assert staff.page == staff.page_count
    staff.sort("strehl_percent", descending=False)
    values = [v for v in staff.rows["strehl_percent"] if v == v]  # measured ones first, the unmeasured last
    assert staff.page == 1 and values == sorted(values) and len(values) > 0
    staff.sort("not_a_column")
    assert staff.error.startswith("sort_by: 'not_a_column' is not allowed") and staff.sort_by == "strehl_percent"


def test_bad_input_names_the_field_shows_nothing_and_is_forgotten_once_put_right(staff: RunsState) -> None:
    total = staff.total
    staff.night_from = "05/12/2026"
    assert staff.error == "night_from: '05/12/2026' is not allowed; expected a night as YYYY-MM-DD or YYYYMMDD"
    assert staff.total == 0 and staff.rows.empty
    staff.night_from = ""
    assert staff.error == "" and staff.total == total
    staff.cone_ra = "05:34:32"  # half a cone is refused by the other half's name
    assert staff.error.startswith("cone_dec: '' is not allowed") and staff.rows.empty
    staff.cone_dec = "+95"
    assert staff.error.startswith("cone_dec: '+95' is not allowed") and staff.rows.empty
    staff.param.update(cone_ra="", cone_dec="")
    assert staff.error == "" and staff.total == total


def test_an_exposure_whole_with_previews_stages_provenance_and_configuration(staff: RunsState) -> None:
    science = staff.rows[staff.rows["kind"] == "science"].iloc[0]
    staff.select(science["name"])
    assert staff.error == "" and staff.detail is not None and staff.detail.row.name == science["name"]
    assert staff.selected_row == int(staff.rows.index[staff.rows["name"] == science["name"]][0])
    assert [title for title, _ in staff.previews] == ["Best 20% of frames", "All frames"]
    assert all(base64.b64decode(data).startswith(PNG_SIGNATURE) for _, data in staff.previews)
    assert list(staff.stages["stage"]) == ["stack", "strehl", "preview"] and set(staff.stages["state"]) == {"done"}
    assert all(text.startswith("obslab ") and "fingerpr" not in text for text in staff.stages["provenance"])
    assert "stack_best, stack_all, shifts: inputs=" in staff.stages.set_index("stage").loc["stack", "provenance"]
    assert staff.configuration is not None and staff.configuration.instrument == "ROBO-CAM"
    assert "strehl_percent" in staff.detail.metrics and "DATE-OBS" in staff.detail.header
    staff.select(None)
    assert staff.detail is None and staff.previews == [] and staff.selected_row is None


def test_the_views_build_and_escape_what_people_typed(staff: RunsState) -> None:
    staff.select(staff.rows.iloc[0]["name"])
    page = RunBrowser(state=staff).__panel__()
    assert page is not None
    detail = staff.detail
    hostile = replace(detail, row=replace(detail.row, target_name=HOSTILE, program=HOSTILE))
    view = ExposureView(hostile, staff.previews, staff.configuration)
    summary = view._summary()
    assert HOSTILE not in summary and "&lt;img src=x" in summary
    assert view._alarms() == "" and "open alarm" not in summary
    raised = AlarmView(
        7, HOSTILE, "strehl_percent", detail.row.name, "20261120", fixed_clock(), fixed_clock(), [3.5], HOSTILE, None
    )
    seen = replace(raised, id=8, acknowledged_at=fixed_clock())
    alarmed = ExposureView(replace(hostile, alarms=(raised, seen)), staff.previews, staff.configuration)
    shown = alarmed._alarms()
    assert HOSTILE not in shown and shown.count("&lt;img src=x") == 4 and "3.5" in shown
    assert "open" in shown and f"acknowledged {fixed_clock():%Y-%m-%d %H:%M} UTC" in shown
    assert "1 open alarm<" in alarmed._summary()  # the acknowledged one is not counted


@pytest.fixture(scope="module")
def writable_sessions(writable_demo_database: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(writable_demo_database)
    yield make_session_factory(engine)
    engine.dispose()


def test_force_redo_for_a_member_is_audited_once_and_refused_to_others(
    writable_demo_database: str, writable_sessions: sessionmaker[Session]
) -> None:
    member = state_for(writable_demo_database, writable_sessions, "cfernandez", ("pipeline",))
    name = member.rows[member.rows["program"] == "24"].iloc[0]["name"]
    member.select(name)
    member.redo_stage = "strehl"
    member.redo()
    assert member.error == "" and member.message.startswith(f"strehl of {name} will run again")
    assert bool(member.stages.set_index("stage").loc["strehl", "force_redo"]) is True
    member.redo()
    assert member.error == f"strehl of {name} is already marked to run again"
    with writable_sessions() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "pipeline_stage.force_redo")).all()
        marked = session.scalar(
            select(func.count()).select_from(PipelineStage).join(Exposure).where(PipelineStage.force_redo)
        )
    assert [(e.actor_name, e.action) for e in events] == [("cfernandez", "pipeline_stage.force_redo")] and marked == 1
    # bnovak is not in program 24: the exposure is not even there for him, and nothing more is marked.
    outsider = state_for(writable_demo_database, writable_sessions, "bnovak", ("pipeline", "scheduler"))
    outsider.select(name)
    assert outsider.detail is None and "that you may see" in outsider.error
    outsider.redo()
    assert outsider.error == "pick an exposure first: its stages are marked, one at a time"


def test_paging_keeps_the_count_of_the_same_filters_and_a_refresh_counts_again(
    writable_demo_database: str, writable_sessions: sessionmaker[Session]
) -> None:
    staff = state_for(writable_demo_database, writable_sessions, "sobrien", ("staff",))
    staff.page_size = 25
    before = staff.total
    with writable_sessions.begin() as session:  # one more exposure, written behind the page's back
        first = session.scalars(select(Exposure).order_by(Exposure.id)).first()
        copied = {c.key: getattr(first, c.key) for c in Exposure.__table__.columns if c.key not in {"id", "name"}}
        session.add(Exposure(name="late_arrival_0", **copied))
    staff.go_to(2)
    assert staff.page == 2 and staff.total == before  # the same filters: their count is not taken again
    staff.sort("target")
    assert staff.total == before
    staff.refresh()
    assert staff.total == before + 1
    staff.target = "no-such-target"  # new filters are counted afresh
    assert staff.total == 0
    staff.target = ""
    assert staff.total == before + 1
