"""The night planner: feasible under astroplan's own constraints, priority first, slews kept, a reason per leftover."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import pytest

from obslab.scheduling.night import night_geometry
from obslab.scheduling.planner import SlewModel, plan_changes, plan_night
from obslab.scheduling.types import RejectionReason, TwilightLevel
from obslab.scheduling.visibility import PlanRequest
from tests.helpers.astroplan_oracle import violations
from tests.helpers.support import KITT_PEAK

NIGHT = date(2026, 11, 21)


def random_requests(count: int, seed: int) -> list[PlanRequest]:
    rng = random.Random(seed)
    return [
        PlanRequest(
            id=i,
            ra_deg=rng.uniform(0, 360),
            dec_deg=rng.uniform(-40, 80),
            duration_s=rng.uniform(300, 3600),
            overhead_s=120,
            priority=rng.choice([1, 2, 3, 5, 8]),
            min_altitude_deg=rng.choice([None, 30, 40]),
            max_airmass=rng.choice([None, 2.0, 1.5]),
            twilight=rng.choice(list(TwilightLevel)),
            min_moon_separation_deg=rng.choice([None, 20, 40]),
            max_moon_illumination=rng.choice([None, 0.5, 1.0]),
            hour_angle_min_h=rng.choice([None, -3.0]),
            hour_angle_max_h=rng.choice([None, 3.0]),
        )
        for i in range(count)
    ]


def test_every_block_passes_astroplans_constraints_without_overlap_and_with_slews() -> None:
    night = night_geometry(KITT_PEAK, NIGHT)
    requests = random_requests(150, seed=3)
    slew = SlewModel()
    plan = plan_night(night, requests, slew=slew)
    assert len(plan.blocks) >= 10 and len(plan.blocks) + len(plan.unscheduled) == len(requests)
    assert violations(plan.blocks, KITT_PEAK) == []
    for before, after in zip(plan.blocks, plan.blocks[1:], strict=False):
        assert after.start >= before.end + timedelta(seconds=after.slew_s), (before, after)
        assert after.slew_s >= slew.settle_s
    for block in plan.blocks:
        assert (block.end - block.start).total_seconds() >= block.request.duration_s + block.request.overhead_s
        assert plan.night_start <= block.start and block.end <= plan.night_end
    # Deterministic: the same inputs give the same plan.
    again = plan_night(night, requests, slew=slew)
    assert [(b.request.id, b.start) for b in again.blocks] == [(b.request.id, b.start) for b in plan.blocks]
    assert [(u.request.id, u.reason, u.detail) for u in again.unscheduled] == [
        (u.request.id, u.reason, u.detail) for u in plan.unscheduled
    ]


def test_priority_wins_contested_time_and_the_loser_names_who_took_it() -> None:
    night = night_geometry(KITT_PEAK, NIGHT)
    middle = night.midnight
    window = ((middle - timedelta(minutes=40), middle + timedelta(minutes=40)),)
    low = PlanRequest(
        id="low", ra_deg=60.0, dec_deg=30.0, duration_s=3000, priority=1, windows=window, name="low-priority"
    )
    high = PlanRequest(id="high", ra_deg=61.0, dec_deg=30.0, duration_s=3000, priority=5, windows=window, name="HIGH")
    plan = plan_night(night, [low, high])
    assert [b.request.id for b in plan.blocks] == ["high"]
    (left,) = plan.unscheduled
    assert left.request.id == "low" and left.reason is RejectionReason.OUTRANKED and left.outranked_by == ("high",)
    assert "HIGH (priority 5)" in left.detail


def reason_for(request: PlanRequest, **kwargs: Any) -> tuple[RejectionReason, str]:
    plan = plan_night(night_geometry(KITT_PEAK, NIGHT), [request], **kwargs)
    assert plan.blocks == (), plan.blocks
    (left,) = plan.unscheduled
    return left.reason, left.detail


def test_each_reason_code_with_its_detail() -> None:
    night = night_geometry(KITT_PEAK, NIGHT)
    dark_start, dark_end = night.dark(TwilightLevel.ASTRONOMICAL)
    moon = (night.moon_ra_deg, night.moon_dec_deg)
    overhead_ra = float(night_lst_deg(night))
    reason, detail = reason_for(PlanRequest(id=1, ra_deg=10, dec_deg=-85, duration_s=600))
    assert reason is RejectionReason.NEVER_VISIBLE and "never above 0.0 deg" in detail
    day = ((dark_end + timedelta(hours=3), dark_end + timedelta(hours=5)),)
    reason, detail = reason_for(PlanRequest(id=2, ra_deg=overhead_ra, dec_deg=32, duration_s=600, windows=day))
    assert reason is RejectionReason.WINDOWS_OUTSIDE_NIGHT and "1 time window(s)" in detail
    reason, detail = reason_for(
        PlanRequest(id=3, ra_deg=overhead_ra, dec_deg=32, duration_s=3600, hour_angle_min_h=-0.2, hour_angle_max_h=0.2)
    )
    assert reason is RejectionReason.VISIBLE_TOO_SHORT and "it needs 60 min" in detail
    reason, detail = reason_for(
        PlanRequest(id=4, ra_deg=moon[0], dec_deg=moon[1], duration_s=600, min_moon_separation_deg=40)
    )
    assert reason is RejectionReason.MOON and "it needs 40 deg" in detail
    reason, detail = reason_for(
        PlanRequest(
            id=5, ra_deg=(overhead_ra + 180) % 360, dec_deg=60, duration_s=600, hour_angle_min_h=-1, hour_angle_max_h=1
        )
    )
    assert reason is RejectionReason.HOUR_ANGLE and "-1 h and 1 h" in detail
    reason, detail = reason_for(
        PlanRequest(id=6, ra_deg=overhead_ra, dec_deg=32, duration_s=600),
        lost=[(dark_start - timedelta(hours=2), dark_end + timedelta(hours=2))],
    )
    assert reason is RejectionReason.TIME_LOST
    reason, detail = reason_for(PlanRequest(id=7, ra_deg=overhead_ra, dec_deg=32, duration_s=20 * 3600))
    assert (
        reason is RejectionReason.NOT_SCHEDULABLE
        and "longer than the night's dark time (in astronomical darkness" in detail
    )
    reason, detail = reason_for(
        PlanRequest(id=8, ra_deg=overhead_ra, dec_deg=32, duration_s=600), planned_from=night.end
    )
    assert reason is RejectionReason.TIME_LOST


def test_replanning_keeps_the_block_in_progress_and_uses_no_time_before_now() -> None:
    night = night_geometry(KITT_PEAK, NIGHT)
    requests = random_requests(80, seed=9)
    first = plan_night(night, requests)
    running = first.blocks[2]
    now = running.start + (running.end - running.start) / 2
    again = plan_night(night, requests, planned_from=now, keep=[running])
    assert running.request.id in [b.request.id for b in again.blocks]
    kept = next(b for b in again.blocks if b.request.id == running.request.id)
    assert (kept.start, kept.end) == (running.start, running.end)
    assert all(b.start >= now for b in again.blocks if b is not kept)
    assert violations(again.blocks, KITT_PEAK) == []


def night_lst_deg(night: Any) -> float:
    """The local sidereal time at midnight in degrees: a target at that RA is highest then."""
    import astropy.units as u

    from obslab.scheduling.night import astropy_times

    return float(
        astropy_times([night.midnight])[0].sidereal_time("apparent", longitude=night.site.longitude_deg * u.deg).deg
    )


@pytest.mark.parametrize("count", [1, 5])
def test_small_inputs_and_no_requests(count: int) -> None:
    night = night_geometry(KITT_PEAK, NIGHT)
    plan = plan_night(night, random_requests(count, seed=1))
    assert len(plan.blocks) + len(plan.unscheduled) == count
    assert plan_night(night, []).blocks == ()


def test_more_value_can_outrank_a_higher_priority_and_the_reason_names_who_holds_its_time() -> None:
    """In 92 minutes, two 45-minute blocks of priority 6 hold more value than one 50-minute block of priority 9."""
    night = night_geometry(KITT_PEAK, NIGHT)
    middle = night.midnight
    window = ((middle - timedelta(minutes=46), middle + timedelta(minutes=46)),)

    def request(name: str, minutes: int, priority: int, ra: float) -> PlanRequest:
        return PlanRequest(
            id=name, name=name, ra_deg=ra, dec_deg=30.0, duration_s=minutes * 60, priority=priority, windows=window
        )

    high, first, second = request("HIGH", 50, 9, 60.0), request("ONE", 45, 6, 60.2), request("TWO", 45, 6, 60.4)
    plan = plan_night(night, [high, first, second], slew=SlewModel(settle_s=0.0))
    assert sorted(b.request.id for b in plan.blocks) == ["ONE", "TWO"] and plan.weighted_minutes == 540
    (left,) = plan.unscheduled
    assert left.reason is RejectionReason.OUTRANKED and set(left.outranked_by) == {"ONE", "TWO"}
    assert left.detail == "its observable time is taken by ONE (priority 6), TWO (priority 6)"


def test_replanning_with_nothing_changed_moves_nothing() -> None:
    night = night_geometry(KITT_PEAK, NIGHT)
    requests = random_requests(80, seed=4)
    first = plan_night(night, requests)
    again = plan_night(night, requests, previous=first.blocks)
    assert [(b.request.id, b.start, b.end) for b in again.blocks] == [
        (b.request.id, b.start, b.end) for b in first.blocks
    ]
    changes = plan_changes(
        [(b.request.id, b.start) for b in first.blocks], [(b.request.id, b.start) for b in again.blocks]
    )
    assert changes == {"added": [], "removed": [], "moved": [], "unchanged": len(first.blocks)}


def test_a_replan_after_half_an_hour_lost_keeps_the_blocks_it_does_not_touch() -> None:
    """Blocks clear of the lost half hour stay where they were unless moving them gains value."""
    night = night_geometry(KITT_PEAK, NIGHT)
    requests = random_requests(80, seed=5)
    first = plan_night(night, requests)
    running = first.blocks[3]
    now = running.start + (running.end - running.start) / 2
    lost = (now + timedelta(minutes=60), now + timedelta(minutes=90))
    again = plan_night(night, requests, planned_from=now, lost=[lost], keep=[running], previous=first.blocks)
    assert violations(again.blocks, KITT_PEAK) == []
    assert all(b.end <= lost[0] or b.start >= lost[1] for b in again.blocks)
    later = [b for b in first.blocks if b.start >= now]
    untouched = [b for b in later if b.end <= lost[0] or b.start >= lost[1]]
    placed = {b.request.id: b.start for b in again.blocks}
    stayed = [b for b in untouched if placed.get(b.request.id) == b.start]
    # Without the search nothing would move but what the loss forces; what the search moves, it moves for value.
    assert len(stayed) >= len(untouched) - 2, (len(stayed), len(untouched))
    assert again.weighted_minutes >= sum(
        b.request.priority * (b.end - b.start) / timedelta(minutes=1) for b in untouched
    )
