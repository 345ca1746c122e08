"""What the configurations page reads from its inputs and shows as tables: times, compare sides, items, a diff."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

import pandas as pd

from obslab.configs.fplane import ATTRIBUTES, Fplane, FplaneRow, fplane_from_items, is_placeholder
from obslab.configs.text_input import moment_from_text
from obslab.configs.types import ConfigDiff, ConfigVersion, Items
from obslab.errors import InvalidInputError
from obslab.formatting import shown, utc

#: What a comparison side takes besides a time, as a refusal says it.
SIDE_ALLOWED = "a version number (5 or v5), or a time: now, YYYYMMDD (a night), or ISO 8601 (UTC)"
# Six digits at most, so a YYYYMMDD date is never read as a version number.
_VERSION = re.compile(r"^[vV]?([0-9]{1,6})$")
DIFF_COLUMNS = ["change", "item", "attribute", "before", "after"]
ITEM_KEY = "item"


@dataclass(frozen=True)
class Side:
    """One side of a comparison as typed: a version number, or a moment (read as known at the page's known-at)."""

    field: str
    text: str
    version: int | None = None
    moment: datetime | None = None


def parse_side(text: str, field: str, *, now: datetime, zone: tzinfo) -> Side | None:
    """None for empty (the page's own default for that side), else a version number or a moment.

    Times are read as ``obslab config`` and the fplane clients read them (``configs/text_input.py``), so the page,
    the command line and the fplane API agree on what a typed time means.
    """
    cleaned = text.strip()
    if not cleaned:
        return None
    if match := _VERSION.match(cleaned):
        return Side(field, text, version=int(match[1]))
    try:
        return Side(field, text, moment=moment_from_text(cleaned, field, now=now, zone=zone))
    except InvalidInputError:
        raise InvalidInputError(field, text, SIDE_ALLOWED) from None


def label_of(version: ConfigVersion | None) -> str:
    return f"version {version.version_number}" if version is not None else "no configuration"


def has_plane(items: Items) -> bool:
    """Whether the items are a focal plane: every IFU-like item (not a 900 placeholder) has a position."""
    ifus = [value for value in items.values() if not is_placeholder(value)]
    return bool(ifus) and all("x_fp" in value and "y_fp" in value for value in ifus)


def plane_rows(items: Items, *, actual: bool) -> tuple[tuple[FplaneRow, ...], tuple[str, ...]]:
    """The VIRUS IFUs to draw (at their measured or nominal positions) and the keys of the entries not drawn."""
    plane: Fplane = fplane_from_items(items, full=False, actual=actual)
    return plane.virus_rows, tuple(sorted(key for key, value in items.items() if is_placeholder(value)))


def items_frame(items: Items) -> pd.DataFrame:
    """One row per item: its key, then every attribute any item has (a focal plane's in file order)."""
    names = {name for value in items.values() for name in value}
    ordered = [name for name in ATTRIBUTES if name in names] + sorted(names - set(ATTRIBUTES))
    rows = [
        {ITEM_KEY: key, **{name: _cell(items[key][name]) if name in items[key] else "" for name in ordered}}
        for key in sorted(items)
    ]
    return pd.DataFrame(rows, columns=[ITEM_KEY, *ordered])


def _cell(value: Any) -> Any:
    # Numbers stay numbers (the table formats and sorts them); anything else is shown as text.
    return value if isinstance(value, int | float) and not isinstance(value, bool) else shown(value)


def diff_frame(diff: ConfigDiff, before: Items, after: Items) -> pd.DataFrame:
    """The diff as rows: an item added or removed in one row with its attributes, a change one row per attribute."""
    rows = [
        {"change": "added", "item": key, "attribute": "", "before": "", "after": _attributes(after[key])}
        for key in diff.added
    ]
    rows += [
        {"change": "removed", "item": key, "attribute": "", "before": _attributes(before[key]), "after": ""}
        for key in diff.removed
    ]
    rows += [
        {
            "change": "changed",
            "item": c.key,
            "attribute": c.attribute,
            "before": shown(c.before),
            "after": shown(c.after),
        }
        for c in diff.changed
    ]
    return pd.DataFrame(rows, columns=DIFF_COLUMNS)


def _attributes(value: Mapping[str, Any]) -> str:
    names = [name for name in ATTRIBUTES if name in value] + sorted(set(value) - set(ATTRIBUTES))
    return ", ".join(f"{name} {shown(value[name])}" for name in names)


def diff_summary(diff: ConfigDiff, before: str, after: str) -> str:
    if diff.empty:
        return f"No difference: {before} and {after} hold the same items."
    keys, attributes = len({change.key for change in diff.changed}), len(diff.changed)
    detail = f" ({attributes} attribute{'' if attributes == 1 else 's'})" if attributes else ""
    return f"From {before} to {after}: {len(diff.added)} added, {len(diff.removed)} removed, {keys} changed{detail}"


def as_of_summary(instrument: str, version: ConfigVersion | None, valid: datetime, known: datetime) -> str:
    """The as-of answer in one line: which version, its (believed) period, when that was the belief."""
    asked = f"valid at {utc(valid)}, as known at {utc(known)}"
    if version is None:
        return f"{instrument} had no recorded configuration {asked}."
    # The end as believed then: "still in force" may have been closed since, which the timeline shows.
    period = f" to {utc(version.valid_to)}" if version.valid_to else ", still in force"
    return f"{instrument} version {version.version_number}: from {utc(version.valid_from)}{period} ({asked})"


def record_summary(version: ConfigVersion | None) -> str:
    """Who recorded the version shown, when, from where and why."""
    if version is None:
        return ""
    state = f", superseded {utc(version.superseded_at)}" if version.superseded_at else ""
    who = version.recorded_by or "nobody named"
    return (
        f"Recorded {utc(version.recorded_at)} by {who}{state}, source {version.source}: "
        f"{version.comment or '(no comment)'}"
    )
