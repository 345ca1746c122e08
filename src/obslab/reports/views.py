"""The report archive as people browse it: each run with its template, night, state, timing and files."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from obslab.access import User
from obslab.reports.models import Report
from obslab.reports.types import ReportState


@dataclass(frozen=True)
class ReportRow:
    id: int
    template: str
    template_version: str
    night: date | None
    parameters: dict[str, Any]
    state: str
    started_at: datetime
    finished_at: datetime | None
    duration_s: float | None
    html_path: str | None
    notebook_path: str | None
    error: str | None
    failed_cell: int | None
    run_by: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def list_reports(
    session: Session,
    *,
    template: str = "",
    night: date | None = None,
    state: ReportState | None = None,
    limit: int = 200,
) -> list[ReportRow]:
    """The newest runs first, filtered by template, night and state."""
    query = select(Report, User.username).outerjoin(User, User.id == Report.created_by_id)
    if template:
        query = query.where(Report.template == template)
    if night is not None:
        query = query.where(Report.night == night)
    if state is not None:
        query = query.where(Report.state == state)
    rows = session.execute(query.order_by(Report.id.desc()).limit(limit))
    return [
        ReportRow(
            r.id,
            r.template,
            r.template_version,
            r.night,
            dict(r.parameters),
            r.state.value,
            r.started_at,
            r.finished_at,
            r.duration_s,
            r.html_path,
            r.notebook_path,
            r.error,
            r.failed_cell,
            username,
        )
        for r, username in rows
    ]


__all__ = ["ReportRow", "list_reports"]
