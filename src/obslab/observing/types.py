"""Observing's enums: exposure kinds, causes of lost time and pipeline stage states (pure: no database)."""

from __future__ import annotations

import enum


class ExposureKind(enum.StrEnum):
    SCIENCE = "science"
    BIAS = "bias"
    DARK = "dark"
    FLAT = "flat"
    SEEING = "seeing"
    POINTING = "pointing"


class LossCause(enum.StrEnum):
    """Why dark time was lost: the night log's causes, as the nightly report totals them."""

    WEATHER = "weather"  # clouds, humidity, wind: the dome closed
    TECHNICAL = "technical"  # a failure of the telescope, the AO system, the camera or the software
    OTHER = "other"


class StageState(enum.StrEnum):
    PENDING = "pending"
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
