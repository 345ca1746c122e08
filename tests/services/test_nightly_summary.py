"""The nightly report's numbers, checked against the database; the data fingerprint moves exactly when they may."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from obslab.db import make_engine, make_session_factory
from obslab.observing.models import Alarm, Exposure, Metric, Night, PipelineStage
from obslab.reports.fingerprint import everything_fingerprint, night_fingerprint
from obslab.reports.nightly import nightly_summary
from obslab.scheduling.night import night_geometry
from tests.helpers.support import KITT_PEAK, fixed_clock

NIGHT = date(2026, 11, 19)


@pytest.fixture
def demo(demo_database: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(demo_database)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def writable(writable_demo_database: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(writable_demo_database)
    yield make_session_factory(engine)
    engine.dispose()


def test_counts_and_time_accounting_match_the_database(demo: sessionmaker[Session]) -> None:
    with demo() as session:
        summary = nightly_summary(session, KITT_PEAK, NIGHT)
        exposures = session.scalars(select(Exposure).join(Night).where(Night.night_date == NIGHT)).all()
        stages = session.scalars(select(PipelineStage).join(Night).where(Night.night_date == NIGHT)).all()
        alarms = session.scalars(select(Alarm).join(Night).where(Night.night_date == NIGHT)).all()
        seeing = session.scalars(
            select(Metric.value).join(Night).where(Night.night_date == NIGHT, Metric.name == "seeing_arcsec")
        ).all()
    assert summary.exposures_by_kind == dict(Counter(e.kind.value for e in exposures)) and len(exposures) > 10
    science = sorted((e.started_at, e.ended_at) for e in exposures if e.kind.value == "science")
    assert summary.science_by_program == dict(Counter(e.program for e in exposures if e.kind.value == "science"))
    assert all(a[1] <= b[0] for a, b in zip(science, science[1:], strict=False))  # the demo never overlaps them
    shutter = sum((end - start).total_seconds() for start, end in science) / 3600
    assert summary.accounting.open_shutter_hours == pytest.approx(shutter, abs=1e-9) and shutter > 0
    geometry = night_geometry(KITT_PEAK, NIGHT)
    dark = geometry.dark("astronomical")
    assert dark is not None and (summary.dark_start, summary.dark_end) == dark
    assert summary.accounting.dark_hours == pytest.approx((dark[1] - dark[0]).total_seconds() / 3600)
    assert summary.accounting.night_hours == pytest.approx((geometry.sunrise - geometry.sunset).total_seconds() / 3600)
    in_dark = [(max(s, dark[0]), min(e, dark[1])) for s, e in sorted((e.started_at, e.ended_at) for e in exposures)]
    busy = sum(max(timedelta(0), e - s).total_seconds() for s, e in in_dark) / 3600
    assert summary.accounting.idle_dark_hours == pytest.approx(summary.accounting.dark_hours - busy, abs=1e-6)
    assert summary.stages_by_state == dict(Counter(s.state.value for s in stages))
    assert summary.stages_retried == sum(1 for s in stages if s.retries)
    assert sorted(v for _, v, _ in summary.seeing) == sorted(seeing) and len(summary.strehl) > 0
    assert len(summary.alarms) == len(alarms)


def test_a_night_with_nothing_recorded_has_zeros_not_errors(demo: sessionmaker[Session]) -> None:
    with demo() as session:
        empty = nightly_summary(session, KITT_PEAK, date(2025, 6, 1))
    assert empty.exposures_by_kind == {} and empty.accounting.open_shutter_hours == 0.0
    assert empty.accounting.idle_dark_hours == pytest.approx(empty.accounting.dark_hours) and empty.seeing == []


def test_the_fingerprint_moves_when_the_nights_data_changes_and_only_then(writable: sessionmaker[Session]) -> None:
    with writable() as session:
        before = night_fingerprint(session, KITT_PEAK, NIGHT)
        other_night = night_fingerprint(session, KITT_PEAK, NIGHT + timedelta(days=1))
        assert night_fingerprint(session, KITT_PEAK, NIGHT) == before and other_night != before
        everything = everything_fingerprint(session)
    with writable.begin() as session:  # a metric of the night rewritten, as a rerun would
        metric = session.scalars(select(Metric).join(Night).where(Night.night_date == NIGHT)).first()
        metric.value += 0.5
    with writable() as session:
        after_metric = night_fingerprint(session, KITT_PEAK, NIGHT)
        assert after_metric != before and everything_fingerprint(session) != everything
        assert night_fingerprint(session, KITT_PEAK, NIGHT + timedelta(days=1)) == other_night
    with writable.begin() as session:  # a stage of the night run again
        stage = session.scalars(select(PipelineStage).join(Night).where(Night.night_date == NIGHT)).first()
        stage.retries += 1
    with writable() as session:
        after_stage = night_fingerprint(session, KITT_PEAK, NIGHT)
    assert after_stage not in (before, after_metric)
    alarmed = NIGHT + timedelta(days=1)  # the demo's poor seeing raises its alarms on the next night
    with writable.begin() as session:  # an alarm of that night acknowledged
        alarm = session.scalars(select(Alarm).join(Night).where(Night.night_date == alarmed)).first()
        alarm.acknowledged_at = fixed_clock()
    with writable() as session:
        assert night_fingerprint(session, KITT_PEAK, alarmed) != other_night
        assert night_fingerprint(session, KITT_PEAK, NIGHT) == after_stage
