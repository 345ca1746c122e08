"""``obslab trends show``: a metric's points in time as you may see them, alarms marked, nights, markers, refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy.orm import Session, sessionmaker

from obslab.cli import main
from tests.helpers.pipeline_night import NIGHT, NightFiles, reduced_night

RULE = '[[rule]]\nname = "low"\nmetric = "strehl_percent"\nnotify = ["admin"]\noutside = [90.0, 100.0]\n'


def obslab(url: str, who: str, *args: str, **env: str) -> Result:
    variables = {"OBSLAB_DATABASE_URL": url, "OBSLAB_ACTING_USER": who, **env}
    return CliRunner().invoke(main, list(args), env=variables)


@pytest.fixture
def night(migrated_url: str, sessions: sessionmaker[Session], tmp_path: Path) -> NightFiles:
    """The small night reduced; ann in program 4; the first science exposure's Strehl redone under an alarm rule."""
    files = reduced_night(sessions, tmp_path, {"root": ["admin"], "ann": ["usint"], "bob": ["usint"]}, {"ann": "4"})
    rules = tmp_path / "alarms.toml"
    rules.write_text(RULE)
    env = {"OBSLAB_ALARM_RULES_FILE": str(rules), "OBSLAB_PRODUCTS_DIR": str(tmp_path / "products")}
    assert obslab(migrated_url, "root", "runs", "redo", files.science[0], "strehl").exit_code == 0
    assert obslab(migrated_url, "root", "pipeline", "run", "--night", NIGHT, **env).exit_code == 0
    return files


def test_points_in_time_order_alarms_marked_as_each_person_may_see(migrated_url: str, night: NightFiles) -> None:
    lines = obslab(migrated_url, "root", "trends", "show", "strehl_percent").output.splitlines()
    assert lines[0] == "strehl_percent (%): 2 points on 1 night"
    first, second = lines[1:3]
    assert first.startswith("2026-12-06 02:10 UTC  20261205  ") and night.science[0] in first
    assert first.endswith("Si/0  ALARM low") and second.endswith("Sr/0") and night.science[1] in second
    assert lines[3:] == ["1 alarm (1 open): obslab alarms list"]

    anns = obslab(migrated_url, "ann", "trends", "show", "strehl_percent", "--json")
    points = json.loads(anns.output)["points"]
    assert [(p["exposure"], p["alarm_rules"], p["unit"]) for p in points] == [(night.science[0], ["low"], "%")]
    only_sr = obslab(migrated_url, "root", "trends", "show", "strehl_percent", "--filter", "Sr", "--since", NIGHT)
    assert only_sr.output.splitlines()[0] == "strehl_percent (%): 1 point on 1 night"

    nightly = json.loads(obslab(migrated_url, "root", "trends", "show", "fwhm_arcsec", "--per-night", "--json").output)
    assert "points" not in nightly and [(n["night"], n["count"]) for n in nightly["nights"]] == [("2026-12-05", 2)]
    assert nightly["markers"] == []  # no configuration recorded for this night's instrument
    text = obslab(migrated_url, "ann", "trends", "show", "seeing_median_arcsec", "--per-night").output.splitlines()
    assert text[0] == "seeing_median_arcsec (arcsec): 1 point on 1 night" and text[1].startswith("20261205  median 1.")


def test_refusals_are_one_line_naming_field_value_and_what_is_allowed(migrated_url: str, night: NightFiles) -> None:
    for who, args, message in [
        ("root", ("strehl",), "metric: 'strehl' is not allowed; expected one of core_arcsec, "),
        ("root", ("strehl_percent", "--since", "20261206", "--until", NIGHT), "since: '20261206' is not allowed"),
        ("root", ("strehl_percent", "--since", "2026"), "'2026' is not a night: expected YYYYMMDD"),
        ("root", ("strehl_percent", "--mode", "9"), "camera_mode: '9' is not allowed; expected one of 0, or none"),
        ("bob", ("strehl_percent",), "metric: 'strehl_percent' is not allowed; expected a metric (none yet)"),
    ]:
        result = obslab(migrated_url, who, "trends", "show", *args)
        assert result.exit_code != 0 and message in result.output, result.output
        assert "Traceback" not in result.output and result.output.strip().splitlines()[-1].startswith("Error: ")


def test_the_demo_shows_its_camera_change_between_its_nights(demo_database: str) -> None:
    result = obslab(demo_database, "sobrien", "trends", "show", "strehl_percent", "--filter", "Si")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("strehl_percent (%): ") and lines[0].endswith("on 3 nights")
    (marker,) = [line for line in lines if line.startswith("configuration change")]
    assert marker.startswith("configuration change 2026-11-19 18:00 UTC  ROBO-CAM v2: Filter wheel re-filled;")
    assert "camera em_gain 300 → 200" in marker
