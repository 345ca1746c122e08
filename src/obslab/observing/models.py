"""Observing tables: nights, exposures (runs), frame files, data products, pipeline stage status, metrics."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint, event, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from obslab.db import Base, Versioned, str_enum, utcnow
from obslab.observing.types import ExposureKind, LossCause, StageState


class Night(Base):
    """An observing night, named by the local date on which it begins."""

    __tablename__ = "nights"

    id: Mapped[int] = mapped_column(primary_key=True)
    night_date: Mapped[date] = mapped_column(Date, unique=True)
    site_name: Mapped[str] = mapped_column(String(64))
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    exposures: Mapped[list[Exposure]] = relationship(back_populates="night", order_by="Exposure.started_at")
    losses: Mapped[list[NightLoss]] = relationship(
        back_populates="night", order_by="NightLoss.start", cascade="all, delete-orphan"
    )


class NightLoss(Base):
    """A span of the night lost to weather or a failure, as the night log records it (UTC)."""

    __tablename__ = "night_losses"
    __table_args__ = (CheckConstraint('start < "end"', name="interval"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    night_id: Mapped[int] = mapped_column(ForeignKey("nights.id", ondelete="CASCADE"), index=True)
    start: Mapped[datetime]
    end: Mapped[datetime]
    cause: Mapped[LossCause] = mapped_column(str_enum(LossCause, length=16))
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    night: Mapped[Night] = relationship(back_populates="losses")


class Program(Base):
    """A science program, by the code file names carry ("24", "24.1"); its members see its exposures and products."""

    __tablename__ = "programs"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    principal_investigator: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProgramMember(Base):
    """A user's membership of a program (a user may belong to several); access is decided by this row, not a string."""

    __tablename__ = "program_members"

    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class Exposure(Versioned, Base):
    """One exposure (an observing run): what was pointed at, how, and with which instrument configuration."""

    __tablename__ = "exposures"
    __table_args__ = (Index("ix_exposures_night_started", "night_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    night_id: Mapped[int] = mapped_column(ForeignKey("nights.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(160), unique=True)
    kind: Mapped[ExposureKind] = mapped_column(str_enum(ExposureKind, length=16), index=True)
    program: Mapped[str] = mapped_column(String(32), default="", index=True)  # the code, as shown
    # Who may see it: the program's members (and staff); None for calibration and auxiliary exposures.
    program_id: Mapped[int | None] = mapped_column(ForeignKey("programs.id", ondelete="RESTRICT"), index=True)
    target_name: Mapped[str] = mapped_column(String(128), default="", index=True)
    ra_deg: Mapped[float | None]
    dec_deg: Mapped[float | None] = mapped_column(index=True)
    # Unit vector of (ra, dec), kept in step by a mapper event, so a cone search is one dot product in SQL.
    unit_x: Mapped[float | None]
    unit_y: Mapped[float | None]
    unit_z: Mapped[float | None]
    filter_name: Mapped[str] = mapped_column(String(16), default="")
    camera_mode: Mapped[str] = mapped_column(String(16), default="")
    exposure_s: Mapped[float]
    started_at: Mapped[datetime] = mapped_column(index=True)
    ended_at: Mapped[datetime]
    airmass: Mapped[float | None]
    magnitude: Mapped[float | None]
    # The instrument configuration in force when the exposure was taken.
    configuration_id: Mapped[int | None] = mapped_column(
        ForeignKey("instrument_configurations.id", ondelete="SET NULL")
    )
    request_id: Mapped[int | None] = mapped_column(ForeignKey("observing_requests.id", ondelete="SET NULL"))
    comment: Mapped[str] = mapped_column(Text, default="")
    # Set when ingest no longer finds a raw file of this exposure (kept, and reported, not deleted).
    missing_at: Mapped[datetime | None]

    night: Mapped[Night] = relationship(back_populates="exposures")
    files: Mapped[list[FrameFile]] = relationship(cascade="all, delete-orphan", order_by="FrameFile.path")


@event.listens_for(Exposure, "before_insert")
@event.listens_for(Exposure, "before_update")
def _keep_unit_vector(_mapper: Any, _connection: Any, exposure: Exposure) -> None:
    if exposure.ra_deg is None or exposure.dec_deg is None:
        exposure.unit_x = exposure.unit_y = exposure.unit_z = None
        return
    ra, dec = math.radians(exposure.ra_deg), math.radians(exposure.dec_deg)
    exposure.unit_x, exposure.unit_y = math.cos(dec) * math.cos(ra), math.cos(dec) * math.sin(ra)
    exposure.unit_z = math.sin(dec)


class FrameFile(Base):
    """A raw file of an exposure, with its header and a checksum (so a changed file is noticed)."""

    __tablename__ = "frame_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    exposure_id: Mapped[int] = mapped_column(ForeignKey("exposures.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(String(1024), unique=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    n_frames: Mapped[int] = mapped_column(default=1)
    header: Mapped[dict[str, Any]] = mapped_column(default=dict)
    modified_at: Mapped[datetime]


class DataProduct(Base):
    """A file a pipeline stage wrote, with its provenance and the configuration it was made under."""

    __tablename__ = "data_products"

    id: Mapped[int] = mapped_column(primary_key=True)
    night_id: Mapped[int] = mapped_column(ForeignKey("nights.id", ondelete="CASCADE"), index=True)
    exposure_id: Mapped[int | None] = mapped_column(ForeignKey("exposures.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(1024), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    configuration_id: Mapped[int | None] = mapped_column(
        ForeignKey("instrument_configurations.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    provenance: Mapped[dict[str, Any]] = mapped_column(default=dict)


class PipelineStage(Versioned, Base):
    """The status of one pipeline stage for one exposure (or, with no exposure, for the whole night)."""

    __tablename__ = "pipeline_stages"
    __table_args__ = (
        # NULLs never collide in a unique constraint, so night-level stages need their own partial index.
        Index(
            "uq_pipeline_stages_exposure_stage",
            "exposure_id",
            "stage",
            unique=True,
            sqlite_where=text("exposure_id IS NOT NULL"),
            postgresql_where=text("exposure_id IS NOT NULL"),
        ),
        Index(
            "uq_pipeline_stages_night_stage",
            "night_id",
            "stage",
            unique=True,
            sqlite_where=text("exposure_id IS NULL"),
            postgresql_where=text("exposure_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    night_id: Mapped[int] = mapped_column(ForeignKey("nights.id", ondelete="CASCADE"))
    exposure_id: Mapped[int | None] = mapped_column(ForeignKey("exposures.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(64))
    state: Mapped[StageState] = mapped_column(str_enum(StageState, length=16), default=StageState.PENDING, index=True)
    retries: Mapped[int] = mapped_column(default=0)
    force_redo: Mapped[bool] = mapped_column(default=False)
    inputs_fingerprint: Mapped[str] = mapped_column(String(64), default="")
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)


class Metric(Base):
    """A measured quantity (seeing, Strehl, ...) for an exposure or a night, for trending and alarms."""

    __tablename__ = "metrics"
    __table_args__ = (
        UniqueConstraint("exposure_id", "name"),
        Index("ix_metrics_name_measured", "name", "measured_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    night_id: Mapped[int] = mapped_column(ForeignKey("nights.id", ondelete="CASCADE"), index=True)
    exposure_id: Mapped[int | None] = mapped_column(ForeignKey("exposures.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    value: Mapped[float]
    unit: Mapped[str] = mapped_column(String(16), default="")
    measured_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(64), default="")


class Alarm(Base):
    """An alarm rule that fired on a metric, with the values that raised it; acknowledged once someone has looked."""

    __tablename__ = "alarms"
    # One alarm per rule and metric row: a metric written again (a redo) does not raise its alarm twice.
    __table_args__ = (UniqueConstraint("rule", "metric_id"), Index("ix_alarms_raised", "raised_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    rule: Mapped[str] = mapped_column(String(64))
    metric_id: Mapped[int] = mapped_column(ForeignKey("metrics.id", ondelete="CASCADE"))
    metric_name: Mapped[str] = mapped_column(String(64))
    night_id: Mapped[int] = mapped_column(ForeignKey("nights.id", ondelete="CASCADE"), index=True)
    exposure_id: Mapped[int | None] = mapped_column(ForeignKey("exposures.id", ondelete="CASCADE"), index=True)
    raised_at: Mapped[datetime]
    measured_at: Mapped[datetime]
    values: Mapped[list[Any]] = mapped_column(default=list)  # the series the rule decided on, oldest first
    message: Mapped[str] = mapped_column(Text, default="")
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
