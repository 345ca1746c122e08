"""Alarms raised as the pipeline writes metrics: recorded with their values, announced once, acknowledged once."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from obslab.access import find_user
from obslab.audit import AuditEvent
from obslab.errors import ConflictError, NotFoundError
from obslab.notify import Notification
from obslab.observing.alarm_rules import AlarmRules, load_alarm_rules
from obslab.observing.alarms import acknowledge, list_alarms
from obslab.observing.models import Alarm, Metric
from obslab.observing.pipeline.executors import ThreadExecutor
from obslab.observing.pipeline.runner import RunOptions, RunSummary, run_night
from obslab.observing.programs import add_member
from obslab.observing.redo import force_redo
from obslab.users import add_user
from tests.helpers.pipeline_night import NIGHT, NightFiles, ingest, write_night
from tests.helpers.support import fixed_clock

RULES = """
[[rule]]
name = "strehl-low"
metric = "strehl_percent"
notify = ["staff"]
message = "Strehl below half."
outside = [50.0, 100.0]

[[rule]]
name = "strehl-low-in-sr"
metric = "strehl_percent"
filter = "Sr"
notify = ["ann"]
outside = [50.0, 100.0]

[[rule]]
name = "seeing-fine"
metric = "seeing_arcsec"
notify = ["staff"]
outside = [0.0, 5.0]
"""


@pytest.fixture
def rules(tmp_path: Path) -> AlarmRules:
    path = tmp_path / "alarms.toml"
    path.write_text(RULES)
    return load_alarm_rules(path)


@pytest.fixture
def night(sessions: sessionmaker[Session], tmp_path: Path) -> NightFiles:
    with sessions() as session, session.begin():
        for name, roles in {"root": ["admin"], "sara": ["staff"], "ann": ["usint"]}.items():
            add_user(session, name, roles, email=f"{name}@obs.example", now=fixed_clock)
        add_user(session, "tom", ["staff"], email=None, now=fixed_clock)  # no address: not written to
    files = write_night(tmp_path / "raw", science_frames=30)
    ingest(sessions, files.folder)
    with sessions() as session, session.begin():
        add_member(session, find_user(session, "root"), "4", "ann", now=fixed_clock)
    return files


def run(sessions: sessionmaker[Session], tmp_path: Path, rules: AlarmRules) -> RunSummary:
    pool = ThreadExecutor(2)
    try:
        return run_night(
            sessions, NIGHT, pool, products_dir=tmp_path / "products", options=RunOptions(alarm_rules=rules)
        )
    finally:
        pool.close()


def test_rules_fire_on_written_metrics_in_scope_with_their_values_and_are_announced_once(
    sessions: sessionmaker[Session], tmp_path: Path, night: NightFiles, rules: AlarmRules
) -> None:
    run(sessions, tmp_path, rules)
    with sessions() as session:
        raised = {(a.rule, a.exposure_id) for a in session.scalars(select(Alarm))}
        by_rule = sorted(rule for rule, _ in raised)
        assert by_rule == ["strehl-low", "strehl-low", "strehl-low-in-sr"]  # the seeing, 1.2", is in its range
        strehl = session.scalar(select(Alarm).where(Alarm.rule == "strehl-low-in-sr"))
        value = session.scalar(select(Metric.value).where(Metric.id == strehl.metric_id))
        assert strehl.values == [round(value, 6)] and strehl.message == ""
        mail = session.scalars(select(Notification).where(Notification.kind == "alarm")).all()
        assert sorted(tuple(n.recipients) for n in mail) == [
            ("ann@obs.example",),
            ("sara@obs.example",),
            ("sara@obs.example",),
        ]
        assert all("strehl_percent of" in n.subject for n in mail)

    # A redo writes the metric again: evaluated again, but the alarm and its message are not repeated.
    with sessions() as session, session.begin():
        force_redo(session, find_user(session, "root"), night.science[1], "strehl", now=fixed_clock)
    again = run(sessions, tmp_path, rules)
    assert [(o.exposure, o.stage) for o in again.outcomes if o.outcome == "done"] == [(night.science[1], "strehl")]
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Alarm)) == 3
        assert session.scalar(select(func.count()).select_from(Notification).where(Notification.kind == "alarm")) == 3


def test_alarms_are_seen_as_their_exposures_are_and_acknowledged_once_audited(
    sessions: sessionmaker[Session], tmp_path: Path, night: NightFiles, rules: AlarmRules
) -> None:
    run(sessions, tmp_path, rules)
    with sessions() as session:
        anns = list_alarms(session, find_user(session, "ann"))
        assert {a.exposure for a in anns} == {night.science[0]}  # program 4's only
        other = next(a for a in list_alarms(session, find_user(session, "sara")) if a.exposure == night.science[1])
    with sessions() as session, session.begin():
        with pytest.raises(NotFoundError, match="that you may see"):
            acknowledge(session, find_user(session, "ann"), other.id, now=fixed_clock)
        acknowledge(session, find_user(session, "ann"), anns[0].id, now=fixed_clock)
    with sessions() as session, session.begin():
        with pytest.raises(ConflictError, match=f"alarm {anns[0].id} was acknowledged by ann"):
            acknowledge(session, find_user(session, "sara"), anns[0].id, now=fixed_clock)
    with sessions() as session:
        assert anns[0].id not in {a.id for a in list_alarms(session, find_user(session, "ann"))}
        assert anns[0].id in {a.id for a in list_alarms(session, find_user(session, "ann"), open_only=False)}
        assert session.scalar(select(AuditEvent.actor_name).where(AuditEvent.action == "alarm.acknowledged")) == "ann"
