"""One process of the change-request race: submit or sign as one user, report what was accepted and what refused."""

from __future__ import annotations

import random
import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from obslab.access import find_user
from obslab.catalog.changes.signoff import sign_off
from obslab.catalog.changes.submit import submit_change
from obslab.catalog.models import Observation, Revision, SignOff
from obslab.catalog.types import SignOffState
from obslab.db import make_engine, make_session_factory
from obslab.errors import ObslabError

#: Which areas each signer's role covers in the change rules (arcops: general and acis; acis: acis_si).
AREAS = {"ops": ("general", "acis"), "acisa": ("acis_si",)}


def race(
    url: str, username: str, obsids: list[int], actions: int, seed: int, start: Any, finished: Any, submitters: int
) -> list[dict[str, Any]]:
    """Do ``actions`` submissions (usint users) or sign-offs (signers), each on a freshly read version.

    ``start`` is a barrier shared by every worker: all begin together, once each has imported and connected,
    so the race does not depend on how fast each process happened to start. Each submitter adds its name to
    the shared list ``finished`` when done; a signer stops only once all ``submitters`` have and nothing is
    left to sign, however slowly a loaded machine runs them.
    """
    rng = random.Random(seed)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with sessions() as session:
        find_user(session, username)  # connect and warm up before the start
    start.wait(timeout=300)
    log: list[dict[str, Any]] = []
    # A signer with nothing pending waits for work instead of spending its turns (it would finish before
    # the first submission commits), and stops once the submitters are done and nothing is left to sign.
    # (A submitter that crashed never says so: a signer also gives up after two idle minutes, not hang.)
    # The stop test must see "nothing to sign" *after* every submitter finished: an idle look taken before
    # the last submissions committed says nothing about them, and stopping on it left their sign-offs unsigned.
    last_work = time.monotonic()
    while sum(entry.get("action") != "idle" for entry in log) < actions:
        if log and log[-1].get("action") == "idle":
            if log[-1]["submitters_done"] or time.monotonic() - last_work > 120:
                break
            time.sleep(0.005)
        else:
            last_work = time.monotonic()
        submitters_done = len(finished) >= submitters
        with sessions() as session:
            try:
                with session.begin():
                    actor = find_user(session, username)
                    assert actor is not None
                    if username in AREAS:
                        entry = _sign(session, actor, rng, AREAS[username])
                    else:
                        entry = _submit(session, actor, rng, obsids)
                if entry["action"] == "idle":
                    entry["submitters_done"] = submitters_done
                log.append({"accepted": True, **entry})
            except ObslabError as refused:
                log.append({"accepted": False, "code": refused.code, "message": refused.message})
            except OperationalError as busy:  # SQLite only: another writer held the file past the busy timeout
                log.append({"accepted": False, "code": "busy", "message": str(busy.orig)})
    if username not in AREAS:
        finished.append(username)  # one call on the manager's list: atomic
    engine.dispose()
    return log


def _pause(rng: random.Random) -> None:
    # Between reading a version and acting on it, as a person looking at a page would; widens the race.
    time.sleep(rng.uniform(0, 0.02))


def _submit(session: Any, actor: Any, rng: random.Random, obsids: list[int]) -> dict[str, Any]:
    obsid = rng.choice(obsids)
    seen = session.scalar(select(Observation.version).where(Observation.obsid == obsid))
    _pause(rng)
    edits = [("y_det_offset", 0, round(rng.uniform(-5, 5), 3)), ("frame_time", 0, rng.choice([2.5, 2.8, 3.0]))]
    revision, _check = submit_change(session, actor, obsid, seen_version=seen, edits=edits)
    return {"action": "submit", "revision": revision.label}


def _sign(session: Any, actor: Any, rng: random.Random, areas: tuple[str, ...]) -> dict[str, Any]:
    pending = session.execute(
        select(Revision.obsid, Revision.number, SignOff.area, SignOff.version)
        .join(SignOff, SignOff.revision_id == Revision.id)
        .where(SignOff.area.in_(areas), SignOff.state == SignOffState.PENDING, Revision.closed_at.is_(None))
    ).all()
    if not pending:
        return {"action": "idle"}
    obsid, number, area, version = rng.choice(pending)
    _pause(rng)
    label = f"{obsid}.{number:03d}"
    sign_off(session, actor, label, area, seen_version=version)
    return {"action": "sign", "revision": label, "area": area}
