"""Reports' enums: the states of a report run (pure: no database)."""

from __future__ import annotations

import enum


class ReportState(enum.StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
