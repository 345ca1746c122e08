"""Datetimes are stored as UTC and read back timezone-aware and equal, on every backend."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session, sessionmaker

from obslab import schema
from obslab.db import make_engine, make_session_factory
from obslab.errors import NaiveDatetimeError
from obslab.observing.models import Night
from obslab.scheduling.models import ObservingRequest, RequestWindow
from tests.conftest import DatabaseFactory

# Three zones, the first hour of summer time and microseconds: all must come back as the same instants, in UTC.
INSTANTS = [
    datetime(2026, 3, 8, 1, 59, 59, 999999, tzinfo=ZoneInfo("America/Phoenix")),
    datetime(2026, 3, 29, 3, 30, tzinfo=ZoneInfo("Europe/Zurich")),
    datetime(2026, 11, 21, 23, 45, 12, 123456, tzinfo=timezone(timedelta(hours=5, minutes=30))),
]


def _store_windows(session_factory: sessionmaker[Session]) -> list[datetime]:
    with session_factory() as session, session.begin():
        request = ObservingRequest(name="time-check", target_name="Vega", ra_deg=279.23, dec_deg=38.78, duration_s=600)
        request.windows = [RequestWindow(start=instant, end=instant + timedelta(minutes=5)) for instant in INSTANTS]
        session.add(request)
    with session_factory() as session:
        return list(session.scalars(select(RequestWindow.start).order_by(RequestWindow.id)))


def test_datetimes_read_back_equal_and_utc_aware(sessions: sessionmaker[Session]) -> None:
    read_back = _store_windows(sessions)
    assert read_back == INSTANTS
    for value in read_back:
        assert value.tzinfo is UTC


def test_sqlite_and_backend_under_test_agree(
    sessions: sessionmaker[Session], new_database: DatabaseFactory, tmp_path
) -> None:
    # On the PostgreSQL run this compares PostgreSQL with SQLite; on the SQLite run, two SQLite files.
    sqlite_url = f"sqlite:///{tmp_path / 'reference.sqlite3'}"
    schema.upgrade(sqlite_url)
    sqlite_engine = make_engine(sqlite_url)
    from_sqlite = _store_windows(make_session_factory(sqlite_engine))
    sqlite_engine.dispose()
    from_backend = _store_windows(sessions)
    assert from_sqlite == from_backend
    assert [value.utcoffset() for value in from_backend] == [timedelta(0)] * len(INSTANTS)


def test_comparisons_in_queries_use_instants_not_wall_clock(sessions: sessionmaker[Session]) -> None:
    _store_windows(sessions)
    # 01:59:59 in Phoenix is 08:59:59 UTC; asking in UTC+01 must find exactly the windows after it.
    boundary = datetime(2026, 3, 8, 10, 0, tzinfo=timezone(timedelta(hours=1)))
    with sessions() as session:
        later = session.scalars(select(RequestWindow.start).where(RequestWindow.start > boundary)).all()
    assert later == INSTANTS[1:]


def test_naive_datetime_is_refused_and_nothing_is_written(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(StatementError) as refused:
        with sessions() as session, session.begin():
            session.add(
                Night(
                    night_date=date(2026, 11, 20),
                    site_name="Kitt Peak",
                    created_at=datetime(2026, 11, 21, 3),  # noqa: DTZ001 - the naive value under test
                )
            )
    assert isinstance(refused.value.orig, NaiveDatetimeError)
    assert "naive datetime 2026-11-21T03:00:00 refused" in str(refused.value.orig)
    with sessions() as session:
        assert session.scalars(select(Night)).all() == []
