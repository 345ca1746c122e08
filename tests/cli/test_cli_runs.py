"""``obslab runs list|show`` and ``obslab programs``: a person sees only their programs' exposures, by name too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy.orm import Session, sessionmaker

from obslab.cli import main
from tests.helpers.pipeline_night import NIGHT, NightFiles, reduced_night


def obslab(url: str, who: str, *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"OBSLAB_DATABASE_URL": url, "OBSLAB_ACTING_USER": who})


@pytest.fixture
def night(sessions: sessionmaker[Session], tmp_path: Path) -> NightFiles:
    return reduced_night(sessions, tmp_path, {"root": ["admin"], "ann": ["usint"], "bob": ["usint"]}, {})


def test_members_list_and_show_their_programs_only(migrated_url: str, night: NightFiles) -> None:
    added = obslab(migrated_url, "root", "programs", "add-member", "4", "ann")
    assert added.exit_code == 0 and added.output == "ann is now a member of program 4\n"

    listed = json.loads(obslab(migrated_url, "ann", "runs", "list", "--kind", "science", "--json").output)
    assert [row["name"] for row in listed["rows"]] == [night.science[0]] and listed["total"] == 1
    assert "0 of 0 exposures" in obslab(migrated_url, "ann", "runs", "list", "--seeing-nearest", "3:").output
    assert "1 of 1 exposures" in obslab(migrated_url, "ann", "runs", "list", "--seeing-nearest", ":3").output
    magnitude = listed["rows"][0]["magnitude"]
    assert f"mag {magnitude:.2f}" in obslab(migrated_url, "ann", "runs", "list", "--kind", "science").output
    for bounds, shown in ((f"{magnitude - 0.01}:{magnitude + 0.01}", 1), (f"{magnitude + 0.01}:", 0), ("0:1", 0)):
        only = json.loads(obslab(migrated_url, "ann", "runs", "list", "--magnitude", bounds, "--json").output)
        assert only["total"] == shown, bounds
    text = obslab(migrated_url, "ann", "runs", "list", "--night", NIGHT, "--stages", "done").output
    assert night.science[0] in text and night.science[1] not in text
    assert text.splitlines()[-1].startswith("1 of 1 exposures shown")

    shown = obslab(migrated_url, "ann", "runs", "show", night.science[0])
    assert shown.exit_code == 0 and "stack    done" in shown.output and "20p.fits" in shown.output
    refused = obslab(migrated_url, "ann", "runs", "show", night.science[1])
    assert refused.exit_code == 1 and f"no exposure '{night.science[1]}' that you may see" in refused.output
    assert json.loads(obslab(migrated_url, "bob", "runs", "list", "--json").output)["total"] == 0
    nights = obslab(migrated_url, "ann", "runs", "nights").output.splitlines()
    assert len(nights) == 1 and nights[0].startswith(f"{NIGHT}  5 exposures (4 1); seeing ")
    assert nights[0].endswith("calibration done; stages: 3 done")
    assert obslab(migrated_url, "bob", "runs", "nights").output == "no nights with exposures you may see\n"


def test_only_admins_change_members_and_bad_filters_are_refused(migrated_url: str, night: NightFiles) -> None:
    denied = obslab(migrated_url, "ann", "programs", "add-member", "4", "ann")
    assert denied.exit_code == 1 and "ann may not change program members" in denied.output
    for args, message in [
        (("--strehl", "high"), "'high' is not a range: expected MIN:MAX"),
        (("--magnitude", "bright"), "'bright' is not a range: expected MIN:MAX"),
        (("--cone", "1,2"), "'1,2' is not a cone"),
        (("--night", "2026"), "'2026' is not a night"),
        (("--sort", "secret"), "sort"),
        (("--per-page", "0"), "per_page"),
    ]:
        result = obslab(migrated_url, "root", "runs", "list", *args)
        assert result.exit_code != 0 and message in result.output and "Traceback" not in result.output


def test_download_copies_the_nights_products_you_may_see_in_the_archive_layout(
    migrated_url: str, night: NightFiles, tmp_path: Path
) -> None:
    obslab(migrated_url, "root", "programs", "add-member", "4", "ann")
    out = tmp_path / "copy"
    result = obslab(migrated_url, "ann", "runs", "download", "--night", NIGHT, "-o", str(out), "--json")
    assert result.exit_code == 0, result.output
    copied = {str(Path(entry["copy"]).relative_to(out / NIGHT)) for entry in json.loads(result.output)["copied"]}
    mine = night.science[0]
    assert {f"{mine}/20p.fits", f"{mine}/100p.fits", f"{mine}/preview/20p.png", "calib/dark_0.fits"} <= copied
    assert not any(night.science[1] in path for path in copied)  # the other program's products stay out
    only = obslab(migrated_url, "ann", "runs", "download", "--night", NIGHT, "--program", "24.1", "-o", str(out))
    assert only.exit_code == 1 and "no products of night 20261205 in program 24.1 that you may download" in only.output
    nobody = obslab(migrated_url, "bob", "runs", "download", "--night", NIGHT, "-o", str(tmp_path / "bob"))
    assert nobody.exit_code == 1 and not (tmp_path / "bob").exists()


def test_alarms_list_and_ack_through_the_command(
    migrated_url: str, sessions: sessionmaker[Session], night: NightFiles, tmp_path: Path
) -> None:
    rules = tmp_path / "alarms.toml"
    rules.write_text('[[rule]]\nname = "low"\nmetric = "strehl_percent"\nnotify = ["admin"]\noutside = [90.0, 100.0]\n')
    env = {"OBSLAB_DATABASE_URL": migrated_url, "OBSLAB_ACTING_USER": "root", "OBSLAB_ALARM_RULES_FILE": str(rules)}
    env["OBSLAB_PRODUCTS_DIR"] = str(tmp_path / "products")
    runner = CliRunner()
    assert runner.invoke(main, ["runs", "redo", night.science[0], "strehl"], env=env).exit_code == 0
    assert runner.invoke(main, ["pipeline", "run", "--night", NIGHT], env=env).exit_code == 0
    listed = json.loads(runner.invoke(main, ["alarms", "list", "--json"], env=env).output)
    assert [(a["rule"], a["exposure"]) for a in listed] == [("low", night.science[0])]
    acked = runner.invoke(main, ["alarms", "ack", str(listed[0]["id"])], env=env)
    assert acked.exit_code == 0 and acked.output == f"alarm {listed[0]['id']} acknowledged\n"
    again = runner.invoke(main, ["alarms", "ack", str(listed[0]["id"])], env=env)
    assert again.exit_code == 1 and "was acknowledged by root" in again.output
    assert runner.invoke(main, ["alarms", "list"], env=env).output.splitlines()[-1] == "0 open alarms"
    shown = runner.invoke(main, ["runs", "show", night.science[0]], env=env).output  # beside the exposure, too
    values = ", ".join(f"{v:g}" for v in listed[0]["values"])
    assert f"  alarm {listed[0]['id']} low on strehl_percent ({values}), acknowledged " in shown
    assert "\n  alarm " not in runner.invoke(main, ["runs", "show", night.science[1]], env=env).output
