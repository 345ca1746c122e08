"""State of the scheduling dashboard: the night's plan, its reasons, re-plan and what-if, versions, the alert feed."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pandas as pd
import param
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from obslab.dashboards.context import DashboardContext, default_context
from obslab.db import Clock, transaction, utcnow
from obslab.errors import ObslabError
from obslab.scheduling.alerts import night_of
from obslab.scheduling.models import Alert, ObservingRequest, Schedule
from obslab.scheduling.night import SUN_ALTITUDE_DEG, NightGeometry, night_geometry
from obslab.scheduling.planner import Plan
from obslab.scheduling.service import (
    active_schedule,
    compare,
    lost_ranges,
    moment_in_night,
    parse_night,
    plan,
    plan_and_save,
    plan_request,
)
from obslab.scheduling.visibility import PlanRequest, altitude_curves

BLOCK_COLUMNS = ["request", "name", "target", "start", "end", "priority", "slew_s"]
LEFT_COLUMNS = ["request", "name", "target", "priority", "reason", "detail"]
ALERT_COLUMNS = ["received", "stream", "ivorn", "status", "decision"]
#: How many alerts the feed shows, newest first.
FEED = 50


class ScheduleState(param.Parameterized):
    """One night: the stored plan (or a what-if), why each request is left out, and the controls to plan again."""

    night = param.String(default="", doc="The local date the night begins, YYYY-MM-DD")
    planned_from = param.String(
        default="", label="From (UTC)", doc="Re-plan from this UTC time, HH:MM; empty: the whole night"
    )
    lost = param.String(default="", label="Lost (UTC)", doc="Time lost to weather, e.g. 07:10-08:30, 10:00-10:40")

    blocks = param.DataFrame(default=None, precedence=-1)
    unscheduled = param.DataFrame(default=None, precedence=-1)
    alerts = param.DataFrame(default=None, precedence=-1)
    curves = param.DataFrame(default=None, precedence=-1, doc="time, name, altitude_deg of the scheduled targets")
    shading = param.List(default=[], precedence=-1, doc="(start, end, level) of each twilight band")
    version = param.String(default="", precedence=-1, doc="Which plan is shown: 'version 3 (replan)' or 'what-if'")
    summary = param.String(default="", precedence=-1)
    error = param.String(default="", precedence=-1)
    message = param.String(default="", precedence=-1)

    def __init__(self, context: DashboardContext | None = None, *, now: Clock = utcnow, **params: Any) -> None:
        self.context = context or default_context()
        self.now = now
        self.site = self.context.settings.site
        params.setdefault(
            "night", night_of(self.site, now()).isoformat()
        )  # set before: a later change would refresh twice
        super().__init__(**params)
        self.refresh()

    # --- inputs -----------------------------------------------------------------------------

    def night_date(self) -> date:
        return parse_night(self.night)

    def planning_inputs(self) -> tuple[datetime | None, list[tuple[datetime, datetime]]]:
        """``planned_from`` and ``lost`` (comma-separated ranges) as UTC moments inside the night; refused naming the field."""
        night = self.night_date()
        start = moment_in_night(self.site, night, self.planned_from, "from") if self.planned_from.strip() else None
        parts = [part.strip() for part in self.lost.replace(";", ",").split(",") if part.strip()]
        return start, lost_ranges(self.site, night, parts)

    # --- reading ----------------------------------------------------------------------------

    @param.depends("night", watch=True)
    def refresh(self) -> None:
        """Show the night's stored plan; before the first one, what a plan would be (a what-if)."""
        try:
            night = self.night_date()
            with self.context.sessions() as session:
                stored = active_schedule(session, night)
                if stored is None:
                    result, _kept = plan(session, self.site, night)
                    self._show(result, "no stored plan yet: what-if")
                else:
                    self._show_stored(session, stored)
                self._feed(session)
        except ObslabError as exc:
            self.error = str(exc)

    def _show_stored(self, session: Any, stored: Schedule) -> None:
        ids = [b.request_id for b in stored.blocks] + [r.request_id for r in stored.rejections]
        rows = {
            row.id: row
            for row in session.scalars(
                select(ObservingRequest)
                .where(ObservingRequest.id.in_(ids or [-1]))
                .options(selectinload(ObservingRequest.windows))
            )
        }
        self.blocks = pd.DataFrame(
            [
                _row(rows.get(b.request_id), b.request_id) | {"start": b.start, "end": b.end, "slew_s": b.slew_s}
                for b in stored.blocks
            ],
            columns=BLOCK_COLUMNS,
        )
        self.unscheduled = pd.DataFrame(
            [
                _row(rows.get(r.request_id), r.request_id) | {"reason": r.reason.value, "detail": r.detail}
                for r in stored.rejections
            ],
            columns=LEFT_COLUMNS,
        )
        self.version = f"version {stored.version_number} ({stored.reason})"
        chosen = [plan_request(rows[b.request_id]) for b in stored.blocks if b.request_id in rows]
        self._geometry(night_geometry(self.site, stored.night), chosen, stored.night_start, stored.night_end)
        self.summary = self._summary(
            len(stored.blocks), len(stored.rejections), stored.night_start, stored.night_end, stored.twilight.value
        )

    def _show(self, result: Plan, label: str) -> None:
        self.blocks = pd.DataFrame(
            [
                {
                    "request": b.request.id,
                    "name": b.request.name,
                    "target": b.request.target_name,
                    "priority": b.request.priority,
                    "start": b.start,
                    "end": b.end,
                    "slew_s": b.slew_s,
                }
                for b in result.blocks
            ],
            columns=BLOCK_COLUMNS,
        )
        self.unscheduled = pd.DataFrame(
            [
                {
                    "request": u.request.id,
                    "name": u.request.name,
                    "target": u.request.target_name,
                    "priority": u.request.priority,
                    "reason": u.reason.value,
                    "detail": u.detail,
                }
                for u in result.unscheduled
            ],
            columns=LEFT_COLUMNS,
        )
        self.version = label
        self._geometry(result.night, [b.request for b in result.blocks], result.night_start, result.night_end)
        self.summary = self._summary(
            len(result.blocks), len(result.unscheduled), result.night_start, result.night_end, result.twilight.value
        )

    def _summary(self, placed: int, left: int, start: datetime | None, end: datetime | None, level: str) -> str:
        dark = f"{start:%H:%M}-{end:%H:%M} UTC ({level} darkness)" if start and end else "no dark time tonight"
        return f"{self.night} at {self.site.name}: {dark}; {placed} scheduled, {left} left out"

    def _geometry(
        self, geometry: NightGeometry, chosen: list[PlanRequest], start: datetime | None, end: datetime | None
    ) -> None:
        self.shading = [
            (interval[0], interval[1], level.value)
            for level in SUN_ALTITUDE_DEG
            if (interval := geometry.dark(level)) is not None
        ]
        if not chosen or start is None or end is None:
            self.curves = pd.DataFrame(columns=["time", "name", "altitude_deg"])
            return
        times, altitude = altitude_curves(geometry, chosen, start, end)
        self.curves = pd.concat(
            [
                pd.DataFrame({"time": times, "name": request.label, "altitude_deg": row})
                for request, row in zip(chosen, altitude, strict=True)
            ],
            ignore_index=True,
        )

    def _feed(self, session: Any) -> None:
        rows = session.scalars(select(Alert).order_by(Alert.received_at.desc(), Alert.id.desc()).limit(FEED))
        self.alerts = pd.DataFrame(
            [
                {
                    "received": a.received_at,
                    "stream": a.stream,
                    "ivorn": a.ivorn,
                    "status": a.status.value,
                    "decision": a.decision,
                }
                for a in rows
            ],
            columns=ALERT_COLUMNS,
        )

    # --- acting -----------------------------------------------------------------------------

    def what_if(self) -> bool:
        """Plan with the From and Lost inputs and show it; nothing is stored."""
        try:
            start, lost = self.planning_inputs()
            with self.context.sessions() as session:
                result, _kept = plan(session, self.site, self.night_date(), planned_from=start, lost=lost)
                self._show(result, "what-if (not stored)")
        except ObslabError as exc:
            self.error, self.message = str(exc), ""
            return False
        self.error, self.message = (
            "",
            f"what-if: {len(result.blocks)} scheduled, {len(result.unscheduled)} left out; nothing stored",
        )
        return True

    def replan(self) -> bool:
        """Plan with the From and Lost inputs and store it as the night's next version, as the viewer."""
        try:
            start, lost = self.planning_inputs()
            with transaction(self.context.sessions) as session:
                saved = plan_and_save(
                    session,
                    self.context.acting_user(session),
                    self.site,
                    self.night_date(),
                    planned_from=start,
                    lost=lost,
                    now=self.now,
                )
                number = saved.schedule.version_number
                before = session.get(Schedule, saved.schedule.parent_id) if saved.schedule.parent_id else None
                difference = compare(before, saved.schedule) if before is not None else None
        except ObslabError as exc:
            self.error, self.message = str(exc), ""
            return False
        self.refresh()
        change = (
            (
                f"; against version {difference['from']}: {len(difference['added'])} added, {len(difference['removed'])} removed, "
                f"{len(difference['moved'])} moved"
            )
            if difference
            else ""
        )
        self.error, self.message = "", f"stored as version {number}{change}"
        return True


def _row(request: ObservingRequest | None, request_id: int) -> dict[str, Any]:
    if request is None:  # deleted since the plan was made
        return {"request": request_id, "name": "", "target": "", "priority": None}
    return {"request": request_id, "name": request.name, "target": request.target_name, "priority": request.priority}
