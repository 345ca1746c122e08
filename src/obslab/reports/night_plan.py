"""The night's plan against what was taken: each planned block observed or not, and why not (a logged loss, a ToO
re-plan, a failed reduction), plus the science exposures taken outside the plan.

A block is matched to the science exposures of its request (``exposures.request_id``) or, since raw headers rarely
carry the request, to those of its target that start within ``MATCH_SLACK`` of the block.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from obslab.observing.models import Exposure, NightLoss, PipelineStage
from obslab.observing.types import ExposureKind, StageState
from obslab.scheduling.models import Alert, ObservingRequest, Schedule, ScheduledBlock

#: How far from its planned time an exposure of a block's target still counts as that block's.
MATCH_SLACK = timedelta(minutes=30)


@dataclass(frozen=True)
class PlannedBlock:
    """One block of the night's plan and what became of it."""

    request: str
    target: str
    program: str
    start: datetime
    end: datetime
    plan_version: int
    outcome: str  # observed, failed (taken, but its reduction failed), not observed, dropped (a re-plan took it out)
    reason: str  # why, for anything but observed: the loss, the re-plan, the stage that failed
    exposures: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlanAgainstExecution:
    plan_version: int | None  # the plan in force at the end of the night (None: no plan was stored)
    blocks: tuple[PlannedBlock, ...]
    unplanned: tuple[str, ...]  # science exposures no block accounts for

    def outcomes(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for block in self.blocks:
            counts[block.outcome] = counts.get(block.outcome, 0) + 1
        return counts


def plan_against_execution(
    session: Session, night_id: int | None, start: datetime, end: datetime, exposures: list[Exposure]
) -> PlanAgainstExecution:
    """The plans stored for the night in ``start``..``end`` against ``exposures`` (the night's, all kinds)."""
    plans = list(
        session.scalars(
            select(Schedule)
            .where(Schedule.night_start < end, Schedule.night_end > start)
            .order_by(Schedule.version_number)
        )
    )
    science = [e for e in exposures if e.kind == ExposureKind.SCIENCE]
    if not plans:
        return PlanAgainstExecution(None, (), tuple(e.name for e in science))
    requests = {r.id: r for r in session.scalars(select(ObservingRequest).where(ObservingRequest.id.in_(_ids(plans))))}
    losses = list(session.scalars(select(NightLoss).where(NightLoss.night_id == night_id))) if night_id else []
    failed = _failed_stages(session, [e.id for e in science])
    used: set[int] = set()
    blocks: list[PlannedBlock] = []
    for plan, following in zip(plans, [*plans[1:], None], strict=True):
        kept = {b.request_id for b in following.blocks} if following else None
        for block in plan.blocks:
            request = requests[block.request_id]
            if kept is not None:
                # A superseded plan's block matters only if the re-plan took it out before it began.
                if block.request_id in kept or block.start < following.planned_from:
                    continue
                blocks.append(_block(request, block, plan, "dropped", _replan_reason(session, following)))
                continue
            taken = _taken(request, block.start, block.end, science, used)
            used.update(e.id for e in taken)
            blocks.append(_judged(request, block, plan, taken, losses, failed))
    blocks.sort(key=lambda b: b.start)
    unplanned = tuple(e.name for e in science if e.id not in used)
    return PlanAgainstExecution(plans[-1].version_number, tuple(blocks), unplanned)


def _ids(plans: list[Schedule]) -> set[int]:
    return {block.request_id for plan in plans for block in plan.blocks}


def _taken(
    request: ObservingRequest, start: datetime, end: datetime, science: list[Exposure], used: set[int]
) -> list[Exposure]:
    by_request = [e for e in science if e.request_id == request.id]
    if by_request:
        return by_request
    return [
        e
        for e in science
        if e.id not in used
        and e.request_id is None
        and e.target_name == request.target_name
        and start - MATCH_SLACK <= e.started_at <= end + MATCH_SLACK
    ]


def _judged(
    request: ObservingRequest,
    block: ScheduledBlock,
    plan: Schedule,
    taken: list[Exposure],
    losses: list[NightLoss],
    failed: dict[int, PipelineStage],
) -> PlannedBlock:
    names = tuple(e.name for e in taken)
    if taken:
        broken = [failed[e.id] for e in taken if e.id in failed]
        if broken and len(broken) == len(taken):
            stage = broken[0]
            return _block(request, block, plan, "failed", f"{stage.stage} failed: {stage.error or 'no message'}", names)
        return _block(request, block, plan, "observed", "", names)
    hit = next((loss for loss in losses if loss.start < block.end and loss.end > block.start), None)
    if hit is not None:
        note = f": {hit.note}" if hit.note else ""
        return _block(request, block, plan, "not observed", f"{hit.cause.value}{note}")
    return _block(request, block, plan, "not observed", "no exposure taken and no loss logged for its time")


def _block(
    request: ObservingRequest,
    block: ScheduledBlock,
    plan: Schedule,
    outcome: str,
    reason: str,
    names: tuple[str, ...] = (),
) -> PlannedBlock:
    return PlannedBlock(
        request=request.name,
        target=request.target_name,
        program=request.program,
        start=block.start,
        end=block.end,
        plan_version=plan.version_number,
        outcome=outcome,
        reason=reason,
        exposures=names,
    )


def _replan_reason(session: Session, replan: Schedule) -> str:
    """Why a re-plan dropped blocks: a ToO names the alert whose request it made room for."""
    if replan.reason != "too":
        return f"re-planned at {replan.planned_from:%H:%M} UTC (plan version {replan.version_number}: {replan.reason})"
    alerts = session.scalars(
        select(Alert.key)
        .join(ObservingRequest, ObservingRequest.alert_id == Alert.id)
        .where(ObservingRequest.id.in_([b.request_id for b in replan.blocks]))
    ).all()
    cause = f" for {', '.join(alerts)}" if alerts else ""
    return f"ToO{cause}: re-planned at {replan.planned_from:%H:%M} UTC (plan version {replan.version_number})"


def _failed_stages(session: Session, exposure_ids: list[int]) -> dict[int, PipelineStage]:
    if not exposure_ids:
        return {}
    rows = session.scalars(
        select(PipelineStage).where(
            PipelineStage.exposure_id.in_(exposure_ids), PipelineStage.state == StageState.FAILED
        )
    )
    return {stage.exposure_id: stage for stage in rows if stage.exposure_id is not None}


__all__ = ["MATCH_SLACK", "PlanAgainstExecution", "PlannedBlock", "plan_against_execution"]
