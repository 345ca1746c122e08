"""GET /fplane over the demo observatory: every date form, the flags, the file name, refusals, a stdlib-only client."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from obslab.configs.fplane import GRID_ARCSEC, SEATS, is_placeholder, items_from_fplane, parse_fplane
from obslab.configs.types import ConfigVersion
from tests.api.http import call
from tests.helpers.support import FIXED_NOW


def version_of(base: str, path: str) -> tuple[int, str]:
    reply = call(base, "GET", path)
    assert reply.status == 200, reply.text
    assert reply.headers["content-type"].startswith("text/plain")
    return int(reply.headers["x-config-version"]), reply.text


@pytest.mark.parametrize("path", ["/fplane", "/fplane/", "/fplane/latest", "/fplane/current", "/fplane/LATEST"])
def test_now_in_every_spelling_is_the_version_in_force(
    demo_api: str, virus: dict[int, ConfigVersion], path: str
) -> None:
    number, text = version_of(demo_api, path + "?actual_pos=1")
    assert number == 6
    assert items_from_fplane(parse_fplane(text)) == virus[6].items


def test_yyyymmdd_names_the_night_and_changes_version_at_the_right_night(
    demo_api: str, virus: dict[int, ConfigVersion]
) -> None:
    # Version 6 starts at 18:00 UTC (11:00 at Kitt Peak) on day X: the night starting on X-1 had its local
    # midnight (07:00 UTC on X) before that, so it still had version 5; the night starting on X has version 6.
    start = virus[6].valid_from
    assert start.hour == 18
    night_before, night_of = (start - timedelta(days=1)).date(), start.date()
    assert version_of(demo_api, f"/fplane/{night_before:%Y%m%d}")[0] == 5
    assert version_of(demo_api, f"/fplane/{night_of:%Y%m%d}")[0] == 6
    reply = call(demo_api, "GET", f"/fplane/{night_of:%Y%m%d}")
    assert reply.headers["content-disposition"] == f'attachment; filename="fplane{night_of:%Y%m%d}.txt"'


def test_date_obs_forms_are_utc_instants(demo_api: str, virus: dict[int, ConfigVersion]) -> None:
    start = virus[6].valid_from
    before = start - timedelta(seconds=0.5)
    assert version_of(demo_api, f"/fplane/{before:%Y-%m-%dT%H:%M:%S}.5")[0] == 5
    assert version_of(demo_api, f"/fplane/{start:%Y-%m-%dT%H:%M:%S}.0")[0] == 6
    assert version_of(demo_api, f"/fplane/{start:%Y-%m-%dT%H:%M:%S}Z")[0] == 6
    assert version_of(demo_api, f"/fplane/{start:%Y-%m-%d}")[0] == 5  # 00:00 UTC that day
    assert version_of(demo_api, f"/fplane/{start + timedelta(days=1):%Y-%m-%d}Z")[0] == 6
    # A frame from 21:12 local on the night starting X is filed under that night.
    frame = start.replace(hour=4, minute=12) + timedelta(days=1)
    reply = call(demo_api, "GET", f"/fplane/{frame:%Y-%m-%dT%H:%M:%S}.5")
    assert reply.headers["content-disposition"] == f'attachment; filename="fplane{start:%Y%m%d}.txt"'


def test_the_corrected_record_is_what_a_date_in_its_period_gets(demo_api: str, virus: dict[int, ConfigVersion]) -> None:
    inside = virus[4].valid_from + timedelta(days=1)
    number, text = version_of(demo_api, f"/fplane/{inside:%Y-%m-%dT%H:%M:%S}?actual_pos=1")
    assert number == 5 and items_from_fplane(parse_fplane(text)) == virus[5].items


def test_full_and_short_nominal_and_actual(demo_api: str, virus: dict[int, ConfigVersion]) -> None:
    ifus = {key: value for key, value in virus[6].items.items() if not is_placeholder(value)}
    short_actual = parse_fplane(version_of(demo_api, "/fplane/latest?full_fplane=0&actual_pos=1")[1])
    assert {row.ifuslot for row in short_actual.rows} == set(ifus)
    assert all(
        (row.x_fp, row.y_fp) == (ifus[row.ifuslot]["x_fp"], ifus[row.ifuslot]["y_fp"]) for row in short_actual.rows
    )
    short_nominal = parse_fplane(version_of(demo_api, "/fplane/latest?full_fplane=no&actual_pos=false")[1])
    assert all(row.x_fp % GRID_ARCSEC == 0 and row.y_fp % GRID_ARCSEC == 0 for row in short_nominal.rows)
    assert [row.ifuid for row in short_nominal.rows] == [row.ifuid for row in short_actual.rows]
    full = version_of(demo_api, "/fplane/latest")[1]  # the defaults: full, nominal
    assert {row.ifuslot for row in parse_fplane(full).rows} == set(virus[6].items)  # placeholders and feeds too
    assert sum(line.startswith("#") for line in full.splitlines()) == 1 + len(SEATS) - len(ifus)  # header, unused


@pytest.mark.parametrize(
    ("path", "field", "value"),
    [
        ("/fplane/yesterday", "datestr", "yesterday"),
        ("/fplane/20180230", "datestr", "20180230"),
        ("/fplane/2018-07-15T04:12", "datestr", "2018-07-15T04:12"),
        ("/fplane/latest?actual_pos=maybe", "actual_pos", "maybe"),
        ("/fplane?full_fplane=2", "full_fplane", "2"),
    ],
)
def test_a_value_it_cannot_read_is_400_naming_it(demo_api: str, path: str, field: str, value: str) -> None:
    reply = call(demo_api, "GET", path)
    assert reply.status == 400 and reply.json()["code"] == "invalid_input"
    assert reply.json()["field"] == field and repr(value) in reply.json()["message"]
    if field == "datestr":
        assert "YYYYMMDD" in reply.json()["message"] and "DATE-OBS" in reply.json()["message"]


def test_a_date_before_the_first_record_is_404(demo_api: str, virus: dict[int, ConfigVersion]) -> None:
    early = virus[1].valid_from - timedelta(days=30)
    reply = call(demo_api, "GET", f"/fplane/{early:%Y%m%d}")
    assert reply.status == 404 and "no VIRUS focal plane is recorded for" in reply.json()["message"]


CLIENT = """
import sys, urllib.request
base, out = sys.argv[1], sys.argv[2]
for datestr in sys.argv[3:]:
    with urllib.request.urlopen(f"{base}/fplane/{datestr}?actual_pos=1", timeout=30) as response:
        name = response.headers.get_filename()
        with open(f"{out}/{name}", "wb") as saved:
            saved.write(response.read())
        print(name, response.headers["X-Config-Version"])
"""


def test_a_client_with_only_the_standard_library_fetches_by_night_and_by_date_obs(
    demo_api: str, virus: dict[int, ConfigVersion], tmp_path: Path
) -> None:
    night = virus[6].valid_from.date()
    frame = datetime.combine(night + timedelta(days=1), datetime.min.time(), UTC) + timedelta(hours=4, minutes=12)
    forms = [f"{night - timedelta(days=1):%Y%m%d}", f"{frame:%Y-%m-%dT%H:%M:%S}.5"]
    # -I -S: no site-packages, no environment, no user directory: nothing but the standard library.
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", textwrap.dedent(CLIENT), demo_api, str(tmp_path), *forms],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.split() == [
        f"fplane{night - timedelta(days=1):%Y%m%d}.txt",
        "5",
        f"fplane{night:%Y%m%d}.txt",
        "6",
    ]
    saved = tmp_path / f"fplane{night:%Y%m%d}.txt"
    assert items_from_fplane(parse_fplane(saved.read_text())) == virus[6].items
    assert FIXED_NOW > frame
