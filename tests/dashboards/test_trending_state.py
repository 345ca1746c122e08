"""The trending dashboard's state: series, scope, nights, configuration markers, the alarm log and acknowledging."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from obslab.audit import AuditEvent
from obslab.dashboards.context import DashboardContext, ViewingUser
from obslab.dashboards.state.trending import ANY, TrendingState, night_of
from obslab.db import make_engine, make_session_factory
from obslab.errors import InvalidInputError
from obslab.observing.models import Alarm
from obslab.settings import Settings
from tests.helpers.support import fixed_clock, table_counts
from tests.helpers.trend_alarms import RULE

CHANGE = datetime(2026, 11, 19, 18, 0, tzinfo=UTC)  # the demo's ROBO-CAM version 2


@pytest.fixture
def sessions(demo_with_alarms: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(demo_with_alarms)
    yield make_session_factory(engine)
    engine.dispose()


def state_for(
    url: str,
    sessions: sessionmaker[Session],
    who: str = "sobrien",
    roles: tuple[str, ...] = ("staff",),
    **params: object,
) -> TrendingState:
    viewer = ViewingUser(who, "", roles, who != "nobody")
    context = DashboardContext(Settings(database_url=url, acting_user=who), sessions, viewer)
    return TrendingState(context, now=fixed_clock, **params)


def test_opens_on_strehl_and_seeing_with_the_camera_change_and_night_medians(
    demo_with_alarms: str, sessions: sessionmaker[Session]
) -> None:
    state = state_for(demo_with_alarms, sessions)
    assert state.error == "" and state.metrics == ["seeing_arcsec", "strehl_percent"]
    assert "seeing_median_arcsec" in state.param.metrics.objects and state.param.instrument.objects == [ANY, "ROBO-CAM"]
    points = state.points
    assert set(points["metric"]) == {"strehl_percent", "seeing_arcsec"}
    assert all(part["time"].is_monotonic_increasing for _, part in points.groupby("metric"))
    assert state.units == {"strehl_percent": "%", "seeing_arcsec": "arcsec"}
    # Every night of the demo has its median, at the middle of its points, and the camera change sits between two.
    strehl_nights = state.nights[state.nights["metric"] == "strehl_percent"]
    assert list(strehl_nights["night"]) == ["20261118", "20261119", "20261120"]
    assert list(state.markers["label"]) == ["ROBO-CAM v2"] and state.markers["time"][0] == CHANGE
    assert "em_gain 300 → 200" in state.markers["what"][0]
    assert strehl_nights["time"].iloc[0] < CHANGE < strehl_nights["time"].iloc[1]
    # The test rule's alarms mark their points and fill the log, newest raised first, open only.
    alarmed = points[points["alarms"].str.contains(RULE)]
    assert len(alarmed) > 1 and (alarmed["metric"] == "strehl_percent").all()
    log = state.alarm_log[state.alarm_log["rule"] == RULE]
    assert len(log) == len(alarmed) and set(log["status"]) == {"open"}
    assert set(log["where"]) == set(alarmed["exposure"])
    strehl_values = int((points["metric"] == "strehl_percent").sum())  # the summary counts what is drawn
    assert f"strehl_percent: {strehl_values} values on 3 nights, " in state.summary and state.summary.endswith(
        "1 configuration change"
    )


def test_scope_and_nights_narrow_the_series_and_a_refused_night_clears_it(
    demo_with_alarms: str, sessions: sessionmaker[Session]
) -> None:
    state = state_for(demo_with_alarms, sessions)
    state.param.update(metrics=["strehl_percent"], filter_name="Si")
    assert state.error == "" and set(state.points["scope"]) == {"ROBO-CAM/Si/6"}
    state.param.update(since="20261119", until="2026-11-19")
    assert set(state.points["night"]) == {"20261119"} and list(state.nights["count"]) == [len(state.points)]
    assert state.markers.empty  # the change was before this night's first point

    state.until = "2026-13-01"
    assert (
        state.error
        == "last night: '2026-13-01' is not allowed; expected a night as YYYYMMDD or YYYY-MM-DD, or empty for no bound"
    )
    assert state.points.empty and state.alarm_log.empty and state.markers.empty and state.summary == ""
    state.until = "20261118"
    assert state.error.startswith("first night: '20261119' is not allowed; expected a night on or before the last")
    state.param.update(since="", until="")
    assert state.error == "" and set(state.points["night"]) == {"20261118", "20261119", "20261120"}
    state.metrics = ["seeing_median_arcsec"]
    assert state.error == "" and state.points.empty  # a night's own value has no filter: Si leaves it out
    state.filter_name = ANY
    assert list(state.points["scope"]) == ["night"] * 3 and list(state.points["exposure"]) == [""] * 3


def test_acknowledging_the_selected_alarm_is_audited_and_refused_the_second_time(
    demo_with_alarms: str, sessions: sessionmaker[Session]
) -> None:
    state = state_for(demo_with_alarms, sessions, "sobrien")
    state.metrics = ["strehl_percent"]
    assert not state.acknowledge() and state.error == "Pick an alarm in the log first."
    first = int(state.alarm_log["id"].iloc[0])
    state.select_alarm(first)
    assert (state.selected_alarm, state.selected_row) == (first, 0)
    before = len(state.alarm_log)
    assert state.acknowledge() and state.error == "" and state.message == f"Alarm {first} acknowledged."
    assert first not in set(state.alarm_log["id"]) and len(state.alarm_log) == before - 1
    assert state.selected_alarm is None and state.selected_row is None
    with sessions() as session:
        event = session.scalar(
            select(AuditEvent).where(AuditEvent.action == "alarm.acknowledged").order_by(AuditEvent.id.desc())
        )
        assert event is not None and event.entity_id == str(first)
        assert session.get(Alarm, first).acknowledged_at is not None
    state.show_acknowledged = True
    row = state.alarm_log[state.alarm_log["id"] == first].iloc[0]
    assert row["status"].startswith("acknowledged by sobrien 2026-11-21 18:30 UTC")
    state.select_alarm(first)
    with sessions() as session:
        counts = table_counts(session)
    assert not state.acknowledge() and "was acknowledged by sobrien" in state.error and state.message == ""
    with sessions() as session:
        assert table_counts(session) == counts


def test_each_viewer_sees_their_programs_and_a_stranger_reads_an_error_not_a_traceback(
    demo_with_alarms: str, sessions: sessionmaker[Session]
) -> None:
    member = state_for(demo_with_alarms, sessions, "bnovak", ("pipeline", "scheduler"), metrics=["strehl_percent"])
    exposures = set(member.points["exposure"])
    assert exposures and all(name.startswith(("24.1_", "25_")) for name in exposures)
    assert set(member.alarm_log["where"]) <= exposures
    outsider = state_for(demo_with_alarms, sessions, "pkowalski", ("usint",))
    assert outsider.metrics == [] and outsider.points.empty and outsider.summary.startswith("No metric to show")
    stranger = state_for(demo_with_alarms, sessions, "nobody", ())
    assert stranger.error == "nobody is not a known user and may not act"
    assert stranger.points.empty and stranger.acknowledge_refusal.startswith("nobody is not an obslab user")


def test_a_night_is_typed_either_way() -> None:
    assert night_of("first night", " 20261119 ") == night_of("first night", "2026-11-19") is not None
    assert night_of("first night", "") is None
    with pytest.raises(InvalidInputError, match="first night: '2026' is not allowed"):
        night_of("first night", "2026")


def test_the_page_builds_and_shows_the_selected_alarm_escaped(
    demo_with_alarms: str, sessions: sessionmaker[Session]
) -> None:
    from obslab.dashboards.trending import TrendingView, figures

    state = state_for(demo_with_alarms, sessions, metrics=["strehl_percent"], show_acknowledged=True)
    view = TrendingView(state=state)
    assert view.__panel__() is not None and view.acknowledge.disabled
    chosen = int(state.alarm_log[state.alarm_log["rule"] == RULE]["id"].iloc[0])
    state.select_alarm(chosen)
    assert view.acknowledge.label == f"Acknowledge alarm {chosen}" and not view.acknowledge.disabled
    shown = view._selected(state.selected_alarm, state.alarm_log).object
    assert "&lt;b&gt;check the loop&lt;/b&gt;" in shown and "<b>check" not in shown
    assert len(figures(state.points, state.nights, state.markers, state.units)) == 1
    state.until = "2026-13-01"  # refused: nothing to draw, and the page must not fail drawing nothing
    assert state.error and state.units == {} and figures(state.points, state.nights, state.markers, state.units) is None
