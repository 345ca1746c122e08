"""Reports executed for real: papermill on the obslab kernel, HTML archived, reused for the same data, failures kept."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from obslab.access import find_user
from obslab.cli import main
from obslab.errors import InvalidInputError, PermissionDeniedError
from obslab.observing.models import Alarm, Night
from obslab.reports.models import Report
from obslab.reports.runner import ReportFailedError, run_report
from obslab.reports.types import ReportState
from obslab.settings import Settings
from tests.helpers.support import fixed_clock

NIGHT = "20261119"  # over at the demo's clock; 20261120 ends at local noon the day the clock stands in


def staff(sessions: sessionmaker[Session]) -> object:
    with sessions() as session:
        return find_user(session, "sobrien")


def test_the_nightly_report_runs_is_archived_and_is_reused_until_its_data_changes(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    who = staff(sessions)
    first = run_report(sessions, settings, who, "nightly", {"night": NIGHT}, now=fixed_clock)
    assert first.state == "done" and not first.cached and first.duration_s > 0
    html = Path(first.html_path).read_text()
    assert "the night of 2026-11-19" in html and "Time accounting" in html and "Bokeh" in html
    assert Path(first.html_path).parent == settings.reports_dir / "nightly" / NIGHT / str(first.report_id)
    assert not list((settings.reports_dir / ".partial").iterdir())

    started = time.perf_counter()
    again = run_report(sessions, settings, who, "nightly", {"night": NIGHT}, now=fixed_clock)
    assert again.cached and again.report_id == first.report_id and time.perf_counter() - started < 0.5

    with sessions.begin() as session:  # something the report shows changes: an alarm of the night is looked at
        night_id = session.scalar(select(Night.id).where(Night.night_date == date(2026, 11, 19)))
        session.add(
            Alarm(
                rule="r",
                metric_id=1,
                metric_name="seeing_arcsec",
                night_id=night_id,
                raised_at=fixed_clock(),
                measured_at=datetime(2026, 11, 20, 3, tzinfo=UTC),
                values=[2.0],
            )
        )
    fresh = run_report(sessions, settings, who, "nightly", {"night": NIGHT}, now=fixed_clock)
    assert not fresh.cached and fresh.report_id != first.report_id
    forced = run_report(sessions, settings, who, "nightly", {"night": NIGHT}, force=True, now=fixed_clock)
    assert not forced.cached and forced.report_id not in (first.report_id, fresh.report_id)
    with sessions() as session:
        rows = session.scalars(select(Report).order_by(Report.id)).all()
    assert [r.state for r in rows] == [ReportState.DONE] * 3
    assert rows[0].parameters == {"night": NIGHT} and rows[0].created_by_id == who.id
    assert rows[1].data_fingerprint != rows[0].data_fingerprint  # the alarm added changed what the report shows
    assert rows[2].data_fingerprint == rows[1].data_fingerprint  # forced, not changed


def test_a_failing_template_is_recorded_with_its_cell_and_leaves_nothing_in_the_archive(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    with pytest.raises(ReportFailedError, match=r"failed: cell 3: ZeroDivisionError: division by zero \(in: ratio / 0"):
        run_report(sessions, settings, staff(sessions), "broken", {"night": NIGHT}, now=fixed_clock)
    with sessions() as session:
        (failed,) = session.scalars(select(Report).where(Report.template == "broken")).all()
    assert failed.state == ReportState.FAILED and failed.failed_cell == 3  # the template's third cell
    assert "ZeroDivisionError" in failed.error and failed.html_path is None and failed.duration_s > 0
    assert not (settings.reports_dir / "broken").exists()
    assert not list((settings.reports_dir / ".partial").iterdir())


def test_refusals_change_nothing(sessions: sessionmaker[Session], settings: Settings) -> None:
    with sessions() as session:
        before = session.scalars(select(Report.id)).all()
    with pytest.raises(InvalidInputError, match="night: '20261120' is not allowed; expected a night that is over"):
        run_report(sessions, settings, staff(sessions), "nightly", {"night": "20261120"}, now=fixed_clock)
    with sessions() as session:
        usint = find_user(session, "jchen")
    with pytest.raises(PermissionDeniedError, match="one of the roles 'pipeline', 'staff'"):
        run_report(sessions, settings, usint, "nightly", {"night": NIGHT}, now=fixed_clock)
    with sessions() as session:
        assert session.scalars(select(Report.id)).all() == before
    assert not settings.reports_dir.exists()


def test_the_command_runs_lists_and_reuses_a_report(writable_demo_database: str, tmp_path: Path) -> None:
    env = {
        "OBSLAB_DATABASE_URL": writable_demo_database,
        "OBSLAB_DATA_DIR": str(tmp_path / "data"),
        "OBSLAB_ACTING_USER": "sobrien",
    }
    runner = CliRunner()
    # --force: this module's earlier tests archived the same night, which a plain run would reuse.
    ran = runner.invoke(main, ["report", "run", "nightly", "--night", NIGHT, "--force", "--json"], env=env)
    assert ran.exit_code == 0, ran.output
    outcome = json.loads(ran.output)
    assert outcome["state"] == "done" and not outcome["cached"] and Path(outcome["html"]).is_file()
    again = runner.invoke(main, ["report", "run", "nightly", "--night", NIGHT], env=env)
    reused = f"report {outcome['id']} done from the archive (same template, parameters and data): {outcome['html']}\n"
    assert again.output == reused
    listed = json.loads(runner.invoke(main, ["report", "list", "--night", NIGHT, "--json"], env=env).output)
    assert [(r["id"], r["state"], r["run_by"]) for r in listed][:1] == [(outcome["id"], "done", "sobrien")]
    refused = runner.invoke(main, ["report", "run", "nightly", "--night", NIGHT, "--param", "colour=red"], env=env)
    assert refused.exit_code == 1 and refused.output.startswith("Error: parameter: 'colour' is not allowed")


def test_a_run_whose_files_cannot_be_written_is_recorded_failed_not_left_running(
    sessions: sessionmaker[Session], writable_demo_database: str, tmp_path: Path
) -> None:
    blocked = tmp_path / "data"
    blocked.write_text("a file where the data folder should be")  # so no folder under it can be made
    settings = Settings(database_url=writable_demo_database, data_dir=blocked)
    with pytest.raises(ReportFailedError, match="NotADirectoryError") as raised:  # forced: no archived copy
        run_report(sessions, settings, staff(sessions), "nightly", {"night": NIGHT}, force=True, now=fixed_clock)
    with sessions() as session:
        report = session.get(Report, raised.value.details["report"])
        assert report.state == ReportState.FAILED and report.finished_at is not None and report.html_path is None
        assert "NotADirectoryError" in report.error
