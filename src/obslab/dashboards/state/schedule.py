"""State of the scheduling dashboard: the night's plan, its reasons, re-plan and what-if, versions, the alert feed
and the sky map the night's tiles came from."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pandas as pd
import param
from sqlalchemy.orm import Session

from obslab.dashboards.context import DashboardContext, default_context
from obslab.dashboards.state.base import DashboardState
from obslab.dashboards.state.schedule_chart import night_chart_data
from obslab.db import Clock, utcnow
from obslab.formatting import clock_span
from obslab.plots.night_data import NightChart
from obslab.scheduling.models import Schedule
from obslab.scheduling.night import night_geometry, night_of
from obslab.scheduling.planner import Plan
from obslab.scheduling.service import active_schedule, lost_ranges, moment_in_night, parse_night, plan, plan_and_save
from obslab.scheduling.types import TwilightLevel
from obslab.scheduling.views import FEED, SkyMapAlert, change_from_parent, night_skymap, recent_alerts, stored_plan

BLOCK_COLUMNS = ["request", "name", "target", "start", "end", "local", "priority", "slew_s"]
LEFT_COLUMNS = ["request", "name", "target", "priority", "reason", "detail"]
ALERT_COLUMNS = ["received", "stream", "key", "status", "decision"]
TILE_COLUMNS = ["rank", "ra_deg", "dec_deg", "probability", "cumulative", "request", "status", "planned"]
WHAT_IF = "what-if (not stored)"


class ScheduleState(DashboardState):
    """One night: the stored plan (or a what-if), why each request is left out, and the controls to plan again.

    What is shown is always the plan of the night, From and Lost as typed, or the night's stored plan: a refused
    night clears the plan, and a refused what-if or re-plan goes back to the stored one (the feed stays).
    """

    EMPTY = {
        "blocks": "Nothing is scheduled this night.",
        "unscheduled": "No request is left out: every pending request is scheduled.",
        "alerts": "No alerts yet.",
    }

    night = param.String(default="", doc="The local date the night begins, YYYY-MM-DD")
    planned_from = param.String(
        default="", label="From (UTC)", doc="Re-plan from this UTC time, HH:MM; empty: the whole night"
    )
    lost = param.String(default="", label="Lost (UTC)", doc="Time lost to weather, e.g. 07:10-08:30, 10:00-10:40")
    search_seconds = param.Number(
        default=None,
        allow_None=True,
        bounds=(0, 60),
        label="Search (s)",
        doc="Search about this long for a better plan; empty: the default (milliseconds)",
    )

    blocks = param.DataFrame(default=None, precedence=-1)
    unscheduled = param.DataFrame(default=None, precedence=-1)
    alerts = param.DataFrame(default=None, precedence=-1)
    chart = param.ClassSelector(
        class_=NightChart, default=None, precedence=-1, doc="The night chart's data: blocks, shades, curves, limits"
    )
    version = param.String(default="", precedence=-1, doc="Which plan is shown: 'version 3 (replan)' or 'what-if'")
    shown_version = param.Integer(
        default=0, precedence=-1, doc="The stored plan version shown (0: none); a re-plan states it"
    )
    summary = param.String(default="", precedence=-1)
    skymap = param.ClassSelector(
        class_=SkyMapAlert, default=None, precedence=-1, doc="The sky map this night's tiles came from, if any"
    )
    skymap_tiles = param.DataFrame(
        default=None, precedence=-1, doc="The map's tiles, each with its request and whether the plan shown has it"
    )

    def __init__(self, context: DashboardContext | None = None, *, now: Clock = utcnow, **params: Any) -> None:
        context = context or default_context()
        self.site = context.settings.site
        # Set before: a later change would refresh twice.
        params.setdefault("night", night_of(self.site, now()).isoformat())
        super().__init__(context, now=now, **params)
        self.refresh()

    # --- inputs -----------------------------------------------------------------------------

    def night_date(self) -> date:
        return parse_night(self.night)

    def planning_inputs(self) -> tuple[datetime | None, list[tuple[datetime, datetime]]]:
        """``planned_from`` and ``lost`` (comma-separated ranges) as UTC moments in the night; refused by field."""
        night = self.night_date()
        start = moment_in_night(self.site, night, self.planned_from, "from") if self.planned_from.strip() else None
        parts = [part.strip() for part in self.lost.replace(";", ",").split(",") if part.strip()]
        return start, lost_ranges(self.site, night, parts)

    # --- reading ----------------------------------------------------------------------------

    @param.depends("night", watch=True)
    def _night_changed(self) -> None:
        self.message = ""  # it was about another night
        self.refresh()

    def refresh(self) -> None:
        """Show the night's stored plan; before the first one, what a plan would be (a what-if)."""

        def read(session: Session) -> None:
            night = self.night_date()
            stored = active_schedule(session, night)
            self.shown_version = stored.version_number if stored is not None else 0
            if stored is None:
                result, _kept = plan(session, self.site, night, now=self.now)
                self._show(result, "no stored plan yet: what-if")
            else:
                self._show_stored(session, stored)
            self._feed(session)
            self.skymap = night_skymap(session, self.site, night)

        self.run(read, write=False, refused=lambda _refusal: self._no_plan())

    def _no_plan(self) -> None:
        """No night to show (the night typed is refused): no blocks, reasons, curves or bands; the feed stays."""
        self.param.update(
            blocks=pd.DataFrame(columns=BLOCK_COLUMNS),
            unscheduled=pd.DataFrame(columns=LEFT_COLUMNS),
            chart=None,
            skymap=None,
            skymap_tiles=pd.DataFrame(columns=TILE_COLUMNS),
            version="",
            shown_version=0,
            summary="",
        )

    def _show_stored(self, session: Session, stored: Schedule) -> None:
        rows = stored_plan(session, stored)
        self.blocks = self._blocks_frame([row.as_dict() for row in rows.blocks])
        self.unscheduled = pd.DataFrame([row.as_dict() for row in rows.unscheduled], columns=LEFT_COLUMNS)
        self.version = f"version {stored.version_number} ({stored.reason})"
        chosen = list(rows.chosen)
        lost = [tuple(datetime.fromisoformat(moment) for moment in pair) for pair in stored.parameters.get("lost", [])]
        # The whole night whatever is planned, so a what-if or re-plan keeps the chart's time axis.
        self.chart = night_chart_data(night_geometry(self.site, stored.night), self.blocks, chosen, lost)
        self.summary = self._summary(
            len(stored.blocks), len(stored.rejections), stored.night_start, stored.night_end, stored.twilight.value
        )

    def _show(self, result: Plan, label: str, lost: list[tuple[datetime, datetime]] | None = None) -> None:
        self.blocks = self._blocks_frame(
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
            ]
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
        self.chart = night_chart_data(result.night, self.blocks, [b.request for b in result.blocks], lost or [])
        self.summary = self._summary(
            len(result.blocks), len(result.unscheduled), result.night_start, result.night_end, result.twilight.value
        ) + "".join(f"; note: {note}" for note in result.notes)

    def _blocks_frame(self, blocks: list[dict[str, Any]]) -> pd.DataFrame:
        """The blocks table, with each block's span on the site's clock beside the UTC columns (nights are planned
        in local time)."""
        zone = self.site.zone
        for block in blocks:
            block["local"] = clock_span(block["start"], block["end"], zone)
        return pd.DataFrame(blocks, columns=BLOCK_COLUMNS)

    def _summary(self, placed: int, left: int, start: datetime | None, end: datetime | None, level: str) -> str:
        dark = (
            f"dark {clock_span(start, end)}, {clock_span(start, end, self.site.zone)} "
            f"({TwilightLevel(level).dark_time})"
            if start and end
            else "no dark time this night"
        )
        return f"{self.night} at {self.site.name}: {dark}; {placed} scheduled, {left} left out"

    @param.depends("blocks", "skymap", watch=True)
    def _mark_planned(self) -> None:
        """The map's tiles, each planned or not in the plan shown (stored or what-if)."""
        tiles = self.skymap.tiles if self.skymap is not None else ()
        planned = set(self.blocks["request"]) if self.blocks is not None else set()
        self.skymap_tiles = pd.DataFrame(
            [tile | {"request": tile["name"], "planned": tile["request"] in planned} for tile in tiles],
            columns=TILE_COLUMNS,
        )

    def _feed(self, session: Session) -> None:
        self.alerts = pd.DataFrame([row.as_dict() for row in recent_alerts(session, FEED)], columns=ALERT_COLUMNS)

    # --- acting -----------------------------------------------------------------------------

    def what_if(self) -> bool:
        """Plan with the From and Lost inputs and show it; nothing is stored."""

        def read(session: Session) -> Plan:
            start, lost = self.planning_inputs()
            result, _kept = plan(
                session,
                self.site,
                self.night_date(),
                planned_from=start,
                lost=lost,
                search_seconds=self.search_seconds,
                now=self.now,
            )
            self._show(result, WHAT_IF, lost)
            return result

        return self.run(
            read,
            lambda result: (
                f"what-if: {len(result.blocks)} scheduled, {len(result.unscheduled)} left out; nothing stored"
                + _against(result.change)
            ),
            write=False,
            refused=lambda _refusal: self._drop_what_if(),
        )

    def _drop_what_if(self) -> None:
        # A what-if of From and Lost as they were is not the plan of the inputs now: show the stored plan again.
        if self.version == WHAT_IF:
            self.refresh()

    def replan(self) -> bool:
        """Plan with the From and Lost inputs and store it as the night's next version, as the viewer."""

        def write(session: Session) -> tuple[int, dict[str, Any] | None]:
            start, lost = self.planning_inputs()
            saved = plan_and_save(
                session,
                self.context.actor(session),
                self.site,
                self.night_date(),
                seen_version=self.shown_version,
                planned_from=start,
                lost=lost,
                search_seconds=self.search_seconds,
                now=self.now,
            )
            return saved.schedule.version_number, change_from_parent(session, saved.schedule)

        # Either way, show what is stored now (after a refusal, maybe a version someone else stored meanwhile).
        return self.run(write, _stored, then=lambda _stored: self.refresh(), refused=lambda _refusal: self.refresh())


def _stored(stored: tuple[int, dict[str, Any] | None]) -> str:
    number, difference = stored
    return f"stored as version {number}{_against(difference)}"


def _against(difference: dict[str, Any] | None) -> str:
    """What changed against the version replaced (or that a what-if would replace); empty when there is none."""
    if not difference:
        return ""
    return (
        f"; against version {difference['from']}: {len(difference['added'])} added, "
        f"{len(difference['removed'])} removed, {len(difference['moved'])} moved"
    )
