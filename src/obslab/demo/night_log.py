"""The recent nights' records beside their raw files: the plan each night was observed from, and the night log's
losses (a technical fault the oldest night, the dome closed for humidity last night), so the nightly report has a
plan to hold the exposures against and a reason for every block not observed.

The plans are written as the record of nights already past (the planner would not re-derive the demo's
exposures); the losses go through ``observing.losses.record_loss``, audited as the night operator.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from obslab.audit import AuditEvent
from obslab.demo.context import DemoContext, PlannedExposure
from obslab.demo.people import SCHEDULERS
from obslab.observing.losses import record_loss
from obslab.observing.models import Night, NightLoss
from obslab.observing.types import ExposureKind
from obslab.scheduling.models import ObservingRequest, Schedule, ScheduledBlock
from obslab.scheduling.types import RequestStatus, TwilightLevel

#: When each night's plan was stored: this long before the night's darkness began.
PLANNED_AHEAD = timedelta(hours=8)


@dataclass(frozen=True)
class Loss:
    cause: str
    note: str  # the night log's entry, which also becomes the night's note
    before: timedelta  # the lost span starts this long before the lost exposure would have
    after: timedelta  # and ends this long after it would have ended


#: Which recent night (days before the site's local today) lost an exposure's block, and to what.
LOSSES = {
    3: Loss(
        "technical",
        "AO loop would not close for half an hour; fixed by restarting the wavefront sensor.",
        timedelta(minutes=8),
        timedelta(minutes=18),
    ),
    1: Loss(
        "weather",
        "Dome closed for humidity around midnight; otherwise clear.",
        timedelta(minutes=12),
        timedelta(minutes=25),
    ),
}


def lost_exposure(ctx: DemoContext, night: date, on_sky: list[PlannedExposure]) -> PlannedExposure | None:
    """The science exposure of ``night`` that its loss kept from being taken (None: nothing lost that night)."""
    if (ctx.local_today - night).days not in LOSSES:
        return None
    science = [plan for plan in on_sky if plan.kind == ExposureKind.SCIENCE]
    return science[len(science) // 2] if len(science) > 2 else None


def night_note(ctx: DemoContext, night: date) -> str | None:
    """The observer's note of a night with a loss (None: the night keeps its ordinary note)."""
    loss = LOSSES.get((ctx.local_today - night).days)
    return loss.note if loss else None


def store_plans_and_losses(
    ctx: DemoContext,
    night: date,
    dark: tuple[datetime, datetime],
    planned: list[PlannedExposure],
    lost: PlannedExposure | None,
) -> None:
    """Store the plan ``night`` was observed from (every science exposure, and the lost one) and log its loss."""
    science = [plan for plan in planned if plan.kind == ExposureKind.SCIENCE]
    if not science:
        return
    scheduler = ctx.users[SCHEDULERS[0]]
    stored_at = dark[0] - PLANNED_AHEAD
    rng = ctx.rng("night-plan", night.isoformat())
    requests = [
        ObservingRequest(
            name=f"{night:%Y%m%d}-{index + 1:02d}-{plan.target.name.replace(' ', '_')}",  # type: ignore[union-attr]
            target_name=plan.target.name,  # type: ignore[union-attr]
            ra_deg=plan.target.ra_deg,  # type: ignore[union-attr]
            dec_deg=plan.target.dec_deg,  # type: ignore[union-attr]
            duration_s=plan.exposure_s,
            overhead_s=60.0,
            priority=float(rng.randint(1, 10)),
            program=plan.program,
            twilight=TwilightLevel.NAUTICAL,
            status=RequestStatus.EXPIRED if plan is lost else RequestStatus.COMPLETED,
            submitted_by_id=scheduler.id,
            created_at=stored_at - timedelta(days=2),
        )
        for index, plan in enumerate(science)
    ]
    ctx.add_all(requests)
    schedule = Schedule(
        night=night,
        version_number=1,
        reason="initial",
        created_at=stored_at,
        created_by_id=scheduler.id,
        planned_from=stored_at,
        night_start=dark[0],
        night_end=dark[1],
        twilight=TwilightLevel.NAUTICAL,
    )
    ctx.add_all([schedule])
    ctx.add_all(
        [
            ScheduledBlock(schedule_id=schedule.id, request_id=request.id, start=plan.started_at, end=plan.ended_at)
            for request, plan in zip(requests, science, strict=True)
        ]
    )
    if lost is None:
        return
    loss = LOSSES[(ctx.local_today - night).days]
    ordered = sorted(planned, key=lambda plan: plan.started_at)
    position = ordered.index(lost)
    start = max(lost.started_at - loss.before, ordered[position - 1].ended_at + timedelta(minutes=1))
    end = lost.ended_at + loss.after
    if position + 1 < len(ordered):
        end = min(end, ordered[position + 1].started_at - timedelta(minutes=1))
    with ctx.through_services([Night, NightLoss, AuditEvent]):
        record_loss(ctx.session, scheduler, ctx.site, night, start, end, loss.cause, loss.note, now=lambda: ctx.moment)


__all__ = ["LOSSES", "lost_exposure", "night_note", "store_plans_and_losses"]
