"""A real Kafka broker for the listener's tests: librdkafka's in-process mock cluster, on a loopback port.

The cluster lives inside this process's admin client for as long as the ``MockBroker`` does; any client, in this
process or another (``obslab alerts listen`` as a subprocess), reaches it at ``bootstrap`` in plain text. Topics
are made by producing to them (the mock has no CreateTopics), four partitions each; the helpers write to
partition 0, so a topic's notices come back in the order written.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

HEARTBEAT = "gcn.heartbeat"
#: librdkafka's own log lines (the mock cluster's start, a disconnect when it stops) go nowhere.
QUIET = logging.getLogger("tests.kafka")
QUIET.addHandler(logging.NullHandler())
QUIET.propagate = False
#: What a listener needs to reach the mock broker, plus a short session: a killed listener's partitions go to
#: the next one after 3 s instead of 45 (the mock's group still waits 3 s before the first assignment).
TIMINGS = {"session.timeout.ms": 3000, "heartbeat.interval.ms": 500}


@dataclass
class MockBroker:
    admin: AdminClient
    bootstrap: str
    producer: Producer = field(init=False)

    def __post_init__(self) -> None:
        self.producer = Producer({"bootstrap.servers": self.bootstrap, "logger": QUIET})

    @property
    def listener_config(self) -> dict[str, object]:
        """OBSLAB_KAFKA_CONFIG for a listener on this broker."""
        return {"bootstrap.servers": self.bootstrap, "security.protocol": "plaintext", **TIMINGS}

    def produce(self, topic: str, *payloads: bytes | str) -> None:
        for payload in payloads:
            self.producer.produce(topic, payload.encode() if isinstance(payload, str) else payload, partition=0)
        assert self.producer.flush(10) == 0, f"the mock broker did not take the messages for {topic}"

    def heartbeat(self) -> None:
        self.produce(HEARTBEAT, json.dumps({"alert_datetime": datetime.now(UTC).isoformat()}))

    @contextmanager
    def heartbeats(self, every: float = 0.2) -> Iterator[None]:
        """GCN's heartbeat, every ``every`` seconds while inside (a listener starts at the newest heartbeat)."""
        done = threading.Event()

        def beat() -> None:
            while not done.wait(every):
                self.heartbeat()

        self.heartbeat()  # the topic exists before anyone subscribes
        beating = threading.Thread(target=beat, daemon=True)
        beating.start()
        try:
            yield
        finally:
            done.set()
            beating.join()

    def committed(self, group: str, topic: str) -> int:
        """How many of ``topic``'s partition-0 messages ``group`` has committed (the next offset it will read)."""
        reader = Consumer({"bootstrap.servers": self.bootstrap, "group.id": group, "logger": QUIET})
        try:
            (partition,) = reader.committed([TopicPartition(topic, 0)], timeout=10)
        finally:
            reader.close()
        return max(partition.offset, 0)  # no commit yet is OFFSET_INVALID (-1001)


@contextmanager
def mock_broker() -> Iterator[MockBroker]:
    admin = AdminClient({"test.mock.num.brokers": "1", "logger": QUIET})
    (broker,) = admin.list_topics(timeout=10).brokers.values()
    yield MockBroker(admin, f"{broker.host}:{broker.port}")
