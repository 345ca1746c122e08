"""``GET /fplane/{datestr}`` (the fplane file in force then) and ``POST /fplane`` (the TCS records the focal plane)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request
from fastapi.responses import PlainTextResponse

from obslab.access import get_user
from obslab.api.auth import ApiUser
from obslab.api.deps import context_of, flag, unit_of_work
from obslab.api.errors import error_responses
from obslab.api.schemas import FPLANE_UPDATE_EXAMPLES, FplaneUpdate, FplaneUpdateResult
from obslab.configs.datestr import ALLOWED, parse_datestr
from obslab.configs.fplane import FPLANE_INSTRUMENT, fplane_from_items, render_fplane
from obslab.configs.hardware import read_update_request
from obslab.configs.tcs import record_hardware_status
from obslab.configs.views import RecordKey, record_in_force, record_items
from obslab.context import ObslabContext
from obslab.errors import NotFoundError

#: The instrument whose configuration is the focal plane.
TEXT = {"content": {"text/plain": {}}, "description": "the fplane file, saved as fplaneYYYYMMDD.txt"}
ANSWERS: dict[int | str, dict[str, Any]] = {200: TEXT, **error_responses(400, 404)}
DateStr = Annotated[str, Path(description=f"When: {ALLOWED}.", examples=["20180714", "2018-07-15T04:12:33.5"])]
ActualPos = Annotated[
    str, Query(description="1: the measured IFU positions; 0: the seats' nominal grid positions (also yes/no, ...).")
]
FullFplane = Annotated[
    str, Query(description="1: every seat, unused ones commented out, and LRS2/HRS/HPF; 0: active VIRUS IFUs only.")
]

router = APIRouter(tags=["fplane"])


# The reads below are async routes that query on the event loop: their one indexed query takes about 0.1 ms, and
# handing it to anyio's threadpool cost three times that per request (benchmarks/config_api.py). WAL on SQLite and
# MVCC on PostgreSQL mean a read never waits for a writer's lock.


@router.get("/fplane", response_class=PlainTextResponse, responses=ANSWERS)
@router.get("/fplane/", response_class=PlainTextResponse, include_in_schema=False)
async def get_fplane_now(
    request: Request, actual_pos: ActualPos = "0", full_fplane: FullFplane = "1"
) -> PlainTextResponse:
    """The focal plane in force now (as `GET /fplane/latest`)."""
    return fplane_file(context_of(request), rendered_files(request), "", actual_pos, full_fplane)


@router.get("/fplane/{datestr}", response_class=PlainTextResponse, responses=ANSWERS)
async def get_fplane(
    request: Request, datestr: DateStr, actual_pos: ActualPos = "0", full_fplane: FullFplane = "1"
) -> PlainTextResponse:
    """The focal plane in force at `datestr`, as the fplane clients ask: by night or by a frame's DATE-OBS."""
    return fplane_file(context_of(request), rendered_files(request), datestr, actual_pos, full_fplane)


#: Files rendered by this app, by (record, full, actual). A record's items are never rewritten (a change or a
#: correction is a new record), so its file is rendered once; which record is in force is asked on every request.
RenderedFiles = dict[tuple[RecordKey, bool, bool], str]
MAX_RENDERED = 256


def rendered_files(request: Request) -> RenderedFiles:
    files: RenderedFiles | None = getattr(request.app.state, "fplane_files", None)
    if files is None:
        files = request.app.state.fplane_files = {}
    return files


def fplane_file(
    context: ObslabContext, files: RenderedFiles, datestr: str, actual_pos: str, full_fplane: str
) -> PlainTextResponse:
    moment = parse_datestr(datestr, now=context.now(), zone=context.site.zone)
    actual, full = flag(actual_pos, "actual_pos"), flag(full_fplane, "full_fplane")
    # One indexed query of plain columns on a pooled connection: no session, no ORM objects on the read path.
    with context.engine.connect() as connection:
        record = record_in_force(connection, FPLANE_INSTRUMENT, moment.at)
        if record is None:
            raise NotFoundError(f"no {FPLANE_INSTRUMENT} focal plane is recorded for {moment.at.isoformat()}")
        text = files.get((record, full, actual))
        if text is None:
            text = render_fplane(fplane_from_items(record_items(connection, record), full=full, actual=actual))
            if len(files) >= MAX_RENDERED:
                files.clear()
            files[(record, full, actual)] = text
    headers = {"Content-Disposition": f'attachment; filename="{moment.file_name}"'}
    return PlainTextResponse(text, headers=headers | {"X-Config-Version": str(record.version_number)})


@router.post("/fplane", response_model=FplaneUpdateResult, responses=error_responses(400, 401, 403, 409, 422))
def post_fplane(
    request: Request,
    username: ApiUser,
    body: Annotated[FplaneUpdate, Body(openapi_examples=FPLANE_UPDATE_EXAMPLES)],
) -> FplaneUpdateResult:
    """Record the focal plane the TCS read, from its timestamp on; needs the `telescope` or `admin` role.

    The body is `{"config": {"timestamp": ..., "ifus": {IFUSLOT: {x_fp, y_fp, specid, specslot, ifuid, ifurot,
    platesc}}}, "commit": true|false}` (see the examples). `commit` false is a dry run: the same checks and answer,
    nothing written. The answer is the resulting file and the changes; an unchanged focal plane records nothing.
    """
    context = context_of(request)
    status, commit = read_update_request(body.model_dump(), now=context.now())
    with unit_of_work(context, commit=commit) as session:
        done = record_hardware_status(session, get_user(session, username), FPLANE_INSTRUMENT, status, now=context.now)
    fplane = render_fplane(fplane_from_items(done.items, full=True, actual=True))
    recorded = done.version_number is not None and commit
    return FplaneUpdateResult.model_validate(
        done.as_dict()
        | {"fplane": fplane, "committed": recorded, "version_number": done.version_number if recorded else None}
    )
