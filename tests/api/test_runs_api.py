"""GET /api/v1/exposures, /exposures/{name} and /products/{id}: a key's owner sees and downloads their programs only."""

from __future__ import annotations

import hashlib
import urllib.parse
from pathlib import Path

import pytest
from sqlalchemy import select

from obslab.access import find_user
from obslab.context import ObslabContext
from obslab.observing.models import DataProduct, Exposure
from obslab.observing.programs import add_member
from tests.api.http import call
from tests.helpers.pipeline_night import NIGHT, NightFiles, ingest, reduce, write_night
from tests.helpers.support import fixed_clock


@pytest.fixture
def night(api_context: ObslabContext, keys: dict[str, str], tmp_path: Path) -> NightFiles:
    """The small night, reduced; una (usint) is a member of program 4 only."""
    files = write_night(tmp_path / "raw", science_frames=30)
    ingest(api_context.sessions, files.folder)
    reduce(api_context.sessions, NIGHT, tmp_path / "products")
    with api_context.sessions() as session, session.begin():
        add_member(session, find_user(session, "ada"), "4", "una", now=fixed_clock)
    return files


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def product_ids(context: ObslabContext, exposure: str | None) -> dict[str, int]:
    with context.sessions() as session:
        query = select(DataProduct.kind, DataProduct.id)
        if exposure is None:
            query = query.where(DataProduct.exposure_id.is_(None))
        else:
            query = query.join(Exposure, Exposure.id == DataProduct.exposure_id).where(Exposure.name == exposure)
        return {kind: product_id for kind, product_id in session.execute(query)}


def test_exposures_need_a_key_and_show_only_the_callers_programs(
    api: str, keys: dict[str, str], night: NightFiles
) -> None:
    assert call(api, "GET", "/api/v1/exposures").status == 401
    mine = call(api, "GET", "/api/v1/exposures?kind=science", headers=bearer(keys["una"])).json()
    assert [row["name"] for row in mine["rows"]] == [night.science[0]] and mine["total"] == 1
    everything = call(api, "GET", "/api/v1/exposures?per_page=2&page=2", headers=bearer(keys["ada"])).json()
    assert everything["total"] == 6 and len(everything["rows"]) == 2
    one_night = call(api, "GET", f"/api/v1/exposures?night_from={NIGHT}&night_to={NIGHT}", headers=bearer(keys["ada"]))
    assert one_night.json()["total"] == 6
    poor = call(api, "GET", "/api/v1/exposures?seeing_nearest_min=3", headers=bearer(keys["ada"]))
    assert poor.json()["total"] == 0
    science = call(api, "GET", "/api/v1/exposures?kind=science", headers=bearer(keys["ada"])).json()["rows"]
    magnitudes = sorted(row["magnitude"] for row in science)
    assert len(magnitudes) == 2 and magnitudes[0] < magnitudes[1]  # measured by the pipeline, shown on the row
    middle = sum(magnitudes) / 2
    faint = call(api, "GET", f"/api/v1/exposures?magnitude_min={middle}", headers=bearer(keys["ada"])).json()
    assert [row["magnitude"] for row in faint["rows"]] == magnitudes[1:]
    bright = call(api, "GET", f"/api/v1/exposures?magnitude_max={middle}", headers=bearer(keys["una"])).json()
    assert bright["total"] == (1 if mine["rows"][0]["magnitude"] <= middle else 0)
    before = call(api, "GET", "/api/v1/exposures?night_to=2026-12-04", headers=bearer(keys["ada"]))
    assert before.json()["total"] == 0
    assert call(api, "GET", "/api/v1/exposures", headers=bearer(keys["tcs"])).json()["total"] == 0
    name = urllib.parse.quote(night.science[1])
    refused = call(api, "GET", f"/api/v1/exposures/{name}", headers=bearer(keys["una"]))
    assert refused.status == 404 and "that you may see" in refused.json()["message"]
    detail = call(api, "GET", f"/api/v1/exposures/{urllib.parse.quote(night.science[0])}", headers=bearer(keys["una"]))
    assert {s["stage"]: s["state"] for s in detail.json()["stages"]} == dict.fromkeys(
        ("stack", "strehl", "preview"), "done"
    )


def test_products_stream_to_those_who_may_see_them_and_to_nobody_else(
    api: str, api_context: ObslabContext, keys: dict[str, str], night: NightFiles
) -> None:
    own, other = product_ids(api_context, night.science[0]), product_ids(api_context, night.science[1])
    got = call(api, "GET", f"/api/v1/products/{own['stack_best']}", headers=bearer(keys["una"]))
    assert got.status == 200 and got.headers["content-type"] == "application/fits"
    with api_context.sessions() as session:
        recorded = session.get(DataProduct, own["stack_best"])
        assert hashlib.sha256(got.body).hexdigest() == recorded.sha256
    for product_id in (other["stack_best"], other["preview_best"], 10**9):
        refused = call(api, "GET", f"/api/v1/products/{product_id}", headers=bearer(keys["una"]))
        assert refused.status == 404 and "that you may download" in refused.json()["message"]
    night_level = product_ids(api_context, None)["dark_0"]  # a calibration of a night una has a program in
    assert call(api, "GET", f"/api/v1/products/{night_level}", headers=bearer(keys["una"])).status == 200
    assert call(api, "GET", f"/api/v1/products/{night_level}", headers=bearer(keys["tcs"])).status == 404
    assert call(api, "GET", f"/api/v1/products/{own['stack_best']}").status == 401


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ("sort=secret", 400, "sort"),
        ("per_page=501", 422, "per_page"),
        ("stages=lost", 422, "stages"),
        ("ra=400&dec=0&radius_arcsec=5", 400, "cone"),
        ("night_to=0", 422, "night_to"),
        ("night_from=20261399", 400, "night_from"),
        ("magnitude_min=nan", 422, "magnitude_min"),
        ("magnitude_max=inf", 422, "magnitude_max"),
    ],
)
def test_bad_queries_are_refused_naming_the_field(
    api: str, keys: dict[str, str], query: str, status: int, field: str
) -> None:  # refused before anything is read: no night needed
    reply = call(api, "GET", f"/api/v1/exposures?{query}", headers=bearer(keys["ada"]))
    assert reply.status == status and field in reply.text
