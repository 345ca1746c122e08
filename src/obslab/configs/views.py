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

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import BindParameter, ColumnElement, Connection, Select, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session, aliased, selectinload

from obslab.access import User
from obslab.configs.models import ConfigurationItem, InstrumentConfiguration
from obslab.configs.types import ConfigDiff, ConfigVersion, Items, diff_items
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


def _current(instrument: str | BindParameter[str], moment: datetime | BindParameter[datetime]) -> ColumnElement[bool]:
    # The newest start at or before the moment wins; the index (instrument, valid_from) serves it read backwards.
    return and_(Config.instrument == instrument, Config.superseded_at.is_(None), Config.valid_from <= moment)


def _known(
    record: Any, instrument: str | BindParameter[str], known_at: datetime | BindParameter[datetime]
) -> ColumnElement[bool]:
    return and_(
        record.instrument == instrument,
        record.recorded_at <= known_at,
        or_(record.superseded_at.is_(None), record.superseded_at > known_at),
    )


class RecordKey(NamedTuple):
    """What names one stored record and keys what is derived from its items, which are never rewritten.

    A change or a correction is a new record, so a cache of items (or of a file rendered from them) by this key
    never goes stale.
    """

    id: int
    version_number: int
    recorded_at: datetime


#: How a read gets a record's items: by default it reads them; the API passes its cache (see ``RecordKey``).
ItemsOf = Callable[[Connection | Session, RecordKey], Items]

# The as-of reads in plain columns, each built once with bound parameters: they serve the API on every request,
# where building a select costs more than running it, and ORM objects for ~70 items cost more still.
_INSTRUMENT, _MOMENT, _KNOWN_AT = bindparam("instrument"), bindparam("moment"), bindparam("known_at")
_HEADING = select(
    Config.id,
    Config.instrument,
    Config.version_number,
    Config.valid_from,
    Config.valid_to,
    Config.recorded_at,
    Config.superseded_at,
    Config.source,
    Config.comment,
    Config.version,
    User.username,
).outerjoin(User, User.id == Config.recorded_by_id)
_VALID_AT = _HEADING.where(_current(_INSTRUMENT, _MOMENT)).order_by(Config.valid_from.desc()).limit(1)
_LATER = aliased(Config, name="later")
_AS_RECORDED_AT = (
    _HEADING.add_columns(
        select(func.min(_LATER.valid_from))
        .where(_known(_LATER, _INSTRUMENT, _KNOWN_AT), _LATER.valid_from > Config.valid_from)
        .correlate(Config)
        .scalar_subquery()
        .label("believed_end")
    )
    .where(_known(Config, _INSTRUMENT, _KNOWN_AT), Config.valid_from <= _MOMENT)
    .order_by(Config.valid_from.desc(), Config.version_number.desc())
    .limit(1)
)
_ITEMS = (
    select(ConfigurationItem.key, ConfigurationItem.attributes)
    .where(ConfigurationItem.configuration_id == bindparam("configuration_id"))
    .order_by(ConfigurationItem.key)
)


def record_items(connection: Connection | Session, record: RecordKey) -> dict[str, dict[str, Any]]:
    """A record's items by key, read as plain columns."""
    return {key: attributes for key, attributes in connection.execute(_ITEMS, {"configuration_id": record.id})}


def _key(row: Any) -> RecordKey:
    return RecordKey(row.id, row.version_number, row.recorded_at)


def _version(connection: Connection | Session, row: Any, valid_to: datetime | None, items_of: ItemsOf) -> ConfigVersion:
    return ConfigVersion(
        instrument=row.instrument,
        version_number=row.version_number,
        valid_from=row.valid_from,
        valid_to=valid_to,
        recorded_at=row.recorded_at,
        superseded_at=row.superseded_at,
        recorded_by=row.username,
        source=row.source,
        comment=row.comment,
        items=items_of(connection, _key(row)),
        version=row.version,
    )


def _in_force(connection: Connection | Session, instrument: str, moment: datetime) -> Any:
    check_moment("moment", moment)
    found = connection.execute(_VALID_AT, {"instrument": instrument, "moment": moment}).first()
    return None if found is None or (found.valid_to is not None and moment >= found.valid_to) else found


def valid_at(
    session: Session | Connection, instrument: str, moment: datetime, *, items_of: ItemsOf = record_items
) -> ConfigVersion | None:
    """The configuration in force at ``moment`` as known now (None before the instrument's first record)."""
    found = _in_force(session, instrument, moment)
    return _version(session, found, found.valid_to, items_of) if found is not None else None


def record_in_force(connection: Connection | Session, instrument: str, moment: datetime) -> RecordKey | None:
    """Which record :func:`valid_at` answers with, in one indexed query and without its items."""
    found = _in_force(connection, instrument, moment)
    return _key(found) if found is not None else None


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


def as_recorded_at(
    session: Session | Connection,
    instrument: str,
    moment: datetime,
    known_at: datetime,
    *,
    items_of: ItemsOf = record_items,
) -> ConfigVersion | None:
    """What obslab believed at ``known_at`` about the configuration at ``moment`` (see the module's as-of rule).

    Parameters
    ----------
    moment
        Telescope time: when the configuration was in force.
    known_at
        Record time: the answer ignores records made after it and keeps records superseded after it.
    items_of
        How to get the answer's items (default: read them).
    """
    check_moment("moment", moment)
    check_moment("known_at", known_at)
    found = session.execute(_AS_RECORDED_AT, {"instrument": instrument, "moment": moment, "known_at": known_at}).first()
    return _version(session, found, found.believed_end, items_of) if found is not None else None


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
