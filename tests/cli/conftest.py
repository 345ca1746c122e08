"""Fixtures of the alert listener's command tests: a real broker, and a database with a user who may ingest."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session, sessionmaker

from obslab.cli import main
from tests.helpers.catalog_world import build_world
from tests.helpers.kafka import MockBroker, mock_broker


@pytest.fixture
def broker() -> Iterator[MockBroker]:
    with mock_broker() as broker:
        yield broker


@pytest.fixture
def scheduler_db(migrated_url: str, sessions: sessionmaker[Session]) -> str:
    """The test database with the catalog world and 'sched', who may ingest alerts."""
    with sessions() as session, session.begin():
        build_world(session)
    env = {"OBSLAB_DATABASE_URL": migrated_url, "OBSLAB_ACTING_USER": "root"}
    added = CliRunner().invoke(main, ["users", "add", "sched", "--role", "scheduler"], env=env)
    assert added.exit_code == 0, added.output
    return migrated_url
