"""``GET /api/v1/exposures`` (yours, filtered and paged), one exposure, and ``GET /api/v1/products/{id}`` (streamed).

Every route needs an API key: exposures and products belong to programs, and a person sees their own programs'
only (staff and admins all), decided by the read models in ``observing/views.py``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse

from obslab.access import get_user
from obslab.api.auth import ApiUser
from obslab.api.deps import context_of
from obslab.api.errors import error_responses
from obslab.errors import InvalidInputError, NotFoundError
from obslab.observing.types import ExposureKind
from obslab.observing.views import ExposureQuery, Range, exposure_detail, list_exposures, visible_product

router = APIRouter(prefix="/api/v1", tags=["runs"])
Number = Annotated[float | None, Query(allow_inf_nan=False)]
#: Text without NUL characters: PostgreSQL text cannot hold them, so they are refused (422) before any query.
NO_NUL = r"^[^\x00]*$"
NightParam = Annotated[
    str | None, Query(pattern=r"^(\d{8}|\d{4}-\d{2}-\d{2})$", description="A night: YYYYMMDD or YYYY-MM-DD.")
]


def _night(field: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value) if "-" in value else date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        raise InvalidInputError(field, value, "a night as YYYYMMDD or YYYY-MM-DD") from None


@router.get("/exposures", responses=error_responses(400, 401, 422))
def get_exposures(  # noqa: PLR0913 - one parameter per filter, as the query string has them
    request: Request,
    username: ApiUser,
    night_from: NightParam = None,
    night_to: NightParam = None,
    target: Annotated[str, Query(max_length=128, pattern=NO_NUL, description="Exact, or * for any characters.")] = "",
    program: Annotated[str, Query(max_length=32, pattern=NO_NUL)] = "",
    filter: Annotated[str, Query(max_length=16, pattern=NO_NUL)] = "",  # noqa: A002 - the archiver's name for it
    mode: Annotated[str, Query(max_length=16, pattern=NO_NUL)] = "",
    kind: ExposureKind | None = None,
    ra: Number = None,
    dec: Number = None,
    radius_arcsec: Number = None,
    exposure_min: Number = None,
    exposure_max: Number = None,
    strehl_min: Number = None,
    strehl_max: Number = None,
    fwhm_min: Number = None,
    fwhm_max: Number = None,
    seeing_min: Number = None,
    seeing_max: Number = None,
    seeing_nearest_min: Number = None,
    seeing_nearest_max: Number = None,
    magnitude_min: Number = None,
    magnitude_max: Number = None,
    stages: Literal["done", "failed", "pending"] | None = None,
    quality: Literal["ok", "bad"] | None = None,
    sort: Annotated[str, Query(max_length=32, pattern=NO_NUL)] = "started_at",
    ascending: bool = False,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """The exposures you may see that match, newest first by default, a page at a time, with their metrics."""
    cone = (ra, dec, radius_arcsec) if None not in (ra, dec, radius_arcsec) else None
    query = ExposureQuery(
        nights=(_night("night_from", night_from), _night("night_to", night_to)),
        target=target,
        program=program,
        filter_name=filter,
        camera_mode=mode,
        kind=kind,
        cone=cone,  # type: ignore[arg-type]
        exposure_s=Range(exposure_min, exposure_max),
        strehl_percent=Range(strehl_min, strehl_max),
        fwhm_arcsec=Range(fwhm_min, fwhm_max),
        seeing_median_arcsec=Range(seeing_min, seeing_max),
        seeing_nearest_arcsec=Range(seeing_nearest_min, seeing_nearest_max),
        magnitude=Range(magnitude_min, magnitude_max),
        stage_state=stages or "",
        quality_ok=None if quality is None else quality == "ok",
        sort=sort,
        descending=not ascending,
        page=page,
        per_page=per_page,
    )
    with context_of(request).sessions() as session:
        return list_exposures(session, get_user(session, username), query).as_dict()


@router.get("/exposures/{name}", responses=error_responses(401, 404))
def get_exposure(
    request: Request, username: ApiUser, name: Annotated[str, Path(max_length=160, pattern=NO_NUL)]
) -> dict[str, Any]:
    """One exposure: fields, header, files, every stage with its products and provenance, metrics."""
    with context_of(request).sessions() as session:
        return exposure_detail(session, get_user(session, username), name).as_dict()


@router.get(
    "/products/{product_id}",
    response_class=FileResponse,
    responses={200: {"content": {"application/octet-stream": {}}}, **error_responses(401, 404)},
)
def get_product(
    request: Request, username: ApiUser, product_id: Annotated[int, Path(ge=1, le=2**31 - 1)]
) -> FileResponse:
    """A product file (a stack, a table, a preview), streamed, if you may see its exposure or night."""
    with context_of(request).sessions() as session:
        product = visible_product(session, get_user(session, username), product_id)
        path, kind = FilePath(product.path), product.kind
    if not path.is_file():
        raise NotFoundError(f"product {product_id} ({kind}) is recorded but its file is gone; rerun the pipeline")
    media = {".fits": "application/fits", ".png": "image/png", ".txt": "text/plain"}.get(path.suffix)
    return FileResponse(path, media_type=media or "application/octet-stream", filename=path.name)
