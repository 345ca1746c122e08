"""Value types of instrument configurations: one version as people read it, and the difference of two (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

#: One configuration's items: item key (for a focal plane, the IFU seat "013") to its attributes.
Items = Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True)
class ConfigVersion:
    """One record of an instrument's configuration, on both time axes.

    ``valid_from``/``valid_to`` are telescope time (when the hardware was so); ``recorded_at``/``superseded_at``
    are record time (when obslab believed it). ``valid_to`` None means still in force; ``superseded_at`` None
    means not corrected since. ``version`` is the optimistic-lock counter a write states it saw.
    """

    instrument: str
    version_number: int
    valid_from: datetime
    valid_to: datetime | None
    recorded_at: datetime
    superseded_at: datetime | None
    recorded_by: str | None
    source: str
    comment: str
    items: Items = field(default_factory=dict)
    version: int = 1

    @property
    def current(self) -> bool:
        """Whether this record is still believed (not superseded by a correction)."""
        return self.superseded_at is None

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values: times as ISO 8601 UTC strings, items as nested dicts."""

        def iso(moment: datetime | None) -> str | None:
            return moment.isoformat() if moment is not None else None

        return {
            "instrument": self.instrument,
            "version_number": self.version_number,
            "valid_from": iso(self.valid_from),
            "valid_to": iso(self.valid_to),
            "recorded_at": iso(self.recorded_at),
            "superseded_at": iso(self.superseded_at),
            "recorded_by": self.recorded_by,
            "source": self.source,
            "comment": self.comment,
            "items": {key: dict(value) for key, value in sorted(self.items.items())},
        }


@dataclass(frozen=True)
class AttributeChange:
    """One attribute of one item that differs between two configurations."""

    key: str
    attribute: str
    before: Any
    after: Any


@dataclass(frozen=True)
class ConfigDiff:
    """What changed from one configuration to another: items added, removed, and changed attribute by attribute."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[AttributeChange, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def as_dict(self) -> dict[str, Any]:
        return {
            "added": list(self.added),
            "removed": list(self.removed),
            "changed": [
                {"key": c.key, "attribute": c.attribute, "before": c.before, "after": c.after} for c in self.changed
            ],
        }


def diff_items(before: Items, after: Items) -> ConfigDiff:
    """Items added, removed and changed (attribute by attribute, an absent attribute reading None) from ``before``."""
    added = tuple(sorted(set(after) - set(before)))
    removed = tuple(sorted(set(before) - set(after)))
    changed = tuple(
        AttributeChange(key, name, before[key].get(name), after[key].get(name))
        for key in sorted(set(before) & set(after))
        for name in sorted(set(before[key]) | set(after[key]))
        if before[key].get(name) != after[key].get(name)
    )
    return ConfigDiff(added, removed, changed)
