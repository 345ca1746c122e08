"""Observing's enums: exposure kinds and pipeline stage states (pure: no database)."""

from __future__ import annotations

import enum


class ExposureKind(enum.StrEnum):
    SCIENCE = "science"
    BIAS = "bias"
    DARK = "dark"
    FLAT = "flat"
    SEEING = "seeing"
    POINTING = "pointing"


class StageState(enum.StrEnum):
    PENDING = "pending"
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
