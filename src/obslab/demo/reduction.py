"""Demo reduction results of the recent nights: seeing and Strehl metrics, pipeline stage states, raw files."""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from datetime import datetime, timedelta
from random import Random
from typing import Any

from obslab.demo.context import DemoContext, PlannedExposure
from obslab.observing.models import FrameFile, Metric, PipelineStage
from obslab.observing.types import ExposureKind, StageState

STAGES = ("calibrate", "register", "stack", "strehl")
#: Typical Strehl ratio (%) at 1.1" seeing: adaptive optics correct red light far better than blue.
_STREHL_AT_NOMINAL = {"Sg": 1.5, "Sr": 3.0, "Si": 5.0, "Sz": 6.5, "lp600": 6.0, "c": 3.5}
_ERRORS = {
    "register": "no lock star found: zero flux in the first 100 frames",
    "stack": "MemoryError while stacking 18000 frames; retry with fewer workers",
    "strehl": "Strehl fit did not converge (core FWHM below one pixel)",
}
FILES_PER_NIGHT = 4
_CALIBRATIONS = (ExposureKind.BIAS, ExposureKind.DARK, ExposureKind.FLAT)


def _metric(night_id: int, exposure_id: int, name: str, value: float, unit: str, at: datetime) -> dict[str, Any]:
    return {
        "night_id": night_id,
        "exposure_id": exposure_id,
        "name": name,
        "value": value,
        "unit": unit,
        "measured_at": at,
        "source": "demo",
    }


def _stage(
    ctx: DemoContext,
    night_id: int,
    exposure_id: int | None,
    stage: str,
    state: StageState,
    started: datetime | None = None,
    seconds: float = 0.0,
    error: str | None = None,
) -> dict[str, Any]:
    done = state in (StageState.DONE, StageState.FAILED)
    fingerprint = hashlib.sha256(f"{night_id}:{exposure_id}:{stage}".encode()).hexdigest() if done else ""
    return {
        "night_id": night_id,
        "exposure_id": exposure_id,
        "stage": stage,
        "state": state,
        "retries": 2 if state is StageState.FAILED else 0,
        "force_redo": False,
        "inputs_fingerprint": fingerprint,
        "started_at": started if done else None,
        "finished_at": started + timedelta(seconds=seconds) if done else None,
        "error": error,
        "version": 1,
        "updated_at": ctx.moment,
    }


def _exposure_stages(
    ctx: DemoContext, rng: Random, plan: PlannedExposure, ids: tuple[int, int]
) -> list[dict[str, Any]]:
    """The four stages of one science exposure: done in order, unless one fails or has not run yet."""
    exposure_id, night_id = ids
    failing = rng.choice(list(_ERRORS)) if rng.random() < 0.05 else None
    # A few exposures wait in the queue behind a stage that has not run yet.
    waiting = rng.choice(STAGES[1:]) if rng.random() < 0.04 else None
    rows, moment, blocked = [], plan.ended_at + timedelta(minutes=rng.randint(2, 20)), False
    for stage in STAGES:
        seconds = rng.uniform(20, 240)
        if blocked or stage == waiting or moment + timedelta(seconds=seconds) > ctx.moment:
            rows.append(_stage(ctx, night_id, exposure_id, stage, StageState.PENDING))
            blocked = True
            continue
        state = StageState.FAILED if stage == failing else StageState.DONE
        error = _ERRORS[stage] if state is StageState.FAILED else None
        rows.append(_stage(ctx, night_id, exposure_id, stage, state, moment, seconds, error))
        blocked = state is StageState.FAILED
        moment += timedelta(seconds=seconds + rng.uniform(5, 60))
    return rows


def _frame_file(plan: PlannedExposure, exposure_id: int, rng: Random) -> dict[str, Any]:
    path = f"demo://{plan.night:%Y%m%d}/{plan.name}.fits.bz2"
    header = {
        "OBJECT": plan.target.name if plan.target else "",
        "FILTER": plan.filter_name,
        "EXPOSURE": plan.exposure_s,
        "DATE-OBS": plan.started_at.strftime("%Y-%m-%dT%H:%M:%S.%f"),
        "AIRMASS": plan.airmass,
        "MODE_NUM": plan.camera_mode,
    }
    return {
        "exposure_id": exposure_id,
        "path": path,
        "size_bytes": rng.randint(50_000_000, 400_000_000),
        "sha256": hashlib.sha256(path.encode()).hexdigest(),
        "n_frames": int(plan.exposure_s * 8.6),
        "header": header,
        "modified_at": plan.ended_at + timedelta(seconds=30),
    }


def record_reductions(ctx: DemoContext, exposures: list[tuple[PlannedExposure, int, int]]) -> None:
    """Metrics, pipeline stages and a few raw-file records for freshly inserted exposures, night by night."""
    by_night: dict[int, list[tuple[PlannedExposure, int, int]]] = defaultdict(list)
    for item in exposures:
        by_night[item[2]].append(item)
    metrics, stages, files = [], [], []
    for night_id, items in by_night.items():
        rng = ctx.rng("reduction", items[0][0].night.isoformat())
        base, drift = rng.lognormvariate(math.log(1.1), 0.15), rng.uniform(-0.3, 0.3)
        first, last = items[0][0].started_at, items[-1][0].ended_at
        calibrations = [plan for plan, _, _ in items if plan.kind in _CALIBRATIONS]
        if calibrations:
            start = max(plan.ended_at for plan in calibrations) + timedelta(minutes=2)
            done = start + timedelta(minutes=3) <= ctx.moment
            state = StageState.DONE if done else StageState.PENDING
            stages.append(_stage(ctx, night_id, None, "calibration", state, start, 180.0))
        science = [item for item in items if item[0].kind is ExposureKind.SCIENCE]
        for plan, exposure_id, _ in items:
            if plan.kind not in (ExposureKind.SCIENCE, ExposureKind.SEEING):
                continue
            fraction = (plan.started_at - first) / max(last - first, timedelta(seconds=1))
            seeing = min(3.0, max(0.5, base * (1 + drift * fraction) * rng.lognormvariate(0, 0.08)))
            metrics.append(_metric(night_id, exposure_id, "seeing_arcsec", round(seeing, 3), "arcsec", plan.ended_at))
            if plan.kind is ExposureKind.SCIENCE:
                strehl = _STREHL_AT_NOMINAL[plan.filter_name] * (1.1 / seeing) ** 1.5 * rng.lognormvariate(0, 0.15)
                strehl /= math.sqrt(plan.airmass or 1.0)
                strehl = round(min(12.0, max(0.5, strehl)), 2)
                metrics.append(_metric(night_id, exposure_id, "strehl_percent", strehl, "%", plan.ended_at))
                stages += _exposure_stages(ctx, rng, plan, (exposure_id, night_id))
        files += [_frame_file(plan, exposure_id, rng) for plan, exposure_id, _ in science[:FILES_PER_NIGHT]]
    ctx.bulk_insert(Metric, metrics)
    ctx.bulk_insert(PipelineStage, stages)
    ctx.bulk_insert(FrameFile, files)
