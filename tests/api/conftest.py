"""The API tier: the app served by uvicorn on loopback over a per-test database, with people and keys to call it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from obslab.configs.service import history
from obslab.configs.types import ConfigVersion
from obslab.context import ObslabContext
from obslab.settings import load_settings
from obslab.users import add_user, issue_api_key
from tests.api.http import running_api
from tests.helpers.support import fixed_clock


def context_on(url: str) -> ObslabContext:
    """The API's context over ``url`` with the tests' fixed clock (the demo and the timestamps sent agree with it)."""
    return ObslabContext.from_settings(load_settings(database_url=url), now=fixed_clock)


def demo_versions(url: str, instrument: str = "VIRUS") -> dict[int, ConfigVersion]:
    """An instrument's records by version number (the demo's VIRUS: 4 was corrected by 5; 6 is in force now)."""
    context = context_on(url)
    with context.sessions() as session:
        versions = {version.version_number: version for version in history(session, instrument)}
    context.close()
    return versions


@pytest.fixture(scope="module")
def demo_api(demo_database: str) -> Iterator[str]:
    """The base URL of the API over the shared (read-only) demo database."""
    context = context_on(demo_database)
    with running_api(context) as base:
        yield base
    context.close()


@pytest.fixture(scope="module")
def virus(demo_database: str) -> dict[int, ConfigVersion]:
    versions = demo_versions(demo_database)
    assert versions[6].valid_to is None and versions[4].superseded_at is not None
    return versions


@pytest.fixture
def api_context(migrated_url: str) -> Iterator[ObslabContext]:
    context = context_on(migrated_url)
    yield context
    context.close()


@pytest.fixture
def api(api_context: ObslabContext) -> Iterator[str]:
    """The base URL of the API over a fresh migrated database."""
    with running_api(api_context) as base:
        yield base


@pytest.fixture
def keys(api_context: ObslabContext) -> dict[str, str]:
    """An API key for each of: tcs (telescope), ada (admin), usint (no right to change configurations)."""
    return make_keys(api_context.sessions)


def make_keys(sessions: sessionmaker[Session]) -> dict[str, str]:
    roles = {"tcs": ["telescope"], "ada": ["admin"], "una": ["usint"]}
    with sessions() as session, session.begin():
        for name, held in roles.items():
            add_user(session, name, held, now=fixed_clock)
        return {name: issue_api_key(session, name, label="tests", now=fixed_clock) for name in roles}
