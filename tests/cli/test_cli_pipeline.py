"""``obslab pipeline run`` and ``status``: summaries, skips on a second run, reasons for failures, clear refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy.orm import Session, sessionmaker

from obslab.cli.pipeline import STAGES
from obslab.observing.pipeline.graph import DEPENDS_ON
from obslab.observing.pipeline.night_lock import night_lock
from tests.helpers.pipeline_night import NIGHT, NightFiles, night_for_the_command, pipeline_command


def run(url: str, products: Path, *args: str, who: str = "pipe") -> Result:
    return pipeline_command(url, products, *args, who=who)


@pytest.fixture
def night(sessions: sessionmaker[Session], tmp_path: Path) -> NightFiles:
    return night_for_the_command(sessions, tmp_path / "raw")


def test_only_the_pipeline_role_runs_it(migrated_url: str, night: NightFiles, tmp_path: Path) -> None:
    result = run(migrated_url, tmp_path / "products", "run", "--night", NIGHT, who="sam")
    assert result.exit_code == 1
    assert "sam may not run the reduction pipeline: that needs the role 'pipeline' (roles held: usint)" in result.output
    assert not (tmp_path / "products").exists()


def test_the_commands_stage_choices_are_the_graphs() -> None:
    assert set(STAGES) == set(DEPENDS_ON)


def test_run_reduces_the_night_then_skips_it_and_status_says_so(
    migrated_url: str, night: NightFiles, tmp_path: Path
) -> None:
    products = tmp_path / "products"
    first = run(migrated_url, products, "run", "--night", NIGHT, "--workers", "2")
    assert first.exit_code == 0, first.output
    assert first.stdout.splitlines() == [
        f"night {NIGHT}: 8 done, 0 skipped as up to date, 0 failed, 0 given up, 0 waiting"
    ]
    assert "2 threads" in first.stderr  # the progress bar names where the tasks ran, on stderr
    assert (products / NIGHT / "calib" / "dark_0.fits").is_file()

    second = run(migrated_url, products, "run", "--night", NIGHT, "--json")
    summary = json.loads(second.stdout)
    assert summary["counts"] == {"done": 0, "up to date": 8, "failed": 0, "gave up": 0, "waiting": 0}

    status = run(migrated_url, products, "status", "--night", NIGHT)
    assert status.exit_code == 0, status.output
    lines = status.stdout.splitlines()
    assert lines[0] == f"night {NIGHT}"
    assert [line.split()[0] for line in lines[1:]] == ["calibration", "seeing", "stack", "strehl", "preview"]
    assert "2 done" in lines[3] and "failed" not in status.stdout
    as_json = json.loads(run(migrated_url, products, "status", "--json").stdout)
    assert as_json[0]["night"] == NIGHT and as_json[0]["failures"] == []


def test_a_failure_is_reported_with_its_reason_and_a_nonzero_exit(
    migrated_url: str, night: NightFiles, tmp_path: Path
) -> None:
    broken = next(night.folder.glob("24.1_*.fits"))
    broken.write_bytes(b"SIMPLE  = garbage")
    products = tmp_path / "products"
    result = run(migrated_url, products, "run", "--night", NIGHT)
    assert result.exit_code == 1
    assert f"failed: stack of {night.science[1]}: {broken.name}" in result.stdout
    assert "Traceback" not in result.output
    again = run(migrated_url, products, "run", "--night", NIGHT)  # one retry allowed: given up, not failed again
    assert again.exit_code == 0 and f"gave up: stack of {night.science[1]}: failed 1 times" in again.stdout
    status = run(migrated_url, products, "status", "--night", NIGHT).stdout
    assert f"failed: stack of {night.science[1]} after 1 tries: {broken.name}" in status


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("run", "--night", "2026"), "'2026' is not a night: expected YYYYMMDD"),
        (("run", "--night", "20261399"), "'20261399' is not a night"),
        (("run", "--night", "20250101"), "night 20250101 has no exposures recorded; ingest it first"),
        (("run", "--night", NIGHT, "--exposure", "nope"), "exposure"),
        (("run", "--night", NIGHT, "--stage", "bake"), "'bake' is not one of"),
        (("status", "--night", "20250101"), "night 20250101 is not recorded"),
    ],
)
def test_bad_input_is_refused_clearly_and_runs_nothing(
    migrated_url: str, night: NightFiles, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    products = tmp_path / "products"
    result = run(migrated_url, products, *args)
    assert result.exit_code != 0 and message in result.output and "Traceback" not in result.output
    assert not products.exists()


def test_a_run_of_a_night_another_run_holds_is_refused_in_one_line(
    migrated_url: str, night: NightFiles, tmp_path: Path
) -> None:
    products = tmp_path / "products"
    with night_lock(products.resolve(), NIGHT):
        result = run(migrated_url, products, "run", "--night", NIGHT)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr.strip().splitlines()[-1].startswith(f"Error: night {NIGHT} is being reduced by another run")
    assert not (products / NIGHT).exists()  # nothing ran
