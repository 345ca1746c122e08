"""The one writer: stage states, products and metrics, each result applied in its own transaction, as it arrives.

A stage is marked done only together with its products' rows, and only once every product file is on disk with
the checksum the worker reported; anything less is a failure with the reason.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from obslab.observing.alarm_rules import AlarmRules
from obslab.observing.alarms import raise_alarms
from obslab.observing.models import DataProduct, Exposure, Metric, PipelineStage
from obslab.observing.pipeline.products import sha256_file
from obslab.observing.types import ExposureKind, StageState

#: Longest error text kept on a stage (the full message of a worker's exception can be very long).
MAX_ERROR = 2000


def mark(session: Session, stage_ids: list[int], state: StageState, *, now: datetime) -> None:
    """Queue or start stages (one transaction for the batch)."""
    for row in session.scalars(select(PipelineStage).where(PipelineStage.id.in_(stage_ids))):
        row.state = state
        if state is StageState.RUNNING:
            row.started_at = now
        row.updated_at = now


def fail(session: Session, stage_id: int, reason: str, *, now: datetime, fingerprint: str | None = None) -> None:
    row = session.get_one(PipelineStage, stage_id)
    if fingerprint is not None and row.inputs_fingerprint != fingerprint:
        row.retries = 0  # new inputs deserve fresh tries
        row.inputs_fingerprint = fingerprint
    row.state, row.error, row.retries = StageState.FAILED, reason[:MAX_ERROR], row.retries + 1
    row.finished_at = row.updated_at = now


def _check_products(products: list[dict[str, Any]]) -> str:
    for product in products:
        path = Path(product["path"])
        if not path.is_file():
            return f"product {path.name} is not on disk"
        if sha256_file(path) != product["sha256"]:
            return f"product {path.name} does not have the checksum its worker reported"
    return ""


def _upsert_metric(
    session: Session, night_id: int, exposure_id: int | None, name: str, value: float, at: datetime, source: str
) -> Metric:
    query = select(Metric).where(Metric.night_id == night_id, Metric.name == name)
    query = query.where(Metric.exposure_id == exposure_id if exposure_id is not None else Metric.exposure_id.is_(None))
    metric = session.scalar(query)
    if metric is None:
        metric = Metric(night_id=night_id, exposure_id=exposure_id, name=name, value=value, measured_at=at)
        session.add(metric)
    metric.value, metric.measured_at, metric.source = value, at, source
    metric.unit = unit_of(name)
    return metric


def unit_of(name: str) -> str:
    """A metric's unit from its name (the part before a ``:scope``): ``_percent``, ``_arcsec``, ``_adu`` (per pixel
    per frame for levels, per frame for ``counts_adu``, the target's sum), ``magnitude`` (instrumental)."""
    base = name.partition(":")[0]
    if base.endswith("_percent"):
        return "%"
    if base.endswith("_arcsec"):
        return "arcsec"
    if base == "counts_adu":
        return "adu/frame"
    if base.endswith("_adu"):
        return "adu/px/frame"
    return "mag" if base == "magnitude" else ""


def _seeing_nearest(session: Session, night_id: int) -> list[Metric]:
    """Each science exposure's seeing: the night's measurement nearest its start in time (as the archiver kept)."""
    series = session.execute(
        select(Exposure.started_at, Metric.value)
        .join(Metric, Metric.exposure_id == Exposure.id)
        .where(Metric.night_id == night_id, Metric.name == "seeing_arcsec")
    ).all()
    if not series:
        return []
    science = session.scalars(
        select(Exposure).where(Exposure.night_id == night_id, Exposure.kind == ExposureKind.SCIENCE)
    )
    return [
        _upsert_metric(
            session,
            night_id,
            exposure.id,
            "seeing_nearest_arcsec",
            min(series, key=lambda measured: abs((measured[0] - exposure.started_at).total_seconds()))[1],
            exposure.started_at,
            "seeing",
        )
        for exposure in science
    ]


def apply(
    session: Session,
    task: dict[str, Any],
    result: dict[str, Any],
    *,
    now: datetime,
    rules: AlarmRules | None = None,
    replaced: list[str] | None = None,
) -> str:
    """Record one stage's result; returns "" when done, else the reason it was recorded as failed.

    With ``rules``, every metric written is checked against the alarm rules in the same transaction. Products
    of the stage that this result no longer has lose their rows, and their paths are added to ``replaced``:
    the caller removes those files once the transaction has committed (before, a rollback would leave rows
    whose files are gone).
    """
    problem = _check_products(result["products"])
    if problem:
        fail(session, task["stage_id"], problem, now=now, fingerprint=task["fingerprint"])
        return problem
    row = session.get_one(PipelineStage, task["stage_id"])
    exposure = session.get(Exposure, row.exposure_id) if row.exposure_id is not None else None
    configuration_id = exposure.configuration_id if exposure is not None else None
    kept = {p["path"] for p in result["products"]}
    query = select(DataProduct).where(DataProduct.night_id == row.night_id, DataProduct.stage == row.stage)
    query = query.where(
        DataProduct.exposure_id == row.exposure_id if row.exposure_id is not None else DataProduct.exposure_id.is_(None)
    )
    existing = {p.path: p for p in session.scalars(query)}
    for path, stale in existing.items():
        if path not in kept:
            # A product this run did not make again: a calibration no longer copied, a file of an older format.
            session.delete(stale)
            if replaced is not None:
                replaced.append(path)
    for product in result["products"]:
        record = existing.get(product["path"])
        if record is None:
            record = DataProduct(
                night_id=row.night_id, exposure_id=row.exposure_id, stage=row.stage, path=product["path"]
            )
            session.add(record)
        record.kind, record.sha256, record.provenance = product["kind"], product["sha256"], product["provenance"]
        record.configuration_id, record.created_at = configuration_id, now
    measured_at = exposure.started_at if exposure is not None else now
    written = [
        _upsert_metric(session, row.night_id, row.exposure_id, name, value, measured_at, row.stage)
        for name, value in result["metrics"].items()
    ]
    for name, metrics in result.get("exposure_metrics", {}).items():
        seen = session.scalar(select(Exposure).where(Exposure.name == name))
        if seen is not None:
            for metric, value in metrics.items():
                written.append(
                    _upsert_metric(session, row.night_id, seen.id, metric, value, seen.started_at, row.stage)
                )
    if row.stage == "seeing":
        written += _seeing_nearest(session, row.night_id)
    if rules is not None and written:
        session.flush()
        for metric in written:
            raise_alarms(session, metric, rules, now=lambda: now)
    if row.inputs_fingerprint != task["fingerprint"]:
        row.retries = 0
    row.state, row.inputs_fingerprint, row.error, row.force_redo = StageState.DONE, task["fingerprint"], None, False
    row.finished_at = row.updated_at = now
    return ""
