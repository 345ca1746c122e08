"""One revision's values side by side: original (at submission), requested and current, grouped as in the schema."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from obslab.catalog.changes.guards import find_revision
from obslab.catalog.lookup import current_values
from obslab.catalog.parameter_schema import ParameterSchema, default_parameter_schema
from obslab.catalog.values import same_value


@dataclass(frozen=True)
class ValueRow:
    """One parameter of one revision: what it was, what was asked for, what it is now."""

    group: str
    name: str
    rank: int
    label: str
    original: Any
    requested: Any
    current: Any
    changed: bool

    @property
    def applied(self) -> bool:
        """The catalog now holds the requested value (after verification, or if someone set it anyway)."""
        return same_value(self.current, self.requested)


def side_by_side(session: Session, label: str, *, schema: ParameterSchema | None = None) -> list[ValueRow]:
    """Every value the revision stored, in schema order, with the catalog's current value beside it."""
    schema = schema or default_parameter_schema()
    revision = find_revision(session, label)
    now = current_values(session, revision.observation)
    order = {name: index for index, name in enumerate(schema.names())}
    rows = []
    for value in sorted(revision.values, key=lambda v: (order.get(v.name, len(order)), v.name, v.rank)):
        group = schema.group_of(value.name)
        spec_label = schema.spec(value.name).label if group is not None else value.name
        rows.append(
            ValueRow(
                group.label if group is not None else "Other parameters",
                value.name,
                value.rank,
                spec_label + (f" [{value.rank}]" if value.rank else ""),
                value.original,
                value.requested,
                now.get((value.name, value.rank)),
                value.changed,
            )
        )
    return rows
