"""GCN's Kafka notices in: each one handled in its own transaction and only then committed; heartbeats for health."""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from confluent_kafka import OFFSET_END, Consumer, KafkaError, KafkaException, Message, TopicPartition

from obslab.errors import SettingsError

if TYPE_CHECKING:
    from obslab.settings import Settings

#: GCN's liveness topic (about one message a second, JSON with ``alert_datetime``): watched, never ingested.
HEARTBEAT_TOPIC = "gcn.heartbeat"
#: librdkafka's own log lines are dropped: what matters reaches the error callback, and is said there once.
QUIET = logging.getLogger("obslab.kafka.librdkafka")
QUIET.addHandler(logging.NullHandler())
QUIET.propagate = False

#: What handles one notice: (topic, payload) to ingest_payload's result; raising means "not now, try again".
Handle = Callable[[str, bytes], dict[str, object]]
#: Where the listener says things: one line each, no traceback.
Say = Callable[[str], None]


@dataclass(frozen=True)
class ListenOptions:
    """When to stop, how long to wait between tries, and where to keep the health record."""

    max_messages: int | None = None  # notices (heartbeats not counted), then stop
    idle_exit: float | None = None  # seconds without a notice, counted once the group has handed out partitions
    stale_after: float = 60.0  # seconds without a heartbeat before health is stale
    backoff_first: float = 1.0
    backoff_cap: float = 60.0  # below librdkafka's max.poll.interval.ms (300 s), so the group keeps us
    poll_seconds: float = 0.5  # how late a stop request or a stale heartbeat is noticed, at most
    health_file: Path | None = None


def consumer_config(settings: Settings) -> dict[str, Any]:
    """librdkafka settings: the deployment's own, then what at-least-once delivery needs (not overridable)."""
    return (
        {"auto.offset.reset": "earliest"}
        | dict(settings.kafka_config)
        | {"group.id": settings.kafka_group_id, "enable.auto.commit": False, "logger": QUIET}
    )


def check_settings(settings: Settings) -> None:
    """Refuse before connecting when GCN could never let us in: no credentials and no broker of our own."""
    if not settings.kafka_client_id.get_secret_value() and "bootstrap.servers" not in settings.kafka_config:
        raise SettingsError(
            "no GCN Kafka credentials: set OBSLAB_KAFKA_CLIENT_ID and OBSLAB_KAFKA_CLIENT_SECRET (a client made at "
            "gcn.nasa.gov/quickstart), or name a broker of your own in OBSLAB_KAFKA_CONFIG's bootstrap.servers"
        )


def make_consumer(settings: Settings, on_error: Callable[[KafkaError], None]) -> Consumer:
    """gcn-kafka's Consumer: OIDC login to kafka.<domain> unless kafka_config points elsewhere."""
    from gcn_kafka import Consumer as GcnConsumer

    try:
        return GcnConsumer(
            config=consumer_config(settings) | {"error_cb": on_error},
            client_id=settings.kafka_client_id.get_secret_value() or None,
            client_secret=settings.kafka_client_secret.get_secret_value() or None,
            domain=settings.kafka_domain,
        )
    except KafkaException as error:  # librdkafka checks its settings here, before any connection
        text = redact(error.args[0].str(), secrets(settings))  # it quotes a value it refuses
        raise SettingsError(f"OBSLAB_KAFKA_CONFIG: {text} (librdkafka's settings: see its CONFIGURATION.md)") from None


def secrets(settings: Settings) -> tuple[str, ...]:
    """What must never be printed: the GCN client's id and secret."""
    values = (settings.kafka_client_id.get_secret_value(), settings.kafka_client_secret.get_secret_value())
    return tuple(value for value in values if value)


def redact(text: str, hidden: tuple[str, ...]) -> str:
    for value in hidden:
        text = text.replace(value, "***")
    return text


@contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """An event set by SIGTERM or SIGINT, so the notice in hand is finished and committed before stopping."""
    stop = threading.Event()
    previous = {number: signal.signal(number, lambda *_: stop.set()) for number in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


@dataclass
class Backoff:
    """Exponential waits, capped; reset by a success."""

    first: float
    cap: float
    failures: int = 0

    def next(self) -> float:
        delay = min(self.cap, self.first * 2**self.failures)
        self.failures += 1
        return delay

    def reset(self) -> None:
        self.failures = 0


@dataclass
class Health:
    """What a service manager checks: the last heartbeat and notice, and the counts so far."""

    stale_after: float
    started: float = field(default_factory=time.monotonic)
    heartbeat_at: float | None = None  # monotonic, when the last heartbeat arrived
    last_heartbeat: str | None = None  # its alert_datetime, as GCN wrote it
    last_notice: str | None = None
    last_notice_at: datetime | None = None
    counts: Counter[str] = field(default_factory=Counter)
    stale: bool = False

    def heartbeat(self, payload: bytes) -> None:
        self.heartbeat_at = time.monotonic()
        self.counts["heartbeats"] += 1
        try:
            self.last_heartbeat = str(json.loads(payload)["alert_datetime"])
        except (ValueError, KeyError, TypeError):
            pass  # a heartbeat we cannot read still shows the broker is delivering

    def notice(self, label: str, outcome: str) -> None:
        self.last_notice, self.last_notice_at = label, datetime.now(UTC)
        self.counts[outcome] += 1
        self.counts["notices"] += 1

    def change(self) -> str | None:
        """A line when health turns stale or recovers, else None."""
        quiet = time.monotonic() - (self.heartbeat_at if self.heartbeat_at is not None else self.started)
        if quiet > self.stale_after and not self.stale:
            self.stale = True
            return f"health: stale, no {HEARTBEAT_TOPIC} message for {quiet:.0f} s (the broker or the network?)"
        if quiet <= self.stale_after and self.stale:
            self.stale = False
            return f"health: recovered, {HEARTBEAT_TOPIC} at {self.last_heartbeat or 'an unreadable time'}"
        return None

    def record(self) -> dict[str, object]:
        return {
            "healthy": not self.stale and self.heartbeat_at is not None,
            "stale": self.stale,
            "last_heartbeat": self.last_heartbeat,
            "seconds_since_heartbeat": None
            if self.heartbeat_at is None
            else round(time.monotonic() - self.heartbeat_at, 1),
            "last_notice": self.last_notice,
            "last_notice_at": self.last_notice_at.isoformat() if self.last_notice_at else None,
            "counts": dict(self.counts),
            "written_at": datetime.now(UTC).isoformat(),
        }

    def write(self, path: Path) -> None:
        # Written aside and renamed, so a reader never sees half a record.
        part = path.with_name(path.name + ".part")
        part.write_text(json.dumps(self.record(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(part, path)


class FatalBrokerError(Exception):
    """librdkafka says this consumer cannot go on; a new one is made after a wait."""


class Listener:
    """The loop: poll, hand each notice to ``handle``, commit its offset once ``handle`` has returned."""

    def __init__(
        self,
        connect: Callable[[Callable[[KafkaError], None]], Consumer],
        topics: list[str],
        handle: Handle,
        show: Callable[[str, dict[str, object]], None],
        say: Say,
        options: ListenOptions,
        stop: threading.Event,
        describe: Callable[[Exception], str] = lambda error: f"{type(error).__name__}: {error}",
        secrets: tuple[str, ...] = (),
    ) -> None:
        self.connect, self.handle, self.show, self.options, self.stop = connect, handle, show, options, stop
        self.describe = describe
        self.topics = [*dict.fromkeys([*topics, HEARTBEAT_TOPIC])]
        self.secrets = secrets
        self._say = say
        self.health = Health(options.stale_after)
        self.retry = Backoff(options.backoff_first, options.backoff_cap)
        self.reconnect = Backoff(options.backoff_first, options.backoff_cap)
        self.idle_since: float | None = None  # set at the first assignment: joining the group is not idling
        self.said_unknown_topic = False
        self.troubles: set[int] = set()  # broker error codes said since messages last flowed
        self.fatal: KafkaError | None = None
        self.written = 0.0

    def say(self, line: str) -> None:
        # Error texts come from librdkafka and the database driver: whatever they quote, no secret is printed.
        self._say(redact(line, self.secrets))

    def run(self) -> Health:
        """Listen until stopped (signal, --max-messages, --idle-exit); a fatal broker error makes a new consumer."""
        while not self.finished():
            self.fatal = None
            consumer = self.connect(self.on_error)
            try:
                consumer.subscribe(self.topics, on_assign=self.on_assign)
                self.consume(consumer)
            except FatalBrokerError as error:
                self.say(f"listen: broker error, reconnecting: {error}")
                self.stop.wait(self.reconnect.next())
            finally:
                consumer.close()  # leaves the group at once, so a restart gets the partitions without waiting
        self.write_health(force=True)
        return self.health

    def finished(self) -> bool:
        max_messages, idle_exit = self.options.max_messages, self.options.idle_exit
        return (
            self.stop.is_set()
            or (max_messages is not None and self.health.counts["notices"] >= max_messages)
            or (
                idle_exit is not None and self.idle_since is not None and time.monotonic() - self.idle_since > idle_exit
            )
        )

    def consume(self, consumer: Consumer) -> None:
        while not self.finished():
            message = consumer.poll(self.options.poll_seconds)
            if self.fatal is not None:
                raise FatalBrokerError(self.fatal.str())
            self.tick()
            if message is None:
                continue
            error = message.error()
            if error is not None:
                self.on_error(error)
                continue
            self.flowing()
            if message.topic() == HEARTBEAT_TOPIC:
                self.health.heartbeat(message.value() or b"")
            else:
                self.take(consumer, message)

    def take(self, consumer: Consumer, message: Message) -> None:
        """One notice: handled, shown, then committed; if handling raised, put back and tried again later."""
        topic, label = message.topic(), f"{message.topic()}[{message.partition()}]@{message.offset()}"
        try:
            result = self.handle(topic, message.value() or b"")
        except Exception as error:  # the database is down, a lock, the network: nothing was stored
            self.put_back(consumer, message, label, error)
            return
        self.retry.reset()
        self.show(label, result)
        # Only now, with obslab's transaction committed, may Kafka forget the notice. A refused one is committed
        # too: it will never get better. A crash before this line means it comes again, and is a duplicate then.
        try:
            consumer.commit(message=message, asynchronous=False)
        except KafkaException as error:
            self.say(f"listen: {label} taken, its offset not committed ({error.args[0].str()}): it may come again")
        self.health.notice(label, "refused" if "refused" in result else str(result.get("status")))
        self.idle_since = time.monotonic()

    def put_back(self, consumer: Consumer, message: Message, label: str, error: Exception) -> None:
        delay = self.retry.next()
        self.health.counts["retries"] += 1
        self.say(
            f"listen: {label} not taken ({' '.join(self.describe(error).split())}); trying it again in {delay:g} s"
        )
        # Seek back: the next poll after the wait returns this same notice; nothing after it is committed first.
        try:
            consumer.seek(TopicPartition(message.topic(), message.partition(), message.offset()))
        except KafkaException as trouble:
            # Without the seek the notice would be skipped: a new consumer starts from the committed offsets.
            raise FatalBrokerError(f"cannot go back to {label}: {trouble.args[0].str()}") from None
        self.idle_since = time.monotonic() + delay  # waiting is not idling
        self.stop.wait(delay)

    def on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        # Heartbeats only tell the present: start at the end, never replay days of them (nor commit any).
        for partition in partitions:
            if partition.topic == HEARTBEAT_TOPIC:
                partition.offset = OFFSET_END
        consumer.assign(partitions)
        self.idle_since = time.monotonic()

    def on_error(self, error: KafkaError) -> None:
        """Broker trouble, from a polled message or librdkafka's callback: said once until messages flow again."""
        if error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
            # GCN's word for "no recent messages on this topic": not a problem, said once in all.
            if not self.said_unknown_topic:
                self.said_unknown_topic = True
                self.say(f"listen: no recent messages on some topics yet ({error.str()}); waiting for them")
            return
        if error.code() == KafkaError._PARTITION_EOF:
            return
        if error.fatal():
            self.fatal = error
            return
        # librdkafka reconnects by itself, waiting longer each time (reconnect.backoff.ms up to .max.ms); its texts
        # change with every try ("after 12ms in state CONNECT"), so each kind of trouble is said once.
        if error.code() not in self.troubles:
            self.troubles.add(error.code())
            self.say(f"listen: broker trouble, librdkafka keeps retrying: {error.str()}")

    def flowing(self) -> None:
        if self.troubles:
            self.troubles.clear()
            self.say("listen: messages flowing again")
        self.reconnect.reset()

    def tick(self) -> None:
        line = self.health.change()
        if line is not None:
            self.say(line)
        self.write_health()

    def write_health(self, force: bool = False) -> None:
        path = self.options.health_file
        if path is not None and (force or time.monotonic() - self.written >= 1.0):
            self.health.write(path)
            self.written = time.monotonic()


def summary(counts: Mapping[str, int]) -> str:
    outcomes = ", ".join(
        f"{count} {name}" for name, count in sorted(counts.items()) if name not in ("notices", "heartbeats")
    )
    return f"{counts.get('notices', 0)} notices ({outcomes or 'none'}), {counts.get('heartbeats', 0)} heartbeats"
