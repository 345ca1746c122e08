"""Stored night plans: plan or re-plan pending requests, keep each version, explain, compare; what-if writes nothing."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from obslab.access import User, require_role
from obslab.audit import record_event
from obslab.db import Clock, utcnow
from obslab.errors import InvalidInputError, NotFoundError, StaleError
from obslab.locking import flush, require_newest
from obslab.scheduling.models import ObservingRequest, RequestRejection, Schedule, ScheduledBlock
from obslab.scheduling.night import night_geometry, night_window
from obslab.scheduling.planner import Block, Plan, SlewModel, plan_changes, plan_night
from obslab.scheduling.search import Budget
from obslab.scheduling.types import RequestStatus, ScheduleStatus
from obslab.scheduling.visibility import PlanRequest
from obslab.settings import Site

#: The role that saves plans (a what-if needs none: it writes nothing).
SCHEDULER_ROLE = "scheduler"
REASONS = ("initial", "replan", "weather", "too", "what-if")

Range = tuple[datetime, datetime]
#: A night further than this from today is planned with a warning (a typed year is the usual cause).
FAR_NIGHT_DAYS = 60
#: The longest search a person may ask for (the command line, the Schedule page).
MAX_SEARCH_SECONDS = 60.0
CLOCK = re.compile(r"^\s*([01]?\d|2[0-3]):([0-5]\d)\s*$")


def parse_night(text: str) -> date:
    """The night a person typed: the local date it begins."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInputError("night", text, "a date, YYYY-MM-DD (the local date the night begins)") from None


def moment_in_night(site: Site, night: date, text: str, field: str) -> datetime:
    """A UTC clock time, HH:MM, as the moment inside the night (local noon to noon) that shows it."""
    match = CLOCK.match(text)
    if match is None:
        raise InvalidInputError(field, text, "a UTC time of day, HH:MM")
    start, _end = night_window(site, night)
    moment = start.replace(hour=int(match[1]), minute=int(match[2]), second=0, microsecond=0)
    return moment if moment >= start else moment + timedelta(days=1)


def lost_ranges(site: Site, night: date, texts: Iterable[str]) -> list[Range]:
    """Ranges lost to weather, each HH:MM-HH:MM in UTC, inside the night (their order is checked by ``plan``)."""
    ranges = []
    for text in texts:
        first, dash, second = text.partition("-")
        if not dash or not CLOCK.match(first) or not CLOCK.match(second):
            raise InvalidInputError("lost", text, "a UTC range HH:MM-HH:MM, e.g. 07:10-08:30")
        ranges.append((moment_in_night(site, night, first, "lost"), moment_in_night(site, night, second, "lost")))
    return ranges


def plan_request(row: ObservingRequest) -> PlanRequest:
    """The planner's view of a stored request."""
    return PlanRequest(
        id=row.id,
        name=row.name,
        target_name=row.target_name,
        ra_deg=row.ra_deg,
        dec_deg=row.dec_deg,
        duration_s=row.duration_s,
        overhead_s=row.overhead_s,
        priority=row.priority,
        windows=tuple((w.start, w.end) for w in row.windows),
        preferred_time=row.preferred_time,
        min_altitude_deg=row.min_altitude_deg,
        max_airmass=row.max_airmass,
        twilight=row.twilight,
        min_moon_separation_deg=row.min_moon_separation_deg,
        max_moon_illumination=row.max_moon_illumination,
        hour_angle_min_h=row.hour_angle_min_h,
        hour_angle_max_h=row.hour_angle_max_h,
    )


def pending_requests(session: Session) -> list[ObservingRequest]:
    """Every request still waiting to be observed, with its windows, in id order."""
    query = (
        select(ObservingRequest)
        .where(ObservingRequest.status == RequestStatus.PENDING)
        .options(selectinload(ObservingRequest.windows))
        .order_by(ObservingRequest.id)
    )
    return list(session.scalars(query))


def active_schedule(session: Session, night: date, *, lock: bool = False) -> Schedule | None:
    """The night's current plan, or None before the first one; ``lock`` holds its row until the transaction ends."""
    query = select(Schedule).where(Schedule.night == night, Schedule.status == ScheduleStatus.ACTIVE)
    if lock:
        query = query.with_for_update(of=Schedule)
    return session.scalar(query.options(selectinload(Schedule.blocks), selectinload(Schedule.rejections)))


def plan_version(session: Session, night: date) -> int:
    """The newest stored version of the night's plan (0: none yet): what a page shows and a save states it saw."""
    return session.scalar(select(func.max(Schedule.version_number)).where(Schedule.night == night)) or 0


def _name_the_winner(session: Session, night: date, seen: int, *, wait_s: float = 5.0) -> None:
    """After a lost race, refuse naming who stored the newer plan, once their commit is visible.

    The race is lost at the flush: on PostgreSQL by the same version number, after the winner committed; on
    SQLite by a newer snapshot, possibly while the winner is still committing. So look from a session of its
    own, and look again for a moment until the winner's plan shows (if it never does, the caller's plain
    StaleError stands).
    """
    deadline = time.monotonic() + wait_s
    with Session(bind=session.get_bind()) as fresh:
        while time.monotonic() < deadline:
            _require_seen_plan(fresh, night, seen)
            fresh.rollback()  # the next read takes a new snapshot
            time.sleep(0.02)


def _require_seen_plan(session: Session, night: date, seen: int) -> None:
    """Refuse unless the night's newest plan is the version the operator saw, naming who stored the newer one."""
    newest = session.execute(
        select(Schedule.version_number, Schedule.created_by_id, Schedule.created_at)
        .where(Schedule.night == night)
        .order_by(Schedule.version_number.desc())
        .limit(1)
    ).first()
    require_newest(
        session,
        seen,
        newest,
        what=f"the plan of {night}",
        done="stored",
        allowed_when_empty=f"0: {night} has no plan yet",
        allowed_up_to=f"0 to {{current}}, the versions stored for {night}",
        shown="the plan version shown (0 when the night has no plan yet)",
    )


@dataclass(frozen=True)
class Planned:
    """A plan and, unless it was a what-if, the schedule version that stores it."""

    plan: Plan
    schedule: Schedule | None
    kept: tuple[int, ...]  # request ids of blocks kept from the previous version (in progress at planned_from)


def plan(
    session: Session,
    site: Site,
    night: date,
    *,
    planned_from: datetime | None = None,
    lost: Sequence[Range] = (),
    slew: SlewModel | None = None,
    search_seconds: float | None = None,
    now: Clock = utcnow,
) -> tuple[Plan, tuple[int, ...]]:
    """Plan the night's pending requests, keeping the active version's block in progress at ``planned_from``.

    The active version's other blocks start the search where they are and move only when that gains value; the
    plan's ``change`` says what moved against it. ``search_seconds`` searches longer than the default (the plan
    still depends only on the inputs and the number, not on the machine's speed: see ``search.Budget``).
    """
    current = active_schedule(session, night)
    return _plan(
        session,
        site,
        night,
        current,
        planned_from=planned_from,
        lost=lost,
        slew=slew,
        search_seconds=search_seconds,
        now=now,
    )


def _plan(
    session: Session,
    site: Site,
    night: date,
    current: Schedule | None,
    *,
    planned_from: datetime | None,
    lost: Sequence[Range],
    slew: SlewModel | None,
    search_seconds: float | None,
    now: Clock,
) -> tuple[Plan, tuple[int, ...]]:
    if search_seconds is not None and not 0 <= search_seconds <= MAX_SEARCH_SECONDS:
        raise InvalidInputError("search_seconds", search_seconds, f"0 to {MAX_SEARCH_SECONDS:g} seconds")
    if planned_from is not None and planned_from.tzinfo is None:
        raise InvalidInputError("planned_from", planned_from.isoformat(), "a time with a zone (times are UTC)")
    for start, end in lost:
        if not start < end:
            raise InvalidInputError("lost", f"{start:%H:%M}-{end:%H:%M}", "a time range whose start is before its end")
    rows = pending_requests(session)
    requests = [plan_request(row) for row in rows]
    keep: list[Block] = []
    previous: list[Block] = []
    if current is not None:
        by_id = {request.id: request for request in requests}
        blocks = [(b, by_id[b.request_id]) for b in current.blocks if b.request_id in by_id]
        if planned_from is not None:
            keep = [Block(r, b.start, b.end, b.slew_s) for b, r in blocks if b.start <= planned_from < b.end]
        previous = [Block(r, b.start, b.end, b.slew_s) for b, r in blocks]
    geometry = night_geometry(site, night)
    budget = Budget.of_seconds(search_seconds) if search_seconds is not None else None
    result = plan_night(
        geometry,
        requests,
        planned_from=planned_from,
        lost=lost,
        keep=keep,
        previous=previous,
        slew=slew,
        budget=budget,
    )
    warnings = far_night_notes(night, night_window(site, night), now().astimezone(site.zone).date(), requests)
    change = (
        {"from": current.version_number}
        | plan_changes(
            ((b.request_id, b.start) for b in current.blocks), ((b.request.id, b.start) for b in result.blocks)
        )
        if current is not None
        else None
    )
    result = replace(result, notes=(*warnings, *result.notes), change=change)
    return result, tuple(int(block.request.id) for block in keep)


def far_night_notes(
    night: date, window: tuple[datetime, datetime], today: date, requests: Sequence[PlanRequest]
) -> list[str]:
    """Warnings that the night is probably not the one meant: far from today, or outside every time window."""
    notes = []
    days = (night - today).days
    if abs(days) > FAR_NIGHT_DAYS:
        when = f"{-days} days before" if days < 0 else f"{days} days after"
        notes.append(f"night {night} is {when} today ({today}): check the date")
    windows = [w for request in requests for w in request.windows]
    start, end = window
    if windows and not any(first < end and last > start for first, last in windows):
        first, last = min(w[0] for w in windows), max(w[1] for w in windows)
        notes.append(
            f"no request's time window falls in night {night}: the {len(windows)} windows run from "
            f"{first:%Y-%m-%d} to {last:%Y-%m-%d} UTC"
        )
    return notes


def plan_and_save(
    session: Session,
    actor: User,
    site: Site,
    night: date,
    *,
    seen_version: int,
    planned_from: datetime | None = None,
    lost: Sequence[Range] = (),
    reason: str | None = None,
    slew: SlewModel | None = None,
    search_seconds: float | None = None,
    now: Clock = utcnow,
) -> Planned:
    """Plan and store the result as the night's next version; the previous one is kept, superseded.

    ``seen_version`` is the version of the night's plan the operator saw (0: there was none). When someone
    stored a newer one meanwhile, or stores one at the same moment, nothing is written and a StaleError says
    who stored it and when.
    """
    require_role(actor, SCHEDULER_ROLE, "save night plans")
    at = now()
    reason = reason or ("weather" if lost else "replan" if planned_from is not None else "initial")
    if reason not in REASONS:
        raise InvalidInputError("reason", reason, "one of " + ", ".join(REASONS))
    # Lock the plan being replaced (PostgreSQL: a second re-plan waits here, then finds it superseded).
    previous = active_schedule(session, night, lock=True)
    _require_seen_plan(session, night, seen_version)
    result, kept = _plan(
        session,
        site,
        night,
        previous,
        planned_from=planned_from,
        lost=lost,
        slew=slew,
        search_seconds=search_seconds,
        now=lambda: at,
    )
    number = seen_version + 1
    if previous is not None:
        previous.status = ScheduleStatus.SUPERSEDED
    schedule = Schedule(
        night=night,
        version_number=number,
        reason=reason,
        created_at=at,
        created_by_id=actor.id,
        parent_id=previous.id if previous is not None else None,
        planned_from=planned_from or result.night_start or result.night.start,
        night_start=result.night_start or result.night.start,
        night_end=result.night_end or result.night.end,
        twilight=result.twilight,
        parameters={"lost": [[start.isoformat(), end.isoformat()] for start, end in lost], "kept": list(kept)},
    )
    schedule.blocks = [
        ScheduledBlock(request_id=int(b.request.id), start=b.start, end=b.end, slew_s=b.slew_s) for b in result.blocks
    ]
    schedule.rejections = [
        RequestRejection(
            request_id=int(u.request.id),
            reason=u.reason,
            detail=u.detail,
            outranked_by=[int(i) for i in u.outranked_by],
        )
        for u in result.unscheduled
    ]
    session.add(schedule)
    try:
        flush(session, f"the plan of {night}")
    except StaleError:
        _name_the_winner(session, night, seen_version)
        raise
    record_event(
        session,
        actor=actor,
        action=f"schedule.{reason}",
        entity_type="schedule",
        entity_id=f"{night}/{number}",
        before={"version": previous.version_number} if previous is not None else None,
        after={"version": number, "blocks": len(result.blocks), "unscheduled": len(result.unscheduled)},
        now=lambda: at,
    )
    return Planned(result, schedule, kept)


def find_request(session: Session, reference: int | str) -> ObservingRequest:
    """A request by its number (``4``) or its name as every output prints it (``REQ-0004``, ``ALERT-12``)."""
    text = str(reference).strip()
    request = (
        session.get(ObservingRequest, int(text))
        if text.isdigit()
        else session.scalar(select(ObservingRequest).where(func.upper(ObservingRequest.name) == text.upper()))
    )
    if request is None:
        raise NotFoundError(
            f"request {text!r} does not exist: give its number (e.g. 4) or its name (e.g. REQ-0004), "
            "as `obslab plan` prints them",
            request=text,
        )
    return request


def explain(session: Session, reference: int | str, night: date | None = None) -> dict[str, Any]:
    """Where the request stands in the latest plan (of ``night``, or of any night): its block, or why it has none.

    ``reference`` is the request's number or its name.
    """
    request = find_request(session, reference)
    request_id = request.id
    query = select(Schedule).where(Schedule.status == ScheduleStatus.ACTIVE)
    if night is not None:
        query = query.where(Schedule.night == night)
    else:  # the latest plan that placed it or said why not; failing that, the latest plan
        mentioned = (
            select(ScheduledBlock.schedule_id)
            .where(ScheduledBlock.request_id == request.id)
            .union(select(RequestRejection.schedule_id).where(RequestRejection.request_id == request.id))
        )
        schedule = session.scalar(query.where(Schedule.id.in_(mentioned)).order_by(Schedule.night.desc()).limit(1))
        if schedule is not None:
            query = query.where(Schedule.id == schedule.id)
    schedule = session.scalar(query.order_by(Schedule.night.desc()).limit(1))
    if schedule is None:
        raise NotFoundError(
            f"there is no plan{f' for {night}' if night else ''} yet: run obslab plan first", request=request_id
        )
    answer: dict[str, Any] = {
        "request": request.id,
        "name": request.name,
        "night": schedule.night.isoformat(),
        "schedule_version": schedule.version_number,
    }
    block = session.scalar(
        select(ScheduledBlock).where(ScheduledBlock.schedule_id == schedule.id, ScheduledBlock.request_id == request.id)
    )
    if block is not None:
        return answer | {"scheduled": True, "start": block.start.isoformat(), "end": block.end.isoformat()}
    rejection = session.scalar(
        select(RequestRejection).where(
            RequestRejection.schedule_id == schedule.id, RequestRejection.request_id == request.id
        )
    )
    if rejection is None:
        return answer | {
            "scheduled": False,
            "reason": None,
            "detail": f"it was not pending when version {schedule.version_number} was made",
        }
    names = dict(
        session.execute(
            select(ObservingRequest.id, ObservingRequest.name).where(
                ObservingRequest.id.in_(rejection.outranked_by or [-1])
            )
        ).all()
    )
    return answer | {
        "scheduled": False,
        "reason": rejection.reason.value,
        "detail": rejection.detail,
        "outranked_by": [names.get(i, i) for i in rejection.outranked_by],
    }


def compare(first: Schedule, second: Schedule) -> dict[str, Any]:
    """What changed from ``first`` to ``second``: requests added, removed, moved (with both starts), unchanged."""
    return {"from": first.version_number, "to": second.version_number} | plan_changes(
        ((b.request_id, b.start) for b in first.blocks), ((b.request_id, b.start) for b in second.blocks)
    )


def plan_json(result: Plan, site: Site) -> dict[str, Any]:
    """The plan as ``obslab plan --json`` prints it (one object; constraints that do not apply are null)."""
    return {
        "night": result.night.night.isoformat(),
        "site": {"latitude_deg": site.latitude_deg, "longitude_deg": site.longitude_deg, "height_m": site.height_m},
        "night_start": result.night_start.isoformat() if result.night_start else None,
        "night_end": result.night_end.isoformat() if result.night_end else None,
        "twilight": result.twilight.value,
        "planned_from": result.planned_from.isoformat() if result.planned_from else None,
        "blocks": [
            {
                "request": block.request.id,
                "name": block.request.name,
                "ra_deg": block.request.ra_deg,
                "dec_deg": block.request.dec_deg,
                "start": block.start.isoformat(),
                "end": block.end.isoformat(),
                "min_altitude_deg": block.request.min_altitude_deg,
                "max_airmass": block.request.max_airmass,
                "min_moon_separation_deg": block.request.min_moon_separation_deg,
            }
            for block in result.blocks
        ],
        "unscheduled": [
            {"request": u.request.id, "name": u.request.name, "reason": u.reason.value, "detail": u.detail}
            for u in result.unscheduled
        ],
        "notes": list(result.notes),
        "change": result.change,
    }
