"""Scheduling tables: observing requests and windows, schedule versions, blocks, rejection reasons, alerts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, Date, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from obslab.db import Base, Versioned, str_enum, utcnow
from obslab.scheduling.types import (
    AlertRole,
    AlertStatus,
    RejectionReason,
    RequestStatus,
    ScheduleStatus,
    TwilightLevel,
)


class Alert(Versioned, Base):
    """A received notice (VOEvent or JSON), de-duplicated by its key and by its payload's hash."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    # A VOEvent's IVORN, else <topic or folder>#<event id>/<alert type>/<record number or creation time>.
    key: Mapped[str] = mapped_column(String(1024), unique=True)
    source: Mapped[str] = mapped_column(String(255), default="")  # the Kafka topic or the folder
    format: Mapped[str] = mapped_column(String(16), default="voevent")
    kind: Mapped[str] = mapped_column(String(16), default="initial")  # initial, update, retraction, test
    alert_type: Mapped[str] = mapped_column(String(64), default="")  # the producer's word
    event_id: Mapped[str] = mapped_column(String(255), default="", index=True)
    payload_sha256: Mapped[str] = mapped_column(String(64), default="", index=True)
    area90_deg2: Mapped[float | None]  # a sky map's 90% credible area
    observable_probability: Mapped[float | None]  # of the map, tonight, under the policy's constraints
    role: Mapped[AlertRole] = mapped_column(str_enum(AlertRole, length=16))
    author: Mapped[str] = mapped_column(String(255), default="")
    stream: Mapped[str] = mapped_column(String(255), default="", index=True)
    event_time: Mapped[datetime | None] = mapped_column(index=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    ra_deg: Mapped[float | None]
    dec_deg: Mapped[float | None]
    error_radius_deg: Mapped[float | None]
    status: Mapped[AlertStatus] = mapped_column(
        str_enum(AlertStatus, length=16), default=AlertStatus.RECEIVED, index=True
    )
    policy: Mapped[str | None] = mapped_column(String(64))
    decision: Mapped[str] = mapped_column(Text, default="")
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id", ondelete="SET NULL"))
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id", ondelete="SET NULL"))
    parameters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    payload: Mapped[str] = mapped_column(Text, default="")
    skymap: Mapped[AlertSkyMap | None] = relationship(
        back_populates="alert", cascade="all, delete-orphan", lazy="raise", passive_deletes=True
    )


class AlertSkyMap(Base):
    """An alert's sky map as received (multi-order FITS) and the tiles it was covered with."""

    __tablename__ = "alert_skymaps"

    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True)
    fits: Mapped[bytes] = mapped_column(LargeBinary)
    fov_deg: Mapped[float | None]
    # Per tile: rank, ra_deg, dec_deg, probability, cumulative, nside, healpix, request (its id).
    tiles: Mapped[list[Any]] = mapped_column(default=list)
    alert: Mapped[Alert] = relationship(back_populates="skymap")


class ObservingRequest(Versioned, Base):
    """Something to observe: a target, a duration and the conditions under which it may be done."""

    __tablename__ = "observing_requests"
    __table_args__ = (
        CheckConstraint("duration_s > 0", name="positive_duration"),
        CheckConstraint("overhead_s >= 0", name="nonnegative_overhead"),
        CheckConstraint("priority >= 0", name="nonnegative_priority"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    target_name: Mapped[str] = mapped_column(String(128))
    ra_deg: Mapped[float]
    dec_deg: Mapped[float]
    duration_s: Mapped[float]
    overhead_s: Mapped[float] = mapped_column(default=0.0)
    # Larger is more important; schedule value is priority times observed minutes.
    priority: Mapped[float] = mapped_column(default=1.0)
    program: Mapped[str] = mapped_column(String(32), default="")
    preferred_time: Mapped[datetime | None]
    min_altitude_deg: Mapped[float | None]
    max_airmass: Mapped[float | None]
    twilight: Mapped[TwilightLevel] = mapped_column(
        str_enum(TwilightLevel, length=16), default=TwilightLevel.ASTRONOMICAL
    )
    min_moon_separation_deg: Mapped[float | None]
    max_moon_illumination: Mapped[float | None]
    hour_angle_min_h: Mapped[float | None]
    hour_angle_max_h: Mapped[float | None]
    status: Mapped[RequestStatus] = mapped_column(
        str_enum(RequestStatus, length=16), default=RequestStatus.PENDING, index=True
    )
    observation_id: Mapped[int | None] = mapped_column(ForeignKey("observations.id", ondelete="SET NULL"))
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id", ondelete="SET NULL"))
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    windows: Mapped[list[RequestWindow]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="RequestWindow.start"
    )


class RequestWindow(Base):
    """A time interval in which a request may be observed (a request without windows may go any time)."""

    __tablename__ = "request_windows"
    __table_args__ = (CheckConstraint('start < "end"', name="ordered"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("observing_requests.id", ondelete="CASCADE"), index=True)
    start: Mapped[datetime]
    end: Mapped[datetime]

    request: Mapped[ObservingRequest] = relationship(back_populates="windows")


class Schedule(Base):
    """One version of a night's plan; re-planning adds a version and supersedes the previous one."""

    __tablename__ = "schedules"
    __table_args__ = (UniqueConstraint("night", "version_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    night: Mapped[date] = mapped_column(Date, index=True)
    version_number: Mapped[int]
    status: Mapped[ScheduleStatus] = mapped_column(str_enum(ScheduleStatus, length=16), default=ScheduleStatus.ACTIVE)
    reason: Mapped[str] = mapped_column(String(32), default="initial")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("schedules.id", ondelete="SET NULL"))
    planned_from: Mapped[datetime]
    night_start: Mapped[datetime]
    night_end: Mapped[datetime]
    twilight: Mapped[TwilightLevel] = mapped_column(str_enum(TwilightLevel, length=16))
    parameters: Mapped[dict[str, Any]] = mapped_column(default=dict)

    blocks: Mapped[list[ScheduledBlock]] = relationship(cascade="all, delete-orphan", order_by="ScheduledBlock.start")
    rejections: Mapped[list[RequestRejection]] = relationship(cascade="all, delete-orphan")


class ScheduledBlock(Base):
    """A request placed in a schedule, with the slew that precedes it."""

    __tablename__ = "scheduled_blocks"
    __table_args__ = (CheckConstraint('start < "end"', name="ordered"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"), index=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("observing_requests.id", ondelete="CASCADE"), index=True)
    start: Mapped[datetime]
    end: Mapped[datetime]
    slew_s: Mapped[float] = mapped_column(default=0.0)


class RequestRejection(Base):
    """Why a request is not in a schedule."""

    __tablename__ = "request_rejections"
    __table_args__ = (UniqueConstraint("schedule_id", "request_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"))
    request_id: Mapped[int] = mapped_column(ForeignKey("observing_requests.id", ondelete="CASCADE"), index=True)
    reason: Mapped[RejectionReason] = mapped_column(str_enum(RejectionReason, length=32))
    detail: Mapped[str] = mapped_column(Text, default="")
    # Requests that took this one's time (for OUTRANKED), by id.
    outranked_by: Mapped[list[Any]] = mapped_column(default=list)
