"""Why a request was left out of a plan: the first stage that rules it out, for every request at once; pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from obslab.scheduling.night import NightGeometry
from obslab.scheduling.sequence import runs
from obslab.scheduling.types import RejectionReason
from obslab.scheduling.visibility import PlanRequest, Visibility

#: How many requests holding its time an "outranked" detail names (all are kept in ``outranked_by``).
NAMED = 3


@dataclass(frozen=True)
class Unscheduled:
    """A request left out, with a machine-readable reason and a sentence saying exactly why."""

    request: PlanRequest
    reason: RejectionReason
    detail: str
    outranked_by: tuple[int | str, ...] = ()


def left_out(
    vis: Visibility,
    requests: Sequence[PlanRequest],
    lengths: np.ndarray,
    indices: Sequence[int],
    available: np.ndarray,
    placed: Sequence[tuple[int, int]],
    night: NightGeometry,
) -> list[Unscheduled]:
    """A reason and a detail for each request of ``indices``, none of which the plan ``placed``.

    Parameters
    ----------
    lengths
        Block minutes of every request.
    available
        The minutes the plan could use (not lost, not before planning started, not under a kept block).
    placed
        The plan's blocks as (request index, start minute).

    Each stage is checked for all requests at once (a thousand requests left out is the usual case); the
    sentences are then written one by one.
    """
    rows = np.asarray(indices, dtype=np.int64)
    if rows.size == 0:
        return []
    size = len(vis.grid)
    dark_window = vis.dark_and_window[rows].any(axis=1)
    high = vis.altitude[rows].any(axis=1)
    in_hour_angle = vis.hour_angle[rows].any(axis=1)
    feasible = vis.feasible[rows]
    clear = feasible.any(axis=1)
    longest = _longest_runs(feasible)
    usable = feasible & available[None, :]
    longest_usable = _longest_runs(usable)
    # Which blocks cover some usable minute of each request: the requests holding its time.
    counts = np.zeros((rows.size, size + 1), dtype=np.int32)
    np.cumsum(usable, axis=1, dtype=np.int32, out=counts[:, 1:])
    # The blocks highest priority first, so each request's takers come out in the order they are named.
    placed = sorted(placed, key=lambda block: (-requests[block[0]].priority, str(requests[block[0]].id)))
    holders = [index for index, _minute in placed]
    if placed:
        starts = np.array([minute for _index, minute in placed])
        ends = np.minimum(starts + np.asarray(lengths)[holders], size)
        holds = counts[:, ends] - counts[:, starts] > 0  # (rows, blocks)
    else:
        holds = np.zeros((rows.size, 0), dtype=bool)
    taking: list[list[int]] = [[] for _ in range(rows.size)]
    for k, j in zip(*(part.tolist() for part in np.nonzero(holds)), strict=True):
        taking[k].append(j)
    names = [f"{requests[i].label} (priority {requests[i].priority:g})" for i in holders]
    ids = [requests[i].id for i in holders]
    dark_window, high, in_hour_angle, clear = (flags.tolist() for flags in (dark_window, high, in_hour_angle, clear))
    longest, longest_usable, minutes = longest.tolist(), longest_usable.tolist(), np.asarray(lengths).tolist()
    answers = []
    for k, index in enumerate(rows.tolist()):
        request = requests[index]
        length = minutes[index]
        if size == 0 or length > size:
            answers.append(_no_room(request, night))
        elif not dark_window[k]:
            answers.append(_outside(request, night))
        elif not high[k]:
            answers.append(
                Unscheduled(
                    request,
                    RejectionReason.NEVER_VISIBLE,
                    f"never above {request.lowest_altitude_deg:.1f} deg altitude while the sky is dark enough",
                )
            )
        elif not in_hour_angle[k]:
            low = request.hour_angle_min_h if request.hour_angle_min_h is not None else -12
            top = request.hour_angle_max_h if request.hour_angle_max_h is not None else 12
            answers.append(
                Unscheduled(
                    request,
                    RejectionReason.HOUR_ANGLE,
                    f"never between hour angles {low:g} h and {top:g} h while high enough",
                )
            )
        elif not clear[k]:
            answers.append(_moon(vis, request, index))
        elif longest[k] < length + 1:
            answers.append(
                Unscheduled(
                    request,
                    RejectionReason.VISIBLE_TOO_SHORT,
                    f"observable for at most {max(0, int(longest[k]) - 1)} min in one stretch; it needs {length} min",
                )
            )
        elif longest_usable[k] < length + 1:
            answers.append(
                Unscheduled(
                    request,
                    RejectionReason.TIME_LOST,
                    "its observable time falls in lost time, under a kept block or before planning started",
                )
            )
        else:
            answers.append(_outranked(request, [names[j] for j in taking[k]], tuple(ids[j] for j in taking[k])))
    return answers


def _no_room(request: PlanRequest, night: NightGeometry) -> Unscheduled:
    dark = night.dark(request.twilight)
    if dark is None:
        return Unscheduled(
            request, RejectionReason.NEVER_VISIBLE, f"this night has no dark time ({request.twilight.dark_time})"
        )
    return Unscheduled(
        request,
        RejectionReason.NOT_SCHEDULABLE,
        f"it needs {request.minutes} min, longer than the night's dark time ({request.twilight.dark_time})",
    )


def _outside(request: PlanRequest, night: NightGeometry) -> Unscheduled:
    if request.windows and night.dark(request.twilight) is not None:
        first = request.windows[0]
        return Unscheduled(
            request,
            RejectionReason.WINDOWS_OUTSIDE_NIGHT,
            f"none of its {len(request.windows)} time window(s) (first {first[0]:%Y-%m-%d %H:%M} to "
            f"{first[1]:%Y-%m-%d %H:%M} UTC) falls in this night's dark time ({request.twilight.dark_time})",
        )
    return Unscheduled(
        request, RejectionReason.NEVER_VISIBLE, f"this night has no dark time ({request.twilight.dark_time})"
    )


def _moon(vis: Visibility, request: PlanRequest, index: int) -> Unscheduled:
    closest = vis.closest_moon_deg[index]
    if request.min_moon_separation_deg is not None and closest < request.min_moon_separation_deg + 0.1:
        return Unscheduled(
            request,
            RejectionReason.MOON,
            f"the Moon is never more than {closest:.1f} deg away while it is "
            f"observable; it needs {request.min_moon_separation_deg:g} deg",
        )
    return Unscheduled(
        request,
        RejectionReason.MOON,
        f"the Moon is up and {vis.moon_illumination.max():.0%} lit whenever the target is observable; "
        f"this request allows at most {request.max_moon_illumination:.0%}",
    )


def _outranked(request: PlanRequest, names: list[str], ids: tuple[int | str, ...]) -> Unscheduled:
    """Outranked: name the requests holding its observable time (``names``, highest priority first)."""
    more = f" and {len(names) - NAMED} more" if len(names) > NAMED else ""
    detail = (
        f"its observable time is taken by {', '.join(names[:NAMED])}{more}"
        if names
        else "its observable time is broken up by slews between other blocks"
    )
    return Unscheduled(request, RejectionReason.OUTRANKED, detail, ids)


def _longest_runs(mask: np.ndarray) -> np.ndarray:
    """The longest stretch of True in each row."""
    longest = np.zeros(mask.shape[0], dtype=np.int64)
    row, first, end = runs(mask)
    np.maximum.at(longest, row, end - first)
    return longest
