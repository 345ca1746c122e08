"""``obslab observe ingest``: refused files named line by line, the summary, --json, exit codes, no tracebacks."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from obslab.audit import AuditEvent
from obslab.cli import main
from obslab.observing.models import Exposure
from obslab.observing.naming import make_name
from obslab.users import add_user
from tests.helpers.raw_night import CAMERA, DUSK, NIGHT, cut_short, write_exposure
from tests.helpers.support import fixed_clock, table_counts


def run(url: str, *args: str, who: str = "pipe") -> Result:
    env = {"OBSLAB_DATABASE_URL": url, "OBSLAB_ACTING_USER": who}
    return CliRunner().invoke(main, ["observe", "ingest", *args], env=env)


@pytest.fixture
def pipe(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, session.begin():
        add_user(session, "pipe", ["pipeline"], email="pipe@obs.example", now=fixed_clock)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    night = tmp_path / NIGHT
    write_exposure(night, "24", "M31", DUSK)
    write_exposure(night, "24.1", "NGC_1234_b", DUSK + timedelta(minutes=1), parts=(2, 2))
    write_exposure(night, "dark", "", DUSK - timedelta(hours=1))
    (night / "notes.txt").write_text("clear\n")
    return night


def test_a_night_with_a_bad_file_names_it_and_ingests_the_rest(
    migrated_url: str, pipe: None, folder: Path, sessions: sessionmaker[Session]
) -> None:
    bad = folder / (make_name("24", "Noise", CAMERA, "i", DUSK + timedelta(minutes=5)) + ".fits")
    bad.write_bytes(os.urandom(4000))
    result = run(migrated_url, str(folder))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"refused {bad.name}: is not a FITS file: it does not begin with 'SIMPLE  ='",
        "ignored (not .fits or .fits.bz2): notes.txt",
        "3 exposures added, 0 updated, 0 unchanged, 0 missing, 1 file refused",
    ]
    with sessions() as session:
        assert len(session.scalars(select(Exposure)).all()) == 3
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "night.ingested"))
        assert event.actor_name == "pipe" and event.after["added"] == 3

    again = run(migrated_url, str(folder))  # nothing changed: nothing recorded, still a success
    assert again.exit_code == 0 and again.output.splitlines()[-1].startswith(
        "0 exposures added, 0 updated, 3 unchanged"
    )

    next(path for path in folder.iterdir() if path.name.startswith("24_M31_")).unlink()
    gone = run(migrated_url, str(folder), "--json")
    assert gone.exit_code == 0, gone.output
    shown = json.loads(gone.output)
    assert shown["night"] == "2026-11-21" and shown["missing"][0]["exposure"].startswith("24_M31_")
    assert [r["file"] for r in shown["refused"]] == [bad.name] and shown["all_refused"] is False
    assert len(shown["unchanged"]) == 2 and shown["missing"][0]["files"][0].startswith("24_M31_")
    assert shown["ignored"] == ["notes.txt"]


def test_every_file_refused_exits_2_and_writes_nothing(
    migrated_url: str, pipe: None, tmp_path: Path, sessions: sessionmaker[Session]
) -> None:
    night = tmp_path / NIGHT
    short = cut_short(write_exposure(night, "24", "M31", DUSK)[0])
    undated = write_exposure(night, "24", "M33", DUSK, drop=("DATE-OBS",))[0]
    with sessions() as session:
        before = table_counts(session)
    result = run(migrated_url, str(night))
    assert result.exit_code == 2, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"refused {short.name}: is truncated: ")
    assert lines[1] == (
        f"refused {undated.name}: the header has no DATE-OBS; expected the UTC start of the first frame, "
        "e.g. '2026-11-21T03:04:05.1'"
    )
    assert lines[-1] == "0 exposures added, 0 updated, 0 unchanged, 0 missing, 2 files refused"
    as_json = run(migrated_url, str(night), "--json")
    assert as_json.exit_code == 2 and json.loads(as_json.output)["all_refused"] is True
    with sessions() as session:
        assert table_counts(session) == before


def test_the_night_and_who_acts_are_checked_without_tracebacks(
    migrated_url: str, pipe: None, folder: Path, tmp_path: Path
) -> None:
    other = tmp_path / "incoming"
    other.mkdir()
    m31 = next(path for path in folder.iterdir() if path.name.startswith("24_M31_"))
    m31.rename(other / m31.name)
    unnamed = run(migrated_url, str(other))
    assert unnamed.exit_code == 1 and "Traceback" not in unnamed.output
    assert "DIRECTORY: 'incoming' is not allowed; expected a night folder named YYYYMMDD" in unnamed.output
    given = run(migrated_url, str(other), "--night", "20261121")
    assert given.exit_code == 0 and given.output.splitlines()[-1].startswith("1 exposure added,")
    bad_night = run(migrated_url, str(other), "--night", "2026-11-21")
    assert bad_night.exit_code == 2 and "'2026-11-21' is not a night: expected YYYYMMDD" in bad_night.output
    stranger = run(migrated_url, str(folder), who="nobody")
    assert stranger.exit_code == 1 and "user 'nobody' is not known to obslab" in stranger.output
    absent = run(migrated_url, str(tmp_path / "nowhere"))
    assert absent.exit_code == 2 and "does not exist" in absent.output
