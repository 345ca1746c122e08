"""Catalog tables: observations, their parameter values, change-request revisions, sign-offs, duty roster."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from obslab.catalog.types import ObservationStatus, RevisionKind, SignOffState
from obslab.db import Base, Versioned, json_value, str_enum, utcnow

#: Only these statuses may be changed by a change request (Ocat rule).
EDITABLE_STATUSES = frozenset(
    {ObservationStatus.UNOBSERVED, ObservationStatus.SCHEDULED, ObservationStatus.UNTRIGGERED}
)


class Observation(Versioned, Base):
    """A catalog observation.  Summary columns are indexed for browsing; every parameter lives in
    ``observation_parameters`` so the parameter schema can change without changing tables."""

    __tablename__ = "observations"

    id: Mapped[int] = mapped_column(primary_key=True)
    obsid: Mapped[int] = mapped_column(unique=True)
    sequence_number: Mapped[str] = mapped_column(String(16), index=True)
    proposal_number: Mapped[str] = mapped_column(String(16), default="")
    target_name: Mapped[str] = mapped_column(String(128), index=True)
    ra_deg: Mapped[float]
    dec_deg: Mapped[float] = mapped_column(index=True)
    # Unit vector of (ra, dec), kept in step by a mapper event: a cone search becomes one
    # dot-product comparison that any SQL backend can evaluate.
    unit_x: Mapped[float]
    unit_y: Mapped[float]
    unit_z: Mapped[float]
    instrument: Mapped[str] = mapped_column(String(16), index=True)
    grating: Mapped[str] = mapped_column(String(8), default="NONE")
    obs_type: Mapped[str] = mapped_column(String(16), index=True)
    status: Mapped[ObservationStatus] = mapped_column(str_enum(ObservationStatus), index=True)
    pi_name: Mapped[str] = mapped_column(String(128), index=True)
    si_mode: Mapped[str | None] = mapped_column(String(32))
    approved_exposure_ks: Mapped[float]
    scheduled_at: Mapped[datetime | None]
    planned_at: Mapped[datetime | None]
    on_active_list: Mapped[bool] = mapped_column(default=False)
    # Derived from the revision history (the last approve/remove wins); cached for filtering.
    approved: Mapped[bool] = mapped_column(default=False, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    parameters: Mapped[list[ObservationParameter]] = relationship(
        back_populates="observation",
        cascade="all, delete-orphan",
        order_by="(ObservationParameter.name, ObservationParameter.rank)",
    )
    revisions: Mapped[list[Revision]] = relationship(back_populates="observation", order_by="Revision.number")


@event.listens_for(Observation, "before_insert")
@event.listens_for(Observation, "before_update")
def _keep_unit_vector(_mapper: Any, _connection: Any, observation: Observation) -> None:
    ra, dec = math.radians(observation.ra_deg), math.radians(observation.dec_deg)
    observation.unit_x = math.cos(dec) * math.cos(ra)
    observation.unit_y = math.cos(dec) * math.sin(ra)
    observation.unit_z = math.sin(dec)


class ObservationParameter(Base):
    """One parameter value of an observation; ``rank`` is 0 for scalars and 1.. for ranked tables."""

    __tablename__ = "observation_parameters"
    __table_args__ = (UniqueConstraint("observation_id", "name", "rank"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    observation_id: Mapped[int] = mapped_column(ForeignKey("observations.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    rank: Mapped[int] = mapped_column(default=0)
    value: Mapped[Any | None] = mapped_column(json_value())

    observation: Mapped[Observation] = relationship(back_populates="parameters")


class Revision(Versioned, Base):
    """A change request ``<obsid>.<rev>``; the (obsid, number) constraint keeps numbers unique under races."""

    __tablename__ = "revisions"
    __table_args__ = (
        UniqueConstraint("obsid", "number"),
        CheckConstraint("number >= 1 AND number <= 999", name="number_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    observation_id: Mapped[int] = mapped_column(ForeignKey("observations.id", ondelete="CASCADE"), index=True)
    obsid: Mapped[int]
    number: Mapped[int]
    kind: Mapped[RevisionKind] = mapped_column(str_enum(RevisionKind, length=8))
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    # Flags computed at submission (target name change, large coordinate shift, ...): badges and mail rules.
    notes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("revisions.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None] = mapped_column(index=True)
    # A withdrawn revision keeps its number (never reused) and its record, but counts for nothing.
    withdrawn_at: Mapped[datetime | None]

    observation: Mapped[Observation] = relationship(back_populates="revisions")
    values: Mapped[list[RevisionValue]] = relationship(back_populates="revision", cascade="all, delete-orphan")
    signoffs: Mapped[list[SignOff]] = relationship(
        back_populates="revision", cascade="all, delete-orphan", order_by="SignOff.position"
    )

    @property
    def label(self) -> str:
        return f"{self.obsid}.{self.number:03d}"


class RevisionValue(Base):
    """A parameter's value when the revision was submitted and, if ``changed``, the value requested."""

    __tablename__ = "revision_values"
    __table_args__ = (UniqueConstraint("revision_id", "name", "rank"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("revisions.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    rank: Mapped[int] = mapped_column(default=0)
    original: Mapped[Any | None] = mapped_column(json_value())
    requested: Mapped[Any | None] = mapped_column(json_value())
    changed: Mapped[bool] = mapped_column(default=False)

    revision: Mapped[Revision] = relationship(back_populates="values")


class SignOff(Versioned, Base):
    """One sign-off area of one revision: an explicit state with who acted and when."""

    __tablename__ = "signoffs"
    __table_args__ = (UniqueConstraint("revision_id", "area"), Index("ix_signoffs_area_state", "area", "state"))

    id: Mapped[int] = mapped_column(primary_key=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("revisions.id", ondelete="CASCADE"))
    area: Mapped[str] = mapped_column(String(32))
    # Order in which areas are worked through (reminders are sequential; verification is last).
    position: Mapped[int]
    state: Mapped[SignOffState] = mapped_column(str_enum(SignOffState, length=16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    acted_at: Mapped[datetime | None]

    revision: Mapped[Revision] = relationship(back_populates="signoffs")


class DutyShift(Versioned, Base):
    """A duty-roster slot, normally Monday to Sunday (inclusive); no user means the slot is open."""

    __tablename__ = "duty_shifts"
    __table_args__ = (CheckConstraint("starts_on <= ends_on", name="ordered"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    starts_on: Mapped[date] = mapped_column(Date, unique=True)
    ends_on: Mapped[date] = mapped_column(Date)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
