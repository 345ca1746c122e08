"""Property tests of change validation: random edits never crash or half-write, and every refusal names a parameter."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from obslab.catalog.changes.change_rules import default_change_rules
from obslab.catalog.changes.submit import ChangeRefusedError, submit_change
from obslab.catalog.changes.validation import check_change
from obslab.catalog.lookup import current_values
from obslab.catalog.models import Observation, Revision
from obslab.catalog.parameter_schema import default_parameter_schema
from obslab.errors import ObslabError
from tests.helpers.catalog_world import ACIS_S, World, build_world
from tests.helpers.support import fixed_clock

SCHEMA = default_parameter_schema()
NAMES = SCHEMA.names()
CHOICES = sorted({choice for name in NAMES for choice in (SCHEMA.spec(name).choices or ())})

values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(CHOICES),
    st.sampled_from(["", " NA ", "n", "None", "2027-01-10T00:00:00", "2027-13-40T25:00:00", "1e400", "-0", "<script>"]),
    st.lists(st.integers(), max_size=2),
)
names = st.one_of(st.sampled_from(NAMES), st.sampled_from(["", "warp", "ra ", "RA"]))
edits = st.lists(st.tuples(names, st.integers(-1, 12), values), max_size=8)


@settings(max_examples=400, deadline=None)
@given(edits=edits)
def test_checking_random_edits_never_crashes_and_every_error_names_a_parameter(
    edits: list[tuple[str, int, Any]],
) -> None:
    original = {(name, 0): value for name, value in ACIS_S.items()}
    check = check_change(SCHEMA, default_change_rules(), original, edits)
    for problem in check.errors:
        named = repr(problem.parameter) if problem.code == "unknown_parameter" else problem.parameter
        assert named and named in problem.message
    if check.ok:
        # What passes is what the schema allows: every requested value fits its spec.
        for (name, rank), value in check.requested.items():
            spec = SCHEMA.spec(name)
            if spec.choices and value is not None:
                assert value in spec.choices
            if spec.type in ("int", "float") and value is not None and (name, rank) not in original:
                assert (spec.minimum is None or value >= spec.minimum) and (
                    spec.maximum is None or value <= spec.maximum
                )


@pytest.fixture(scope="module")
def world_sessions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[sessionmaker[Session], World]]:
    from obslab import schema
    from obslab.db import make_engine, make_session_factory
    from tests.conftest import DatabaseFactory

    factory = DatabaseFactory(tmp_path_factory.mktemp("properties"))
    url = factory.create()
    schema.upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        built = build_world(session)
    yield sessions, built
    engine.dispose()
    factory.drop_all()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=edits)
def test_a_submission_is_whole_or_refused_before_anything_is_written(
    world_sessions: tuple[sessionmaker[Session], World], edits: list[tuple[str, int, Any]]
) -> None:
    sessions, world = world_sessions
    with sessions() as session:
        transaction = session.begin()
        try:
            observation = session.scalars(select(Observation).where(Observation.obsid == world.acis)).one()
            before = current_values(session, observation)
            try:
                revision, check = submit_change(
                    session,
                    world.users["pat"],
                    world.acis,
                    seen_version=observation.version,
                    edits=edits,
                    now=fixed_clock,
                )
            except ChangeRefusedError as refused:
                assert not session.new and not session.dirty and not session.deleted
                assert refused.details["problems"] and all(
                    p["parameter"] in p["message"] for p in refused.details["problems"]
                )
                return
            except ObslabError:
                assert not session.new and not session.dirty and not session.deleted
                return
            # Accepted: the stored revision holds every change, and the catalog is untouched until verification.
            stored = {(v.name, v.rank): (v.original, v.requested) for v in revision.values if v.changed}
            assert stored == {(c.name, c.rank): (c.original, c.requested) for c in check.changes} and stored
            assert session.scalar(select(Revision.id).where(Revision.id == revision.id)) is not None
            assert current_values(session, observation) == before
        finally:
            transaction.rollback()
