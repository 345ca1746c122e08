"""Instrument configurations versioned in telescope time (valid from/to) and in record time (recorded/superseded)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from obslab.db import Base, Versioned, utcnow


class InstrumentConfiguration(Versioned, Base):
    """One version of an instrument's configuration.

    "Valid at T" asks valid_from <= T < valid_to (valid_to NULL = still valid);
    "as recorded at T" additionally asks recorded_at <= T < superseded_at, so a corrected
    record never erases what was believed before the correction.
    """

    __tablename__ = "instrument_configurations"
    __table_args__ = (
        UniqueConstraint("instrument", "version_number"),
        CheckConstraint("valid_to IS NULL OR valid_from < valid_to", name="valid_interval"),
        CheckConstraint("superseded_at IS NULL OR recorded_at <= superseded_at", name="record_interval"),
        Index("ix_instrument_configurations_validity", "instrument", "valid_from"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument: Mapped[str] = mapped_column(String(32))
    version_number: Mapped[int]
    valid_from: Mapped[datetime]
    valid_to: Mapped[datetime | None]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    superseded_at: Mapped[datetime | None]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(64), default="manual")
    comment: Mapped[str] = mapped_column(Text, default="")

    items: Mapped[list[ConfigurationItem]] = relationship(
        back_populates="configuration", cascade="all, delete-orphan", order_by="ConfigurationItem.key"
    )


class ConfigurationItem(Base):
    """One element of a configuration (for a focal plane: one IFU seat and what sits in it)."""

    __tablename__ = "configuration_items"
    __table_args__ = (UniqueConstraint("configuration_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    configuration_id: Mapped[int] = mapped_column(ForeignKey("instrument_configurations.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    attributes: Mapped[dict[str, Any]]

    configuration: Mapped[InstrumentConfiguration] = relationship(back_populates="items")
