"""One process of the re-plan race: each round, read the night's plan version, wait for the rest, then store a plan."""

from __future__ import annotations

from typing import Any

from obslab.access import find_user
from obslab.db import make_engine, make_session_factory, transaction
from obslab.errors import ObslabError
from obslab.scheduling.service import plan_and_save, plan_version
from tests.helpers.schedule_world import NIGHT
from tests.helpers.support import KITT_PEAK


def replan_rounds(url: str, username: str, rounds: int, start: Any) -> list[dict[str, Any]]:
    """Race ``rounds`` re-plans against the other workers; report what was stored and what refused, and why.

    ``start`` is a barrier shared by every worker. Each round passes it twice: once before reading the version
    (so nobody reads a round late) and once after (so everybody saw the same version before anyone stores).
    """
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    log: list[dict[str, Any]] = []
    for round_number in range(rounds):
        start.wait(timeout=300)
        with sessions() as session:
            seen = plan_version(session, NIGHT)
        start.wait(timeout=300)
        entry: dict[str, Any] = {"round": round_number, "who": username, "seen": seen}
        try:
            with transaction(sessions) as session:
                actor = find_user(session, username)
                saved = plan_and_save(session, actor, KITT_PEAK, NIGHT, seen_version=seen)
                entry |= {"accepted": True, "version": saved.schedule.version_number}
        except ObslabError as refused:
            entry |= {"accepted": False, "code": refused.code, "message": refused.message}
        except Exception as raw:  # noqa: BLE001 - the test asserts there are none, and says which
            entry |= {"accepted": False, "code": "raw", "message": f"{type(raw).__name__}: {raw}"}
        log.append(entry)
    engine.dispose()
    return log
