"""Report table: each executed (or failed) nightly report notebook, keyed for caching reruns."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from obslab.db import Base, str_enum, utcnow
from obslab.reports.types import ReportState


class Report(Base):
    """One execution of a report template for a night; the same parameters reuse the same row."""

    __tablename__ = "reports"
    __table_args__ = (UniqueConstraint("template", "night", "parameters_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    template: Mapped[str] = mapped_column(String(128))
    night: Mapped[date] = mapped_column(Date, index=True)
    parameters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    parameters_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[ReportState] = mapped_column(str_enum(ReportState, length=16))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    notebook_path: Mapped[str | None] = mapped_column(String(1024))
    html_path: Mapped[str | None] = mapped_column(String(1024))
    error: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
