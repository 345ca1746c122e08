"""Shared fixtures and the test tiers.

Tiers are folders: ``unit/`` (no database), ``services/``, ``dashboards/`` (state, no browser), ``cli/``,
``schema/``, ``notebooks/`` (a real kernel per notebook) and ``ui/`` (Debian's chromium). A bare ``pytest``
runs the fast tiers; ``--notebooks``, ``--ui`` and ``--slow`` add the rest, ``--all`` adds everything.

Fixtures:

- ``database_url``: an empty database on the backend under test (SQLite, or PostgreSQL when
  ``OBSLAB_TEST_DATABASE_URL`` names a server); ``new_database`` makes more of them.
- ``migrated_url``: a database at the newest migration, copied from one migrated template per run.
- ``engine`` / ``sessions``: an engine and a session factory on ``migrated_url``.
- ``demo_database`` (per run, read-only) and ``writable_demo_database`` (per module): the demo observatory;
  ``demo_sessions`` opens the former.
- ``browser``: Debian's chromium under Playwright, one per module.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from obslab import schema
from obslab.db import make_engine, make_session_factory
from tests.helpers.support import KITT_PEAK, fixed_clock

#: Admin URL of a PostgreSQL server to test against (the test script starts one); empty means SQLite.
POSTGRES_ADMIN_URL = os.environ.get("OBSLAB_TEST_DATABASE_URL", "")
BACKEND = "postgresql" if POSTGRES_ADMIN_URL else "sqlite"

#: Tiers a bare ``pytest`` leaves out, each with the option that brings it in.
OPT_IN = {"notebooks": "--notebooks", "ui": "--ui", "slow": "--slow"}
TESTS = Path(__file__).parent


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("obslab tiers")
    group.addoption("--notebooks", action="store_true", help="also execute every notebook on a real kernel")
    group.addoption("--ui", action="store_true", help="also drive Debian's chromium against served dashboards")
    group.addoption("--slow", action="store_true", help="also run the tests marked slow (100k rows, races)")
    group.addoption("--all", action="store_true", help="run every tier (what scripts/test does)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test with its tier folder, then leave out the opt-in tiers that were not asked for."""
    for item in items:
        tier = Path(item.fspath).relative_to(TESTS).parts[0]
        if tier in ("notebooks", "ui"):
            item.add_marker(getattr(pytest.mark, tier))
    wanted = {name for name, option in OPT_IN.items() if config.getoption("--all") or config.getoption(option)}
    kept, left_out = [], []
    for item in items:
        (left_out if any(item.get_closest_marker(name) for name in OPT_IN.keys() - wanted) else kept).append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept


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

    def create(self, template: str | None = None) -> str:
        """A new database: empty, or a copy of ``template`` (a URL this factory's kind made)."""
        name = f"obslab_test_{uuid.uuid4().hex[:12]}"
        if not POSTGRES_ADMIN_URL:
            path = self.directory / f"{name}.sqlite3"
            if template is not None:
                shutil.copyfile(make_url(template).database or "", path)
            return f"sqlite:///{path}"
        copy = f' TEMPLATE "{make_url(template).database}"' if template is not None else ""
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"{copy}'))
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


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One database upgraded to the newest migration per run; tests get copies (migrating each took ~0.2 s)."""
    factory = DatabaseFactory(tmp_path_factory.mktemp("template"))
    url = factory.create()
    schema.upgrade(url)
    if not POSTGRES_ADMIN_URL:
        # Copies are made by copying the file: fold the write-ahead log into it first.
        engine = make_engine(url)
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()
    yield url
    factory.drop_all()


@pytest.fixture
def migrated_url(new_database: DatabaseFactory, migrated_template: str) -> str:
    """A database at the newest migration: a copy of the migrated template."""
    return new_database.create(template=migrated_template)


@pytest.fixture
def engine(migrated_url: str) -> Iterator[Engine]:
    engine = make_engine(migrated_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


def demo_observatory(directory: Path) -> tuple[str, DatabaseFactory]:
    """A new database holding the demo observatory (seed 2026, fixed clock), its nights' raw files and products
    reduced under ``directory``; drop it with the factory."""
    from obslab.demo import load_demo, reduce_demo_nights
    from obslab.settings import Settings

    factory = DatabaseFactory(directory)
    url = factory.create()
    schema.upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    settings = Settings(data_dir=directory, database_url=url)
    with sessions() as session, session.begin():
        load_demo(session, site=KITT_PEAK, seed=2026, now=fixed_clock, raw_dir=directory / "raw")
    reduce_demo_nights(sessions, settings, now=fixed_clock)
    if not POSTGRES_ADMIN_URL:
        # Copies are made by copying the file: fold the write-ahead log into it first.
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return url, factory


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo observatory built once per test process (about 15 s: its nights are reduced from raw frames);
    nothing connects to it afterwards, so PostgreSQL can copy it. Its raw files and products stay where they are,
    shared by every copy: no test that uses a copy rewrites them."""
    url, factory = demo_observatory(tmp_path_factory.mktemp("demo"))
    yield url
    factory.drop_all()


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory: pytest.TempPathFactory, demo_template: str) -> Iterator[str]:
    """One copy of the demo observatory, shared by read-only tests."""
    factory = DatabaseFactory(tmp_path_factory.mktemp("demo-shared"))
    yield factory.create(template=demo_template)
    factory.drop_all()


@pytest.fixture(scope="module")
def writable_demo_database(tmp_path_factory: pytest.TempPathFactory, demo_template: str) -> Iterator[str]:
    """A copy of the demo observatory of the module's own, for tests that change it."""
    factory = DatabaseFactory(tmp_path_factory.mktemp("demo-writable"))
    yield factory.create(template=demo_template)
    factory.drop_all()


@pytest.fixture(scope="module")
def demo_with_alarms(writable_demo_database: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The module's writable demo with the tests' own Strehl alarms raised (``tests/helpers/trend_alarms.py``)."""
    from tests.helpers.trend_alarms import raise_test_alarms

    engine = make_engine(writable_demo_database)
    try:
        assert raise_test_alarms(make_session_factory(engine), tmp_path_factory.mktemp("rules")) > 1
    finally:
        engine.dispose()
    return writable_demo_database


@pytest.fixture
def demo_sessions(demo_database: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(demo_database)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium under Playwright (never a downloaded browser), one per test module."""
    from playwright.sync_api import sync_playwright

    from tests.helpers.browsing import CHROMIUM, CHROMIUM_ARGS

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: scripts/test installs Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
