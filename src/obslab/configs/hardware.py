"""The telescope control system's focal-plane update (the body of ``POST /fplane``), read and checked.

The update
----------
The HETDEX TCS answers ``get_hardware_status`` with a dictionary whose shape was never published; obslab takes
this one, and a daily job at the telescope posts it::

    {
      "config": {
        "timestamp": "2026-12-06T20:15:00Z",
        "ifus": {
          "000": {"ifuid": "900", "specid": 900, "specslot": 900, "x_fp": 0.0, "y_fp": 0.0,
                  "ifurot": 0.0, "platesc": 1.0},
          "013": {"ifuid": "021", "specid": 8, "specslot": 1, "x_fp": -400.031, "y_fp": -200.0,
                  "ifurot": 0.0, "platesc": 1.0}
        }
      },
      "commit": true
    }

``timestamp`` is when the TCS read the hardware: ISO 8601, UTC when it names no zone. ``ifus`` maps each occupied
seat (IFUSLOT) to what sits in it, with exactly the configuration item attributes of :mod:`obslab.configs.fplane`
(SPECID/IFUID 900 and up for the placeholder and the LRS2, HRS and HPF feeds). Other keys of ``config`` are other
hardware and are ignored. ``commit`` false is a dry run; it is read tolerantly (:func:`parse_bool`).

Data read more than 6 hours ago is refused: it may describe a focal plane that has changed since. A timestamp
ahead of the server's clock by more than 10 minutes is accepted with a warning, since it means a clock is wrong,
not that the focal plane is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from obslab.configs.fplane import ATTRIBUTES, rows_from_items
from obslab.errors import InvalidInputError

MAX_AGE = timedelta(hours=6)
FUTURE_TOLERANCE = timedelta(minutes=10)
_TRUE = frozenset({"true", "1", "yes", "on", "y", "t"})
_FALSE = frozenset({"false", "0", "no", "off", "n", "f"})
_BOOL_ALLOWED = "true or false (also 1/0, yes/no, on/off, y/n, t/f, in any case)"
_ENVELOPE = ("config", "commit")


@dataclass(frozen=True)
class HardwareStatus:
    """The focal plane the TCS reported: when it read it (aware UTC), the configuration items, and warnings."""

    timestamp: datetime
    items: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


def parse_bool(value: Any, *, field: str = "value") -> bool:
    """``True``/``False``, 1/0, or a word: true/false, 1/0, yes/no, on/off, y/n, t/f in any case, spaces trimmed."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE or word in _FALSE:
            return word in _TRUE
    raise _invalid(field, value, _BOOL_ALLOWED)


def read_hardware_status(config: Mapping[str, Any], *, now: datetime) -> HardwareStatus:
    """Check the TCS's hardware status (shape in the module docstring) and return it as configuration items.

    Raises
    ------
    InvalidInputError
        Naming the field (``timestamp``, ``ifus``, ``ifus.013.specid``, ...), the value and what is allowed: data
        older than 6 hours, a missing or ill-typed field, an unknown attribute, an IFUID or SPECID in two seats.
    """
    if not isinstance(config, Mapping):
        raise _invalid("config", config, "an object with timestamp and ifus")
    now = _as_utc(now)
    timestamp = _read_timestamp(config.get("timestamp"))
    if now - timestamp > MAX_AGE:
        earliest = (now - MAX_AGE).isoformat()
        raise _invalid("timestamp", config["timestamp"], f"a time no more than 6 hours old: {earliest} or later")
    warnings: list[str] = []
    if timestamp - now > FUTURE_TOLERANCE:
        warnings.append(
            f"timestamp {timestamp.isoformat()} is {timestamp - now} ahead of the server's clock "
            f"({now.isoformat()}); accepted, but a clock is wrong"
        )
    ifus = config.get("ifus")
    if not isinstance(ifus, Mapping) or not ifus:
        raise _invalid("ifus", ifus, "an object of at least one IFU seat, such as {'013': {...}}")
    for key, attributes in ifus.items():
        unknown = sorted(set(attributes) - set(ATTRIBUTES)) if isinstance(attributes, Mapping) else []
        if unknown:
            raise _invalid(f"ifus.{key}.{unknown[0]}", attributes[unknown[0]], f"only {', '.join(ATTRIBUTES)}")
    rows = rows_from_items(ifus, where="ifus.")
    return HardwareStatus(timestamp, {row.ifuslot: row.as_item() for row in rows}, tuple(warnings))


def read_update_request(body: Any, *, now: datetime) -> tuple[HardwareStatus, bool]:
    """Check a ``POST /fplane`` body, ``{"config": <hardware status>, "commit": true|false}``; return both parts."""
    if not isinstance(body, Mapping):
        raise _invalid("body", body, 'an object {"config": {...}, "commit": true or false}')
    unknown = sorted(str(key) for key in body if key not in _ENVELOPE)
    if unknown:
        raise _invalid(unknown[0], body[unknown[0]], "only config and commit")
    for name in _ENVELOPE:
        if name not in body:
            raise _invalid(name, None, "the hardware status object" if name == "config" else _BOOL_ALLOWED)
    commit = parse_bool(body["commit"], field="commit")
    return read_hardware_status(body["config"], now=now), commit


def _read_timestamp(value: Any) -> datetime:
    allowed = "an ISO 8601 time such as 2026-12-06T20:15:00Z (UTC when no zone is given)"
    if isinstance(value, datetime):
        return _as_utc(value)
    if not isinstance(value, str):
        raise _invalid("timestamp", value, allowed)
    try:
        return _as_utc(datetime.fromisoformat(value.strip()))
    except ValueError:
        raise _invalid("timestamp", value, allowed) from None


def _as_utc(moment: datetime) -> datetime:
    # The TCS clock runs on UT; a time naming no zone is read as UTC, not as the server's local time.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _invalid(field: str, value: Any, allowed: str) -> InvalidInputError:
    # A whole refused body in an error message would drown the point; show its start.
    shown = value if len(repr(value)) <= 120 else f"{repr(value)[:117]}..."
    return InvalidInputError(field, shown, allowed)
