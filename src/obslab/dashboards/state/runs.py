"""State of the run browser: nights, a page of exposures, one exposure whole, force redo; tested without Panel."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import param
from sqlalchemy.orm import Session

from obslab.astro import parse_dec_deg, parse_ra_deg
from obslab.dashboards.context import DashboardContext
from obslab.dashboards.state.base import DashboardState, row_position
from obslab.errors import InvalidInputError
from obslab.formatting import number
from obslab.observing.choices import ConfigurationLabel, configuration_label, exposure_choices
from obslab.observing.pipeline.graph import EXPOSURE_STAGES
from obslab.observing.redo import force_redo
from obslab.observing.types import ExposureKind
from obslab.observing.views import (
    SORTS,
    ExposureDetail,
    ExposurePage,
    ExposureQuery,
    NightRow,
    Range,
    exposure_detail,
    list_exposures,
    night_overview,
)

ANY = ""
PAGE_SIZES = [25, 50, 100, 200]
ROW_COLUMNS = (
    "name",
    "program",
    "kind",
    "target_name",
    "filter_name",
    "camera_mode",
    "exposure_s",
    "started_at",
    "strehl_percent",
    "fwhm_arcsec",
    "seeing_nearest_arcsec",
    "quality_ok",
    "night",
)
NIGHT_COLUMNS = ("night", "exposures", "programs", "seeing_median_arcsec", "calibration", "stages")
STAGE_COLUMNS = ("stage", "state", "retries", "force_redo", "fingerprint", "finished_at", "provenance", "error")
NO_PROGRAM = "none (calibration, seeing)"
QUALITY_CHOICES = {"any": None, "ok": True, "flagged": False}
#: How many nights the nights table lists (newest first); older ones are reached with the night range.
NIGHTS_SHOWN = 60
_FILTERS = (
    "night_from",
    "night_to",
    "target",
    "program",
    "filter_name",
    "camera_mode",
    "kind",
    "cone_ra",
    "cone_dec",
    "cone_radius_arcsec",
    "strehl_min",
    "fwhm_max",
    "seeing_max",
    "stage_state",
    "quality",
)


def _night(field: str, text: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text) if "-" in text else date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        raise InvalidInputError(field, text, "a night as YYYY-MM-DD or YYYYMMDD") from None


def _counts(counts: dict[str, int]) -> str:
    return " · ".join(f"{name} {count}" for name, count in counts.items()) or "none"


class RunsState(DashboardState):
    """Filters in; the nights, one page of exposures and the selected exposure's detail out.

    Every read goes through ``observing.views`` as the viewer: what they may not see is never listed, counted
    or opened (an exposure of another program is "not found", as one that does not exist).
    """

    EMPTY = {
        "nights": "No nights with exposures you may see.",
        "rows": "No exposures you may see match these filters.",
        "stages": (
            "Click an exposure to see its pipeline stages. One whose night has not been reduced has none yet: "
            "the next `obslab pipeline run` for its night plans them."
        ),
    }

    night_from = param.String(default="", label="Nights from", doc="YYYY-MM-DD")
    night_to = param.String(default="", label="to", doc="YYYY-MM-DD")
    target = param.String(default="", doc="Exact target name, or a pattern with * (e.g. NGC*)")
    program = param.Selector(default=ANY, objects=[ANY])
    filter_name = param.Selector(default=ANY, objects=[ANY], label="Filter")
    camera_mode = param.Selector(default=ANY, objects=[ANY], label="Camera mode")
    kind = param.Selector(default=ANY, objects=[ANY])
    cone_ra = param.String(default="", label="Cone RA", doc="Degrees or hh:mm:ss")
    cone_dec = param.String(default="", label="Cone Dec", doc="Degrees or dd:mm:ss")
    cone_radius_arcsec = param.Number(
        default=60.0, bounds=(0, 36_000), inclusive_bounds=(False, True), label="Radius (arcsec)"
    )
    strehl_min = param.Number(default=None, allow_None=True, bounds=(0, 100), label="Strehl at least (%)")
    fwhm_max = param.Number(default=None, allow_None=True, bounds=(0, None), label="FWHM at most (arcsec)")
    seeing_max = param.Number(default=None, allow_None=True, bounds=(0, None), label="Seeing at most (arcsec)")
    stage_state = param.Selector(default=ANY, objects=[ANY], label="Stages")
    quality = param.Selector(default="any", objects=list(QUALITY_CHOICES))

    sort_by = param.Selector(default="started_at", objects=list(SORTS))
    descending = param.Boolean(default=True)
    page = param.Integer(default=1, bounds=(1, None))
    page_size = param.Selector(default=50, objects=PAGE_SIZES)
    redo_stage = param.Selector(default=EXPOSURE_STAGES[0], objects=list(EXPOSURE_STAGES), label="Stage to redo")

    nights = param.DataFrame(default=None, allow_None=True, precedence=-1, doc="The nights, newest first")
    selected_night = param.String(default="", precedence=-1, doc="The night clicked in the nights table")
    rows = param.DataFrame(default=None, allow_None=True, precedence=-1, doc="The current page of exposures")
    total = param.Integer(default=0, precedence=-1)
    page_count = param.Integer(default=1, precedence=-1)
    selected_name = param.String(default="", precedence=-1)
    selected_row = param.Integer(default=None, allow_None=True, precedence=-1)
    detail = param.ClassSelector(class_=ExposureDetail, default=None, allow_None=True, precedence=-1)
    stages = param.DataFrame(default=None, allow_None=True, precedence=-1, doc="The selected exposure's stages")
    previews = param.List(default=[], precedence=-1, doc="(title, PNG as base64) of the selected exposure's previews")
    configuration = param.ClassSelector(class_=ConfigurationLabel, default=None, allow_None=True, precedence=-1)

    def __init__(self, context: DashboardContext | None = None, **params: Any) -> None:
        super().__init__(context, **params)
        self.stages = _frame([], STAGE_COLUMNS)
        self.rows = _frame([], ROW_COLUMNS)
        self.nights = _frame([], NIGHT_COLUMNS)
        self.param.kind.objects = {"any": ANY} | {k.value: k.value for k in ExposureKind}
        self.param.stage_state.objects = {"any": ANY, "all done": "done", "any failed": "failed", "pending": "pending"}
        self._where: ExposureQuery | None = None
        self._counted: tuple[ExposureQuery, int] | None = None  # the filters last counted, and their count
        if self.run(
            lambda session: exposure_choices(session, self.context.actor(session)), write=False, then=self._offer
        ):
            self._where = self.exposure_query()
        self.refresh()

    def _offer(self, choices: dict[str, list[str]]) -> None:
        for name, values in choices.items():
            # A dict shows "any" in menus while the value stays "" (no filter).
            self.param[name].objects = {"any": ANY} | {value: value for value in values}

    # --- inputs -----------------------------------------------------------------------------

    def exposure_query(self) -> ExposureQuery:
        """The query the widgets describe; raises InvalidInputError naming the bad field."""
        cone = None
        if self.cone_ra.strip() or self.cone_dec.strip():
            cone = (
                parse_ra_deg(self.cone_ra, field="cone_ra"),
                parse_dec_deg(self.cone_dec, field="cone_dec"),
                float(self.cone_radius_arcsec),
            )
        return ExposureQuery(
            nights=(_night("night_from", self.night_from), _night("night_to", self.night_to)),
            target=self.target.strip(),
            program=self.program,
            filter_name=self.filter_name,
            camera_mode=self.camera_mode,
            kind=ExposureKind(self.kind) if self.kind else None,
            cone=cone,
            strehl_percent=Range(self.strehl_min, None),
            fwhm_arcsec=Range(None, self.fwhm_max),
            seeing_nearest_arcsec=Range(None, self.seeing_max),
            stage_state=self.stage_state,
            quality_ok=QUALITY_CHOICES[self.quality],
            sort=self.sort_by,
            descending=self.descending,
            page=self.page,
            per_page=self.page_size,
        ).checked()

    @param.depends(*_FILTERS, watch=True)
    def _filters_changed(self) -> None:
        try:
            self._where = self.exposure_query()
        except InvalidInputError as refusal:
            # What is typed matches nothing: no rows and no selection until it is put right.
            self._where = None
            self.param.update(error=str(refusal), message="")
            self._show_page(ExposurePage((), 0, 1, self.page_size))
            self.select(None)
            return
        self.error = ""
        if self.selected_night and (self.night_from, self.night_to) != (self.selected_night, self.selected_night):
            self.selected_night = ""
        if self.page != 1:
            self.page = 1  # the page watcher re-reads the rows
        else:
            self._refresh_rows()

    @param.depends("page", "page_size", "sort_by", "descending", watch=True)
    def _page_changed(self) -> None:
        if self._where is not None:
            self._where = self.exposure_query()
        self._refresh_rows()

    # --- actions ----------------------------------------------------------------------------

    def refresh(self) -> None:
        """Re-read the nights, the current page and the selected exposure."""
        self.run(
            lambda session: night_overview(session, self.context.actor(session), limit=NIGHTS_SHOWN),
            write=False,
            then=self._show_nights,
        )
        self._refresh_rows(recount=True)
        if self.selected_name:
            self.select(self.selected_name)

    def pick_night(self, night: str | None) -> None:
        """Show one night's exposures (None: every night again)."""
        night = night or ""
        with param.parameterized.batch_call_watchers(self):
            self.selected_night = night
            self.night_from = self.night_to = night

    def go_to(self, page: int) -> None:
        """Show ``page``, clamped to the pages that exist."""
        self.page = min(max(1, page), self.page_count)

    def sort(self, column: str, descending: bool = False) -> None:
        """Sort every matching exposure by ``column`` in the database; an unknown column is refused."""
        if column not in SORTS:
            self.error = str(InvalidInputError("sort_by", column, f"one of {', '.join(SORTS)}"))
            return
        with param.parameterized.batch_call_watchers(self):  # a new order starts at its first page
            self.sort_by, self.descending, self.page = column, descending, 1

    def select(self, name: str | None) -> None:
        """Open exposure ``name`` (None closes it); one the viewer may not see is refused as not found."""
        if not name:
            self.param.update(
                selected_name="",
                detail=None,
                selected_row=None,
                stages=_frame([], STAGE_COLUMNS),
                previews=[],
                configuration=None,
            )
            return
        self.run(lambda session: self._read_detail(session, name), write=False, then=self._show_detail)

    def redo(self) -> None:
        """Mark the chosen stage of the selected exposure to run again at the next pipeline run (audited)."""
        name, stage = self.selected_name, self.redo_stage
        if not name:
            self.error = "pick an exposure first: its stages are marked, one at a time"
            return
        self.run(
            lambda session: force_redo(session, self.context.actor(session), name, stage, now=self.now),
            f"{stage} of {name} will run again at the next `obslab pipeline run`",
            then=lambda _row: self.select(name),
        )

    def clear_filters(self) -> None:
        """Back to every exposure the viewer may see."""
        with param.parameterized.batch_call_watchers(self):
            self.param.update(**{name: self.param[name].default for name in _FILTERS}, selected_night="")

    # --- reads ------------------------------------------------------------------------------

    def _refresh_rows(self, *, recount: bool = False) -> None:
        where = self._where
        if where is None:
            return  # refused input: the table already says nothing matches
        # Another page or order of the same matches keeps their count: only new filters (or a refresh) count again.
        filters = replace(where, page=1, per_page=1, sort="started_at", descending=True)
        known = self._counted[1] if self._counted is not None and self._counted[0] == filters and not recount else None

        def read(session: Session) -> ExposurePage:
            return list_exposures(session, self.context.actor(session), where, total=known)

        self.run(read, write=False, then=lambda page: self._show_page(page, filters))

    def _show_nights(self, nights: list[NightRow]) -> None:
        self.nights = _frame(
            [
                {
                    "night": n.night.isoformat(),
                    "exposures": n.exposures,
                    "programs": _counts(n.by_program),
                    "seeing_median_arcsec": n.seeing_median_arcsec,
                    "calibration": n.calibration,
                    "stages": _counts(n.stages) if n.stages else "not run",
                }
                for n in nights
            ],
            NIGHT_COLUMNS,
        )

    def _show_page(self, page: ExposurePage, filters: ExposureQuery | None = None) -> None:
        self._counted = (filters, page.total) if filters is not None else None
        frame = _frame([r.as_dict() for r in page.rows], ROW_COLUMNS)
        frame["night"] = frame["night"].astype(str)
        # The table groups rows by program; a night's calibration and seeing exposures belong to none.
        frame["program"] = frame["program"].replace("", NO_PROGRAM)
        count = max(1, -(-page.total // self.page_size))
        self.param.update(
            rows=frame,
            total=page.total,
            page_count=count,
            selected_row=row_position(frame, "name", self.selected_name),
        )
        if self.page > count:
            self.page = count

    def _read_detail(self, session: Session, name: str) -> tuple[ExposureDetail, ConfigurationLabel | None]:
        detail = exposure_detail(session, self.context.actor(session), name)
        return detail, configuration_label(session, detail.configuration_id)

    def _show_detail(self, found: tuple[ExposureDetail, ConfigurationLabel | None]) -> None:
        detail, configuration = found
        stages = [
            {
                "stage": s.stage,
                "state": s.state,
                "retries": s.retries,
                "force_redo": s.force_redo,
                "fingerprint": s.inputs_fingerprint[:12],
                "finished_at": s.finished_at,
                "provenance": _provenance(s.products),
                "error": s.error or "",
            }
            for s in detail.stages
        ]
        self.param.update(
            selected_name=detail.row.name,
            detail=detail,
            selected_row=row_position(self.rows, "name", detail.row.name),
            stages=_frame(stages, STAGE_COLUMNS),
            previews=_previews(detail),
            configuration=configuration,
        )


def _provenance(products: tuple[dict[str, Any], ...]) -> str:
    """The products and what made them: software once, then the inputs and settings each group of products shares.

    The fingerprint has its own column and the stage its own row, so neither is repeated here.
    """
    shared: dict[str, list[str]] = {}
    software = ""
    for product in products:
        stamped = dict(product["provenance"])
        software = f"obslab {stamped.pop('obslabv', '?')}, {stamped.pop('stage', '?')} v{stamped.pop('stagev', '?')}"
        stamped.pop("fingerprint", None), stamped.pop("fingerpr", None)  # the FITS header keeps 8 letters of it
        text = ", ".join(f"{k}={number(v) if isinstance(v, float) else v}" for k, v in stamped.items())
        shared.setdefault(text, []).append(product["kind"])
    lines = [f"{', '.join(kinds)}: {text}" for text, kinds in shared.items()]
    return "\n".join([software, *lines]) if lines else ""


def _previews(detail: ExposureDetail) -> list[tuple[str, str]]:
    """The exposure's preview images (PNG files the preview stage wrote), read now, as base64 for an <img>."""
    titles = {"preview_best": "Best 20% of frames", "preview_all": "All frames"}
    found = []
    for stage in detail.stages:
        for product in stage.products:
            path = Path(product["path"])
            if product["kind"] in titles and path.is_file():
                found.append((titles[product["kind"]], base64.b64encode(path.read_bytes()).decode("ascii")))
    return sorted(found, key=lambda item: list(titles.values()).index(item[0]))


def _frame(records: list[dict[str, Any]], columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame(records, columns=list(columns))
