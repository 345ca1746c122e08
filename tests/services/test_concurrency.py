"""Many processes race submissions and sign-offs on the same observations: numbers stay unique, nothing is lost."""

from __future__ import annotations

import multiprocessing
from collections import Counter

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from obslab.audit import AuditEvent
from obslab.catalog.models import Revision, SignOff
from obslab.catalog.types import SignOffState
from tests.helpers.catalog_world import build_world
from tests.helpers.race_worker import AREAS, race

pytestmark = pytest.mark.slow
WORKERS = ("pat", "quinn", "pat", "ops", "acisa", "ops")
ACTIONS = 25


def test_racing_processes_keep_numbers_unique_and_every_accepted_action_recorded(
    migrated_url: str, sessions: sessionmaker[Session]
) -> None:
    with sessions() as session, session.begin():
        world = build_world(session)
    obsids = [world.acis, world.hrc]
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, context.Pool(len(WORKERS)) as pool:
        start, finished = manager.Barrier(len(WORKERS)), manager.list()
        submitters = sum(who not in AREAS for who in WORKERS)
        logs = pool.starmap(
            race,
            [
                (migrated_url, who, obsids, ACTIONS, seed, start, finished, submitters)
                for seed, who in enumerate(WORKERS)
            ],
        )
    entries = [entry for log in logs for entry in log]
    # What each worker did, shown by any failing assertion below (a race is hard to re-run as it was).
    tally = Counter(
        (who, e.get("action", "refused"), e["accepted"], e.get("code", ""))
        for who, log in zip(WORKERS, logs, strict=True)
        for e in log
    )
    accepted = [e for e in entries if e["accepted"] and e["action"] != "idle"]
    refused = [e for e in entries if not e["accepted"]]
    submitted = [e["revision"] for e in accepted if e["action"] == "submit"]
    signed = [(e["revision"], e["area"]) for e in accepted if e["action"] == "sign"]

    # The race really happened: some actions were refused as stale, and every refusal says why.
    assert submitted, f"no submission was accepted: {tally}"
    assert signed, f"no sign-off was accepted: {tally}"
    assert refused, f"nothing was refused: the workers did not overlap: {tally}"
    assert {e["code"] for e in refused} <= {"stale", "conflict"}, Counter(e["code"] for e in refused)
    assert any(e["code"] == "stale" for e in refused), tally
    assert all(
        ("changed by" in e["message"] or "at the same moment" in e["message"]) for e in refused if e["code"] == "stale"
    )

    with sessions() as session:
        revisions = session.execute(select(Revision.obsid, Revision.number)).all()
        labels = sorted(f"{obsid}.{number:03d}" for obsid, number in revisions)
        # Unique, gap-free numbers per observation, and exactly the accepted submissions.
        assert labels == sorted(submitted) and len(set(labels)) == len(labels)
        for obsid in obsids:
            numbers = sorted(number for o, number in revisions if o == obsid)
            assert numbers == list(range(1, len(numbers) + 1))
        # Every accepted sign-off is in the final state and in the audit log, once; nothing else was signed.
        final = session.execute(
            select(Revision.obsid, Revision.number, SignOff.area)
            .join(SignOff, SignOff.revision_id == Revision.id)
            .where(SignOff.state == SignOffState.SIGNED)
        ).all()
        assert sorted(f"{o}.{n:03d}/{a}" for o, n, a in final) == sorted(f"{label}/{area}" for label, area in signed)
        audit = Counter(session.scalars(select(AuditEvent.action).where(AuditEvent.entity_type == "revision")))
        assert audit == Counter({"revision.submitted.norm": len(submitted), "signoff.signed": len(signed)})
        assert session.scalar(select(func.count()).select_from(SignOff)) == 5 * len(submitted)
