"""The nightly report's numbers, checked against the database; the data fingerprint moves exactly when they may."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from obslab.access import find_user
from obslab.db import make_engine, make_session_factory
from obslab.observing.losses import record_loss
from obslab.observing.models import Alarm, Exposure, Metric, Night, NightLoss, PipelineStage
from obslab.observing.types import StageState
from obslab.reports.fingerprint import everything_fingerprint, night_fingerprint
from obslab.reports.nightly import nightly_summary
from obslab.scheduling.models import Alert, ObservingRequest, Schedule, ScheduledBlock
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
    with writable.begin() as session:  # a loss logged days later, by the night operator
        dark = night_geometry(KITT_PEAK, NIGHT).dark("astronomical")
        operator = find_user(session, "ayamamoto")
        late = lambda: fixed_clock() + timedelta(days=2)  # noqa: E731
        record_loss(session, operator, KITT_PEAK, NIGHT, dark[0], dark[0] + timedelta(minutes=9), "weather", now=late)
    with writable() as session:
        assert night_fingerprint(session, KITT_PEAK, NIGHT) != after_stage


def _hours_in(spans: list[tuple[datetime, datetime]], start: datetime, end: datetime) -> float:
    return sum(max(timedelta(0), min(e, end) - max(s, start)).total_seconds() for s, e in spans) / 3600


@pytest.mark.parametrize("offset", [-1, 0, 1])  # the demo's technical loss, a night with none, its weather loss
def test_the_plan_against_what_was_taken_and_the_losses_by_cause(demo: sessionmaker[Session], offset: int) -> None:
    night = NIGHT + timedelta(days=offset)
    with demo() as session:
        summary = nightly_summary(session, KITT_PEAK, night)
        science = session.scalars(
            select(Exposure.name).join(Night).where(Night.night_date == night, Exposure.kind == "science")
        ).all()
        losses = session.scalars(select(NightLoss).join(Night).where(Night.night_date == night)).all()
        blocks = session.scalars(
            select(ScheduledBlock).join(Schedule).where(Schedule.night == night, Schedule.status == "active")
        ).all()
    plan = summary.plan
    assert plan.plan_version == 1 and len(plan.blocks) == len(blocks) and plan.unplanned == ()
    observed = [block for block in plan.blocks if block.outcome == "observed"]
    assert sorted(name for block in observed for name in block.exposures) == sorted(science) and science
    missed = [block for block in plan.blocks if block.outcome != "observed"]
    assert len(missed) == len(losses) == (0 if offset == 0 else 1)
    for block, loss in zip(missed, losses, strict=True):
        assert block.outcome == "not observed" and block.reason == f"{loss.cause.value}: {loss.note}"
        assert loss.start < block.end and block.start < loss.end
    assert [(x["cause"], x["note"]) for x in summary.losses] == [(x.cause.value, x.note) for x in losses]
    dark = (summary.dark_start, summary.dark_end)
    expected = {x.cause.value: _hours_in([(x.start, x.end)], *dark) for x in losses}
    assert summary.accounting.lost_hours == pytest.approx(expected) and all(expected.values())
    assert summary.accounting.overhead_hours == pytest.approx(
        summary.accounting.idle_dark_hours - sum(expected.values())
    )


def test_a_failed_reduction_and_a_too_replan_are_the_reasons_given(writable: sessionmaker[Session]) -> None:
    with writable.begin() as session:
        first = session.scalar(select(Schedule).where(Schedule.night == NIGHT, Schedule.status == "active"))
        blocks = sorted(first.blocks, key=lambda b: b.start)
        failed_block, replan_at = blocks[0], blocks[len(blocks) // 2].start - timedelta(minutes=5)
        target = session.get(ObservingRequest, failed_block.request_id).target_name
        taken = session.scalar(
            select(Exposure).join(Night).where(Night.night_date == NIGHT, Exposure.target_name == target)
        )
        for stage in session.scalars(select(PipelineStage).where(PipelineStage.exposure_id == taken.id)):
            stage.state, stage.error = StageState.FAILED, "no star found"
        alert = Alert(key="ivo://test/too#1", role="observation", stream="test", received_at=replan_at)
        session.add(alert)
        session.flush()
        too = ObservingRequest(
            name="TOO-1", target_name="GRB", ra_deg=10.0, dec_deg=20.0, duration_s=600.0, alert_id=alert.id
        )
        session.add(too)
        session.flush()
        first.status = "superseded"
        replan = Schedule(
            night=NIGHT,
            version_number=2,
            reason="too",
            parent_id=first.id,
            planned_from=replan_at,
            night_start=first.night_start,
            night_end=first.night_end,
            twilight=first.twilight,
        )
        replan.blocks = [
            ScheduledBlock(request_id=b.request_id, start=b.start, end=b.end) for b in blocks if b.start < replan_at
        ] + [ScheduledBlock(request_id=too.id, start=replan_at, end=replan_at + timedelta(minutes=10))]
        session.add(replan)
    with writable() as session:
        plan = nightly_summary(session, KITT_PEAK, NIGHT).plan
    assert plan.plan_version == 2
    by_request = {block.request: block for block in plan.blocks}
    failed = [b for b in plan.blocks if b.outcome == "failed"]
    assert [b.target for b in failed] == [target] and failed[0].reason.endswith("failed: no star found")
    dropped = [b for b in plan.blocks if b.outcome == "dropped"]
    assert len(dropped) == len([b for b in blocks if b.start >= replan_at]) > 0
    assert all(b.reason.startswith("ToO for ivo://test/too#1: re-planned at") for b in dropped)
    assert by_request["TOO-1"].outcome == "not observed" and by_request["TOO-1"].plan_version == 2
    # The exposures taken for the dropped blocks are now outside the plan, and said to be.
    assert len(plan.unplanned) == len(dropped)
