"""``obslab alerts listen`` on a real broker (librdkafka's mock cluster) and the test database: every notice stored
once, however often the listener is killed and restarted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from obslab.cli import main
from obslab.demo import notices
from obslab.demo.voevents import swift_bat_grb
from obslab.scheduling.models import Alert, ObservingRequest
from tests.helpers.kafka import MockBroker

TOPIC = "gcn.classic.voevent.SWIFT_BAT_GRB_POS_ACK"
#: The console script pip installed beside this interpreter: what a service manager runs.
OBSLAB = str(Path(sys.executable).with_name("obslab"))
SECRET = "gcn-client-secret-Zq81"


def environment(url: str, broker: MockBroker, **more: str) -> dict[str, str]:
    return {
        "OBSLAB_DATABASE_URL": url,
        "OBSLAB_ACTING_USER": "sched",
        "OBSLAB_KAFKA_TOPICS": TOPIC,
        "OBSLAB_KAFKA_GROUP_ID": "obslab-listen-test",
        "OBSLAB_KAFKA_CONFIG": json.dumps(broker.listener_config),
        "OBSLAB_KAFKA_CLIENT_ID": "gcn-client-id",
        "OBSLAB_KAFKA_CLIENT_SECRET": SECRET,
        **more,
    }


def fresh_bat(number: int) -> str:
    """A Swift BAT position of a burst a minute old, far from every other one (no two are the same event)."""
    when = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    return swift_bat_grb(1_500_000 + number, when, (number * 11.0) % 360, -30.0 + number)


def listen(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, ["alerts", "listen", *args], env=env)


def test_listen_takes_notices_shows_one_line_each_and_keeps_a_health_file(
    scheduler_db: str, broker: MockBroker, tmp_path: Path, sessions: sessionmaker[Session]
) -> None:
    broker.produce(TOPIC, fresh_bat(1), b"<not a VOEvent")
    health = tmp_path / "health.json"

    with broker.heartbeats():
        result = listen(environment(scheduler_db, broker), "--max-messages", "2", "--health-file", str(health))

    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output and SECRET not in result.output
    lines = result.output.splitlines()
    assert f"{TOPIC}[0]@0: accepted: " in result.output
    assert any(line.startswith(f"{TOPIC}[0]@1: refused: ") for line in lines), lines
    assert lines[-1].startswith("listen: stopped (done): 2 notices (1 accepted, 1 refused)"), lines
    assert broker.committed("obslab-listen-test", TOPIC) == 2
    record = json.loads(health.read_text())
    assert record["counts"]["notices"] == 2 and record["last_notice"] == f"{TOPIC}[0]@1"
    assert SECRET not in health.read_text()
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Alert)) == 1


def test_listen_without_gcn_credentials_is_refused_in_one_line(scheduler_db: str) -> None:
    result = listen({"OBSLAB_DATABASE_URL": scheduler_db, "OBSLAB_ACTING_USER": "sched"})

    assert result.exit_code == 1 and len(result.output.splitlines()) == 1, result.output
    assert "OBSLAB_KAFKA_CLIENT_ID and OBSLAB_KAFKA_CLIENT_SECRET" in result.output


def test_listen_refuses_a_user_who_may_not_ingest_before_taking_any_notice(
    scheduler_db: str, broker: MockBroker
) -> None:
    broker.produce(TOPIC, fresh_bat(2))

    result = listen(environment(scheduler_db, broker, OBSLAB_ACTING_USER="pat"), "--max-messages", "1")

    assert result.exit_code == 1 and "scheduler" in result.output, result.output
    assert broker.committed("obslab-listen-test", TOPIC) == 0  # a refusal per notice would have lost them all


def json_notices() -> dict[str, bytes]:
    """One JSON notice of each of today's producers, each far from the bursts and from each other."""
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=2)
    return {
        notices.GUANO_TOPIC: notices.guano("initial", 1, trigger=now, ra=200.0, dec=45.0),
        notices.EINSTEIN_PROBE_TOPIC: notices.einstein_probe(trigger=now, ra=250.0, dec=55.0),
        notices.ICECUBE_TOPIC: notices.icecube(trigger=now, ra=300.0, dec=65.0),
        notices.GWALERT_TOPIC: notices.gwalert(
            "PRELIMINARY", "S261208cx", created=now, skymap=notices.multiorder_map(330.0, 20.0, 3.0)
        ),
    }


def start(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [OBSLAB, "alerts", "listen", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ | env,
    )


def shown(listener: subprocess.Popen[str], count: int) -> list[str]:
    """The next ``count`` notice lines on the listener's output (each arrives as it is taken)."""
    assert listener.stdout is not None
    lines = [listener.stdout.readline() for _ in range(count)]
    assert all("]@" in line for line in lines), lines
    return lines


def notice_lines(out: str, err: str) -> list[str]:
    """A listener's lines about notices: taken ones on its output, refused ones on its error output."""
    return [line for line in out.splitlines() + err.splitlines() if "]@" in line and "listen:" not in line]


def taken(lines: list[str]) -> list[tuple[str, int]]:
    """(topic, offset) of each notice line, e.g. 'igwn.gwalert[0]@0: accepted: ...'."""
    labels = [line.split(": ", 1)[0] for line in lines if line.strip()]
    return [(label.split("[")[0], int(label.split("@")[1])) for label in labels]


@pytest.mark.slow  # three listener processes, each joining the group anew: about 20 s
def test_a_listener_killed_mid_stream_and_restarted_stores_every_notice_once(
    scheduler_db: str, broker: MockBroker, sessions: sessionmaker[Session]
) -> None:
    broker.produce(TOPIC, *[fresh_bat(number) for number in range(30)])
    for topic, payload in json_notices().items():
        broker.produce(topic, payload)
    expected = {(TOPIC, offset) for offset in range(30)} | {(topic, 0) for topic in json_notices()}
    env = environment(scheduler_db, broker, OBSLAB_KAFKA_TOPICS=",".join({topic for topic, _ in expected}))
    group = env["OBSLAB_KAFKA_GROUP_ID"]

    killed = start(env)
    first = shown(killed, 8)
    killed.send_signal(signal.SIGKILL)  # no chance to commit what it has in hand
    first += notice_lines(*killed.communicate(timeout=30))  # what it showed before the kill landed

    stopped = start(env)
    second = shown(stopped, 8)
    stopped.send_signal(signal.SIGTERM)  # a service manager's stop: the notice in hand finished, then exit 0
    out, err = stopped.communicate(timeout=60)
    assert stopped.returncode == 0, err
    assert "listen: stopped (signal)" in err and "Traceback" not in err + out
    second += notice_lines(out, err)
    for topic, offset in taken(first + second):  # everything shown so far was committed
        assert broker.committed(group, topic) > offset

    finished = subprocess.run(
        [OBSLAB, "alerts", "listen", "--idle-exit", "2"], capture_output=True, text=True, env=os.environ | env
    )
    assert finished.returncode == 0, finished.stderr

    # Every notice was shown; one shown twice was stored before a kill and recognised when it came again.
    lines = first + second + notice_lines(finished.stdout, finished.stderr)
    assert set(taken(lines)) == expected, lines
    assert len([line for line in lines if ": duplicate: " not in line]) == len(expected), lines
    assert {topic: broker.committed(group, topic) for topic, _ in expected} == {TOPIC: 30} | dict.fromkeys(
        json_notices(), 1
    )
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Alert)) == len(expected)
        bursts = select(Alert.id).where(Alert.source == TOPIC)
        made = session.scalars(select(ObservingRequest.alert_id).where(ObservingRequest.alert_id.in_(bursts))).all()
        assert len(made) == len(set(made)) == 30  # each burst made its request, none made one twice
        places = session.execute(select(ObservingRequest.alert_id, ObservingRequest.ra_deg, ObservingRequest.dec_deg))
        places = places.all()
        assert len(places) == len(set(places))  # nor did a sky map's tiles come twice


@pytest.mark.slow  # a listener process joining the group, then a try and a retry: about 7 s
def test_a_notice_the_database_cannot_take_now_is_retried_until_it_can_and_never_skipped(
    scheduler_db: str, broker: MockBroker, engine: Engine, sessions: sessionmaker[Session]
) -> None:
    broker.produce(TOPIC, fresh_bat(40), fresh_bat(41))
    with engine.begin() as connection:  # the alerts table gone for now: every ingest fails in the database
        connection.execute(text("ALTER TABLE alerts RENAME TO alerts_away"))
    listener = start(environment(scheduler_db, broker))
    assert listener.stderr is not None
    try:
        line = ""
        while "not taken" not in line:
            line = listener.stderr.readline()
            assert line, "the listener stopped before trying the notice"
        # SQLite says "no such table: alerts", PostgreSQL 'relation "alerts" does not exist'.
        assert line.startswith(f"listen: {TOPIC}[0]@0 not taken (the database at ") and "alerts" in line, line
        assert "trying it again in 1 s" in line and "Traceback" not in line

        with engine.begin() as connection:
            connection.execute(text("ALTER TABLE alerts_away RENAME TO alerts"))
        taken_now = shown(listener, 2)
    finally:
        listener.send_signal(signal.SIGTERM)
        out, err = listener.communicate(timeout=60)
    assert listener.returncode == 0, err
    assert [label.split(": ")[:2] for label in taken_now] == [
        [f"{TOPIC}[0]@0", "accepted"],
        [f"{TOPIC}[0]@1", "accepted"],
    ]
    assert broker.committed("obslab-listen-test", TOPIC) == 2
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Alert)) == 2
