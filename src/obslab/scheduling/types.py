"""Scheduling's enums: twilight levels, request, schedule and alert states, rejection reasons (pure: no database)."""

from __future__ import annotations

import enum


class TwilightLevel(enum.StrEnum):
    """How dark the sky must be; the value names the Sun's altitude limit."""

    SUNSET = "sunset"  # Sun below the horizon (-0.833 deg with refraction)
    CIVIL = "civil"  # -6 deg
    NAUTICAL = "nautical"  # -12 deg
    ASTRONOMICAL = "astronomical"  # -18 deg

    @property
    def dark_time(self) -> str:
        """How people say the dark time of this level: 'after sunset', 'after civil twilight', ..."""
        return {
            TwilightLevel.SUNSET: "after sunset",
            TwilightLevel.CIVIL: "after civil twilight (Sun below -6 deg)",
            TwilightLevel.NAUTICAL: "after nautical twilight (Sun below -12 deg)",
            TwilightLevel.ASTRONOMICAL: "in astronomical darkness (Sun below -18 deg)",
        }[self]


class RequestStatus(enum.StrEnum):
    PENDING = "pending"  # waiting to be scheduled
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class ScheduleStatus(enum.StrEnum):
    ACTIVE = "active"
    SUPERSEDED = "superseded"


class RejectionReason(enum.StrEnum):
    """Why a request was left out of a schedule (machine-readable; the detail text says more)."""

    NEVER_VISIBLE = "never_visible"
    WINDOWS_OUTSIDE_NIGHT = "windows_outside_night"
    VISIBLE_TOO_SHORT = "visible_too_short"
    MOON = "moon"
    HOUR_ANGLE = "hour_angle"
    OUTRANKED = "outranked"
    TIME_LOST = "time_lost"
    NOT_SCHEDULABLE = "not_schedulable"


class AlertRole(enum.StrEnum):
    OBSERVATION = "observation"
    TEST = "test"
    UTILITY = "utility"


class AlertStatus(enum.StrEnum):
    RECEIVED = "received"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    SUPERSEDED = "superseded"
    RETRACTED = "retracted"
