"""Read models of observing: exposures filtered, sorted and paged in SQL, and one exposure whole, for who may see it.

Every query here applies ``programs.visible_exposures(viewer)``: what a person may see is decided in the read
model, so the browser, the command line and the API cannot differ.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, false, func, or_, select
from sqlalchemy.orm import Session, aliased

from obslab.access import User
from obslab.errors import InvalidInputError, NotFoundError
from obslab.observing.alarms import AlarmView, exposure_alarms
from obslab.observing.models import DataProduct, Exposure, Metric, Night, PipelineStage
from obslab.observing.programs import visible_exposures
from obslab.observing.types import ExposureKind, StageState

#: Metrics shown beside each exposure (and filterable by range), by the names the pipeline writes.
ROW_METRICS = ("strehl_percent", "fwhm_arcsec", "quality_ok", "seeing_nearest_arcsec", "magnitude")
SORTS = (
    "started_at",
    "name",
    "target_name",
    "program",
    "filter_name",
    "exposure_s",
    "strehl_percent",
    "fwhm_arcsec",
    "magnitude",
)
#: The sorts by a measured value (the rest are columns of the exposure).
METRIC_SORTS = ("strehl_percent", "fwhm_arcsec", "magnitude")
STAGE_STATES = ("done", "failed", "pending")
MAX_PER_PAGE = 500


@dataclass(frozen=True)
class Range:
    low: float | None = None
    high: float | None = None

    def condition(self, column: Any) -> ColumnElement[bool] | None:
        parts = [
            c
            for c in (
                column >= self.low if self.low is not None else None,
                column <= self.high if self.high is not None else None,
            )
            if c is not None
        ]
        return and_(*parts) if parts else None


@dataclass(frozen=True)
class ExposureQuery:
    """What to list: every field optional; text matches are exact unless they hold ``*`` (any characters)."""

    nights: tuple[date | None, date | None] = (None, None)
    target: str = ""
    program: str = ""
    filter_name: str = ""
    camera_mode: str = ""
    kind: ExposureKind | None = None
    cone: tuple[float, float, float] | None = None  # ra_deg, dec_deg, radius_arcsec
    exposure_s: Range = field(default_factory=Range)
    strehl_percent: Range = field(default_factory=Range)
    fwhm_arcsec: Range = field(default_factory=Range)
    seeing_median_arcsec: Range = field(default_factory=Range)
    seeing_nearest_arcsec: Range = field(default_factory=Range)
    magnitude: Range = field(default_factory=Range)  # the pipeline's instrumental magnitude, not a catalogue's
    stage_state: str = ""  # done (every stage), failed (any), pending (any not yet done)
    quality_ok: bool | None = None
    sort: str = "started_at"
    descending: bool = True
    page: int = 1
    per_page: int = 50

    def checked(self) -> ExposureQuery:
        if self.sort not in SORTS:
            raise InvalidInputError("sort", self.sort, f"one of {', '.join(SORTS)}")
        if self.stage_state and self.stage_state not in STAGE_STATES:
            raise InvalidInputError("stage_state", self.stage_state, f"one of {', '.join(STAGE_STATES)}")
        if self.page < 1:
            raise InvalidInputError("page", self.page, "a page number from 1")
        if not 1 <= self.per_page <= MAX_PER_PAGE:
            raise InvalidInputError("per_page", self.per_page, f"1 to {MAX_PER_PAGE} rows a page")
        if self.cone is not None:
            ra, dec, radius = self.cone
            if not (0 <= ra < 360 and -90 <= dec <= 90 and 0 < radius <= 36000):
                raise InvalidInputError("cone", self.cone, "RA 0-360 deg, Dec -90-90 deg, a radius up to 10 deg")
        return self


@dataclass(frozen=True)
class ExposureRow:
    name: str
    night: date
    kind: str
    program: str
    target_name: str
    filter_name: str
    camera_mode: str
    exposure_s: float
    started_at: datetime
    ra_deg: float | None
    dec_deg: float | None
    strehl_percent: float | None
    fwhm_arcsec: float | None
    quality_ok: bool | None
    seeing_nearest_arcsec: float | None
    magnitude: float | None  # instrumental (photometry.ZERO_POINTS), measured on the all-frames stack
    missing: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ExposurePage:
    rows: tuple[ExposureRow, ...]
    total: int
    page: int
    per_page: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "page": self.page,
            "per_page": self.per_page,
            "rows": [r.as_dict() for r in self.rows],
        }


def _text(column: Any, value: str) -> ColumnElement[bool]:
    if "*" not in value:
        return column == value
    escaped = re.sub(r"([%_\\])", r"\\\1", value).replace("*", "%")
    return column.like(escaped, escape="\\")


def _cone(ra_deg: float, dec_deg: float, radius_arcsec: float) -> ColumnElement[bool]:
    radius = math.radians(radius_arcsec / 3600.0)
    ra, dec = math.radians(ra_deg), math.radians(dec_deg)
    x, y, z = math.cos(dec) * math.cos(ra), math.cos(dec) * math.sin(ra), math.sin(dec)
    band = math.degrees(radius)
    dot = Exposure.unit_x * x + Exposure.unit_y * y + Exposure.unit_z * z
    return and_(Exposure.dec_deg.between(dec_deg - band, dec_deg + band), dot >= math.cos(radius))


def _stage_state(state: str) -> ColumnElement[bool]:
    stages = select(PipelineStage.id).where(PipelineStage.exposure_id == Exposure.id)
    if state == "failed":
        return exists(stages.where(PipelineStage.state == StageState.FAILED))
    not_done = exists(stages.where(PipelineStage.state != StageState.DONE))
    return and_(exists(stages), ~not_done) if state == "done" else or_(~exists(stages), not_done)


def matching_ids(viewer: User, query: ExposureQuery) -> tuple[Select[Any], Any]:
    """The SELECT of the ids of the exposures ``viewer`` may see that match ``query``, and the column to sort by.

    Narrow on purpose: a metric or the night is joined only when a condition or the sort needs it, so counting and
    paging 100,000 exposures reads one table and its indexes; ``exposure_rows`` fetches a page's rows after.
    """
    joined: dict[str, Any] = {}

    def measured(name: str) -> Any:
        if name not in joined:
            joined[name] = aliased(Metric, name=f"m_{name}")
        return joined[name].value

    conditions: list[ColumnElement[bool] | None] = [visible_exposures(viewer, in_time_order=query.sort == "started_at")]
    first, last = query.nights
    conditions += [Night.night_date >= first if first else None, Night.night_date <= last if last else None]
    conditions += [_text(Exposure.target_name, query.target) if query.target else None]
    conditions += [_text(Exposure.program, query.program) if query.program else None]
    conditions += [Exposure.filter_name == query.filter_name if query.filter_name else None]
    conditions += [Exposure.camera_mode == query.camera_mode if query.camera_mode else None]
    conditions += [Exposure.kind == query.kind if query.kind else None]
    conditions += [_cone(*query.cone) if query.cone else None]
    conditions += [query.exposure_s.condition(Exposure.exposure_s)]
    for name in ("strehl_percent", "fwhm_arcsec", "seeing_nearest_arcsec", "magnitude"):
        wanted: Range = getattr(query, name)
        if wanted.low is not None or wanted.high is not None:
            conditions.append(wanted.condition(measured(name)))
    if query.quality_ok is not None:
        conditions.append(measured("quality_ok") == (1.0 if query.quality_ok else 0.0))
    conditions += [_stage_state(query.stage_state) if query.stage_state else None]
    # The measured magnitude, as the others: ``exposures.magnitude`` is never filled.
    key = measured(query.sort) if query.sort in METRIC_SORTS else getattr(Exposure, query.sort)
    statement = select(Exposure.id)
    if first or last:
        statement = statement.join(Night, Night.id == Exposure.night_id)
    for name, alias in joined.items():
        statement = statement.outerjoin(alias, and_(alias.exposure_id == Exposure.id, alias.name == name))
    if query.seeing_median_arcsec.low is not None or query.seeing_median_arcsec.high is not None:
        seeing = aliased(Metric, name="m_seeing")
        statement = statement.join(
            seeing,
            and_(
                seeing.night_id == Exposure.night_id,
                seeing.exposure_id.is_(None),
                seeing.name == "seeing_median_arcsec",
            ),
        )
        conditions.append(query.seeing_median_arcsec.condition(seeing.value))
    return statement.where(*(c for c in conditions if c is not None)), key


def exposure_rows(session: Session, ids: list[int]) -> list[ExposureRow]:
    """The rows of exposures ``ids``, with their metrics, in the order given (one query for the lot)."""
    metric = {name: aliased(Metric, name=f"m_{name}") for name in ROW_METRICS}
    statement = select(Exposure, Night.night_date, *(metric[n].value.label(n) for n in ROW_METRICS)).join(
        Night, Night.id == Exposure.night_id
    )
    for name, alias in metric.items():
        statement = statement.outerjoin(alias, and_(alias.exposure_id == Exposure.id, alias.name == name))
    found = {row[0].id: _row(*row) for row in session.execute(statement.where(Exposure.id.in_(ids)))} if ids else {}
    return [found[i] for i in ids if i in found]


def _row(
    e: Exposure,
    night_date: date,
    strehl: float | None,
    fwhm: float | None,
    ok: float | None,
    seeing: float | None,
    magnitude: float | None,
) -> ExposureRow:
    return ExposureRow(
        name=e.name,
        night=night_date,
        kind=e.kind.value,
        program=e.program,
        target_name=e.target_name,
        filter_name=e.filter_name,
        camera_mode=e.camera_mode,
        exposure_s=e.exposure_s,
        started_at=e.started_at,
        ra_deg=e.ra_deg,
        dec_deg=e.dec_deg,
        strehl_percent=strehl,
        fwhm_arcsec=fwhm,
        quality_ok=None if ok is None else ok >= 0.5,
        seeing_nearest_arcsec=seeing,
        magnitude=magnitude,
        missing=e.missing_at is not None,
    )


def list_exposures(session: Session, viewer: User, query: ExposureQuery, *, total: int | None = None) -> ExposurePage:
    """One page of the exposures ``viewer`` may see that match ``query``, sorted in SQL, with the total.

    ``total``: the count the caller already has for these same filters (a new page or a new order of the same
    matches), so it is not counted again.
    """
    query = query.checked()
    matching, key = matching_ids(viewer, query)
    if total is None:
        total = session.scalar(select(func.count()).select_from(matching.subquery())) or 0
    order = [key.desc().nulls_last() if query.descending else key.asc().nulls_last(), Exposure.id.desc()]
    page = matching.order_by(*order).limit(query.per_page).offset((query.page - 1) * query.per_page)
    return ExposurePage(tuple(exposure_rows(session, list(session.scalars(page)))), total, query.page, query.per_page)


@dataclass(frozen=True)
class StageView:
    stage: str
    state: str
    retries: int
    force_redo: bool
    inputs_fingerprint: str
    finished_at: datetime | None
    error: str | None
    products: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class ExposureDetail:
    row: ExposureRow
    header: dict[str, Any]
    files: tuple[dict[str, Any], ...]
    stages: tuple[StageView, ...]
    metrics: dict[str, float]
    configuration_id: int | None
    alarms: tuple[AlarmView, ...] = ()  # raised on its metrics, newest first, acknowledged ones too

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.row.as_dict(),
            "header": self.header,
            "files": list(self.files),
            "stages": [asdict(s) for s in self.stages],
            "metrics": self.metrics,
            "configuration_id": self.configuration_id,
            "alarms": [a.as_dict() for a in self.alarms],
        }


def exposure_detail(session: Session, viewer: User, name: str) -> ExposureDetail:
    """One exposure as ``viewer`` may see it; one they may not see is "not found", as one that does not exist."""
    exposure = session.scalar(select(Exposure).where(Exposure.name == name, visible_exposures(viewer)))
    if exposure is None:
        raise NotFoundError(f"no exposure {name!r} that you may see")
    (row,) = exposure_rows(session, [exposure.id])
    products: dict[str, list[dict[str, Any]]] = {}
    for product in session.scalars(select(DataProduct).where(DataProduct.exposure_id == exposure.id)):
        products.setdefault(product.stage, []).append(
            {
                "id": product.id,
                "kind": product.kind,
                "path": product.path,
                "sha256": product.sha256,
                "provenance": product.provenance,
            }
        )
    stages = tuple(
        StageView(
            s.stage,
            s.state.value,
            s.retries,
            s.force_redo,
            s.inputs_fingerprint,
            s.finished_at,
            s.error,
            tuple(products.get(s.stage, [])),
        )
        for s in session.scalars(
            select(PipelineStage).where(PipelineStage.exposure_id == exposure.id).order_by(PipelineStage.id)
        )
    )
    metrics = {m.name: m.value for m in session.scalars(select(Metric).where(Metric.exposure_id == exposure.id))}
    header = exposure.files[-1].header if exposure.files else {}
    files = tuple(
        {"path": f.path, "sha256": f.sha256, "frames": f.n_frames, "size_bytes": f.size_bytes} for f in exposure.files
    )
    alarms = tuple(exposure_alarms(session, exposure.id))
    return ExposureDetail(row, header, files, stages, metrics, exposure.configuration_id, alarms)


def visible_product(session: Session, viewer: User, product_id: int) -> DataProduct:
    """A product ``viewer`` may download: of an exposure they may see, or a night-level one of a night they may see.

    One they may not see is "not found", as one that does not exist (its existence is not confirmed either).
    """
    product = session.get(DataProduct, product_id)
    if product is not None:
        seen = select(Exposure.id).where(visible_exposures(viewer))
        seen = seen.where(
            Exposure.id == product.exposure_id
            if product.exposure_id is not None
            else Exposure.night_id == product.night_id
        )
        if session.scalar(seen.limit(1)) is not None:
            return product
    raise NotFoundError(f"no product {product_id} that you may download")


@dataclass(frozen=True)
class ProductFile:
    id: int
    exposure: str | None  # None for the night's own products (calibration, seeing summary)
    kind: str
    path: str
    sha256: str


def night_products(session: Session, viewer: User, night_date: date, program: str = "") -> tuple[ProductFile, ...]:
    """The products of one night ``viewer`` may download: their exposures', and the night's own if they see any.

    With ``program``, only that program's exposures' products (and not the night's own).
    """
    seen = select(Exposure.id, Exposure.name).join(Night, Night.id == Exposure.night_id)
    seen = seen.where(Night.night_date == night_date, visible_exposures(viewer))
    if program:
        seen = seen.where(Exposure.program == program)
    names = {row.id: row.name for row in session.execute(seen)}
    products = select(DataProduct).join(Night, Night.id == DataProduct.night_id).where(Night.night_date == night_date)
    wanted = DataProduct.exposure_id.in_(list(names)) if names else false()
    if names and not program:
        wanted = or_(wanted, DataProduct.exposure_id.is_(None))
    found = session.scalars(products.where(wanted).order_by(DataProduct.exposure_id, DataProduct.path))
    return tuple(ProductFile(p.id, names.get(p.exposure_id), p.kind, p.path, p.sha256) for p in found)


@dataclass(frozen=True)
class NightRow:
    """One night as the run browser lists it: what the viewer may see of it."""

    night: date
    exposures: int
    by_program: dict[str, int]  # science exposures per program code
    seeing_median_arcsec: float | None
    calibration: str  # the night's calibration stage state, or "not run"
    stages: dict[str, int]  # the viewer's exposures' stage rows by state

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def night_overview(
    session: Session, viewer: User, *, first: date | None = None, last: date | None = None, limit: int = 31
) -> list[NightRow]:
    """The nights with exposures ``viewer`` may see, newest first: counts by program, seeing, calibration, stages."""
    seen = select(Exposure.id).where(visible_exposures(viewer))
    counts = (
        select(Night.id, Night.night_date, Exposure.program, Exposure.kind, func.count(Exposure.id))
        .join(Exposure, Exposure.night_id == Night.id)
        .where(Exposure.id.in_(seen))
        .group_by(Night.id, Night.night_date, Exposure.program, Exposure.kind)
    )
    if first:
        counts = counts.where(Night.night_date >= first)
    if last:
        counts = counts.where(Night.night_date <= last)
    nights: dict[int, dict[str, Any]] = {}
    for night_id, night_date, program, kind, count in session.execute(counts):
        entry = nights.setdefault(night_id, {"night": night_date, "exposures": 0, "by_program": {}})
        entry["exposures"] += count
        if kind is ExposureKind.SCIENCE:
            entry["by_program"][program] = entry["by_program"].get(program, 0) + count
    chosen = sorted(nights, key=lambda i: nights[i]["night"], reverse=True)[:limit]
    medians = dict(
        session.execute(
            select(Metric.night_id, Metric.value).where(
                Metric.night_id.in_(chosen), Metric.exposure_id.is_(None), Metric.name == "seeing_median_arcsec"
            )
        ).all()
    )
    calibration = dict(
        session.execute(
            select(PipelineStage.night_id, PipelineStage.state).where(
                PipelineStage.night_id.in_(chosen),
                PipelineStage.exposure_id.is_(None),
                PipelineStage.stage == "calibration",
            )
        ).all()
    )
    stages: dict[int, dict[str, int]] = {i: {} for i in chosen}
    for night_id, state, count in session.execute(
        select(PipelineStage.night_id, PipelineStage.state, func.count())
        .where(PipelineStage.night_id.in_(chosen), PipelineStage.exposure_id.in_(seen))
        .group_by(PipelineStage.night_id, PipelineStage.state)
    ):
        stages[night_id][state.value] = count
    return [
        NightRow(
            night=nights[i]["night"],
            exposures=nights[i]["exposures"],
            by_program=dict(sorted(nights[i]["by_program"].items())),
            seeing_median_arcsec=medians.get(i),
            calibration=calibration[i].value if i in calibration else "not run",
            stages=stages[i],
        )
        for i in chosen
    ]
