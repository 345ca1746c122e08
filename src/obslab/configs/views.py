"""Reads of configuration history on both time axes: valid at a time, as recorded at a time, versions and diffs.

Two time axes. Telescope time, ``valid_from``/``valid_to``: when the hardware was so. Record time,
``recorded_at``/``superseded_at``: when obslab believed it. A record is *current* while ``superseded_at`` is
null; the current records of an instrument tile its history from the first ``valid_from`` on, without gaps or
overlaps, and the last of them is open (``valid_to`` null).

The as-of rule (``as_recorded_at``): the records *known at* ``known_at`` are those with
``recorded_at <= known_at`` and (``superseded_at`` null or ``> known_at``); the answer for ``moment`` is the
known record with the greatest ``valid_from <= moment``. Its stored ``valid_to`` is not consulted, because
recording a new version closes the previous one *in place* (``valid_to`` is set, no new row), so the stored
end may have been written after ``known_at``; what was believed then is that each known record ran until the
next known one began. The returned version carries that believed end as its ``valid_to``. The known records at
any ``known_at`` also tile the history (record and correct keep the invariant and corrections supersede
whole records), so the rule and the stored ends agree whenever the closing was known.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session, aliased, selectinload

from obslab.access import User
from obslab.configs.models import InstrumentConfiguration
from obslab.configs.types import ConfigDiff, ConfigVersion, diff_items
from obslab.configs.validation import check_moment
from obslab.errors import InvalidInputError, NotFoundError

Config = InstrumentConfiguration


def config_version(row: Config, recorded_by: str | None) -> ConfigVersion:
    """The read model of one stored record."""
    return ConfigVersion(
        instrument=row.instrument,
        version_number=row.version_number,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        recorded_at=row.recorded_at,
        superseded_at=row.superseded_at,
        recorded_by=recorded_by,
        source=row.source,
        comment=row.comment,
        items={item.key: dict(item.attributes) for item in row.items},
        version=row.version,
    )


def _with_items(query: Select[Any]) -> Select[Any]:
    """The records of ``query`` with who recorded them (one join) and their items (one more query, not one each)."""
    return query.outerjoin(User, User.id == Config.recorded_by_id).options(selectinload(Config.items))


def _records(select_from: Select[Any]) -> Select[Any]:
    return _with_items(select_from.add_columns(User.username))


def _current(instrument: str, moment: datetime) -> ColumnElement[bool]:
    # The newest start at or before the moment wins; the index (instrument, valid_from) serves it read backwards.
    return and_(Config.instrument == instrument, Config.superseded_at.is_(None), Config.valid_from <= moment)


def valid_at(session: Session, instrument: str, moment: datetime) -> ConfigVersion | None:
    """The configuration in force at ``moment`` as known now (None before the instrument's first record)."""
    check_moment("moment", moment)
    query = _records(select(Config).where(_current(instrument, moment))).order_by(Config.valid_from.desc()).limit(1)
    found = session.execute(query).first()
    if found is None or (found[0].valid_to is not None and moment >= found[0].valid_to):
        return None
    return config_version(found[0], found[1])


def configuration_id_at(session: Session, instrument: str, moment: datetime) -> int | None:
    """The id of the record in force at ``moment`` (an exposure's start), in one indexed query."""
    check_moment("moment", moment)
    query = (
        select(Config.id, Config.valid_to)
        .where(_current(instrument, moment))
        .order_by(Config.valid_from.desc())
        .limit(1)
    )
    found = session.execute(query).first()
    # The end is checked here, not in the query, so the scan stops at the first row whatever the moment.
    return found.id if found is not None and (found.valid_to is None or moment < found.valid_to) else None


def _known(record: Any, instrument: str, known_at: datetime) -> ColumnElement[bool]:
    return and_(
        record.instrument == instrument,
        record.recorded_at <= known_at,
        or_(record.superseded_at.is_(None), record.superseded_at > known_at),
    )


def as_recorded_at(session: Session, instrument: str, moment: datetime, known_at: datetime) -> ConfigVersion | None:
    """What obslab believed at ``known_at`` about the configuration at ``moment`` (see the module's as-of rule).

    Parameters
    ----------
    moment
        Telescope time: when the configuration was in force.
    known_at
        Record time: the answer ignores records made after it and keeps records superseded after it.
    """
    check_moment("moment", moment)
    check_moment("known_at", known_at)
    later = aliased(Config)
    believed_end = (
        select(func.min(later.valid_from))
        .where(_known(later, instrument, known_at), later.valid_from > Config.valid_from)
        .correlate(Config)
        .scalar_subquery()
    )
    query = (
        _records(select(Config).where(_known(Config, instrument, known_at), Config.valid_from <= moment))
        .add_columns(believed_end)
        .order_by(Config.valid_from.desc(), Config.version_number.desc())
        .limit(1)
    )
    found = session.execute(query).first()
    return replace(config_version(found[0], found[1]), valid_to=found[2]) if found is not None else None


def history(session: Session, instrument: str) -> list[ConfigVersion]:
    """Every record of ``instrument``, superseded ones included, in version order."""
    query = _records(select(Config).where(Config.instrument == instrument)).order_by(Config.version_number)
    return [config_version(row, name) for row, name in session.execute(query)]


def latest_version_number(session: Session, instrument: str) -> int:
    """The instrument's highest version number (0: none yet): what a writer states it saw as ``seen_version``."""
    return session.scalar(select(func.max(Config.version_number)).where(Config.instrument == instrument)) or 0


def _versions(session: Session, instrument: str, numbers: Sequence[int]) -> dict[int, ConfigVersion]:
    for number in numbers:
        if not isinstance(number, int) or isinstance(number, bool):
            raise InvalidInputError("version_number", number, f"a version number of {instrument}, e.g. 1")
    query = _records(select(Config).where(Config.instrument == instrument, Config.version_number.in_(numbers)))
    found = {row.version_number: config_version(row, name) for row, name in session.execute(query)}
    missing = [number for number in numbers if number not in found]
    if missing:
        newest = latest_version_number(session, instrument)
        known = f"its versions are 1 to {newest}" if newest else "it has no recorded configuration"
        raise NotFoundError(
            f"{instrument} has no configuration version {missing[0]}: {known}",
            instrument=instrument,
            version_number=missing[0],
        )
    return found


def get_version(session: Session, instrument: str, version_number: int) -> ConfigVersion:
    """One record by its version number, or NotFoundError saying which versions exist."""
    return _versions(session, instrument, [version_number])[version_number]


def diff_versions(session: Session, instrument: str, a: int, b: int) -> ConfigDiff:
    """What changed from version ``a`` to version ``b``: items added, removed and changed attribute by attribute."""
    found = _versions(session, instrument, [a, b])
    return diff_items(found[a].items, found[b].items)


def instruments(session: Session) -> list[str]:
    """The instruments with any recorded configuration, by name."""
    return list(session.scalars(select(Config.instrument).distinct().order_by(Config.instrument)))
