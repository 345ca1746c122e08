"""Checks of configuration input, naming field, value and what is allowed; hardware ids and placeholders (pure)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from obslab.configs.types import Items
from obslab.errors import InvalidInputError

#: Hardware ids from this number up are placeholders (unused seats, non-VIRUS entries) and may repeat.
PLACEHOLDER = 900
#: Item attributes naming hardware that only one item can hold at a time, and what people call it.
HARDWARE = {"specid": "spectrograph", "ifuid": "IFU"}
MAX_INSTRUMENT = 32
MAX_KEY = 64
MAX_SOURCE = 64


def _shown(value: Any) -> Any:
    """``value``, or the start of its text when it is too long to quote in a message."""
    text = repr(value)
    return value if len(text) <= 80 else text[:77] + "..."


def check_instrument(name: Any) -> str:
    """The instrument name, 1-32 characters without surrounding spaces."""
    if not isinstance(name, str) or not name or name != name.strip() or len(name) > MAX_INSTRUMENT:
        raise InvalidInputError("instrument", _shown(name), f"a name of 1-{MAX_INSTRUMENT} characters, e.g. 'VIRUS'")
    return name


def check_source(source: Any) -> str:
    """Where the configuration came from ("manual", "tcs", ...): 1-64 characters."""
    if not isinstance(source, str) or not source.strip() or len(source) > MAX_SOURCE:
        raise InvalidInputError("source", _shown(source), f"1-{MAX_SOURCE} characters naming where it came from")
    return source


def check_moment(field: str, value: Any) -> datetime:
    """A time with a zone; a naive one would be read in whatever zone the writer's machine has."""
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInputError(field, _shown(value), "a time with a zone (times are UTC)")
    return value


def _scalar(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)  # JSON has no NaN or infinity
    return value is None or isinstance(value, str | int | bool)


def hardware_id(value: Any) -> int | str | None:
    """The id ``value`` names, compared across items (``"008"`` and ``8`` are one spectrograph).

    None for no hardware: a missing value, a boolean, or a placeholder (:data:`PLACEHOLDER` and up).
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, str):
        value = value.strip()
        if value.isdigit():
            value = int(value)
        elif not value:
            return None
    if isinstance(value, int):
        return None if value >= PLACEHOLDER else value
    return str(value)


def hardware(items: Items) -> dict[str, dict[int | str, str]]:
    """For each hardware attribute, the ids ``items`` hold and the first item (by key) holding each."""
    found: dict[str, dict[int | str, str]] = {attribute: {} for attribute in HARDWARE}
    for key in sorted(items):
        for attribute, held in found.items():
            ident = hardware_id(items[key].get(attribute))
            if ident is not None:
                held.setdefault(ident, key)
    return found


def check_items(items: Any) -> dict[str, dict[str, Any]]:
    """A plain copy of ``items`` after checking its shape and that no two items hold the same hardware.

    Parameters
    ----------
    items
        Item key (1-64 characters, e.g. the IFU seat ``"013"``) to a mapping of attribute name to a JSON
        scalar (text, number, true/false or null). Two items may not hold the same ``specid`` or ``ifuid``,
        except placeholders (900 and up, as fplane files write unused seats).
    """
    if not isinstance(items, Mapping) or not items:
        raise InvalidInputError("items", _shown(items), "a non-empty mapping of item key to its attributes")
    checked: dict[str, dict[str, Any]] = {}
    for key, attributes in items.items():
        if not isinstance(key, str) or not key.strip() or len(key) > MAX_KEY:
            raise InvalidInputError("items", _shown(key), f"item keys of 1-{MAX_KEY} characters, e.g. '013'")
        if not isinstance(attributes, Mapping):
            raise InvalidInputError(f"items[{key!r}]", _shown(attributes), "a mapping of attribute name to value")
        for name, value in attributes.items():
            if not isinstance(name, str) or not name.strip():
                raise InvalidInputError(f"items[{key!r}]", _shown(name), "attribute names that are non-empty text")
            if not _scalar(value):
                raise InvalidInputError(
                    f"items[{key!r}].{name}", _shown(value), "text, a finite number, true/false or null"
                )
        checked[key] = dict(attributes)
    for attribute, what in HARDWARE.items():
        holder: dict[int | str, str] = {}
        for key in sorted(checked):
            ident = hardware_id(checked[key].get(attribute))
            if ident is None:
                continue
            if ident in holder:
                raise InvalidInputError(
                    f"items[{key!r}].{attribute}",
                    checked[key][attribute],
                    f"each {what} in one item only, but item {holder[ident]!r} holds it too "
                    f"(only placeholders, {PLACEHOLDER} and up, may repeat)",
                )
            holder[ident] = key
    return checked
