"""What people type or hand to the configuration commands, read and checked: items (an fplane file or JSON), times.

Pure: the command line reads the file or standard input and passes the text; a page could pass an upload.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, tzinfo
from typing import Any

from obslab.configs.datestr import ALLOWED, parse_datestr
from obslab.configs.fplane import FPLANE_INSTRUMENT, items_from_fplane, parse_fplane, rows_from_items
from obslab.errors import InvalidInputError

#: The instrument whose configuration is the focal plane (what GET /fplane serves, what fplane files describe).
ISO_ALLOWED = "a UTC time in ISO 8601, such as 2026-11-21T18:00 or 2026-11-21T18:00:00Z (no zone: UTC)"
ITEMS_ALLOWED = 'a JSON object of items: {"key": {"attribute": value, ...}, ...}'


def looks_like_json(text: str) -> bool:
    """Whether ``text`` is JSON items rather than an fplane file (whose lines never start with a brace)."""
    return text.lstrip().startswith("{")


def items_from_text(text: str, instrument: str, *, field: str = "source") -> dict[str, dict[str, Any]]:
    """The items ``text`` holds: an fplane file's rows (the focal plane only), or a JSON object of items.

    The focal plane's items are checked as fplane rows whichever way they came, so ``GET /fplane`` can always
    render what was recorded; other instruments' items are checked by the service (``check_items``).
    """
    if not looks_like_json(text):
        if instrument != FPLANE_INSTRUMENT:
            raise InvalidInputError("instrument", instrument, f"{FPLANE_INSTRUMENT} for an fplane file (or JSON items)")
        return items_from_fplane(parse_fplane(text))
    try:
        items = json.loads(text)
    except json.JSONDecodeError as error:
        lines = text.splitlines()
        line = lines[error.lineno - 1].strip()[:60] if error.lineno <= len(lines) else ""
        raise InvalidInputError(
            f"{field} line {error.lineno}, column {error.colno}", line, f"JSON ({error.msg})"
        ) from None
    if not isinstance(items, dict) or not all(isinstance(value, dict) for value in items.values()):
        raise InvalidInputError(field, text.strip()[:60], ITEMS_ALLOWED)
    if instrument == FPLANE_INSTRUMENT:
        rows_from_items(items)
    return items


def iso_moment(text: str, field: str) -> datetime:
    """An ISO 8601 time as UTC (a time without a zone is UTC), or a refusal naming ``field``."""
    cleaned = text.strip()
    # fromisoformat reads 20261121 as midnight UTC, but people mean a night by it: refuse rather than guess.
    if cleaned.isdigit():
        raise InvalidInputError(field, text, ISO_ALLOWED)
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        raise InvalidInputError(field, text, ISO_ALLOWED) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def moment_from_text(text: str, field: str, *, now: datetime, zone: tzinfo) -> datetime:
    """A moment in the fplane clients' forms (YYYYMMDD a night, a DATE-OBS, latest) or ISO 8601, as UTC."""
    try:
        return parse_datestr(text, now=now, zone=zone).at
    except InvalidInputError:
        pass
    try:
        return iso_moment(text, field)
    except InvalidInputError:
        raise InvalidInputError(field, text, f"{ALLOWED}; or ISO 8601 such as 2026-11-21T18:00 (UTC)") from None
