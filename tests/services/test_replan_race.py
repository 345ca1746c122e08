"""Schedulers re-planning the same night at once, in separate processes: one plan per race, the others told who won."""

from __future__ import annotations

import multiprocessing
from collections import defaultdict

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from obslab.audit import AuditEvent
from obslab.scheduling.models import Schedule
from obslab.scheduling.types import ScheduleStatus
from obslab.users import add_user
from tests.helpers.replan_worker import replan_rounds
from tests.helpers.schedule_world import NIGHT, add_requests
from tests.helpers.support import fixed_clock

pytestmark = pytest.mark.slow
SCHEDULERS = ("nina", "omar", "pia")
ROUNDS = 5


def test_racing_replans_store_one_plan_per_race_and_refuse_the_others_naming_who_and_when(
    migrated_url: str, sessions: sessionmaker[Session]
) -> None:
    with sessions() as session, session.begin():
        for name in SCHEDULERS:
            add_user(session, name, ["scheduler"], now=fixed_clock)
        add_requests(session)
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, context.Pool(len(SCHEDULERS)) as pool:
        start = manager.Barrier(len(SCHEDULERS))
        logs = pool.starmap(replan_rounds, [(migrated_url, who, ROUNDS, start) for who in SCHEDULERS])
    entries = [entry for log in logs for entry in log]
    assert not [e for e in entries if e.get("code") == "raw"], [e for e in entries if e.get("code") == "raw"]

    by_round: dict[int, list[dict]] = defaultdict(list)
    for entry in entries:
        by_round[entry["round"]].append(entry)
    for number, racers in sorted(by_round.items()):
        assert {e["seen"] for e in racers} == {number}, f"round {number}: the racers saw different versions"
        winners = [e for e in racers if e["accepted"]]
        assert len(winners) == 1, f"round {number}: {len(winners)} plans stored: {racers}"
        winner = winners[0]
        assert winner["version"] == number + 1
        for loser in (e for e in racers if not e["accepted"]):
            assert loser["code"] == "stale", loser
            assert f"was stored as version {number + 1} by {winner['who']} at 20" in loser["message"], loser
            assert f"you saw version {number}" in loser["message"], loser

    with sessions() as session:
        stored = list(
            session.scalars(select(Schedule).where(Schedule.night == NIGHT).order_by(Schedule.version_number))
        )
        assert [s.version_number for s in stored] == list(range(1, ROUNDS + 1))
        assert [s.status for s in stored] == [ScheduleStatus.SUPERSEDED] * (ROUNDS - 1) + [ScheduleStatus.ACTIVE]
        assert [s.parent_id for s in stored] == [None] + [s.id for s in stored[:-1]]
        events = session.scalars(select(AuditEvent.entity_id).where(AuditEvent.entity_type == "schedule")).all()
        assert sorted(events) == [f"{NIGHT}/{n}" for n in range(1, ROUNDS + 1)]
