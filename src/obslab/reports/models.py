"""Report table: each execution of a report template, with what it was run on, so a rerun can reuse it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from obslab.db import Base, str_enum, utcnow
from obslab.reports.types import ReportState


class Report(Base):
    """One execution of a template: its version, parameters and data fingerprint (the cache key), state and files.

    A done report is reused for the same key; a forced rerun or a failure adds a row, so the archive keeps each.
    """

    __tablename__ = "reports"
    __table_args__ = (Index("ix_reports_key", "template", "parameters_hash", "data_fingerprint"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    template: Mapped[str] = mapped_column(String(128))
    template_version: Mapped[str] = mapped_column(String(64), default="")
    night: Mapped[date | None] = mapped_column(Date, index=True)
    parameters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    parameters_hash: Mapped[str] = mapped_column(String(64))
    data_fingerprint: Mapped[str] = mapped_column(String(64), default="")
    state: Mapped[ReportState] = mapped_column(str_enum(ReportState, length=16))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    duration_s: Mapped[float | None]
    notebook_path: Mapped[str | None] = mapped_column(String(1024))
    html_path: Mapped[str | None] = mapped_column(String(1024))
    error: Mapped[str | None] = mapped_column(Text)
    failed_cell: Mapped[int | None]  # the failing cell's number (1 = the first), for a failed run
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
