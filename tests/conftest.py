"""Shared fixtures: fresh databases on the backend under test (SQLite, or PostgreSQL when configured)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from support import KITT_PEAK, fixed_clock

from obslab import schema
from obslab.db import make_engine, make_session_factory

#: Admin URL of a PostgreSQL server to test against (the test script starts one); empty means SQLite.
POSTGRES_ADMIN_URL = os.environ.get("OBSLAB_TEST_DATABASE_URL", "")
BACKEND = "postgresql" if POSTGRES_ADMIN_URL else "sqlite"


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keep each phase's report on the test item (item.report_setup / report_call), for fixtures' teardown."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def pytest_report_header(config: pytest.Config) -> str:
    where = (
        make_url(POSTGRES_ADMIN_URL).render_as_string(hide_password=True) if POSTGRES_ADMIN_URL else "temporary files"
    )
    return f"obslab database backend under test: {BACKEND} ({where})"


class DatabaseFactory:
    """Creates empty databases on the backend under test and drops them afterwards."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.created: list[str] = []

    def create(self) -> str:
        name = f"obslab_test_{uuid.uuid4().hex[:12]}"
        if not POSTGRES_ADMIN_URL:
            return f"sqlite:///{self.directory / name}.sqlite3"
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        self.created.append(name)
        return make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        if not self.created:
            return
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            for name in self.created:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's own OBSLAB_* settings or writes to their data directory."""
    for variable in list(os.environ):
        if variable.startswith("OBSLAB_") and variable != "OBSLAB_TEST_DATABASE_URL":
            monkeypatch.delenv(variable)
    monkeypatch.setenv("OBSLAB_DATA_DIR", str(tmp_path / "obslab-data"))


@pytest.fixture
def new_database(tmp_path: Path) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(tmp_path)
    yield factory
    factory.drop_all()


@pytest.fixture
def database_url(new_database: DatabaseFactory) -> str:
    """An empty database."""
    return new_database.create()


@pytest.fixture
def migrated_url(database_url: str) -> str:
    """A database upgraded to the newest migration."""
    schema.upgrade(database_url)
    return database_url


@pytest.fixture
def engine(migrated_url: str) -> Iterator[Engine]:
    engine = make_engine(migrated_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


def demo_observatory(directory: Path) -> tuple[str, DatabaseFactory]:
    """A new database holding the demo observatory (seed 2026, fixed clock); drop it with the factory."""
    from obslab.demo import load_demo

    factory = DatabaseFactory(directory)
    url = factory.create()
    schema.upgrade(url)
    engine = make_engine(url)
    with make_session_factory(engine)() as session, session.begin():
        load_demo(session, site=KITT_PEAK, seed=2026, now=fixed_clock)
    engine.dispose()
    return url, factory


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One database holding the demo observatory, shared by read-only tests."""
    url, factory = demo_observatory(tmp_path_factory.mktemp("demo"))
    yield url
    factory.drop_all()


@pytest.fixture(scope="module")
def writable_demo_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo observatory in a database of the module's own, for tests that change it."""
    url, factory = demo_observatory(tmp_path_factory.mktemp("demo-writable"))
    yield url
    factory.drop_all()


@pytest.fixture
def demo_sessions(demo_database: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(demo_database)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium under Playwright (never a downloaded browser), one per test module."""
    from browsing import CHROMIUM, CHROMIUM_ARGS
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: scripts/test installs Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
