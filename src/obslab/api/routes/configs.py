"""``GET /api/v1/configs``: the instruments, one's configuration at a time (as known now or then), its history."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from obslab.api.deps import context_of
from obslab.api.errors import error_responses
from obslab.api.schemas import Version
from obslab.configs import service as configs
from obslab.configs.datestr import ALLOWED, parse_datestr
from obslab.configs.types import ConfigVersion, Items
from obslab.configs.views import ItemsOf, RecordKey, record_items
from obslab.errors import NotFoundError

router = APIRouter(prefix="/api/v1/configs", tags=["configs"])
ValidAt = Annotated[str, Query(description=f"Telescope time, default now: {ALLOWED}.")]
KnownAt = Annotated[str | None, Query(description="Record time: the answer as obslab knew it then (same forms).")]
Instrument = Annotated[
    str, Path(description="An instrument's name, as `GET /api/v1/configs` lists them.", examples=["VIRUS"])
]


@router.get("", response_model=list[str])
def list_instruments(request: Request) -> list[str]:
    """The instruments with any recorded configuration."""
    with context_of(request).sessions() as session:
        return configs.instruments(session)


@router.get("/{instrument}", response_model=Version, responses=error_responses(400, 404))
async def get_configuration(
    request: Request, instrument: Instrument, valid_at: ValidAt = "", known_at: KnownAt = None
) -> Version:
    """The configuration of `instrument` in force at `valid_at`, as recorded at `known_at` when that is given."""
    # On the event loop, as GET /fplane (see there): two indexed queries, the items from this app's cache.
    context = context_of(request)
    zone = context.site.zone
    moment = parse_datestr(valid_at, now=context.now(), zone=zone, field="valid_at").at
    then = parse_datestr(known_at, now=context.now(), zone=zone, field="known_at").at if known_at is not None else None
    items_of = known_items(request)
    # Plain-column reads on a pooled connection (no session, no ORM objects); the items from this app's cache.
    with context.engine.connect() as connection:
        if then is None:
            found = configs.valid_at(connection, instrument, moment, items_of=items_of)
        else:
            found = configs.as_recorded_at(connection, instrument, moment, then, items_of=items_of)
        if found is None:
            with context.sessions() as session:
                refusal(session, instrument, moment)
    return Version.of(found)


MAX_CACHED = 256


def known_items(request: Request) -> ItemsOf:
    """Records' items read once by this app: they are never rewritten (see ``RecordKey``), so they never go stale."""
    cache: dict[RecordKey, Items] | None = getattr(request.app.state, "configuration_items", None)
    if cache is None:
        cache = request.app.state.configuration_items = {}

    def items_of(connection: Connection | Session, record: RecordKey) -> Items:
        items = cache.get(record)
        if items is None:
            items = record_items(connection, record)
            if len(cache) >= MAX_CACHED:
                cache.clear()
            cache[record] = items
        return items

    return items_of


@router.get("/{instrument}/history", response_model=list[Version], responses=error_responses(404))
def get_history(request: Request, instrument: Instrument) -> list[Version]:
    """Every record of `instrument` in version order, corrected (superseded) ones included."""
    with context_of(request).sessions() as session:
        versions = configs.history(session, instrument)
        if not versions:
            raise unknown(session, instrument)
        return [Version.of(version) for version in versions]


def refusal(session: Session, instrument: str, moment: datetime) -> ConfigVersion:
    """Say which was missing: the instrument, or its configuration at that time."""
    if instrument not in configs.instruments(session):
        raise unknown(session, instrument)
    raise NotFoundError(f"{instrument} has no configuration recorded for {moment.isoformat()}", instrument=instrument)


def unknown(session: Session, instrument: str) -> NotFoundError:
    names = ", ".join(configs.instruments(session)) or "none yet"
    return NotFoundError(f"no instrument {instrument!r} has a recorded configuration (known: {names})")
