"""``obslab config``: history, diff, show on the demo; put fplane files and JSON; get from a live API or a copy."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy.orm import Session, sessionmaker

from obslab.cli import main
from obslab.cli.api import DEFAULT_PORT
from obslab.configs.fplane import SEATS, fplane_from_items, items_from_fplane, nominal_position, parse_fplane
from obslab.configs.fplane_client import DEFAULT_URL, FOLDER
from obslab.configs.service import diff_versions, history
from obslab.configs.types import ConfigVersion
from obslab.settings import Settings
from obslab.users import add_user
from tests.api.conftest import context_on, demo_versions
from tests.api.http import call, running_api
from tests.api.test_fplane_get import CLIENT
from tests.helpers.support import fixed_clock, table_counts


def run(url: str, who: str, *args: str, data: Path | None = None, stdin: str | None = None) -> Result:
    env = {"OBSLAB_DATABASE_URL": url, "OBSLAB_ACTING_USER": who} | ({"OBSLAB_DATA_DIR": str(data)} if data else {})
    return CliRunner().invoke(main, list(args), env=env, input=stdin)


@pytest.fixture(scope="module")
def virus(demo_database: str) -> dict[int, ConfigVersion]:
    """The demo's VIRUS records by version number (4 was corrected by 5; 6 is in force now)."""
    return demo_versions(demo_database)


def test_the_api_url_defaults_to_the_api_commands_port() -> None:
    assert Settings().api_url == DEFAULT_URL == f"http://127.0.0.1:{DEFAULT_PORT}"


# --- reading: history, diff, show -----------------------------------------------------------------------------------


def test_history_lists_every_record_and_marks_the_corrected_one(demo_database: str) -> None:
    result = run(demo_database, "gmorris", "config", "history", "VIRUS")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "VIRUS: 6 versions, 1 superseded by a correction (marked SUPERSEDED)"
    heads = [line for line in lines if line.startswith("  version")]
    assert [("SUPERSEDED" in line) for line in heads] == [False, False, False, True, False, False]
    assert "SUPERSEDED 2026-" in heads[3] and heads[5].endswith("to now, 73 items")
    assert "by system (manual): Correction of version 4" in result.output
    listed = json.loads(run(demo_database, "gmorris", "config", "history", "VIRUS", "--json").output)
    assert [(v["version_number"], v["current"]) for v in listed] == [(n, n != 4) for n in range(1, 7)]
    assert listed[3]["superseded_at"] is not None and listed[4]["valid_from"] == listed[3]["valid_from"]


def test_diff_names_each_attribute_changed(demo_database: str, virus: dict[int, ConfigVersion]) -> None:
    result = run(demo_database, "gmorris", "config", "diff", "VIRUS", "4", "5")
    assert result.exit_code == 0, result.output
    swapped = [key for key in virus[4].items if virus[4].items[key] != virus[5].items[key]]
    assert len(swapped) == 2
    first, second = (virus[4].items[key]["specid"] for key in swapped)
    assert result.output.splitlines() == [
        "VIRUS version 4 to version 5: 0 added, 0 removed, 2 changed",
        f"  changed  {swapped[0]} specid: {first} -> {second}",
        f"  changed  {swapped[1]} specid: {second} -> {first}",
    ]
    as_json = json.loads(run(demo_database, "gmorris", "config", "diff", "VIRUS", "5", "6", "--json").output)
    context = context_on(demo_database)
    with context.sessions() as session:
        assert as_json == {"instrument": "VIRUS", "from": 5, "to": 6} | diff_versions(session, "VIRUS", 5, 6).as_dict()
    context.close()
    assert len(as_json["added"]) == 6
    missing = run(demo_database, "gmorris", "config", "diff", "VIRUS", "4", "9")
    assert missing.exit_code == 1 and "VIRUS has no configuration version 9: its versions are 1 to 6" in missing.output


def test_show_reads_both_time_axes(demo_database: str, virus: dict[int, ConfigVersion]) -> None:
    inside = f"{virus[4].valid_from + timedelta(days=1):%Y-%m-%dT%H:%M:%S}"
    before_correction = f"{virus[4].superseded_at - timedelta(days=1):%Y-%m-%dT%H:%M}"

    def shown(*args: str) -> dict:
        result = run(demo_database, "gmorris", "config", "show", "VIRUS", *args, "--json")
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    assert shown("--at", inside)["version_number"] == 5
    then = shown("--at", inside, "--known-at", before_correction)
    assert (then["version_number"], then["valid_to"]) == (4, None)  # the newest version then: its end not yet known
    assert shown()["version_number"] == 6 and shown()["items"] == virus[6].items
    assert shown("--at", f"{virus[6].valid_from.date():%Y%m%d}")["version_number"] == 6  # that night's midnight
    text = run(demo_database, "gmorris", "config", "show", "VIRUS", "--at", inside, "--known-at", before_correction)
    assert text.output.splitlines()[1].startswith("superseded 2026-")
    assert f"{len(virus[4].items)} items:" in text.output


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["show", "NOPE"], "no instrument 'NOPE' has a recorded configuration (known: ROBO-CAM, VIRUS)"),
        (["history", "NOPE"], "no instrument 'NOPE' has a recorded configuration (known: ROBO-CAM, VIRUS)"),
        (["show", "VIRUS", "--at", "2020-01-01T00:00"], "VIRUS has no configuration recorded for 2020-01-01 00:00:00"),
        (["show", "VIRUS", "--at", "yesterday"], "--at: 'yesterday' is not allowed; expected empty, 'latest'"),
    ],
)
def test_read_refusals_name_what_exists(demo_database: str, args: list[str], expected: str) -> None:
    result = run(demo_database, "gmorris", "config", *args)
    assert result.exit_code == 1 and expected in result.output, result.output
    assert "Traceback" not in result.output


# --- writing: put ----------------------------------------------------------------------------------------------------


def ifus(count: int, *, shift: float = 0.0, first_ifu: int = 100) -> dict[str, dict]:
    """``count`` IFUs in the first seats, at their nominal positions plus ``shift`` arcsec in x."""
    return {
        seat: {
            "x_fp": nominal_position(seat)[0] + shift,
            "y_fp": nominal_position(seat)[1],
            "specid": 10 + n,
            "specslot": n + 1,
            "ifuid": f"{first_ifu + n:03d}",
            "ifurot": 0.0,
            "platesc": 1.0,
        }
        for n, seat in enumerate(SEATS[:count])
    }


@pytest.fixture
def desk(migrated_url: str, sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    """tcs (telescope), root (admin) and pat (usint) on a migrated database."""
    with sessions() as session, session.begin():
        for name, roles in {"tcs": ["telescope"], "root": ["admin"], "pat": ["usint"]}.items():
            add_user(session, name, roles, now=fixed_clock)
    return sessions


def versions_of(sessions: sessionmaker[Session]) -> list[ConfigVersion]:
    with sessions() as session:
        return history(session, "VIRUS")


def test_put_of_an_fplane_file_then_of_json_records_versions(
    migrated_url: str, desk: sessionmaker[Session], tmp_path: Path
) -> None:
    first = ifus(5, shift=0.125)
    fplane = tmp_path / "fplane20261101.txt"
    fplane.write_text(render(first))

    done = run(migrated_url, "tcs", "config", "put", str(fplane), "--from", "2026-11-01T18:00", "--comment", "first")

    assert done.exit_code == 0, done.output
    assert done.output == "VIRUS version 1 recorded by tcs, in force from 2026-11-01 18:00 UTC\n"
    (one,) = versions_of(desk)
    assert one.items == first and one.valid_from == datetime(2026, 11, 1, 18, tzinfo=UTC)  # naive --from is UTC
    assert (one.recorded_by, one.source, one.comment) == ("tcs", "manual", "first")

    second = ifus(6, shift=0.125)
    second["011"]["ifuid"] = "099"
    again = run(migrated_url, "root", "config", "put", json.dumps(second), "--from", "2026-11-10T19:00:00Z")

    assert again.exit_code == 0, again.output
    assert again.output.splitlines() == [
        "VIRUS version 2 recorded by root, in force from 2026-11-10 19:00 UTC (version 1 ends then)",
        "changes from version 1: 1 added, 0 removed, 1 changed",
        f"  added    {SEATS[5]}",
        "  changed  011 ifuid: 100 -> 099",
    ]
    one, two = versions_of(desk)
    assert one.valid_to == two.valid_from and two.items == second and two.recorded_by == "root"


def render(items: dict[str, dict]) -> str:
    from obslab.configs.fplane import render_fplane

    return render_fplane(fplane_from_items(items, full=True, actual=True))


def test_a_json_file_and_standard_input_are_read_too(
    migrated_url: str, desk: sessionmaker[Session], tmp_path: Path
) -> None:
    items = tmp_path / "items.json"
    items.write_text(json.dumps(ifus(3), indent=2))
    assert run(migrated_url, "tcs", "config", "put", str(items), "--from", "2026-11-01T18:00").exit_code == 0
    piped = run(migrated_url, "tcs", "config", "put", "-", "--from", "2026-11-02T18:00", stdin=render(ifus(4)))
    assert piped.exit_code == 0, piped.output
    assert [v.items for v in versions_of(desk)] == [ifus(3), ifus(4)]


def test_a_dry_run_shows_the_change_and_writes_nothing(
    migrated_url: str, desk: sessionmaker[Session], tmp_path: Path
) -> None:
    assert run(migrated_url, "tcs", "config", "put", json.dumps(ifus(3)), "--from", "2026-11-01T18:00").exit_code == 0
    with desk() as session:
        before = table_counts(session)

    dry = run(migrated_url, "tcs", "config", "put", json.dumps(ifus(2)), "--from", "2026-11-05T18:00", "--dry-run")

    assert dry.exit_code == 0, dry.output
    assert dry.output.splitlines() == [
        "dry run: VIRUS version 2 would be in force from 2026-11-05 18:00 UTC (version 1 ends then); nothing recorded",
        "changes from version 1: 0 added, 1 removed, 0 changed",
        f"  removed  {SEATS[2]}",
    ]
    as_json = run(
        migrated_url, "tcs", "config", "put", json.dumps(ifus(2)), "--from", "2026-11-05T18", "--dry-run", "--json"
    )
    assert json.loads(as_json.output) | {"valid_from": None} == {
        "instrument": "VIRUS",
        "version_number": 2,
        "previous_version": 1,
        "dry_run": True,
        "recorded": False,
        "valid_from": None,
        "diff": {"added": [], "removed": [SEATS[2]], "changed": []},
    }
    # Refused as the real write would be (it starts before the version in force): exit 1, nothing written.
    refused = run(migrated_url, "tcs", "config", "put", json.dumps(ifus(2)), "--from", "2026-10-01T18:00", "--dry-run")
    assert refused.exit_code == 1 and "valid_from: '2026-10-01T18:00:00+00:00' is not allowed" in refused.output
    with desk() as session:
        assert table_counts(session) == before


def test_the_same_items_again_record_nothing(migrated_url: str, desk: sessionmaker[Session]) -> None:
    assert run(migrated_url, "tcs", "config", "put", json.dumps(ifus(3)), "--from", "2026-11-01T18:00").exit_code == 0
    same = run(migrated_url, "tcs", "config", "put", json.dumps(ifus(3)), "--from", "2026-11-03T18:00")
    assert same.exit_code == 0
    assert same.output == "VIRUS: no change from version 1, in force at 2026-11-03 18:00 UTC; nothing recorded\n"
    assert len(versions_of(desk)) == 1


def test_a_stale_seen_version_is_refused_naming_who_recorded(migrated_url: str, desk: sessionmaker[Session]) -> None:
    assert run(migrated_url, "tcs", "config", "put", json.dumps(ifus(3)), "--from", "2026-11-01T18:00").exit_code == 0
    with desk() as session:
        before = table_counts(session)
    stale = run(
        migrated_url, "root", "config", "put", json.dumps(ifus(4)), "--from", "2026-11-02T18:00", "--seen-version", "0"
    )
    assert stale.exit_code == 1
    assert "the configuration of VIRUS was recorded as version 1 by tcs at" in stale.output
    assert "(you saw version 0); reload and try again" in stale.output
    with desk() as session:
        assert table_counts(session) == before
    fresh = run(
        migrated_url, "root", "config", "put", json.dumps(ifus(4)), "--from", "2026-11-02T18:00", "--seen-version", "1"
    )
    assert fresh.exit_code == 0, fresh.output


@pytest.mark.parametrize("dry_run", [[], ["--dry-run"]], ids=["write", "dry-run"])
def test_a_user_without_the_role_is_refused(migrated_url: str, desk: sessionmaker[Session], dry_run: list[str]) -> None:
    with desk() as session:
        before = table_counts(session)
    refused = run(migrated_url, "pat", "config", "put", json.dumps(ifus(3)), "--from", "2026-11-01T18:00", *dry_run)
    assert refused.exit_code == 1
    assert "pat may not record configurations of VIRUS: that needs one of the roles 'admin', 'telescope'" in (
        refused.output
    )
    with desk() as session:
        assert table_counts(session) == before


@pytest.mark.parametrize(
    ("source", "args", "expected"),
    [
        ("013 1.0 2.0 8 1 021 0.0\n", [], "line 1, columns: 7 is not allowed; expected 8 columns"),
        ('{"013": {"x_fp": 1.0,}}', [], 'source line 1, column 22: \'{"013": {"x_fp": 1.0,}}\' is not allowed'),
        ('{"013": 5}', [], 'expected a JSON object of items: {"key": {"attribute": value, ...}, ...}'),
        ('{"013": {"x_fp": 1.0}}', [], "013.y_fp: None is not allowed; expected a finite number"),
        ("no/such/file.txt", [], "source: 'no/such/file.txt' is not allowed; expected an fplane file, a JSON file"),
        (None, ["--instrument", "ROBO-CAM"], "instrument: 'ROBO-CAM' is not allowed; expected VIRUS for an fplane"),
        ('{"013": {}}', ["--from", "20261101"], "--from: '20261101' is not allowed; expected a UTC time in ISO 8601"),
    ],
)
def test_input_refusals_name_field_value_and_what_is_allowed(
    migrated_url: str, desk: sessionmaker[Session], tmp_path: Path, source: str | None, args: list[str], expected: str
) -> None:
    if source is None or source.startswith("013"):
        path = tmp_path / "fplane.txt"
        path.write_text(source or render(ifus(2)))
        source = str(path)
    options = args if "--from" in args else [*args, "--from", "2026-11-01T18:00"]
    result = run(migrated_url, "tcs", "config", "put", source, *options)
    assert result.exit_code != 0
    assert expected in result.output, result.output
    assert "Traceback" not in result.output and versions_of(desk) == []


# --- fetching: get from a live API, then from the kept copy -------------------------------------------------------


def get(*args: str, data: Path) -> Result:
    return CliRunner().invoke(main, ["config", "get", *args], env={"OBSLAB_DATA_DIR": str(data)})


def test_get_writes_what_the_server_sends_and_falls_back_to_the_kept_copy_when_it_is_gone(
    demo_database: str, virus: dict[int, ConfigVersion], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "data"
    night = virus[6].valid_from.date()
    datestr = f"{night:%Y%m%d}"
    context = context_on(demo_database)
    with running_api(context) as base:
        fetched = get(datestr, "--actual", "--url", base, data=data)
        assert fetched.exit_code == 0, fetched.output
        sent = call(base, "GET", f"/fplane/{datestr}?actual_pos=1&full_fplane=1").body
        # The standard-library client of the API tests, with nothing but the standard library (no site-packages).
        (tmp_path / "stdlib").mkdir()
        client = [sys.executable, "-I", "-S", "-c", textwrap.dedent(CLIENT), base, str(tmp_path / "stdlib"), datestr]
        subprocess.run(client, check=True, timeout=60, capture_output=True)
        to_stdout = get(datestr, "--actual", "--url", base, "-o", "-", data=data)
        refused = get("20100101", "--url", base, data=data)
    context.close()

    saved = tmp_path / f"fplane{datestr}.txt"
    assert saved.read_bytes() == sent == (tmp_path / "stdlib" / saved.name).read_bytes() == to_stdout.stdout_bytes
    assert items_from_fplane(parse_fplane(saved.read_text())) == virus[6].items
    assert (
        fetched.stdout
        == f"fplane{datestr}.txt: VIRUS version 6 at {night + timedelta(days=1)} 07:00:00 UTC from {base}\n"
    )
    (kept,) = (data / FOLDER).iterdir()
    assert kept.name == f"{datestr}-{night + timedelta(days=1):%Y%m%d}T070000Z-full-actual.txt"
    assert kept.read_bytes() == sent
    assert refused.exit_code == 1 and "answered 404 Not Found: no VIRUS focal plane is recorded for" in refused.output

    # The server is gone: the kept copy stands in for the same night and flags, at or after the moment it was for.
    saved.unlink()
    later = f"{night + timedelta(days=1)}T09:30:00"  # 02:30 at Kitt Peak, the same night
    for asked, name in ((datestr, saved.name), (later, saved.name)):
        fallback = get(asked, "--actual", "--url", base, data=data)
        assert fallback.exit_code == 0, fallback.output
        assert fallback.stderr.startswith(f"obslab: cannot reach the obslab API at {base}/fplane/")
        assert "(Connection refused); using the kept copy " + kept.name in fallback.stderr
        assert f"fetched for {night + timedelta(days=1)} 07:00:00 UTC (night of {night})" in fallback.stderr
        assert (tmp_path / name).read_bytes() == sent

    # Nothing kept for these: another flag, earlier in the night than the copy, another night.
    earlier = f"{night + timedelta(days=1)}T04:00:00"  # 21:00 the evening before the copy's midnight
    for asked in (
        [datestr, "--actual", "--short"],
        [datestr],
        [earlier, "--actual"],
        [f"{night + timedelta(days=1):%Y%m%d}", "--actual"],
    ):
        nothing = get(*asked, "--url", base, data=data)
        assert nothing.exit_code == 1
        (line,) = nothing.output.splitlines()
        assert line.startswith(f"Error: cannot reach the obslab API at {base}/fplane/")
        assert "is kept in" in line and "--url or OBSLAB_API_URL" in line


def test_get_refuses_a_url_it_cannot_use(tmp_path: Path) -> None:
    result = get("--url", "ftp://example.org", data=tmp_path)
    assert result.exit_code == 1
    assert "--url: 'ftp://example.org' is not allowed; expected an http:// or https:// URL" in result.output
    bad = CliRunner().invoke(
        main, ["config", "get"], env={"OBSLAB_API_URL": "localhost:8867", "OBSLAB_DATA_DIR": str(tmp_path)}
    )
    assert bad.exit_code == 1 and "OBSLAB_API_URL: 'localhost:8867' is not allowed" in bad.output
