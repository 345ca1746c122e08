"""Trending read model: a metric's points in time as the viewer may see them, scope, nights, alarms, markers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from obslab.access import find_user
from obslab.configs.service import record_configuration
from obslab.errors import InvalidInputError
from obslab.observing.alarm_rules import load_alarm_rules
from obslab.observing.alarms import acknowledge
from obslab.observing.models import Alarm, Exposure, Metric
from obslab.observing.pipeline.executors import ThreadExecutor
from obslab.observing.pipeline.runner import RunOptions, run_night
from obslab.observing.programs import add_member
from obslab.observing.trends import config_markers, metric_names, metric_series, per_night, trend_scopes
from obslab.users import add_user
from tests.helpers.pipeline_night import NIGHT, NightFiles, ingest, write_night
from tests.helpers.support import fixed_clock

RULES = """
[[rule]]
name = "strehl-low"
metric = "strehl_percent"
notify = ["staff"]
outside = [50.0, 100.0]

[[rule]]
name = "strehl-low-in-sr"
metric = "strehl_percent"
filter = "Sr"
notify = ["staff"]
outside = [50.0, 100.0]
"""
NIGHT_DATE = date(2026, 12, 5)
#: The camera's gain changed between the two science exposures (02:10 and 02:15 UTC).
CHANGE = datetime(2026, 12, 6, 2, 12, tzinfo=UTC)


@pytest.fixture
def night(sessions: sessionmaker[Session], tmp_path: Path) -> NightFiles:
    """Two ROBO-CAM versions (the second from between the science exposures), the night reduced with alarm rules."""
    with sessions() as session, session.begin():
        for name, roles in {"root": ["admin"], "sara": ["staff"], "ann": ["usint"], "olaf": ["usint"]}.items():
            add_user(session, name, roles, email=f"{name}@obs.example", now=fixed_clock)
        root = find_user(session, "root")
        camera = {"wheel-1": {"filter": "Si"}, "wheel-2": {"filter": "Sr"}}
        for number, (start, gain) in enumerate(((CHANGE - timedelta(days=30), 300), (CHANGE, 200))):
            items = camera | {"camera": {"em_gain": gain}}
            record_configuration(
                session, root, "ROBO-CAM", items, valid_from=start, seen_version=number, comment=f"gain {gain}"
            )
    files = write_night(tmp_path / "raw", science_frames=30)
    ingest(sessions, files.folder)
    rules = (tmp_path / "rules.toml", RULES)
    rules[0].write_text(rules[1])
    pool = ThreadExecutor(2)
    try:
        options = RunOptions(alarm_rules=load_alarm_rules(rules[0]))
        run_night(sessions, NIGHT, pool, products_dir=tmp_path / "products", options=options)
    finally:
        pool.close()
    with sessions() as session, session.begin():
        add_member(session, find_user(session, "root"), "4", "ann", now=fixed_clock)
    return files


def test_points_in_time_order_with_scope_alarms_and_night_medians(
    sessions: sessionmaker[Session], night: NightFiles
) -> None:
    with sessions() as session:
        sara = find_user(session, "sara")
        series = metric_series(session, sara, "strehl_percent")
        stored = dict(session.execute(select(Exposure.name, Exposure.started_at)).all())
    assert [p.exposure for p in series.points] == list(night.science)  # 02:10 then 02:15
    first, second = series.points
    assert (first.at, second.at) == (stored[night.science[0]], stored[night.science[1]])
    assert (first.filter_name, second.filter_name) == ("Si", "Sr") and first.instrument == "ROBO-CAM"
    assert first.unit == "%" and series.unit == "%" and first.night == NIGHT_DATE
    # Both fell below 50 %: the rule in every scope fired on both, the Sr one on the Sr exposure only.
    assert first.alarm_rules == ("strehl-low",) and second.alarm_rules == ("strehl-low", "strehl-low-in-sr")
    assert sorted((a.rule, a.exposure) for a in series.alarms) == sorted(
        [("strehl-low", night.science[0]), ("strehl-low", night.science[1]), ("strehl-low-in-sr", night.science[1])]
    )
    assert all(
        a.values == (round(p.value, 6),) for p in series.points for a in series.alarms if a.metric_id == p.metric_id
    )
    (summary,) = series.nights
    assert summary.night == NIGHT_DATE and summary.count == 2 and summary.alarmed == 2
    assert summary.median == pytest.approx((first.value + second.value) / 2)
    assert series.instruments == ("ROBO-CAM",)
    assert series.as_dict()["points"][1]["alarmed"] is True

    with sessions() as session:
        in_sr = metric_series(session, sara, "strehl_percent", filter_name="Sr", camera_mode="0")
        mode_6 = metric_series(session, sara, "strehl_percent", instrument="ROBO-CAM", camera_mode="0")
    assert [p.exposure for p in in_sr.points] == [night.science[1]]
    assert [a.rule for a in in_sr.alarms] == ["strehl-low", "strehl-low-in-sr"]  # only the alarms of points shown
    assert len(mode_6.points) == 2


def test_a_nights_own_metric_sits_mid_night_and_follows_the_instrument_not_a_filter(
    sessions: sessionmaker[Session], night: NightFiles
) -> None:
    with sessions() as session:
        sara = find_user(session, "sara")
        series = metric_series(session, sara, "seeing_median_arcsec")
        spans = session.execute(select(Exposure.started_at, Exposure.ended_at)).all()
        stamped = session.scalar(select(Metric.measured_at).where(Metric.name == "seeing_median_arcsec"))
        with_instrument = metric_series(session, sara, "seeing_median_arcsec", instrument="ROBO-CAM")
        with_filter = metric_series(session, sara, "seeing_median_arcsec", filter_name="Si")
    (point,) = series.points
    first, last = min(s for s, _ in spans), max(e for _, e in spans)
    assert point.exposure is None and point.filter_name is None and point.instrument is None
    assert point.at == first + (last - first) / 2 and point.measured_at == stamped != point.at  # the run's time
    assert series.nights[0].at == point.at and series.instruments == ("ROBO-CAM",)
    assert len(with_instrument.points) == 1 and with_filter.points == ()


def test_each_viewer_sees_the_points_of_their_programs_and_their_nights(
    sessions: sessionmaker[Session], night: NightFiles
) -> None:
    with sessions() as session:
        ann, olaf = find_user(session, "ann"), find_user(session, "olaf")
        anns = metric_series(session, ann, "strehl_percent")
        assert [p.exposure for p in anns.points] == [night.science[0]]  # program 4's, not 24.1's
        assert [a.exposure for a in anns.alarms] == [night.science[0]]
        assert len(metric_series(session, ann, "seeing_median_arcsec").points) == 1  # her night's own value
        assert trend_scopes(session, ann)["filter_name"] == ["Si", "Sr"]  # with her night's flats in Sr
        assert metric_names(session, olaf) == [] and trend_scopes(session, olaf)["instrument"] == []
        with pytest.raises(InvalidInputError, match=r"metric: 'strehl_percent' is not allowed; expected a metric"):
            metric_series(session, olaf, "strehl_percent")


def test_refusals_name_the_field_the_value_and_what_is_allowed(
    sessions: sessionmaker[Session], night: NightFiles
) -> None:
    with sessions() as session:
        sara = find_user(session, "sara")
        with pytest.raises(InvalidInputError, match=r"metric: 'strehl' is not allowed; expected one of .*strehl_perc"):
            metric_series(session, sara, "strehl")
        with pytest.raises(InvalidInputError, match=r"since: '20261206' is not allowed; .*on or before until \(2026"):
            metric_series(session, sara, "strehl_percent", since=date(2026, 12, 6), until=NIGHT_DATE)
        with pytest.raises(InvalidInputError, match=r"filter_name: 'V' is not allowed; expected one of Si, Sr, or"):
            metric_series(session, sara, "strehl_percent", filter_name="V")
        with pytest.raises(InvalidInputError, match=r"instrument: 'VIRUS' is not allowed; expected one of ROBO-CAM"):
            metric_series(session, sara, "strehl_percent", instrument="VIRUS")
        # A range without the night: nothing, and nothing to summarise.
        later = metric_series(session, sara, "strehl_percent", since=date(2026, 12, 6))
        assert later.points == () and later.nights == () and later.alarms == () and later.span is None
        assert len(metric_series(session, sara, "strehl_percent", since=NIGHT_DATE, until=NIGHT_DATE).points) == 2


def test_markers_are_the_current_changes_in_the_range_saying_what_changed(
    sessions: sessionmaker[Session], night: NightFiles
) -> None:
    with sessions() as session, session.begin():
        sara = find_user(session, "sara")
        series = metric_series(session, sara, "strehl_percent")
        (marker,) = config_markers(session, series.instruments, *series.span)
        assert (marker.label, marker.valid_from) == ("ROBO-CAM v2", CHANGE)
        assert marker.what == "gain 200 (camera em_gain 300 → 200)"
        assert [m.version_number for m in config_markers(session, ["ROBO-CAM"], None, None)] == [1, 2]
        assert config_markers(session, ["ROBO-CAM"], CHANGE + timedelta(seconds=1), None) == []
        assert config_markers(session, ["VIRUS"], None, None) == []
        # Acknowledged alarms stay in the series with who acknowledged them.
        alarm = session.scalar(select(Alarm).where(Alarm.rule == "strehl-low-in-sr"))
        acknowledge(session, find_user(session, "root"), alarm.id, now=fixed_clock)
    with sessions() as session:
        (seen,) = [a for a in metric_series(session, sara, "strehl_percent").alarms if a.id == alarm.id]
    assert seen.acknowledged_by == "root" and seen.acknowledged_at is not None


def test_per_night_takes_each_nights_median_and_count() -> None:
    from obslab.observing.trends import TrendPoint

    def point(n: int, night: date, value: float, alarmed: bool = False) -> TrendPoint:
        at = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=n)
        return TrendPoint(n, at, at, value, "", None, night, None, None, None, ("r",) if alarmed else ())

    a, b = date(2026, 1, 1), date(2026, 1, 2)
    points = [point(0, a, 3.0), point(1, a, 1.0, True), point(2, a, 2.0), point(30, b, 5.0), point(31, b, 7.0)]
    first, second = per_night(points)
    assert (first.median, first.count, first.alarmed, first.at) == (2.0, 3, 1, points[1].at)
    assert (second.median, second.count, second.alarmed) == (6.0, 2, 0)
