"""Migrations: empty to head and back on the backend under test, and the ORM-versus-migrations check."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Integer, MetaData, Table, inspect, select

from obslab import schema
from obslab.access import Role
from obslab.db import make_engine, make_session_factory
from obslab.models import Base
from obslab.roles import STANDARD_ROLES


def test_upgrade_from_empty_creates_every_table_and_check_passes(database_url: str) -> None:
    schema.upgrade(database_url)
    engine = make_engine(database_url)
    assert set(inspect(engine).get_table_names()) == set(Base.metadata.tables) | {"alembic_version"}
    assert schema.current_revision(engine) == schema.head_revision()
    engine.dispose()
    schema.check(database_url)


def test_downgrade_to_base_removes_everything_and_upgrade_again_works(database_url: str) -> None:
    schema.upgrade(database_url)
    schema.downgrade(database_url, "base")
    engine = make_engine(database_url)
    assert inspect(engine).get_table_names() == ["alembic_version"]
    assert schema.current_revision(engine) is None
    engine.dispose()
    schema.upgrade(database_url)
    schema.check(database_url)


def test_each_migration_step_upgrades_and_downgrades_on_its_own(database_url: str) -> None:
    steps = [
        script.revision
        for script in reversed(list(ScriptDirectory.from_config(schema.alembic_config(database_url)).walk_revisions()))
    ]
    assert len(steps) >= 2
    engine = make_engine(database_url)
    for previous, step in zip(["base", *steps], steps, strict=False):
        schema.upgrade(database_url, step)
        assert schema.current_revision(engine) == step
        schema.downgrade(database_url, previous)
        assert schema.current_revision(engine) == (None if previous == "base" else previous)
        schema.upgrade(database_url, step)
    engine.dispose()
    schema.check(database_url)


def test_first_migration_seeds_the_standard_roles(migrated_url: str) -> None:
    engine = make_engine(migrated_url)
    with make_session_factory(engine)() as session:
        seeded = {role.name: role.description for role in session.scalars(select(Role))}
    engine.dispose()
    assert seeded == STANDARD_ROLES


def test_check_refuses_a_database_that_is_not_at_head(database_url: str) -> None:
    with pytest.raises(schema.SchemaMismatchError, match="none \\(empty\\).*run 'obslab db upgrade'"):
        schema.check(database_url)


def test_check_refuses_a_model_table_without_migration(migrated_url: str) -> None:
    probe = Table("unmigrated_probe", Base.metadata, Column("id", Integer, primary_key=True))
    try:
        with pytest.raises(schema.SchemaMismatchError, match="unmigrated_probe"):
            schema.check(migrated_url)
    finally:
        Base.metadata.remove(probe)
    schema.check(migrated_url)


def test_cli_check_exits_nonzero_when_a_model_column_has_no_migration(migrated_url: str) -> None:
    # A separate process, so adding a column to the real User model cannot leak into other tests.
    program = textwrap.dedent(
        """
        import sys
        from sqlalchemy import Column, String
        from obslab.access import User
        from obslab.cli import main
        User.__table__.append_column(Column("nickname", String(32)))
        main(["db", "check"])
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", program],
        env={"OBSLAB_DATABASE_URL": migrated_url, "PATH": "/usr/bin:/bin", "HOME": "/tmp"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "nickname" in result.stderr
    assert "models differ from the migrations" in result.stderr


def test_migrations_do_not_depend_on_unmigrated_metadata(migrated_url: str) -> None:
    # The reflected schema, not the ORM, is what a deployment has: every ORM column must exist there.
    engine = make_engine(migrated_url)
    reflected = MetaData()
    reflected.reflect(engine)
    engine.dispose()
    for table in Base.metadata.sorted_tables:
        assert set(table.columns.keys()) == set(reflected.tables[table.name].columns.keys()), table.name
