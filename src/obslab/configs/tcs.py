"""The telescope's focal-plane report as one use case: compare with what was in force, record it if it changed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from obslab.access import User, require_role
from obslab.configs.hardware import HardwareStatus
from obslab.configs.service import WRITER_ROLES, latest_version_number, record_configuration, valid_at
from obslab.configs.types import ConfigDiff, Items, diff_items
from obslab.db import Clock, utcnow


@dataclass(frozen=True)
class StatusRecorded:
    """What a report did: the items reported, the change from the version in force, and the version recorded."""

    items: Items
    diff: ConfigDiff
    previous_version: int | None
    version_number: int | None
    warnings: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "diff": self.diff.as_dict(),
            "previous_version": self.previous_version,
            "version_number": self.version_number,
            "warnings": list(self.warnings),
        }


def record_hardware_status(
    session: Session, actor: User, instrument: str, status: HardwareStatus, *, now: Clock = utcnow
) -> StatusRecorded:
    """Record ``status`` as ``instrument``'s configuration from its timestamp on, unless nothing changed.

    The telescope states no version it saw: the version it builds on is the newest one read here, before
    ``record_configuration`` locks, so a writer who records in between makes this one stale (refused). A daily
    report of an unchanged focal plane records nothing (a version says the hardware changed at its start).
    """
    require_role(actor, WRITER_ROLES, f"record configurations of {instrument}")
    seen = latest_version_number(session, instrument)
    before = valid_at(session, instrument, status.timestamp)
    diff = diff_items(before.items if before is not None else {}, status.items)
    previous = before.version_number if before is not None else None
    if before is not None and diff.empty:
        unchanged = f"no change since version {previous}: nothing recorded"
        return StatusRecorded(status.items, diff, previous, None, (*status.warnings, unchanged))
    row = record_configuration(
        session,
        actor,
        instrument,
        status.items,
        valid_from=status.timestamp,
        seen_version=seen,
        source="tcs",
        comment="reported by the telescope control system",
        now=now,
    )
    return StatusRecorded(status.items, diff, previous, row.version_number, status.warnings)
