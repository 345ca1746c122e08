"""Read side of the catalog: filtered, sorted, paginated observations and one observation's full record."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, false, func, or_, select
from sqlalchemy.orm import Session, selectinload

from obslab.catalog.changes.views.revision import RevisionView, revision_views
from obslab.catalog.lookup import find_observation
from obslab.catalog.models import EDITABLE_STATUSES, Observation, ObservationParameter, Revision
from obslab.catalog.obsids import parse_obsid_list
from obslab.catalog.types import ObservationStatus
from obslab.errors import InvalidInputError, NotFoundError

#: Columns a person may sort by, mapped to what the database sorts on.
SORT_COLUMNS: dict[str, Any] = {
    "obsid": Observation.obsid,
    "target_name": func.lower(Observation.target_name),
    "instrument": Observation.instrument,
    "obs_type": Observation.obs_type,
    "grating": Observation.grating,
    "status": Observation.status,
    "approved": Observation.approved,
    "pi_name": func.lower(Observation.pi_name),
    "ra_deg": Observation.ra_deg,
    "dec_deg": Observation.dec_deg,
    "approved_exposure_ks": Observation.approved_exposure_ks,
    "scheduled_at": Observation.scheduled_at,
}
#: Columns of a catalog page, in display order.
PAGE_COLUMNS = (
    "obsid",
    "target_name",
    "instrument",
    "grating",
    "obs_type",
    "status",
    "approved",
    "pi_name",
    "ra_deg",
    "dec_deg",
    "approved_exposure_ks",
    "scheduled_at",
)
MAX_PAGE_SIZE = 500


@dataclass(frozen=True)
class Cone:
    """A circle on the sky: centre in degrees (ICRS) and radius in arcminutes."""

    ra_deg: float
    dec_deg: float
    radius_arcmin: float

    def __post_init__(self) -> None:
        _require(0.0 <= self.ra_deg < 360.0, "cone_ra_deg", self.ra_deg, "0 <= RA < 360 degrees")
        _require(-90.0 <= self.dec_deg <= 90.0, "cone_dec_deg", self.dec_deg, "-90 <= Dec <= 90 degrees")
        _require(
            0.0 < self.radius_arcmin <= 10_800.0,
            "cone_radius_arcmin",
            self.radius_arcmin,
            "a radius above 0 and at most 10800 arcmin (180 degrees)",
        )


@dataclass(frozen=True)
class CatalogFilter:
    """What a person asked to see; empty fields do not filter."""

    obsids: str = ""
    target: str = ""
    instrument: str = ""
    obs_type: str = ""
    status: str = ""
    approved: bool | None = None
    pi: str = ""
    cone: Cone | None = None
    obsid_list: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Parsed once here: a typed range may expand to 100,000 obsids.
        object.__setattr__(self, "obsid_list", tuple(parse_obsid_list(self.obsids, field="obsids")))
        if self.status:
            allowed = ", ".join(s.value for s in ObservationStatus)
            _require(self.status in set(ObservationStatus), "status", self.status, f"one of {allowed}")

    def conditions(self) -> list[ColumnElement[bool]]:
        """SQL conditions for this filter (all must hold)."""
        where: list[ColumnElement[bool]] = []
        if self.obsids.strip():
            where.append(_obsid_condition(self.obsid_list))
        if self.target.strip():
            where.append(func.lower(Observation.target_name).contains(self.target.strip().lower(), autoescape=True))
        if self.pi.strip():
            where.append(func.lower(Observation.pi_name).contains(self.pi.strip().lower(), autoescape=True))
        if self.instrument:
            where.append(Observation.instrument == self.instrument)
        if self.obs_type:
            where.append(Observation.obs_type == self.obs_type)
        if self.status:
            where.append(Observation.status == ObservationStatus(self.status))
        if self.approved is not None:
            where.append(Observation.approved.is_(self.approved))
        if self.cone is not None:
            where.append(_cone_condition(self.cone))
        return where


@dataclass(frozen=True)
class CatalogPage:
    """One page of observations and how many match in all."""

    rows: list[dict[str, Any]]
    total: int
    offset: int
    limit: int

    @property
    def page_count(self) -> int:
        return max(1, math.ceil(self.total / self.limit))


@dataclass(frozen=True)
class ObservationDetail:
    """Everything the detail view shows about one observation."""

    summary: dict[str, Any]
    values: dict[tuple[str, int], Any]
    revisions: list[RevisionView] = field(default_factory=list)

    @property
    def current_revision(self) -> RevisionView | None:
        """The newest revision, whose sign-off state is the observation's current one."""
        return self.revisions[-1] if self.revisions else None


def page_observations(
    session: Session,
    where: CatalogFilter,
    *,
    sort_by: str = "obsid",
    descending: bool = False,
    offset: int = 0,
    limit: int = 50,
) -> CatalogPage:
    """Return one page of observations matching ``where``, sorted in the database.

    Ties are broken by obsid so that paging through a sorted list never repeats or skips a row.
    """
    _require(sort_by in SORT_COLUMNS, "sort_by", sort_by, f"one of {', '.join(SORT_COLUMNS)}")
    _require(1 <= limit <= MAX_PAGE_SIZE, "page_size", limit, f"1 to {MAX_PAGE_SIZE} rows")
    _require(offset >= 0, "offset", offset, "0 or more")
    conditions = where.conditions()
    total = session.scalar(select(func.count(Observation.id)).where(*conditions)) or 0
    key = SORT_COLUMNS[sort_by]
    # Rows without a value (say, not yet scheduled) go last either way, the same on every backend.
    order = [(key.desc() if descending else key.asc()).nulls_last()]
    if sort_by != "obsid":
        order.append(Observation.obsid.desc() if descending else Observation.obsid.asc())
    columns = [getattr(Observation, name) for name in PAGE_COLUMNS]
    query: Select[Any] = select(*columns).where(*conditions).order_by(*order).offset(offset).limit(limit)
    rows = [dict(zip(PAGE_COLUMNS, row, strict=True)) for row in session.execute(query)]
    return CatalogPage(rows=rows, total=total, offset=offset, limit=limit)


def sky_positions(session: Session, where: CatalogFilter, *, limit: int = 20_000) -> list[dict[str, Any]]:
    """Positions of the first ``limit`` matching observations (by obsid) for a sky plot."""
    query = (
        select(Observation.obsid, Observation.target_name, Observation.ra_deg, Observation.dec_deg, Observation.status)
        .where(*where.conditions())
        .order_by(Observation.obsid)
        .limit(limit)
    )
    return [row._asdict() for row in session.execute(query)]


def matches(session: Session, where: CatalogFilter, obsid: int) -> bool:
    """Whether observation ``obsid`` is among those ``where`` selects (a page keeps its selection while it is)."""
    query = select(Observation.id).where(*where.conditions(), Observation.obsid == obsid).limit(1)
    return session.scalar(query) is not None


def filter_choices(session: Session) -> dict[str, list[str]]:
    """The instruments and observation types present, for filter menus."""
    instruments = session.scalars(select(Observation.instrument).distinct().order_by(Observation.instrument))
    types = session.scalars(select(Observation.obs_type).distinct().order_by(Observation.obs_type))
    return {"instrument": list(instruments), "obs_type": list(types), "status": [s.value for s in ObservationStatus]}


def observation_detail(session: Session, obsid: int) -> ObservationDetail:
    """One observation with its parameter values and its revisions, oldest first."""
    observation = session.scalar(
        select(Observation)
        .where(Observation.obsid == obsid)
        .options(
            selectinload(Observation.parameters),
            selectinload(Observation.revisions).selectinload(Revision.values),
            selectinload(Observation.revisions).selectinload(Revision.signoffs),
        )
    )
    if observation is None:
        raise NotFoundError(f"observation {obsid} does not exist", obsid=obsid)
    summary = {name: getattr(observation, name) for name in PAGE_COLUMNS}
    summary |= {
        "sequence_number": observation.sequence_number,
        "proposal_number": observation.proposal_number,
        "si_mode": observation.si_mode,
        "version": observation.version,
    }
    values = {(p.name, p.rank): p.value for p in observation.parameters}
    return ObservationDetail(summary=summary, values=values, revisions=revision_views(session, observation.revisions))


@dataclass(frozen=True)
class ObservationValues:
    """One observation as a change request starts from it: what its header shows and its current parameter values."""

    obsid: int
    target_name: str
    instrument: str
    status: str
    approved: bool
    scheduled_at: datetime | None
    editable: bool
    version: int
    values: dict[tuple[str, int], Any]


def observation_values(session: Session, obsid: int) -> ObservationValues:
    """The observation with its parameters as (name, rank) -> value, or NotFoundError ("not in the catalog")."""
    observation = find_observation(session, obsid)
    rows = session.execute(
        select(ObservationParameter.name, ObservationParameter.rank, ObservationParameter.value).where(
            ObservationParameter.observation_id == observation.id
        )
    )
    return ObservationValues(
        obsid=observation.obsid,
        target_name=observation.target_name,
        instrument=observation.instrument,
        status=observation.status.value,
        approved=observation.approved,
        scheduled_at=observation.scheduled_at,
        editable=observation.status in EDITABLE_STATUSES,
        version=observation.version,
        values={(name, rank): value for name, rank, value in rows},
    )


def _obsid_condition(obsids: Sequence[int]) -> ColumnElement[bool]:
    """Runs of consecutive obsids become BETWEENs; the rest one expanding IN.

    A typed range may hold 100,000 obsids, and PostgreSQL refuses more than 65,535 bound parameters.
    """
    if not obsids:  # e.g. only separators typed: nothing is named, so nothing matches
        return false()
    runs: list[tuple[int, int]] = []
    for obsid in sorted(obsids):
        if runs and obsid == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], obsid)
        else:
            runs.append((obsid, obsid))
    singles = [first for first, last in runs if first == last]
    parts: list[ColumnElement[bool]] = [Observation.obsid.between(first, last) for first, last in runs if first != last]
    if singles:
        parts.append(Observation.obsid.in_(bindparam("obsid_list", singles, expanding=True, literal_execute=True)))
    return or_(*parts)


def _cone_condition(cone: Cone) -> ColumnElement[bool]:
    """Angular separation <= radius, as a dot product of unit vectors (works on every backend).

    A Dec band first lets the database use the dec index; the dot product then does the exact test.
    """
    radius = math.radians(cone.radius_arcmin / 60.0)
    ra, dec = math.radians(cone.ra_deg), math.radians(cone.dec_deg)
    x, y, z = math.cos(dec) * math.cos(ra), math.cos(dec) * math.sin(ra), math.sin(dec)
    band = math.degrees(radius)
    dot = Observation.unit_x * x + Observation.unit_y * y + Observation.unit_z * z
    return and_(
        Observation.dec_deg >= cone.dec_deg - band,
        Observation.dec_deg <= cone.dec_deg + band,
        dot >= math.cos(radius),
    )


def _require(ok: bool, field_name: str, value: Any, allowed: str) -> None:
    if not ok:
        raise InvalidInputError(field_name, value, allowed)
