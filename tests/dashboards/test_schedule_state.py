"""The scheduling dashboard's state: plan or what-if, reasons, re-plan as the viewer, refusals, the alert feed."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import holoviews as hv
import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from obslab.access import find_user
from obslab.dashboards.context import DashboardContext, ViewingUser
from obslab.dashboards.schedule import NightSchedule
from obslab.dashboards.state.schedule import ScheduleState
from obslab.dashboards.state.schedule_chart import chart_range
from obslab.plots.schedule import ALTITUDES, TIMELINE, night_chart
from obslab.scheduling.alerts import ingest
from obslab.scheduling.models import Schedule
from obslab.scheduling.night import night_geometry
from obslab.settings import Settings
from obslab.users import add_user
from tests.helpers.schedule_world import NIGHT, add_requests
from tests.helpers.support import KITT_PEAK, fixed_clock, refusals_since, table_counts
from tests.helpers.voevents import swift_bat_grb

HOSTILE_IVORN = "ivo://nasa.gsfc.gcn/SWIFT#BAT_GRB_Pos_<script>window.__pwned=1</script>"


@pytest.fixture
def world(migrated_url: str, sessions: sessionmaker[Session]) -> dict[str, int]:
    with sessions() as session, session.begin():
        add_user(session, "nina", ["scheduler"], now=fixed_clock)
        add_user(session, "sam", ["staff"], now=fixed_clock)
        return add_requests(session)


def state_for(url: str, sessions: sessionmaker[Session], who: str) -> ScheduleState:
    viewer = ViewingUser(who, who.title(), (), True)
    settings = Settings(database_url=url)  # the default site is Kitt Peak, as KITT_PEAK
    return ScheduleState(DashboardContext(settings, sessions, viewer), now=fixed_clock, night=NIGHT.isoformat())


def test_before_any_plan_the_page_shows_a_what_if_with_reasons_curves_and_twilight(
    migrated_url: str, sessions: sessionmaker[Session], world: dict[str, int]
) -> None:
    state = state_for(migrated_url, sessions, "sam")
    assert state.version == "no stored plan yet: what-if" and state.error == ""
    assert set(state.blocks["name"]) >= {"M42", "TwinHigh"}
    reasons = dict(zip(state.unscheduled["name"], state.unscheduled["reason"], strict=True))
    assert reasons == {"SouthPole": "never_visible", "TwinLow": "outranked"}
    assert all(len(detail) > 20 for detail in state.unscheduled["detail"])
    chart = state.chart
    assert set(chart.curves["target"]) == set(state.blocks["target"]) and chart.curves["altitude_deg"].max() <= 90
    assert [level for _s, _e, level in chart.twilight] == ["sunset", "civil", "nautical", "astronomical"]
    assert (chart.start, chart.end) == chart_range(night_geometry(KITT_PEAK, NIGHT)) and chart.zone == "America/Phoenix"
    assert list(chart.blocks["target"]) == list(state.blocks["target"]) and chart.lost == ()
    constraints = dict(zip(chart.blocks["target"], chart.blocks["constraints"], strict=True))
    assert constraints["M42"] == "astronomical darkness"
    assert constraints["TwinHigh"].startswith("astronomical darkness; window 11-22 06:")
    assert state.summary.startswith(f"{NIGHT} at Kitt Peak:") and "left out" in state.summary
    # Kitt Peak keeps MST all year (UTC-7): every block's span on the site's clock, and the dark hours too.
    for start, end, local in zip(state.blocks["start"], state.blocks["end"], state.blocks["local"], strict=True):
        shifted = [(moment - timedelta(hours=7)).strftime("%H:%M") for moment in (start, end)]
        assert local == f"{shifted[0]}–{shifted[1]} MST"
    assert re.search(r"dark \d\d:\d\d–\d\d:\d\d UTC, \d\d:\d\d–\d\d:\d\d MST \(", state.summary), state.summary
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Schedule)) == 0


def test_replan_stores_versions_as_the_viewer_and_what_if_stores_nothing(
    migrated_url: str, sessions: sessionmaker[Session], world: dict[str, int]
) -> None:
    nina = state_for(migrated_url, sessions, "nina")
    assert nina.replan(), nina.error
    assert nina.message == "stored as version 1" and nina.version == "version 1 (initial)"
    nina.planned_from, nina.lost = "06:00", "07:00-09:00"
    with sessions() as session:
        before = table_counts(session)
    assert nina.what_if() and nina.version == "what-if (not stored)" and "nothing stored" in nina.message
    assert "; against version 1: " in nina.message and " moved" in nina.message  # what it would change
    assert all(
        not (start < datetime(2026, 11, 22, 9, 0, tzinfo=UTC) and end > datetime(2026, 11, 22, 7, 0, tzinfo=UTC))
        for start, end in zip(nina.blocks["start"], nina.blocks["end"], strict=True)
    )
    with sessions() as session:
        assert table_counts(session) == before
    assert nina.replan() and nina.message.startswith("stored as version 2; against version 1:")
    assert nina.version == "version 2 (weather)"
    # A longer search is asked in seconds; the same inputs and seconds give the same plan.
    nina.search_seconds = 0.2
    assert nina.what_if() and nina.error == ""
    searched = list(zip(nina.blocks["request"], nina.blocks["start"], strict=True))
    assert nina.what_if() and list(zip(nina.blocks["request"], nina.blocks["start"], strict=True)) == searched


def test_after_what_if_and_re_plan_the_chart_keeps_the_night_and_shades_the_lost_time(
    migrated_url: str, sessions: sessionmaker[Session], world: dict[str, int]
) -> None:
    nina = state_for(migrated_url, sessions, "nina")
    night = (nina.chart.start, nina.chart.end)
    lost = (datetime(2026, 11, 22, 7, 0, tzinfo=UTC), datetime(2026, 11, 22, 9, 0, tzinfo=UTC))
    nina.planned_from, nina.lost = "06:00", "07:00-09:00"
    assert nina.what_if(), nina.error
    assert (nina.chart.start, nina.chart.end) == night and nina.chart.lost == (lost,)
    assert list(nina.chart.blocks["start"]) == list(nina.blocks["start"])
    timeline, altitudes = chart_figures(nina)
    assert timeline.x_range is altitudes.x_range
    assert [pd.Timestamp(t).tz_localize(UTC) for t in (timeline.x_range.start, timeline.x_range.end)] == list(night)
    # Stored, the plan keeps its lost time; shown again, the chart too.
    assert nina.replan(), nina.error
    assert (
        nina.version == "version 1 (weather)"
        and nina.chart.lost == (lost,)
        and (nina.chart.start, nina.chart.end) == night
    )


def chart_figures(state: ScheduleState) -> tuple[Any, Any]:
    root = hv.renderer("bokeh").get_plot(night_chart(state.chart)).state
    return root.select_one({"name": TIMELINE}), root.select_one({"name": ALTITUDES})


def test_refusals_name_the_field_or_the_role_and_change_nothing(
    migrated_url: str, sessions: sessionmaker[Session], world: dict[str, int]
) -> None:
    sam = state_for(migrated_url, sessions, "sam")
    with sessions() as session:
        before = table_counts(session)
    assert not sam.replan() and "sam may not save night plans: that needs the role 'scheduler'" in sam.error
    for field, value, expected in [
        ("planned_from", "25:00", "from: '25:00' is not allowed"),
        ("lost", "09:00-08:00", "lost: '09:00-08:00' is not allowed"),
        ("lost", "soon", "lost: 'soon' is not allowed"),
    ]:
        sam.planned_from, sam.lost = "", ""
        setattr(sam, field, value)
        assert not sam.what_if() and expected in sam.error, (field, sam.error)
    sam.night = "2026-13-01"
    assert "night: '2026-13-01' is not allowed" in sam.error
    # Nothing written but the one refusal of a permission, audited under sam (bad input is not a refusal of sam).
    with sessions() as session:
        assert refusals_since(session, before) == ["sam"]


def test_the_alert_feed_and_the_view(migrated_url: str, sessions: sessionmaker[Session], world: dict[str, int]) -> None:
    with sessions() as session, session.begin():
        packet = swift_bat_grb(99, datetime(2026, 11, 22, 4, 50, tzinfo=UTC), 84.5, 10.2).replace(
            "ivo://nasa.gsfc.gcn/SWIFT#BAT_GRB_Pos_99-259", HOSTILE_IVORN.replace("<", "&lt;")
        )
        ingest(
            session,
            find_user(session, "nina"),
            packet,
            site=KITT_PEAK,
            now=lambda: datetime(2026, 11, 22, 5, 0, tzinfo=UTC),
        )
    state = state_for(migrated_url, sessions, "nina")
    assert list(state.alerts["key"]) == [HOSTILE_IVORN] and state.alerts["status"][0] == "accepted"
    assert state.version == "version 1 (too)"  # the alert re-planned the night
    view = NightSchedule(state=state)
    view.__panel__()
    assert len(view.left.value) == len(state.unscheduled)
    night_chart(state.chart)


def test_a_refused_night_clears_the_plan_and_the_next_good_night_clears_the_error(
    migrated_url: str, sessions: sessionmaker[Session], world: dict[str, int]
) -> None:
    sam = state_for(migrated_url, sessions, "sam")
    assert sam.what_if() and "nothing stored" in sam.message
    sam.night = "2026-13-01"
    assert "night: '2026-13-01' is not allowed" in sam.error and sam.message == ""
    # No plan of another night under the refusal: no blocks, reasons, curves, bands or summary.
    assert sam.blocks.empty and sam.unscheduled.empty and sam.chart is None
    assert (sam.version, sam.summary, sam.shown_version) == ("", "", 0)
    assert list(sam.alerts.columns) == ["received", "stream", "key", "status", "decision"]  # the feed stays
    sam.night = NIGHT.isoformat()
    assert sam.error == ""
    assert sam.version == "no stored plan yet: what-if" and set(sam.blocks["name"]) >= {"M42", "TwinHigh"}
    assert sam.summary.startswith(f"{NIGHT} at Kitt Peak:")


def test_a_refused_what_if_goes_back_to_the_stored_plan_and_a_good_one_clears_the_error(
    migrated_url: str, sessions: sessionmaker[Session], world: dict[str, int]
) -> None:
    nina = state_for(migrated_url, sessions, "nina")
    assert nina.replan(), nina.error
    stored = list(nina.blocks["name"])
    nina.lost = "07:00-09:00"
    assert nina.what_if() and nina.version == "what-if (not stored)"
    nina.planned_from = "25:00"
    assert not nina.what_if() and "from: '25:00' is not allowed" in nina.error and nina.message == ""
    # The what-if of the inputs as they were is gone: the stored plan shows, as its label says.
    assert nina.version == "version 1 (initial)" and list(nina.blocks["name"]) == stored
    nina.planned_from = ""
    assert nina.what_if() and nina.error == "" and nina.version == "what-if (not stored)"
    # A refused re-plan keeps its refusal while the page shows what is stored.
    sam = state_for(migrated_url, sessions, "sam")
    assert not sam.replan() and "may not save night plans" in sam.error and sam.version == "version 1 (initial)"
    assert sam.what_if() and sam.error == ""


def test_every_table_says_so_when_it_is_empty(
    migrated_url: str, sessions: sessionmaker[Session], world: dict[str, int]
) -> None:
    state = state_for(migrated_url, sessions, "sam")
    assert state.alerts.empty and state.empty_text("alerts") == "No alerts yet."
    state.night = "2026-13-01"
    assert state.blocks.empty and state.empty_text("blocks") == "Nothing is scheduled this night."
    assert state.unscheduled.empty and state.empty_text("unscheduled").startswith("No request is left out")
    view = NightSchedule(state=state)
    for table, text in ((view.blocks, "Nothing is scheduled"), (view.left, "No request"), (view.alerts, "No alerts")):
        # What the browser's Tabulator is told to show in place of rows.
        assert table.get_root().configuration["placeholder"].startswith(text) and table.value.empty
