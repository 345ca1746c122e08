"""State of the catalog browser: filters, sorting, paging, selection; no Panel, so it tests without a browser."""

from __future__ import annotations

from typing import Any

import pandas as pd
import param
from sqlalchemy.orm import Session

from obslab.astro import parse_dec_deg, parse_ra_deg
from obslab.catalog.browse import (
    PAGE_COLUMNS,
    SORT_COLUMNS,
    CatalogFilter,
    CatalogPage,
    Cone,
    ObservationDetail,
    filter_choices,
    matches,
    observation_detail,
    page_observations,
    sky_positions,
)
from obslab.dashboards.context import DashboardContext
from obslab.dashboards.state.base import DashboardState, row_position
from obslab.errors import InvalidInputError

ANY = ""
APPROVED_CHOICES = {"any": None, "approved": True, "not approved": False}
PAGE_SIZES = [25, 50, 100, 200]
#: The table's columns at first; RA and Dec are on the sky plot and in the detail, and the column chooser adds them.
DEFAULT_COLUMNS = [name for name in PAGE_COLUMNS if name not in ("ra_deg", "dec_deg")]
#: The sky plot shows at most this many of the matching observations (the first by obsid).
SKY_LIMIT = 20_000
_FILTERS = (
    "obsids",
    "target",
    "instrument",
    "obs_type",
    "status",
    "approved",
    "pi",
    "cone_ra",
    "cone_dec",
    "cone_radius_arcmin",
)


class CatalogState(DashboardState):
    """Filters in, one page of rows, the sky positions and the selected observation's detail out.

    One observation at most is selected; its detail, its ring on the sky and its highlighted row (when it is on
    the page shown) always go together.  A new filter keeps the selection while the observation still matches
    and drops all three when it does not; a refused filter shows no rows at all (none match what is typed).
    """

    EMPTY = {"rows": "No observations match these filters."}

    obsids = param.String(default="", doc="Obsids or ranges, e.g. 20001-20050, 20077")
    target = param.String(default="", doc="Part of the target name (any case)")
    instrument = param.Selector(default=ANY, objects=[ANY])
    obs_type = param.Selector(default=ANY, objects=[ANY], label="Type")
    status = param.Selector(default=ANY, objects=[ANY])
    approved = param.Selector(default="any", objects=list(APPROVED_CHOICES))
    pi = param.String(default="", label="PI", doc="Part of the PI's name (any case)")
    cone_ra = param.String(default="", label="Cone RA", doc="Degrees or hh:mm:ss")
    cone_dec = param.String(default="", label="Cone Dec", doc="Degrees or dd:mm:ss")
    cone_radius_arcmin = param.Number(
        default=10.0, bounds=(0, 10_800), inclusive_bounds=(False, True), label="Radius (arcmin)"
    )

    sort_by = param.Selector(default="obsid", objects=list(SORT_COLUMNS))
    descending = param.Boolean(default=False)
    page = param.Integer(default=1, bounds=(1, None))
    page_size = param.Selector(default=50, objects=PAGE_SIZES)
    columns = param.ListSelector(default=DEFAULT_COLUMNS, objects=list(PAGE_COLUMNS), doc="The columns the table shows")

    rows = param.DataFrame(default=None, allow_None=True, precedence=-1, doc="The current page")
    total = param.Integer(default=0, precedence=-1)
    page_count = param.Integer(default=1, precedence=-1)
    sky = param.DataFrame(default=None, allow_None=True, precedence=-1, doc="Positions of matching observations")
    selected_obsid = param.Integer(default=None, allow_None=True, precedence=-1)
    selected_row = param.Integer(
        default=None, allow_None=True, precedence=-1, doc="Where the selected observation is in rows; None: not shown"
    )
    detail = param.ClassSelector(class_=ObservationDetail, default=None, allow_None=True, precedence=-1)

    def __init__(self, context: DashboardContext | None = None, **params: Any) -> None:
        super().__init__(context, **params)
        with self.context.sessions() as session:
            choices = filter_choices(session)
        for name in ("instrument", "obs_type", "status"):
            # A dict shows "any" in menus while the value stays "" (no filter).
            self.param[name].objects = {"any": ANY} | {choice: choice for choice in choices[name]}
        #: The filter the widgets describe, which every query uses; None while they describe none (a refused input).
        self._where: CatalogFilter | None = self.catalog_filter()
        self.refresh()

    # --- inputs -----------------------------------------------------------------------------

    def catalog_filter(self) -> CatalogFilter:
        """The filter the widgets describe; raises InvalidInputError naming the bad field."""
        cone = None
        if self.cone_ra.strip() or self.cone_dec.strip():
            cone = Cone(
                parse_ra_deg(self.cone_ra, field="cone_ra"),
                parse_dec_deg(self.cone_dec, field="cone_dec"),
                float(self.cone_radius_arcmin),
            )
        return CatalogFilter(
            obsids=self.obsids,
            target=self.target,
            instrument=self.instrument,
            obs_type=self.obs_type,
            status=self.status,
            approved=APPROVED_CHOICES[self.approved],
            pi=self.pi,
            cone=cone,
        )

    @param.depends(*_FILTERS, watch=True)
    def _filters_changed(self) -> None:
        if not self.run(self._use_filter, write=False, then=self._keep_selection, refused=self._match_nothing):
            return
        if self.page != 1:
            self.page = 1  # the page watcher refreshes the rows
            self._refresh_sky()
        else:
            self.refresh()

    def _use_filter(self, session: Session) -> bool:
        """Take up the filter the widgets describe; say whether the selected observation still matches it."""
        where = self.catalog_filter()
        self._where = where
        return self.selected_obsid is not None and matches(session, where, self.selected_obsid)

    def _keep_selection(self, still_matches: bool) -> None:
        if not still_matches:
            self.param.update(selected_obsid=None, detail=None, selected_row=None)

    def _match_nothing(self, _refusal: Exception) -> None:
        # What is typed selects nothing: no rows, no positions, no selection, until the input is put right.
        self._where = None
        with param.parameterized.batch_call_watchers(self):
            self._keep_selection(False)
            self._show_page(CatalogPage(rows=[], total=0, offset=0, limit=self.page_size))
            self.page = 1
            self.sky = _sky_frame([])

    @param.depends("page", "page_size", "sort_by", "descending", watch=True)
    def _page_changed(self) -> None:
        self._refresh_rows()

    # --- actions ----------------------------------------------------------------------------

    def refresh(self) -> None:
        """Re-read the current page and the sky positions."""
        self._refresh_rows()
        self._refresh_sky()

    def go_to(self, page: int) -> None:
        """Show ``page``, clamped to the pages that exist."""
        self.page = min(max(1, page), self.page_count)

    def sort(self, column: str, descending: bool = False) -> None:
        """Sort by ``column``; an unknown column is refused with the list of sortable ones."""
        if column not in SORT_COLUMNS:
            self.error = str(InvalidInputError("sort_by", column, f"one of {', '.join(SORT_COLUMNS)}"))
            return
        with param.parameterized.batch_call_watchers(self):
            self.sort_by, self.descending = column, descending

    def select(self, obsid: int | None) -> None:
        """Open the detail of ``obsid`` (None closes it); an unknown obsid is refused and the selection stays."""
        if obsid is None:
            self.param.update(selected_obsid=None, detail=None, selected_row=None)
            return
        self.run(
            lambda session: observation_detail(session, int(obsid)),
            write=False,
            then=lambda detail: self._show_detail(int(obsid), detail),
        )

    def _show_detail(self, obsid: int, detail: ObservationDetail) -> None:
        self.param.update(selected_obsid=obsid, detail=detail, selected_row=row_position(self.rows, "obsid", obsid))

    def clear_filters(self) -> None:
        """Back to the whole catalog."""
        defaults = {name: self.param[name].default for name in _FILTERS}
        self.param.update(**defaults)

    # --- queries ----------------------------------------------------------------------------

    def _refresh_rows(self) -> None:
        # A refused sort or page size keeps the last good rows: they still match the filter.
        where = self._where
        if where is None:
            return  # the filter was refused: nothing matches it, and the table already says so
        offset = (self.page - 1) * self.page_size
        self.run(
            lambda session: page_observations(
                session,
                where,
                sort_by=self.sort_by,
                descending=self.descending,
                offset=offset,
                limit=self.page_size,
            ),
            write=False,
            then=self._show_page,
        )

    def _show_page(self, result: CatalogPage) -> None:
        frame = pd.DataFrame(result.rows, columns=list(PAGE_COLUMNS))
        frame["status"] = frame["status"].astype(str)
        self.param.update(
            rows=frame,
            total=result.total,
            page_count=result.page_count,
            selected_row=row_position(frame, "obsid", self.selected_obsid),
        )
        if self.page > result.page_count:
            self.page = result.page_count

    def _refresh_sky(self) -> None:
        if self._where is None:
            self.sky = _sky_frame([])
            return
        with self.context.sessions() as session:
            positions = sky_positions(session, self._where, limit=SKY_LIMIT)
        self.sky = _sky_frame(positions)


def _sky_frame(positions: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(positions, columns=["obsid", "target_name", "ra_deg", "dec_deg", "status"])
    frame["status"] = frame["status"].astype(str)
    return frame
