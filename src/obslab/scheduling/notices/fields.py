"""Reading JSON notices' fields: size, parse, text, numbers, times, ids, base64 FITS; refusals name the field."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Any

from obslab.errors import InvalidInputError

#: The most a JSON notice may weigh: GCN's Kafka brokers take messages up to about 4 MiB (LVK's are 1-2 MB).
MAX_JSON_BYTES = 4 * 1024 * 1024
_FITS = b"SIMPLE  ="
_GZIP = b"\x1f\x8b"


def load_object(payload: bytes, where: str) -> dict[str, Any]:
    """The payload as a JSON object, refused by name when too large, not JSON or not an object."""
    if len(payload) > MAX_JSON_BYTES:
        raise InvalidInputError(where, f"{len(payload):,} bytes", f"a JSON notice of at most {MAX_JSON_BYTES:,} bytes")
    try:
        data = json.loads(payload)
    except UnicodeDecodeError:
        raise InvalidInputError(where, "bytes that are not UTF-8", "a JSON notice in UTF-8") from None
    except json.JSONDecodeError as error:
        raise InvalidInputError(where, f"malformed JSON ({error})", "a JSON object") from None
    if not isinstance(data, dict):
        raise InvalidInputError(where, f"a JSON {type(data).__name__}", "a JSON object") from None
    return data


def text(data: dict[str, Any], name: str, where: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInputError(f"{where}: {name}", value, "a string")
    return value.strip() or None


def number(
    data: dict[str, Any], name: str, where: str, *, low: float | None = None, high: float | None = None
) -> float | None:
    """A finite number within [low, high] when given; booleans are not numbers."""
    value = data.get(name)
    if value is None:
        return None
    return checked_number(value, f"{where}: {name}", low=low, high=high)


def checked_number(value: Any, field: str, *, low: float | None = None, high: float | None = None) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or value != value
        or value in (float("inf"), -float("inf"))
    ):
        raise InvalidInputError(field, value, "a finite number")
    if (low is not None and value < low) or (high is not None and value > high):
        if high is None:
            allowed = f"a number of at least {low:g}"
        elif low is None:
            allowed = f"a number of at most {high:g}"
        else:
            allowed = f"a number from {low:g} to {high:g}"
        raise InvalidInputError(field, value, allowed)
    return float(value)


def record_number(data: dict[str, Any], name: str, where: str) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInputError(f"{where}: {name}", value, "a whole number from 0")
    return value


def flag(data: dict[str, Any], name: str, where: str) -> bool | None:
    value = data.get(name)
    if value is None or isinstance(value, bool):
        return value
    raise InvalidInputError(f"{where}: {name}", value, "true or false")


def time(data: dict[str, Any], name: str, where: str) -> datetime | None:
    """An ISO 8601 time as aware UTC; a time without a zone is UTC (GBM and SVOM write none)."""
    value = text(data, name, where)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InvalidInputError(
            f"{where}: {name}", value, "an ISO 8601 time, e.g. 2024-08-24T02:14:40.43Z (no zone means UTC)"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def ids(data: dict[str, Any], name: str, where: str) -> tuple[str, ...]:
    """A string or a list of strings (numbers are taken as written), in the producer's order, repeats dropped."""
    value = data.get(name)
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    found: list[str] = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, str | int):
            raise InvalidInputError(f"{where}: {name}", value, "a string or a list of strings")
        item = str(item).strip()
        if item and item not in found:
            found.append(item)
    return tuple(found)


def mapping(data: dict[str, Any], name: str, where: str) -> dict[str, Any] | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidInputError(f"{where}: {name}", value, "a JSON object")
    return value


def fits_bytes(data: dict[str, Any], name: str, where: str) -> bytes | None:
    """A base64 FITS file (gzipped or not), decoded; the pixels are left for the sky-map module to read."""
    value = text(data, name, where)
    if value is None:
        return None
    try:
        raw = base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError) as error:
        raise InvalidInputError(f"{where}: {name}", _short(value), f"base64 of a FITS file ({error})") from None
    if not raw.startswith((_FITS, _GZIP)):
        raise InvalidInputError(
            f"{where}: {name}",
            f"base64 of {_short(raw)!r}",
            "base64 of a FITS file (starting SIMPLE  =) or of a gzipped one",
        )
    return raw


def _short(value: str | bytes) -> str | bytes:
    return value if len(value) <= 40 else value[:40] + ("..." if isinstance(value, str) else b"...")
