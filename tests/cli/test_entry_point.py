"""Commands that write, run as a user runs them: the installed ``obslab`` in a fresh process, one process each.

A process that loads only part of the model registry fails at its first flush (a foreign key to a table it
never imported), and an in-process test never sees it, since the test has loaded every model.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from obslab.catalog.models import Revision, SignOff
from obslab.catalog.types import SignOffState
from obslab.configs.fplane import items_from_fplane, parse_fplane
from obslab.configs.service import history
from obslab.scheduling.models import ObservingRequest, Schedule
from tests.helpers.catalog_world import World, build_world
from tests.helpers.voevents import swift_bat_grb

# Each test runs the installed command in fresh processes (several seconds each): scripts/test runs them.
pytestmark = pytest.mark.slow

#: The console script pip installed beside this interpreter: what a user types.
OBSLAB = str(Path(sys.executable).with_name("obslab"))


def obslab(url: str, who: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"OBSLAB_DATABASE_URL": url, "OBSLAB_ACTING_USER": who}
    return subprocess.run([OBSLAB, *args], capture_output=True, text=True, env=env, timeout=timeout, check=False)


def fresh_too(trigger: int) -> str:
    return swift_bat_grb(trigger, datetime.now(UTC).replace(microsecond=0), 150.0, -20.0)


@pytest.fixture
def world(migrated_url: str, sessions: sessionmaker[Session]) -> World:
    with sessions() as session, session.begin():
        return build_world(session)


def test_the_entry_point_is_installed() -> None:
    assert Path(OBSLAB).is_file(), f"{OBSLAB}: run scripts/bootstrap to install obslab"


def test_a_fresh_too_ingested_by_the_installed_command_becomes_a_request_and_a_stored_plan(
    migrated_url: str, world: World, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    added = obslab(migrated_url, "root", "users", "add", "sched", "--role", "scheduler")
    assert added.returncode == 0, added.stderr
    packet = tmp_path / "bat.xml"
    packet.write_text(fresh_too(1_200_001))

    done = obslab(migrated_url, "sched", "alerts", "ingest", str(packet), "--json")

    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    (result,) = json.loads(done.stdout)
    assert result["status"] == "accepted" and result["plan_version"] == 1, result
    with sessions() as session:
        request = session.scalar(select(ObservingRequest).where(ObservingRequest.id == result["request"]))
        assert request is not None and request.priority == 10
        (night,) = session.scalars(select(Schedule.night)).all()

    # A plan stored by the command itself, on top of the alert's re-plan.
    planned = obslab(migrated_url, "sched", "plan", "--night", night.isoformat(), "--json")
    assert planned.returncode == 0, planned.stderr
    assert json.loads(planned.stdout)["schedule_version"] == 2


def test_alerts_watch_keeps_taking_packets_in_its_own_process(
    migrated_url: str, world: World, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    assert obslab(migrated_url, "root", "users", "add", "sched", "--role", "scheduler").returncode == 0
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    env = os.environ | {"OBSLAB_DATABASE_URL": migrated_url, "OBSLAB_ACTING_USER": "sched"}
    watcher = subprocess.Popen(
        [OBSLAB, "alerts", "watch", str(inbox), "--interval", "0.2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        for number, trigger in enumerate((1_200_002, 1_200_003), start=1):
            (inbox / f"{trigger}.xml.part").write_text(fresh_too(trigger))
            (inbox / f"{trigger}.xml.part").rename(inbox / f"{trigger}.xml")  # arrives whole, as a mailer drops it
            deadline = time.monotonic() + 60
            while not (inbox / "done" / f"{trigger}.xml").exists():
                assert watcher.poll() is None, watcher.communicate()[1]
                assert not (inbox / "refused" / f"{trigger}.xml").exists()
                assert time.monotonic() < deadline, "the watcher did not take the packet within a minute"
                time.sleep(0.1)
            with sessions() as session:
                assert session.scalar(select(func.count()).select_from(ObservingRequest)) == number
                assert session.scalar(select(func.max(Schedule.version_number))) == number
        assert watcher.poll() is None, "the watcher stopped after taking packets"
    finally:
        watcher.terminate()
        _out, err = watcher.communicate(timeout=30)
    assert "Traceback" not in err


def test_a_change_request_and_its_sign_off_through_the_installed_command(
    migrated_url: str, world: World, sessions: sessionmaker[Session]
) -> None:
    submitted = obslab(migrated_url, "pat", "changes", "submit", str(world.acis), "--set", "frame_time=2.8", "--json")
    assert submitted.returncode == 0, submitted.stderr
    label = json.loads(submitted.stdout)["revision"]

    signed = obslab(migrated_url, "ops", "changes", "sign", label, "acis", "--json")

    assert signed.returncode == 0, signed.stderr
    with sessions() as session:
        revision_id = session.scalar(select(Revision.id).where(Revision.obsid == world.acis))
        state = session.scalar(select(SignOff.state).where(SignOff.revision_id == revision_id, SignOff.area == "acis"))
    assert state is SignOffState.SIGNED


FPLANE = (
    "# IFUSLOT X_FP Y_FP SPECID SPECSLOT IFUID IFUROT PLATESC\n"
    "000\t0.000\t0.000\t900\t900\t900\t0.000\t1.000\n"
    "013\t-400.031\t-200.000\t008\t001\t021\t0.000\t1.000\n"
    "014\t-400.000\t-100.000\t009\t002\t022\t0.500\t1.000\n"
)


def test_a_configuration_put_from_an_fplane_file_through_the_installed_command(
    migrated_url: str, world: World, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    assert obslab(migrated_url, "root", "users", "add", "tcs", "--role", "telescope").returncode == 0
    fplane = tmp_path / "fplane20261101.txt"
    fplane.write_text(FPLANE)

    done = obslab(migrated_url, "tcs", "config", "put", str(fplane), "--from", "2026-11-01T18:00", "--json")

    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert json.loads(done.stdout)["version_number"] == 1
    with sessions() as session:
        (version,) = history(session, "VIRUS")
    assert version.items == items_from_fplane(parse_fplane(FPLANE)) and version.recorded_by == "tcs"
