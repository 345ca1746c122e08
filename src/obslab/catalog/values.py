"""Parameter values as people type them and as the Ocat compares them: coercion, empty equivalents, sameness."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from obslab.catalog.parameter_schema import ParameterSpec

#: Text that means "no value" (compared lower-cased, without whitespace): the Ocat's NA, N, NONE...
EMPTY_TEXT = frozenset({"", "n", "no", "null", "na", "none"})
#: Numbers are compared rounded to this many decimals (Ocat rule).
DECIMALS = 4
#: Parameters that mirror an observation's summary column (parameter -> attribute); edits keep both in step.
MIRRORED = {
    "targname": "target_name",
    "ra": "ra_deg",
    "dec": "dec_deg",
    "instrument": "instrument",
    "grating": "grating",
    "type": "obs_type",
}
#: How datetime parameters are stored: UTC, to the second, without an offset (the Ocat's form).
DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S"


class CoercionError(ValueError):
    """A typed value could not be made from the input; the message says what is allowed."""

    def __init__(self, allowed: str) -> None:
        super().__init__(allowed)
        self.allowed = allowed


def is_empty(value: Any) -> bool:
    """True for None and for text the Ocat treats as no value (NA, N, NO, NONE, NULL, blanks)."""
    return value is None or (isinstance(value, str) and "".join(value.split()).lower() in EMPTY_TEXT)


def comparable(value: Any) -> Any:
    """The form two values are compared in: None when empty, numbers rounded, text without whitespace and case."""
    if is_empty(value):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return round(float(value), DECIMALS)
    if isinstance(value, str):
        text = "".join(value.split()).lower()
        try:
            number = float(text)
        except ValueError:
            return text
        return round(number, DECIMALS) if math.isfinite(number) else text
    return value


def same_value(a: Any, b: Any) -> bool:
    """Whether a requested value is no change from the original, by the Ocat's comparison rules."""
    return comparable(a) == comparable(b)


def coerce(spec: ParameterSpec, raw: Any) -> Any:
    """The stored form of ``raw`` for ``spec``: None when empty, else a typed value.

    Raises
    ------
    CoercionError
        When ``raw`` is not of the parameter's type or not one of its choices; bounds are checked by validation.
    """
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if spec.choices is not None:
        text = str(raw).strip()
        by_fold = {choice.casefold(): choice for choice in spec.choices}
        if text.casefold() in by_fold:
            return by_fold[text.casefold()]
        if is_empty(text):
            return None
        raise CoercionError("one of " + ", ".join(spec.choices) + " (or empty)")
    if spec.type == "string":
        if not isinstance(raw, str):
            raise CoercionError("text")
        return raw.strip()
    if spec.type in ("float", "int"):
        return _number(spec.type, raw)
    if spec.type == "datetime":
        return _datetime(raw)
    raise CoercionError(f"a value of type {spec.type}")  # pragma: no cover - the schema loader allows no other type


def _number(kind: str, raw: Any) -> int | float | None:
    allowed = "a whole number" if kind == "int" else "a number"
    if isinstance(raw, bool):
        raise CoercionError(allowed)
    if isinstance(raw, str):
        if is_empty(raw):
            return None
        try:
            raw = float(raw.strip())
        except ValueError:
            raise CoercionError(allowed) from None
    if not isinstance(raw, int | float) or not math.isfinite(raw):
        raise CoercionError(allowed)
    if kind == "int":
        if float(raw) != int(raw):
            raise CoercionError(allowed)
        return int(raw)
    return float(raw)


def _datetime(raw: Any) -> str | None:
    allowed = "a UTC date and time, YYYY-MM-DDTHH:MM:SS"
    if isinstance(raw, str):
        if is_empty(raw):
            return None
        try:
            raw = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
        except ValueError:
            raise CoercionError(allowed) from None
    if not isinstance(raw, datetime):
        raise CoercionError(allowed)
    if raw.tzinfo is not None:
        raw = raw.astimezone(UTC).replace(tzinfo=None)
    return raw.strftime(DATETIME_FORMAT)


def family_of(instrument: str | None, families: set[str]) -> str | None:
    """The instrument family (a schema group's ``family``) an instrument name belongs to, by prefix."""
    if not instrument:
        return None
    return next((family for family in sorted(families) if instrument.upper().startswith(family.upper())), None)
