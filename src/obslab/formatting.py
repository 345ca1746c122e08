"""One way to show times and numbers to people: UTC to the minute (or second), local beside it, no stray floats."""

from __future__ import annotations

import math
from datetime import UTC, datetime, tzinfo
from typing import Any

#: What an empty value reads as (never "None" or "''").
EMPTY = "(empty)"


def utc(moment: datetime | None, *, seconds: bool = False) -> str:
    """``2026-11-23 11:43 UTC`` (``seconds``: ``11:43:54``); an aware time in any zone is shown in UTC."""
    if moment is None:
        return EMPTY
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: obslab's times are UTC and carry their zone")
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M{':%S' if seconds else ''}} UTC"


def clock(moment: datetime, zone: tzinfo | None = None) -> str:
    """The time of day, ``03:12``, in UTC or in ``zone`` (with its abbreviation: ``20:12 MST``)."""
    if zone is None:
        return f"{moment.astimezone(UTC):%H:%M}"
    local = moment.astimezone(zone)
    return f"{local:%H:%M} {local.tzname()}"


def clock_span(start: datetime, end: datetime, zone: tzinfo | None = None) -> str:
    """A span of the day, ``20:12–21:05 MST`` (the zone once, after both ends), in UTC or in ``zone``."""
    if zone is None:
        return f"{clock(start)}–{clock(end)} UTC"
    return f"{start.astimezone(zone):%H:%M}–{clock(end, zone)}"


def number(value: float | int) -> str:
    """``4`` not ``4.0``, ``2.8`` not ``2.8000000000000003``; ten significant digits at most."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"not a number: {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.10g}"


def shown(value: Any) -> str:
    """A parameter value as people read it: numbers by ``number``, times by ``utc``, empty as ``(empty)``."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return number(value)
    if isinstance(value, datetime):
        return utc(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(shown(item) for item in value) or EMPTY
    return str(value)
