"""The demo observatory: big enough, complete, deterministic and idempotent."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import ephem
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from obslab.access import Role, User, user_roles
from obslab.catalog.models import DutyShift, Observation, Revision, SignOff
from obslab.catalog.types import ObservationStatus, RevisionKind, SignOffState
from obslab.cli import main
from obslab.configs.models import InstrumentConfiguration
from obslab.db import make_engine, make_session_factory
from obslab.demo import load_demo, reduce_demo_nights
from obslab.notify import Notification
from obslab.observing.alarm_rules import default_alarm_rules
from obslab.observing.models import Alarm, DataProduct, Metric, Night, PipelineStage
from obslab.observing.naming import parse_name
from obslab.observing.types import ExposureKind, StageState
from obslab.roles import STANDARD_ROLES
from obslab.scheduling.models import Alert, ObservingRequest, Schedule
from obslab.scheduling.service import active_schedule, explain
from obslab.scheduling.views import night_skymap
from obslab.settings import Settings
from tests.conftest import DatabaseFactory
from tests.helpers.support import FIXED_NOW, KITT_PEAK, fixed_clock, table_counts


def _observation_fingerprint(session: Session) -> list[tuple[int, str, float, float]]:
    return [
        tuple(row)
        for row in session.execute(
            select(Observation.obsid, Observation.target_name, Observation.ra_deg, Observation.dec_deg).order_by(
                Observation.obsid
            )
        )
    ]


def test_catalog_is_large_and_uses_real_bright_stars(demo_sessions: sessionmaker[Session]) -> None:
    with demo_sessions() as session:
        assert session.scalar(select(func.count()).select_from(Observation)) >= 500
        by_name = {row.target_name: row for row in session.scalars(select(Observation))}
    on_stars = 0
    for name, body in ephem.stars.stars.items():
        if name in by_name:
            body.compute("2000/1/1")
            assert abs(by_name[name].ra_deg - float(body.a_ra) * 180 / 3.141592653589793) < 0.01, name
            assert abs(by_name[name].dec_deg - float(body.a_dec) * 180 / 3.141592653589793) < 0.01, name
            on_stars += 1
    assert on_stars >= 50


def test_every_signoff_state_and_revision_kind_is_present(demo_sessions: sessionmaker[Session]) -> None:
    with demo_sessions() as session:
        assert set(session.scalars(select(SignOff.state).distinct())) == set(SignOffState)
        assert set(session.scalars(select(Revision.kind).distinct())) == set(RevisionKind)
        revisions = session.scalars(select(Revision)).all()
        for revision in revisions:
            assert len(revision.signoffs) == 5, revision.label
        numbers: dict[int, list[int]] = {}
        for revision in sorted(revisions, key=lambda r: (r.obsid, r.number)):
            numbers.setdefault(revision.obsid, []).append(revision.number)
        assert all(found == list(range(1, len(found) + 1)) for found in numbers.values())
        assert any(revision.superseded_by_id is not None for revision in revisions)


def test_approved_flag_follows_the_revision_history(demo_sessions: sessionmaker[Session]) -> None:
    with demo_sessions() as session:
        approved_count = 0
        for observation in session.scalars(select(Observation)):
            decisive = [
                r.kind
                for r in observation.revisions
                if r.kind in (RevisionKind.APPROVE_AS_IS, RevisionKind.REMOVE_APPROVAL)
            ]
            expected = bool(decisive) and decisive[-1] is RevisionKind.APPROVE_AS_IS
            assert observation.approved is expected, observation.obsid
            approved_count += expected
        assert approved_count > 0


def test_users_hold_every_role(demo_sessions: sessionmaker[Session]) -> None:
    with demo_sessions() as session:
        held = set(session.scalars(select(Role.name).join(user_roles).join(User).distinct()))
        assert held == set(STANDARD_ROLES)
        assert session.scalar(select(func.count()).select_from(User)) >= len(STANDARD_ROLES)


def test_last_three_nights_are_raw_files_ingested_and_reduced(demo_sessions: sessionmaker[Session]) -> None:
    local_today = FIXED_NOW.astimezone(KITT_PEAK.zone).date()
    with demo_sessions() as session:
        nights = session.scalars(select(Night).order_by(Night.night_date)).all()
        assert [night.night_date for night in nights][-3:] == [local_today - timedelta(days=d) for d in (3, 2, 1)]
        for night in nights[-3:]:
            assert night.notes  # the observer's note, kept by ingest on the night the demo made
            folder = {Path(f.path).parent for e in night.exposures for f in e.files}
            assert [p.name for p in folder] == [night.night_date.strftime("%Y%m%d")]
            science = [e for e in night.exposures if e.kind is ExposureKind.SCIENCE]
            assert len(science) >= 8
            assert {e.kind for e in night.exposures} >= {ExposureKind.DARK, ExposureKind.FLAT, ExposureKind.SEEING}
            for exposure in night.exposures:
                assert exposure.started_at.tzinfo is not None and exposure.started_at <= exposure.ended_at
                assert (exposure.started_at < exposure.ended_at) is (exposure.kind is not ExposureKind.BIAS)
                assert exposure.configuration_id is not None  # stamped by ingest
                [file] = exposure.files
                assert parse_name(Path(file.path).name).exposure == exposure.name
                assert hashlib.sha256(Path(file.path).read_bytes()).hexdigest() == file.sha256
            stages = session.scalars(select(PipelineStage).where(PipelineStage.night_id == night.id)).all()
            assert len(stages) == 2 + 3 * len(science)
            assert {stage.state for stage in stages} == {StageState.DONE}, [(s.stage, s.error) for s in stages]
            products = session.scalars(select(DataProduct).where(DataProduct.night_id == night.id)).all()
            assert {p.stage for p in products} == {"calibration", "seeing", "stack", "strehl", "preview"}
            assert all(Path(p.path).is_file() for p in products)
            metrics = session.scalars(select(Metric).where(Metric.night_id == night.id)).all()
            by_name = {(m.name, m.exposure_id): m for m in metrics}
            for exposure in science:
                strehl = by_name[("strehl_percent", exposure.id)]
                assert strehl.source == "strehl" and 0 < strehl.value < 100
            seeing = [m for m in metrics if m.name == "seeing_arcsec"]
            assert seeing and all(m.source == "seeing" and 0.3 < m.value < 4 for m in seeing)


def test_the_reduced_demo_raises_a_few_alarms_from_the_packaged_rules_each_announced_once(
    demo_sessions: sessionmaker[Session],
) -> None:
    rules = {rule.name: rule for rule in default_alarm_rules().rules}
    with demo_sessions() as session:
        written = set(session.scalars(select(Metric.name).distinct()))
        assert {rule.metric for rule in rules.values()} <= written  # no rule waits on a metric never written
        alarms = session.scalars(select(Alarm)).all()
        assert 1 <= len(alarms) <= 10, [(a.rule, a.values) for a in alarms]  # something to show, not noise
        for alarm in alarms:
            metric = session.get_one(Metric, alarm.metric_id)
            assert alarm.metric_name == metric.name == rules[alarm.rule].metric
            assert alarm.values[-1] == pytest.approx(metric.value)  # the value that raised it is the metric's
            assert rules[alarm.rule].evaluate(alarm.values)[0]  # and the recorded values do raise it
        mails = session.scalars(select(Notification.dedupe_key).where(Notification.kind == "alarm")).all()
        assert sorted(mails) == sorted(f"alarm:{a.rule}:{a.metric_id}" for a in alarms)


def test_configuration_history_has_versions_and_a_correction(demo_sessions: sessionmaker[Session]) -> None:
    with demo_sessions() as session:
        versions = session.scalars(
            select(InstrumentConfiguration)
            .where(InstrumentConfiguration.instrument == "VIRUS")
            .order_by(InstrumentConfiguration.version_number)
        ).all()
        assert all(len(v.items) > 0 for v in versions)
    assert len(versions) >= 4
    current = [v for v in versions if v.superseded_at is None]
    for earlier, later in zip(current, current[1:], strict=False):
        assert earlier.valid_to == later.valid_from
    assert current[-1].valid_to is None
    assert any(v.superseded_at is not None for v in versions)


def test_duty_roster_is_contiguous_weeks(demo_sessions: sessionmaker[Session]) -> None:
    with demo_sessions() as session:
        shifts = session.scalars(select(DutyShift).order_by(DutyShift.starts_on)).all()
    assert len(shifts) >= 10
    for earlier, later in zip(shifts, shifts[1:], strict=False):
        assert later.starts_on == earlier.ends_on + timedelta(days=1)
    assert all(shift.starts_on.weekday() == 0 for shift in shifts)
    assert any(shift.user_id is None for shift in shifts) and any(shift.user_id is not None for shift in shifts)


def _files(root: Path) -> dict[str, tuple[int, int]]:
    return {str(path): (path.stat().st_mtime_ns, path.stat().st_size) for path in root.rglob("*") if path.is_file()}


@pytest.mark.slow  # loads and reduces the whole demo again (10-20 s)
def test_second_load_changes_no_row_count_and_writes_no_file(migrated_url: str, tmp_path: Path) -> None:
    engine = make_engine(migrated_url)
    sessions = make_session_factory(engine)
    settings = Settings(data_dir=tmp_path, database_url=migrated_url)
    loads = []
    try:
        for _ in range(2):
            with sessions() as session, session.begin():
                loads.append(load_demo(session, site=KITT_PEAK, seed=5, now=fixed_clock, raw_dir=tmp_path / "raw"))
            runs = reduce_demo_nights(sessions, settings, now=fixed_clock)
            with sessions() as session:
                loads.append(table_counts(session))
            loads.append(_files(tmp_path))
            loads.append(sum(run.counts["done"] for run in runs))
    finally:
        engine.dispose()
    first, after_first, files_first, done_first, second, after_second, files_second, done_second = loads
    assert after_second == after_first
    assert files_second == files_first  # not one file rewritten (the mtimes are unchanged)
    assert done_first > 0 and done_second == 0
    assert any(path.endswith(".fits") for path in files_first)
    # The load counts its own rows; the pipeline's stages, products, metrics and alarms (each with its one message
    # in the outbox) come after its commit.
    reduced = sum(after_first[table] for table in ("pipeline_stages", "data_products", "metrics"))
    reduced += 2 * after_first["alarms"]
    assert first.total_inserted == sum(after_first.values()) - after_first["roles"] - reduced
    assert second.total_inserted == 0


@pytest.mark.slow  # loads the whole demo again (4-9 s)
def test_same_seed_same_catalog_other_seed_other_catalog(
    new_database: DatabaseFactory, demo_sessions: sessionmaker[Session]
) -> None:
    from obslab import schema
    from obslab.db import make_engine, make_session_factory

    with demo_sessions() as session:
        reference = _observation_fingerprint(session)
    for seed, same in ((2026, True), (77, False)):
        url = new_database.create()
        schema.upgrade(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        with factory() as session, session.begin():
            load_demo(session, site=KITT_PEAK, seed=seed, now=fixed_clock)
        with factory() as session:
            assert (_observation_fingerprint(session) == reference) is same, seed
        engine.dispose()


@pytest.mark.slow  # loads the whole demo again (4-9 s)
def test_cli_demo_twice_on_a_new_database(migrated_url: str) -> None:
    runner = CliRunner()
    env = {"OBSLAB_DATABASE_URL": migrated_url}
    first = runner.invoke(main, ["demo", "--no-serve"], env=env, catch_exceptions=False)
    assert first.exit_code == 0, first.output
    second = runner.invoke(main, ["demo", "--no-serve"], env=env, catch_exceptions=False)
    assert second.exit_code == 0
    assert "rows added by this run: 0" in second.output
    counts_first = [line for line in first.output.splitlines() if line.startswith("  ") and "rows added" not in line]
    counts_second = [line for line in second.output.splitlines() if line.startswith("  ") and "rows added" not in line]
    assert counts_first == counts_second
    observations = next(line for line in first.output.splitlines() if line.strip().startswith("observations"))
    assert int(observations.split()[-1]) >= 500


def test_cli_demo_leaves_a_real_observatory_alone(migrated_url: str) -> None:
    engine = make_engine(migrated_url)
    with make_session_factory(engine)() as session, session.begin():
        session.add(
            Observation(
                obsid=1,
                sequence_number="1",
                target_name="Real target",
                ra_deg=10.0,
                dec_deg=20.0,
                instrument="ACIS-S",
                obs_type="GO",
                status=ObservationStatus.UNOBSERVED,
                pi_name="Real PI",
                approved_exposure_ks=10.0,
                created_at=datetime(2026, 1, 1, tzinfo=UTC),
            )
        )
    result = CliRunner().invoke(
        main, ["demo", "--no-serve"], env={"OBSLAB_DATABASE_URL": migrated_url}, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert "not the demo: not loading the demo" in result.output
    with make_session_factory(engine)() as session:
        assert session.scalars(select(Observation.target_name)).all() == ["Real target"]
    engine.dispose()


def test_cli_serve_refuses_a_database_behind_the_code(database_url: str) -> None:
    result = CliRunner().invoke(main, ["serve", "--panel"], env={"OBSLAB_DATABASE_URL": database_url})
    assert result.exit_code == 1
    assert "obslab db upgrade" in result.output


def test_a_demo_of_another_seed_is_refused_up_front_and_writes_nothing(demo_database: str) -> None:
    engine = make_engine(demo_database)
    try:
        with make_session_factory(engine)() as session:
            before = table_counts(session)
        result = CliRunner().invoke(
            main, ["demo", "--no-serve", "--seed", "7"], env={"OBSLAB_DATABASE_URL": demo_database}
        )
        with make_session_factory(engine)() as session:
            assert table_counts(session) == before
    finally:
        engine.dispose()
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: this database holds the demo observatory of seed 2026: --seed 2026 tops it up; "
        "seed 7 needs an empty database (set OBSLAB_DATABASE_URL to a new file)"
    ]


def test_the_demo_stores_its_nights_plans_and_takes_its_alerts_through_the_real_ingest(
    demo_sessions: sessionmaker[Session],
) -> None:
    with demo_sessions() as session:
        local_today = FIXED_NOW.astimezone(KITT_PEAK.zone).date()
        nights = [local_today + timedelta(days=k) for k in range(3)]
        observed = [local_today - timedelta(days=k) for k in (3, 2, 1)]  # the plans the recent nights were taken from
        active = dict(session.execute(select(Schedule.night, Schedule.reason).where(Schedule.status == "active")).all())
        assert set(active) == set(nights) | set(observed) and all(active[night] == "initial" for night in observed)
        assert active[local_today] == "too" and active[nights[1]] == active[nights[2]] == "initial"
        alerts = {a.policy or a.status.value: a for a in session.scalars(select(Alert).order_by(Alert.id))}
        assert [a.status.value for a in alerts.values()] == [
            "accepted",
            "duplicate",
            "accepted",
            "rejected",
            "rejected",
            "accepted",
        ]
        assert all(a.received_at <= FIXED_NOW for a in alerts.values())
        # The LVK merger's map is tiled into ranked requests, and tonight's plan takes some of them.
        merger = alerts["lvk-neutron-star-merger"]
        tiled = night_skymap(session, KITT_PEAK, local_today)
        assert tiled is not None and tiled.alert_id == merger.id and merger.format == "gwalert"
        assert [tile["rank"] for tile in tiled.tiles] == list(range(1, len(tiled.tiles) + 1)) and len(tiled.tiles) >= 5
        planned = {b.request_id for b in active_schedule(session, local_today).blocks}
        assert {tile["request"] for tile in tiled.tiles} & planned
        too = session.scalar(select(ObservingRequest).where(ObservingRequest.alert_id == alerts["swift-bat-grb"].id))
        assert too is not None and too.priority == 10
        # The burst is placed in tonight's sky: the re-plan it made observes it.
        answer = explain(session, too.name, local_today)
        assert answer["scheduled"] is True, answer
        assert explain(session, "REQ-0004", nights[2])["schedule_version"] == 1


@pytest.mark.slow  # loads the demo with its raw files (about 10 s)
def test_a_load_while_the_sites_night_is_under_way_keeps_one_active_plan_a_night(
    migrated_url: str, tmp_path: Path
) -> None:
    # 04:00 at Kitt Peak: the alerts arrive during the night under way, whose stored plan the ToO then re-plans.
    at_night = datetime(2026, 11, 21, 11, 0, tzinfo=UTC)
    engine = make_engine(migrated_url)
    try:
        with make_session_factory(engine)() as session, session.begin():
            load_demo(session, site=KITT_PEAK, seed=5, now=lambda: at_night, raw_dir=tmp_path / "raw")
        with make_session_factory(engine)() as session:
            plans = session.execute(select(Schedule.night, Schedule.version_number, Schedule.status)).all()
    finally:
        engine.dispose()
    by_night: dict[object, list[tuple[int, str]]] = {}
    for night, version, status in plans:
        by_night.setdefault(night, []).append((version, status.value))
    for night, versions in by_night.items():
        numbers = sorted(v for v, _ in versions)
        assert numbers == list(range(1, len(numbers) + 1)), night
        assert [s for v, s in sorted(versions)][-1] == "active" and sum(s == "active" for _, s in versions) == 1
    under_way = at_night.astimezone(KITT_PEAK.zone).date() - timedelta(days=1)  # the night of 2026-11-20
    assert len(by_night[under_way]) >= 2  # the plan it began with, and the re-plans the accepted alerts made
