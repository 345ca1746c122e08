"""The GCN Kafka listener's loop against a real broker (librdkafka's mock cluster) and gcn-kafka's real Consumer.

The notice handler here stands in for ``ingest_payload`` (the database is the CLI tests' business): it records
what it was given and, where a test says so, fails as a database that is down does.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from obslab.errors import SettingsError
from obslab.scheduling.listener import (
    HEARTBEAT_TOPIC,
    Backoff,
    Health,
    Listener,
    ListenOptions,
    check_settings,
    make_consumer,
    secrets,
    stop_on_signals,
)
from obslab.settings import Settings, load_settings
from tests.helpers.kafka import MockBroker, mock_broker

TOPIC = "gcn.classic.voevent.SWIFT_BAT_GRB_POS_ACK"
GROUP = "obslab-test"


#: Tests on the mock broker take 3 to 7 s each (its group waits 3 s before the first assignment): the slow tier.
BROKER_TIME = pytest.mark.slow


@pytest.fixture
def broker() -> Iterator[MockBroker]:
    with mock_broker() as broker:
        yield broker


class Run:
    """One listener on the broker, with what it handled, showed and said."""

    def __init__(self, broker: MockBroker, *, topics: tuple[str, ...] = (TOPIC,), secret: str = "", **options: Any):
        self.broker = broker
        self.handled: list[bytes] = []
        self.shown: list[tuple[str, dict[str, object]]] = []
        self.said: list[str] = []
        self.failures: dict[bytes, int] = {}  # payload: how many more tries fail
        self.settings = Settings(
            kafka_topics=list(topics),
            kafka_group_id=GROUP,
            kafka_config=broker.listener_config,
            kafka_client_secret=secret,
        )
        self.options = ListenOptions(**{"backoff_first": 0.05, "idle_exit": 8.0, "stale_after": 5.0, **options})
        self.committed_when_handled: list[int] = []

    def handle(self, topic: str, payload: bytes) -> dict[str, object]:
        self.committed_when_handled.append(self.broker.committed(GROUP, topic))
        self.handled.append(payload)
        if self.failures.get(payload, 0) > 0:
            self.failures[payload] -= 1
            raise OperationalError("INSERT INTO alerts", {}, Exception("server closed the connection unexpectedly"))
        if payload.startswith(b"bad"):
            return {"refused": "not a VOEvent: no root element"}
        return {"status": "accepted", "decision": "ok", "request": None, "plan_version": None}

    def listener(self, stop: threading.Event) -> Listener:
        return Listener(
            connect=lambda on_error: make_consumer(self.settings, on_error),
            topics=self.settings.kafka_topics,
            handle=self.handle,
            show=lambda label, result: self.shown.append((label, result)),
            say=self.said.append,
            options=self.options,
            stop=stop,
            secrets=secrets(self.settings),
        )

    def __call__(self, stop: threading.Event | None = None) -> Health:
        return self.listener(stop or threading.Event()).run()


@BROKER_TIME
def test_each_notice_is_committed_only_after_it_was_handled_and_heartbeats_are_not_notices(
    broker: MockBroker, tmp_path: Path
) -> None:
    broker.produce(TOPIC, b"n0", b"n1", b"n2")
    topics = (TOPIC, "gcn.notices.quiet.topic")
    run = Run(broker, topics=topics, idle_exit=1.5, health_file=tmp_path / "h.json")

    with broker.heartbeats(every=0.1):  # still beating in the idle time after the last notice
        health = run()

    assert run.handled == [b"n0", b"n1", b"n2"], run.said
    assert run.committed_when_handled == [0, 1, 2]  # each notice's offset was still open while it was handled
    assert broker.committed(GROUP, TOPIC) == 3
    assert [label for label, _ in run.shown] == [f"{TOPIC}[0]@{offset}" for offset in range(3)]
    assert health.counts["notices"] == 3 and health.counts["accepted"] == 3 and health.counts["heartbeats"] > 0
    assert HEARTBEAT_TOPIC not in {label.split("[")[0] for label, _ in run.shown}
    assert broker.committed(GROUP, HEARTBEAT_TOPIC) == 0  # heartbeats are read from the newest, never committed
    unknown = [line for line in run.said if "no recent messages" in line]
    assert len(unknown) == 1 and "Unknown topic or partition" in unknown[0], run.said
    record = json.loads((tmp_path / "h.json").read_text())
    assert record["counts"]["notices"] == 3 and record["last_notice"] == f"{TOPIC}[0]@2"


@BROKER_TIME
def test_a_transient_failure_is_retried_on_the_same_notice_and_nothing_after_it_is_lost(broker: MockBroker) -> None:
    broker.produce(TOPIC, b"n0", b"n1", b"n2")
    run = Run(broker, max_messages=3)
    run.failures[b"n1"] = 3

    health = run()

    assert run.handled == [b"n0", b"n1", b"n1", b"n1", b"n1", b"n2"]
    assert run.committed_when_handled == [0, 1, 1, 1, 1, 2]  # nothing committed past n1 until n1 was taken
    assert broker.committed(GROUP, TOPIC) == 3
    retries = [line for line in run.said if "not taken" in line]
    assert [line.rsplit("again in ", 1)[1] for line in retries] == ["0.05 s", "0.1 s", "0.2 s"]  # exponential
    assert "server closed the connection unexpectedly" in retries[0] and f"{TOPIC}[0]@1" in retries[0]
    assert health.counts["retries"] == 3 and health.counts["notices"] == 3


@BROKER_TIME
def test_a_refused_notice_is_shown_and_committed_since_it_will_never_get_better(broker: MockBroker) -> None:
    broker.produce(TOPIC, b"bad0", b"n1")
    run = Run(broker, max_messages=2)

    health = run()

    assert run.handled == [b"bad0", b"n1"]
    assert run.shown[0] == (f"{TOPIC}[0]@0", {"refused": "not a VOEvent: no root element"})
    assert broker.committed(GROUP, TOPIC) == 2
    assert health.counts["refused"] == 1 and health.counts["accepted"] == 1


@BROKER_TIME
@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_finishes_and_commits_the_notice_in_hand_then_stops(broker: MockBroker, number: int) -> None:
    broker.produce(TOPIC, b"n0", b"n1", b"n2")
    run = Run(broker, idle_exit=None)
    handle = run.handle

    def terminated_while_handling(topic: str, payload: bytes) -> dict[str, object]:
        os.kill(os.getpid(), number)  # arrives in the middle of the notice
        return handle(topic, payload)

    run.handle = terminated_while_handling
    before = signal.getsignal(number)
    with stop_on_signals() as stop:
        run(stop)

    assert stop.is_set() and signal.getsignal(number) is before  # and the handler before it is back
    assert run.handled == [b"n0"]
    assert broker.committed(GROUP, TOPIC) == 1  # the notice in hand was finished and committed


@BROKER_TIME
def test_a_stop_while_waiting_to_retry_leaves_the_notice_uncommitted_for_next_time(broker: MockBroker) -> None:
    broker.produce(TOPIC, b"n0")
    run = Run(broker, idle_exit=None, backoff_first=30.0)
    run.failures[b"n0"] = 1
    stop = threading.Event()
    handle = run.handle

    def fails_then_stopped(topic: str, payload: bytes) -> dict[str, object]:
        threading.Timer(0.2, stop.set).start()
        return handle(topic, payload)

    run.handle = fails_then_stopped
    run(stop)

    assert run.handled == [b"n0"]
    assert broker.committed(GROUP, TOPIC) == 0
    again = Run(broker, max_messages=1)
    again()
    assert again.handled == [b"n0"] and broker.committed(GROUP, TOPIC) == 1


@BROKER_TIME
def test_the_client_secret_is_never_said_even_when_an_error_quotes_it(broker: MockBroker) -> None:
    secret = "s3cr3t-from-gcn"
    broker.produce(TOPIC, b"n0")
    run = Run(broker, secret=secret, max_messages=1)
    handle = run.handle
    failed = []

    def quoting(topic: str, payload: bytes) -> dict[str, object]:
        if not failed:
            failed.append(True)
            raise OperationalError("SELECT 1", {}, Exception(f"password authentication failed for {secret!r}"))
        return handle(topic, payload)

    run.handle = quoting
    run()

    assert any("password authentication failed for '***'" in line for line in run.said), run.said
    assert not any(secret in line for line in run.said)


def test_backoff_doubles_up_to_its_cap_and_starts_over_after_a_success() -> None:
    backoff = Backoff(first=1.0, cap=10.0)
    assert [backoff.next() for _ in range(6)] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    backoff.reset()
    assert backoff.next() == 1.0


def test_health_goes_stale_without_heartbeats_and_recovers_with_one_line_each() -> None:
    health = Health(stale_after=0.05)
    assert health.change() is None
    threading.Event().wait(0.1)
    stale = health.change()
    assert stale is not None and stale.startswith("health: stale, no gcn.heartbeat message for")
    assert health.change() is None  # said once
    health.heartbeat(
        b'{"$schema": "https://gcn.nasa.gov/schema/v4.0.0/gcn/notices/core/Alert.schema.json", '
        b'"alert_datetime": "2026-12-08T03:00:00Z"}'
    )
    assert health.change() == "health: recovered, gcn.heartbeat at 2026-12-08T03:00:00Z"
    assert health.record()["healthy"] is True and health.record()["counts"] == {"heartbeats": 1}


def test_a_librdkafka_setting_it_refuses_is_named_before_connecting() -> None:
    settings = Settings(kafka_config={"bootstrap.servers": "127.0.0.1:1", "security.protocol": "plain"})
    with pytest.raises(SettingsError, match='OBSLAB_KAFKA_CONFIG: Invalid value "plain" for configuration property'):
        make_consumer(settings, print)
    quoted = Settings(
        kafka_client_secret="s3cr3t", kafka_config={"bootstrap.servers": "x:1", "security.protocol": "s3cr3t"}
    )
    with pytest.raises(SettingsError) as refused:
        make_consumer(quoted, print)
    assert 'Invalid value "***"' in str(refused.value) and "s3cr3t" not in str(refused.value)


def test_without_credentials_or_a_broker_of_its_own_the_listener_is_refused_before_connecting() -> None:
    with pytest.raises(SettingsError, match="OBSLAB_KAFKA_CLIENT_ID and OBSLAB_KAFKA_CLIENT_SECRET"):
        check_settings(Settings())
    check_settings(Settings(kafka_client_id="abc", kafka_client_secret="def"))
    check_settings(Settings(kafka_config={"bootstrap.servers": "127.0.0.1:9092"}))


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("OBSLAB_KAFKA_TOPICS", "igwn.gwalert, gcn notices", "'gcn notices' is not a Kafka topic name"),
        ("OBSLAB_KAFKA_TOPICS", "[]", "no topics"),
        (
            "OBSLAB_KAFKA_CONFIG",
            "bootstrap.servers=x",
            "OBSLAB_KAFKA_CONFIG='bootstrap.servers=x': Value error, not a JSON object",
        ),
        ("OBSLAB_KAFKA_CONFIG", '{"enable.auto.commit": true}', "the listener commits each offset itself"),
        ("OBSLAB_KAFKA_CONFIG", '{"group.id": "x"}', "set OBSLAB_KAFKA_GROUP_ID instead"),
        ("OBSLAB_KAFKA_DOMAIN", "kafka.example.org", "'gcn.nasa.gov', 'test.gcn.nasa.gov' or 'dev.gcn.nasa.gov'"),
        ("OBSLAB_KAFKA_GROUP_ID", "", "OBSLAB_KAFKA_GROUP_ID=''"),
    ],
)
def test_kafka_settings_are_refused_by_name(
    variable: str, value: str, words: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match="invalid settings") as refused:
        load_settings()
    assert variable in str(refused.value) and words in str(refused.value)


def test_kafka_topics_come_as_a_list_or_separated_by_commas_without_repeats(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OBSLAB_KAFKA_TOPICS", "igwn.gwalert, gcn.notices.swift.bat.guano,igwn.gwalert")
    assert load_settings().kafka_topics == ["igwn.gwalert", "gcn.notices.swift.bat.guano"]
    monkeypatch.setenv("OBSLAB_KAFKA_TOPICS", '["igwn.gwalert"]')
    assert load_settings().kafka_topics == ["igwn.gwalert"]
    assert "igwn.gwalert" in Settings().kafka_topics and "gcn.heartbeat" not in Settings().kafka_topics


@BROKER_TIME
def test_an_unreachable_broker_is_said_once_per_kind_of_trouble_while_librdkafka_retries(tmp_path: Path) -> None:
    settings = Settings(
        kafka_topics=[TOPIC],
        kafka_config={
            "bootstrap.servers": "127.0.0.1:1",
            "security.protocol": "plaintext",
            "reconnect.backoff.ms": 50,
            "reconnect.backoff.max.ms": 100,
        },
    )
    said: list[str] = []
    stop = threading.Event()
    threading.Timer(3.0, stop.set).start()
    listener = Listener(
        connect=lambda on_error: make_consumer(settings, on_error),
        topics=settings.kafka_topics,
        handle=lambda topic, payload: pytest.fail("no broker, no notice"),
        show=lambda label, result: None,
        say=said.append,
        options=ListenOptions(),
        stop=stop,
    )

    health = listener.run()

    troubles = [line for line in said if line.startswith("listen: broker trouble, librdkafka keeps retrying: ")]
    assert troubles and any("127.0.0.1:1" in line for line in troubles), said
    assert len(troubles) == len(set(listener.troubles)) <= 2, said  # about 30 tries in 3 s, each kind said once
    assert health.counts["notices"] == 0
