"""Configuration writes: record a new version from a time on, correct a past period; audited, new hardware reported."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from obslab.access import User, require_role
from obslab.audit import record_event
from obslab.configs.models import ConfigurationItem, InstrumentConfiguration
from obslab.configs.notices import new_hardware, report_new_hardware
from obslab.configs.types import Items, diff_items
from obslab.configs.validation import check_instrument, check_items, check_moment, check_source, hardware
from obslab.configs.views import (
    as_recorded_at,
    configuration_id_at,
    diff_versions,
    get_version,
    history,
    instruments,
    latest_version_number,
    valid_at,
)
from obslab.db import Clock, utcnow
from obslab.errors import ConflictError, InvalidInputError, NotFoundError
from obslab.locking import flush, require_newest, touch

# The reads live in views.py; they are named here too so a face can take every use case from one module.
__all__ = [
    "WRITER_ROLES",
    "as_recorded_at",
    "configuration_id_at",
    "correct_configuration",
    "diff_versions",
    "get_version",
    "history",
    "instruments",
    "latest_version_number",
    "record_configuration",
    "valid_at",
]

#: Who records configurations: the telescope software's account, or an administrator by hand.
WRITER_ROLES = ("telescope", "admin")
Config = InstrumentConfiguration


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _current(session: Session, instrument: str) -> list[Config]:
    """The instrument's current records by start with their items, locked.

    On PostgreSQL a second writer waits here, then finds a newer version and is refused as stale.
    """
    query = (
        select(Config)
        .where(Config.instrument == instrument, Config.superseded_at.is_(None))
        .order_by(Config.valid_from)
        .options(selectinload(Config.items))
        .with_for_update(of=Config)
        # Read the locked rows afresh: a writer who waited for the lock must see the winner's change.
        .execution_options(populate_existing=True)
    )
    return list(session.scalars(query))


def _require_seen(session: Session, instrument: str, seen: Any) -> None:
    """Refuse unless the instrument's highest version is the one the writer saw, naming who recorded a newer one."""
    newest = session.execute(
        select(Config.version_number, Config.recorded_by_id, Config.recorded_at)
        .where(Config.instrument == instrument)
        .order_by(Config.version_number.desc())
        .limit(1)
    ).first()
    require_newest(
        session,
        seen,
        newest,
        what=f"the configuration of {instrument}",
        done="recorded",
        allowed_when_empty=f"0: {instrument} has no versions",
        allowed_up_to=f"{{current}}, the highest version of {instrument}",
        shown=f"the highest version number of {instrument} shown (0 for a new instrument)",
    )


def _known_hardware(records: list[Config]) -> dict[str, set[int | str]]:
    """The hardware ids any of ``records`` holds."""
    known: dict[str, set[int | str]] = {}
    for row in records:
        for attribute, held in hardware(_items_of(row)).items():
            known.setdefault(attribute, set()).update(held)
    return known


def _new_record(
    actor: User, instrument: str, number: int, period: tuple[datetime, datetime | None], items: Items, **fields: Any
) -> Config:
    valid_from, valid_to = period
    row = Config(
        instrument=instrument,
        version_number=number,
        valid_from=valid_from,
        valid_to=valid_to,
        recorded_by_id=actor.id,
        updated_by_id=actor.id,
        **fields,
    )
    row.items = [ConfigurationItem(key=key, attributes=dict(value)) for key, value in sorted(items.items())]
    return row


def _counts(before: Items, after: Items) -> dict[str, int]:
    diff = diff_items(before, after)
    return {"added": len(diff.added), "removed": len(diff.removed), "changed": len({c.key for c in diff.changed})}


def _items_of(row: Config) -> dict[str, dict[str, Any]]:
    return {item.key: dict(item.attributes) for item in row.items}


def record_configuration(
    session: Session,
    actor: User,
    instrument: str,
    items: Items,
    *,
    valid_from: datetime,
    seen_version: int,
    source: str = "manual",
    comment: str = "",
    now: Clock = utcnow,
) -> Config:
    """Record the instrument's configuration from ``valid_from`` on; the version in force then closes at it.

    Parameters
    ----------
    items
        Item key to attributes (see :func:`obslab.configs.validation.check_items`).
    valid_from
        When the hardware became so (telescope time); it may be earlier than now, as when the telescope
        pushes its state the next morning. It must be later than the start of the newest current version:
        an earlier start rewrites the past, which is :func:`correct_configuration`.
    seen_version
        The instrument's highest version number the writer saw (0 for a new instrument); a newer one means
        someone recorded meanwhile, and nothing is written.
    """
    require_role(actor, WRITER_ROLES, f"record configurations of {instrument}")
    at = now()
    check_instrument(instrument)
    checked = check_items(items)
    check_moment("valid_from", valid_from)
    check_source(source)
    current = _current(session, instrument)
    _require_seen(session, instrument, seen_version)
    previous = current[-1] if current else None
    if previous is not None and valid_from <= previous.valid_from:
        raise InvalidInputError(
            "valid_from",
            valid_from.isoformat(),
            f"a time after {previous.valid_from.isoformat()}, when version {previous.version_number} of "
            f"{instrument} starts; to change what was in force before then, correct that period "
            "(correct_configuration) instead",
        )
    known = _known_hardware(current)
    if previous is not None:
        previous.valid_to = valid_from
        touch(previous, actor, at)
    row = _new_record(
        actor,
        instrument,
        seen_version + 1,
        (valid_from, None),
        checked,
        recorded_at=at,
        updated_at=at,
        source=source,
        comment=comment,
    )
    session.add(row)
    flush(session, f"the configuration of {instrument}")
    before = _items_of(previous) if previous is not None else {}
    record_event(
        session,
        actor=actor,
        action="configs.recorded",
        entity_type="instrument_configuration",
        entity_id=f"{instrument}/{row.version_number}",
        before={"version": previous.version_number, "valid_to": None} if previous is not None else None,
        after={
            "instrument": instrument,
            "version": row.version_number,
            "valid_from": _iso(valid_from),
            "valid_to": None,
            "source": source,
            "items": len(checked),
            **_counts(before, checked),
        },
        now=lambda: at,
    )
    report_new_hardware(session, row, new_hardware(known, checked), actor, now=lambda: at)
    return row


def correct_configuration(
    session: Session,
    actor: User,
    instrument: str,
    items: Items,
    *,
    valid_from: datetime,
    valid_to: datetime | None,
    seen_version: int,
    comment: str,
    now: Clock = utcnow,
) -> Config:
    """Correct what was in force from ``valid_from`` to ``valid_to``; the records it overlapped are kept, superseded.

    Every current record overlapping the period is marked superseded now; a new record holds ``items`` for
    exactly the period, and the parts of the overlapped records outside it come back as new records with their
    items, so the current history still has no gap and no overlap. The corrected record takes the next version
    number and the re-inserted parts the ones after it, earliest first.

    Parameters
    ----------
    valid_from, valid_to
        The period corrected, in telescope time; ``valid_to`` None corrects through the version in force now.
        The period must start inside the known history (at or after the instrument's first version).
    seen_version
        As for :func:`record_configuration`.
    comment
        Why the record was wrong (required: a correction rewrites what people relied on).
    """
    require_role(actor, WRITER_ROLES, f"correct configurations of {instrument}")
    at = now()
    check_instrument(instrument)
    checked = check_items(items)
    check_moment("valid_from", valid_from)
    if valid_to is not None and check_moment("valid_to", valid_to) <= valid_from:
        raise InvalidInputError("valid_to", valid_to.isoformat(), f"a time after valid_from, {valid_from.isoformat()}")
    if not isinstance(comment, str) or not comment.strip():
        raise InvalidInputError("comment", comment, "the reason for the correction (what was wrong)")
    current = _current(session, instrument)
    _require_seen(session, instrument, seen_version)
    if not current:
        raise NotFoundError(f"{instrument} has no recorded configuration to correct", instrument=instrument)
    if valid_from < current[0].valid_from:
        raise InvalidInputError(
            "valid_from",
            valid_from.isoformat(),
            f"a time at or after {current[0].valid_from.isoformat()}, when the known history of {instrument} "
            "starts (record earlier versions first)",
        )
    overlapped = [
        row
        for row in current
        if (valid_to is None or row.valid_from < valid_to) and (row.valid_to is None or row.valid_to > valid_from)
    ]
    latest = max(overlapped, key=lambda r: r.recorded_at)
    if latest.recorded_at > at:
        raise ConflictError(
            f"version {latest.version_number} of {instrument} was recorded at {latest.recorded_at.isoformat()}, "
            f"after now ({at.isoformat()}); check the clock of the machine writing"
        )
    known = _known_hardware(current)
    first, last = overlapped[0], overlapped[-1]
    fields: dict[str, Any] = {"recorded_at": at, "updated_at": at}
    number = seen_version + 1
    row = _new_record(
        actor, instrument, number, (valid_from, valid_to), checked, source="manual", comment=comment, **fields
    )
    parts = []
    if first.valid_from < valid_from:
        parts.append((first, (first.valid_from, valid_from)))
    if valid_to is not None and (last.valid_to is None or last.valid_to > valid_to):
        parts.append((last, (valid_to, last.valid_to)))
    copies = [
        _new_record(
            actor,
            instrument,
            number + index,
            period,
            _items_of(source),
            source=source.source,
            comment=f"Version {source.version_number} outside the period corrected by version {number}. "
            + source.comment,
            **fields,
        )
        for index, (source, period) in enumerate(parts, start=1)
    ]
    _require_tiling(instrument, [r for r in current if r not in overlapped] + [row, *copies])
    for old in overlapped:
        old.superseded_at = at
        touch(old, actor, at)
    session.add_all([row, *copies])
    flush(session, f"the configuration of {instrument}")
    record_event(
        session,
        actor=actor,
        action="configs.corrected",
        entity_type="instrument_configuration",
        entity_id=f"{instrument}/{number}",
        before={
            "superseded": [
                {
                    "version": old.version_number,
                    "valid_from": _iso(old.valid_from),
                    "valid_to": _iso(old.valid_to),
                    **_counts(_items_of(old), checked),
                }
                for old in overlapped
            ]
        },
        after={
            "instrument": instrument,
            "version": number,
            "valid_from": _iso(valid_from),
            "valid_to": _iso(valid_to),
            "items": len(checked),
            "copies": [copy.version_number for copy in copies],
            "comment": comment,
        },
        now=lambda: at,
    )
    report_new_hardware(session, row, new_hardware(known, checked), actor, now=lambda: at)
    return row


def _require_tiling(instrument: str, records: list[Config]) -> None:
    """Refuse a change that would leave the current history with a gap or an overlap (a bug, never input)."""
    ordered = sorted(records, key=lambda r: r.valid_from)
    for before, after in zip(ordered, ordered[1:], strict=False):
        if before.valid_to != after.valid_from:
            raise ConflictError(
                f"the configuration history of {instrument} would not be contiguous between versions "
                f"{before.version_number} and {after.version_number}; nothing was changed"
            )
    if ordered and ordered[-1].valid_to is not None:
        raise ConflictError(f"the configuration history of {instrument} would end; nothing was changed")
