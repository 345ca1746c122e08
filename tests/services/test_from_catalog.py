"""Approved catalog observations become requests with exposure and time windows; the rest are reported with a reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from obslab.catalog.changes.submit import submit_change
from obslab.catalog.models import Observation, ObservationParameter
from obslab.cli import main
from obslab.errors import PermissionDeniedError
from obslab.scheduling.from_catalog import requests_from_catalog
from obslab.scheduling.models import ObservingRequest
from obslab.users import add_user
from tests.helpers.catalog_world import World, build_world
from tests.helpers.support import fixed_clock, table_counts


@pytest.fixture
def world(migrated_url: str, sessions: sessionmaker[Session]) -> World:
    with sessions() as session, session.begin():
        w = build_world(session)
        w.users["nina"] = add_user(session, "nina", ["scheduler"], now=fixed_clock)
        acis = session.scalar(select(Observation).where(Observation.obsid == w.acis))
        session.add_all(
            [
                ObservationParameter(observation_id=acis.id, name=name, rank=1, value=value)
                for name, value in {
                    "window_constraint": "Y",
                    "tstart": "2026-12-01T00:00:00",
                    "tstop": "2026-12-08T00:00:00",
                }.items()
            ]
        )
        submit_change(session, w.users["pat"], w.acis, seen_version=acis.version, kind="asis", now=fixed_clock)
    return w


def test_only_approved_observations_still_to_do_become_requests(sessions: sessionmaker[Session], world: World) -> None:
    with sessions() as session, session.begin():
        outcomes = requests_from_catalog(
            session, world.users["nina"], f"{world.acis}-{world.no_si_mode}, 99999", now=fixed_clock
        )
    details = {o.obsid: o.detail for o in outcomes}
    assert details[world.acis].startswith("requested:") and "1 window(s)" in details[world.acis]
    assert details[world.hrc] == "not approved for flight yet (sign-off first)"
    assert details[world.observed] == "it is observed: nothing left to observe"
    assert details[99999] == "not in the catalog"
    with sessions() as session:
        request = session.scalar(select(ObservingRequest).where(ObservingRequest.name == f"OBS-{world.acis}"))
        assert request.target_name == "Cas A" and request.program == "catalog"
        assert [(w.start, w.end) for w in request.windows] == [
            (datetime(2026, 12, 1, tzinfo=UTC), datetime(2026, 12, 8, tzinfo=UTC))
        ]
        before = table_counts(session)
    with sessions() as session, session.begin():
        again = requests_from_catalog(session, world.users["nina"], str(world.acis), now=fixed_clock)
    assert again[0].detail == f"already requested as OBS-{world.acis}"
    with sessions() as session:
        assert table_counts(session) == before
    with (
        sessions() as session,
        session.begin(),
        pytest.raises(PermissionDeniedError, match="pat may not turn catalog observations"),
    ):
        requests_from_catalog(session, world.users["pat"], str(world.acis), now=fixed_clock)


def test_cli_from_catalog(migrated_url: str, world: World) -> None:
    env = {"OBSLAB_DATABASE_URL": migrated_url, "OBSLAB_ACTING_USER": "nina"}
    result = CliRunner().invoke(main, ["plan", "from-catalog", f"{world.acis},{world.hrc}", "--json"], env=env)
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert [row["request"] for row in shown] == [f"OBS-{world.acis}", None]
    bad = CliRunner().invoke(main, ["plan", "from-catalog", "30001-abc"], env=env)
    assert bad.exit_code == 1 and "obsid" in bad.output and "Traceback" not in bad.output
