"""A small producer around confluent-kafka that waits for the broker's acknowledgements.

It fails fast where librdkafka would otherwise retry until the delivery timeout: errors that retrying cannot
mend (bad credentials, an untrusted certificate, the wrong security protocol, a fatal idempotence error) reach
only the error callback, so every wait also watches that callback.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any, TypeAlias, cast

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from airflow_provider_kafka_connector.callbacks import new_client
from airflow_provider_kafka_connector.client_watch import ClientWatch
from airflow_provider_kafka_connector.config import delivery_timeout_seconds
from airflow_provider_kafka_connector.errors import explain_config_error, explain_delivery_error, replica_shortfall
from airflow_provider_kafka_connector.exceptions import KafkaConfigurationError, KafkaDeliveryError
from airflow_provider_kafka_connector.redaction import scrub
from airflow_provider_kafka_connector.serialization import (
    ANY_PARTITION,
    NO_TIMESTAMP,
    PlainMessage,
    Record,
    SerializedHeaders,
    SerializedRecords,
)

if TYPE_CHECKING:
    from airflow_provider_kafka_connector.native_tally import NativeDeliveryTally

log = logging.getLogger(__name__)

_POLL_INTERVAL_SECONDS = 0.05
# How long a failed task waits for each answer that says why a delivery timed out.
_DIAGNOSIS_SECONDS = 3.0
_diagnosis_log = logging.getLogger(f"{__name__}.diagnosis")
_diagnosis_log.addHandler(logging.NullHandler())
_diagnosis_log.propagate = False
# librdkafka times out a message on its own schedule; this is the slack allowed beyond the delivery timeout.
_DELIVERY_REPORT_GRACE_SECONDS = 5.0
# A batch is produced this many messages at a time, its delivery reports served after each chunk.
_CHUNK_MESSAGES = 1000
# At most this many metadata answers are asked for before the first acknowledgement (see KafkaProducer._start).
_METADATA_ANSWERS = 4
# A bootstrap server's connection answers as broker id -1; a broker learned from the metadata, with its own id.
_BOOTSTRAP_BROKER_ID = -1
# librdkafka's default, for a configuration that does not set it.
_TOPIC_PROPAGATION_DEFAULT_MS = 30000


@dataclass(frozen=True)
class OutgoingMessage:
    topic: str
    key: bytes | None
    value: bytes | None
    headers: SerializedHeaders
    partition: int | None = None
    timestamp: int = NO_TIMESTAMP  # milliseconds since the epoch


class DeliveryTally:
    """Counts a batch's delivery reports, keeping only the first and last acknowledged message of each partition.

    on_delivery runs once per message, so it does the least it can (slots, one dict test; 0.2 microseconds instead
    of 0.28 for a __call__ with a list per partition): librdkafka reports each partition's messages in order.
    """

    __slots__ = ("_first", "_last", "failed", "first_error", "reported", "topic")

    def __init__(self, topic: str) -> None:
        self.topic = topic
        self.reported = 0
        self.failed = 0
        self.first_error: KafkaError | None = None
        self._first: dict[int | None, Message] = {}
        self._last: dict[int | None, Message] = {}

    @property
    def acknowledged(self) -> int:
        return self.reported - self.failed

    def on_delivery(self, error: KafkaError | None, message: Message) -> None:
        self.reported += 1
        if error is None:
            partition = message.partition()  # an acknowledged message has its partition
            last = self._last
            if partition in last:
                last[partition] = message
            else:
                self._first[partition] = last[partition] = message
        else:
            self.failed += 1
            if self.first_error is None:
                self.first_error = error

    def receipt(self) -> dict[str, Any]:
        """The spec's `response` for a single acknowledged message: what its consumer sees."""
        [message] = self._last.values()
        return {
            "timestamp": message.timestamp()[1],
            "offset": message.offset(),
            "partition": message.partition(),
            "topic": self.topic,
        }

    def summary(self) -> dict[str, Any]:
        """A batch's `response`: small whatever the number of messages."""
        ends = [*self._first.values(), *self._last.values()]
        timestamps = [message.timestamp()[1] for message in ends]
        return {
            "topic": self.topic,
            "count": self.acknowledged,
            "partitions": {
                str(partition): {"first_offset": first.offset(), "last_offset": self._last[partition].offset()}
                for partition, first in sorted(self._first.items())
            },
            "first_timestamp": min(timestamps, default=None),
            "last_timestamp": max(timestamps, default=None),
        }


# What send_many counts with: DeliveryTally's callback, or the plugin's tally (native_tally.py).
Tally: TypeAlias = "DeliveryTally | NativeDeliveryTally"


class _Refused(Exception):
    """The client refused a message of a chunk after `queued` of them were queued."""

    def __init__(self, queued: int, reason: KafkaDeliveryError) -> None:
        super().__init__(str(reason))
        self.queued = queued
        self.reason = reason


def _chunked(records: Iterable[Record]) -> Iterator[list[Record]]:
    """The first record alone, then lists of _CHUNK_MESSAGES."""
    iterator = iter(records)
    size = 1
    while chunk := list(islice(iterator, size)):
        yield chunk
        size = _CHUNK_MESSAGES


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a batch is sent (where it runs; threads leave it to the first).

    A batch keeps a chunk of messages and records alive while it produces them, so the collector runs every few
    hundred messages and, now and then, walks the whole heap: in a task's process (Airflow imported, about 180,000
    objects) one such walk took 0.17 s of a 1 s batch of 50,000 Avro messages. Nothing a batch allocates is cyclic
    (messages, records and reports are freed by reference counting), so nothing waits for the collector.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def release(producer: Producer) -> None:
    """Drop what is still queued and free the client at once (older confluent-kafka has no close())."""
    producer.purge()
    try:
        producer.flush(0)
    except KafkaException:  # a fatally failed (e.g. fenced transactional) producer refuses; it is freed all the same
        pass
    close = getattr(producer, "close", None)
    if close is not None:
        close()


class KafkaProducer:
    """Owns one confluent-kafka producer; use it as a context manager so it is always released."""

    def __init__(self, config: Mapping[str, str], secrets: Iterable[str] = (), count_natively: bool = False) -> None:
        """``count_natively``: for batches, count delivery outcomes in the provider's librdkafka plugin where it
        loads (native_tally.py) instead of in a Python callback per message."""
        self._config = dict(config)
        self._secrets = list(secrets)
        self._delivery_timeout = delivery_timeout_seconds(config)
        # The same watch as the Connections UI's Test: error callback and log, secrets removed, each cause logged once.
        self._watch = ClientWatch(self._config, self._secrets)
        self._started = False
        self._reached = False  # a broker answered a metadata request
        self._created = time.monotonic()
        self._tally_slot: int | None = None
        client_config = {**config, "error_cb": self._watch.error, "logger": self._watch}
        if count_natively:
            self._producer = self._counting_client(client_config)
        else:
            self._producer = self._client(client_config)

    def _client(self, config: dict[str, Any]) -> Producer:
        try:
            return new_client(Producer, config)
        except KafkaException as error:
            raise KafkaConfigurationError(self._scrub(explain_config_error(error.args[0].str()))) from None

    def _counting_client(self, config: dict[str, Any]) -> Producer:
        """A client with the delivery tally plugin where it loads, else a plain one."""
        from airflow_provider_kafka_connector import native_tally

        slot = native_tally.take_slot()
        if slot is None:
            return self._client(config)
        try:
            producer = new_client(Producer, native_tally.plugin_properties(config, slot))
        except KafkaException as error:
            native_tally.release_slot(slot)
            producer = self._client(config)  # a configuration error fails here as it would without the plugin
            native_tally.mark_unusable(error.args[0].str())
            return producer
        self._tally_slot = slot
        return producer

    @property
    def bootstrap_servers(self) -> str:
        return self._config["bootstrap.servers"]

    def __enter__(self) -> KafkaProducer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def send(self, message: OutgoingMessage) -> dict[str, Any]:
        """Send one message and return its delivery receipt once the broker has acknowledged it."""
        tally = DeliveryTally(message.topic)
        partition = ANY_PARTITION if message.partition is None else message.partition
        self._produce(
            message.topic, message.key, message.value, message.headers or None, partition, tally, message.timestamp
        )
        self._start(message.topic, tally)
        self._await_reports(tally, expected=1)
        if tally.first_error is not None:  # set with the first failure
            raise KafkaDeliveryError(self._explain_delivery(tally.first_error, tally.topic))
        return tally.receipt()

    def send_many(self, topic: str, records: Iterable[Record]) -> dict[str, Any]:
        """Send all records asynchronously, then wait once for every acknowledgement; return a summary.

        Every message's outcome is counted (a delivery report is the only way librdkafka tells a message failed): by
        the provider's librdkafka plugin, without a Python call per message, for a producer made with
        count_natively where the plugin loads; else by DeliveryTally's callback. The records are
        taken a chunk at a time: plain messages (serialized_records' dicts with only bytes) through confluent-kafka's
        produce_batch, which reads them in C, the others one produce() each. The first message goes alone, so
        _start() can fail a batch before it sends the rest.
        """
        with _cyclic_gc_paused():
            return self._send_all(topic, records)

    def _send_all(self, topic: str, records: Iterable[Record]) -> dict[str, Any]:
        tally = self._batch_tally(topic)
        sent = 0
        refused: KafkaDeliveryError | None = None
        if isinstance(records, SerializedRecords):
            chunks: Iterable[list[PlainMessage] | list[Record]] = records.chunks(_CHUNK_MESSAGES)
        else:
            chunks = _chunked(records)
        for chunk in chunks:
            try:
                if type(chunk[0]) is dict:
                    sent += self._produce_plain(topic, chunk, tally)
                else:
                    sent += self._produce_records(topic, cast(list[Record], chunk), tally)
            except _Refused as error:
                sent += error.queued
                refused = error.reason
                break
            if sent == 1:
                try:
                    self._start(topic, tally)
                except KafkaDeliveryError as error:  # the first message is refused: not sent, as produce() refusing it
                    refused = error
                    sent = 0
                    break
                if tally.failed:  # the first message failed: the task fails anyway, send no more
                    break
            self._serve(0)
            if tally.failed:  # the task fails anyway: stop sending and report
                break
        self._await_reports(tally, expected=sent)
        if tally.failed or refused:
            # The plugin also counts a message produce() refused (librdkafka reports it to interceptors): count once.
            failed = sent + (refused is not None) - tally.acknowledged
            first = self._explain_delivery(tally.first_error, topic) if tally.first_error else str(refused)
            not_acknowledged = KafkaDeliveryError(
                f"{failed} of {sent + (refused is not None)} messages sent were not acknowledged; "
                f"the first reason: {first}"
            )
            not_acknowledged.acknowledged, not_acknowledged.failed = tally.acknowledged, failed
            raise not_acknowledged
        return tally.summary()

    def _batch_tally(self, topic: str) -> Tally:
        if self._tally_slot is None:
            return DeliveryTally(topic)
        from airflow_provider_kafka_connector.native_tally import NativeDeliveryTally

        return NativeDeliveryTally(topic, self._tally_slot)

    # For exactly_once.TransactionalProducer, which runs send() or send_many() inside a transaction.
    @property
    def client(self) -> Producer:
        return self._producer

    @property
    def config(self) -> Mapping[str, str]:
        return self._config

    @property
    def watch(self) -> ClientWatch:
        return self._watch

    @property
    def delivery_timeout(self) -> float:
        return self._delivery_timeout

    def warm_up(self, topic: str) -> None:
        """What _start does after the first message, before any: the metadata a producer id waits for."""
        self._start(topic, DeliveryTally(topic))

    def scrub(self, text: str) -> str:
        return self._scrub(text)

    def _produce_records(self, topic: str, records: list[Record], tally: Tally) -> int:
        """produce() each record; how many were queued."""
        produce, on_delivery = self._producer.produce, tally.on_delivery
        queued = 0
        try:
            for key, value, headers, partition, timestamp in records:
                try:
                    # Positional arguments, and headers and timestamp only when there are some: the fastest call.
                    if headers is None and not timestamp:
                        produce(topic, value, key, partition, on_delivery)
                    else:
                        produce(topic, value, key, partition, on_delivery, timestamp=timestamp, headers=headers)
                except BufferError:
                    self._produce(topic, key, value, headers, partition, tally, timestamp)
                queued += 1
        except (KafkaException, KafkaDeliveryError) as error:
            reason = error if isinstance(error, KafkaDeliveryError) else self._refusal(error, topic)
            raise _Refused(queued, reason) from None
        return queued

    def _produce_plain(self, topic: str, messages: list[PlainMessage], tally: Tally) -> int:
        """produce_batch() the messages (where this confluent-kafka has it), waiting for room when the local queue
        is full; how many were queued."""
        produce_batch = getattr(self._producer, "produce_batch", None)
        if produce_batch is None:  # confluent-kafka before 2.12
            return self._produce_records(
                topic, [(m.get("key"), m.get("value"), None, ANY_PARTITION, NO_TIMESTAMP) for m in messages], tally
            )
        queued = 0
        pending = messages
        while True:
            try:
                queued += cast(int, produce_batch(topic, pending, on_delivery=tally.on_delivery))
            except KafkaException as error:
                raise _Refused(queued, self._refusal(error, topic)) from None
            if queued == len(messages):
                return queued
            # produce_batch marks each message it could not queue with '_error' (in the caller's dict: removed here).
            # librdkafka queues in order and, once its queue is full, refuses the rest: those wait for room.
            refused = [message for message in pending if "_error" in message]
            errors = [cast(KafkaError, message.pop("_error")) for message in refused]
            final = next((error for error in errors if error.code() != KafkaError._QUEUE_FULL), None)
            if final is not None:
                raise _Refused(queued, KafkaDeliveryError(self._explain_delivery(final, topic)))
            pending = refused
            try:
                self._serve(_POLL_INTERVAL_SECONDS)
            except KafkaDeliveryError as error:
                raise _Refused(queued, error) from None

    def close(self) -> None:
        """Drop anything still queued (its task has failed already) and release the client."""
        producer = self.__dict__.pop("_producer", None)
        if producer is not None:
            release(producer)
            del producer  # destroyed: its interceptor no longer counts into the tally
        if self._tally_slot is not None:
            from airflow_provider_kafka_connector import native_tally

            native_tally.release_slot(self._tally_slot)
            self._tally_slot = None

    def _produce(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        headers: SerializedHeaders | None,
        partition: int,
        tally: Tally,
        timestamp: int = NO_TIMESTAMP,
    ) -> None:
        """Produce one message, waiting for room in the local queue when it is full."""
        while True:
            try:
                self._producer.produce(
                    topic, value, key, partition, tally.on_delivery, timestamp=timestamp, headers=headers
                )
                return
            except BufferError:  # the local queue is full: let librdkafka deliver some, then go on
                self._serve(_POLL_INTERVAL_SECONDS)
            except KafkaException as error:
                raise self._refusal(error, topic) from None

    def _start(self, topic: str, tally: Tally) -> None:
        """After the first produce(): ask for the topic's metadata until a broker learned from it has answered.

        An idempotent producer sends nothing before the broker has given it a producer id. Since librdkafka 2.10
        its bootstrap connection is closed once the cluster's brokers are known, and the producer-id state machine,
        finding no broker up at that moment, sleeps a fixed 500 ms; what wakes it earlier is a metadata answer
        received while a learned broker's connection is up. Questions go on until such a broker has answered (an
        answer through a bootstrap connection, as the first often is with several bootstrap servers, does not
        count), so the first acknowledgement comes in milliseconds.

        The answer also tells whether the topic exists: a topic still missing after
        'topic.metadata.propagation.max.ms' fails at once, with the message its delivery report would give.
        Nothing waits longer than before: each question waits one poll interval, the error callback is served in
        between (bad credentials, TLS, protocol fail as fast as ever), and a delivery report ends the wait.
        """
        if self._started:
            return
        self._started = True
        appear_by = self._created + self._topic_propagation_seconds()
        deadline = time.monotonic() + self._delivery_timeout + _DELIVERY_REPORT_GRACE_SECONDS
        answers = 0
        while answers < _METADATA_ANSWERS and not tally.reported and time.monotonic() < deadline:
            asked = time.monotonic()
            try:
                metadata = self._producer.list_topics(topic, timeout=_POLL_INTERVAL_SECONDS)
            except KafkaException:  # no broker answered within the interval (not connected yet, or down)
                self._serve(max(0.0, asked + _POLL_INTERVAL_SECONDS - time.monotonic()))
                continue
            self._reached = self._watch.answered = True
            self._serve(0)
            if tally.reported:  # the delivery report came first: it tells the rest
                return
            found = metadata.topics.get(topic)
            error = None if found is None else found.error
            if error is not None and error.code() in (KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._UNKNOWN_TOPIC):
                if time.monotonic() >= appear_by:
                    raise KafkaDeliveryError(self._explain_delivery(error, topic))
                self._serve(min(_POLL_INTERVAL_SECONDS, max(0.0, appear_by - time.monotonic())))
                continue
            answers += 1
            if metadata.orig_broker_id != _BOOTSTRAP_BROKER_ID:
                return

    def _topic_propagation_seconds(self) -> float:
        text = self._config.get("topic.metadata.propagation.max.ms", "")
        return (int(text) if text.isdigit() else _TOPIC_PROPAGATION_DEFAULT_MS) / 1000

    def _refusal(self, error: KafkaException, topic: str) -> KafkaDeliveryError:
        return KafkaDeliveryError(self._explain_delivery(error.args[0], topic))

    def _await_reports(self, tally: Tally, expected: int) -> None:
        deadline = time.monotonic() + self._delivery_timeout + _DELIVERY_REPORT_GRACE_SECONDS
        while tally.reported < expected:
            # flush() serves the same callbacks as poll() but sends what is queued at once, not after linger.ms.
            self._producer.flush(_POLL_INTERVAL_SECONDS)
            self._raise_if_unrecoverable()
            if time.monotonic() > deadline:
                raise KafkaDeliveryError(
                    self._scrub(
                        f"{expected - tally.reported} of {expected} messages to {tally.topic!r} had no delivery "
                        f"report within the delivery timeout of {self._delivery_timeout:g} s"
                        f"{self._last_error_note()}."
                    )
                )

    def _serve(self, timeout: float) -> None:
        self._producer.poll(timeout)
        self._raise_if_unrecoverable()

    def _raise_if_unrecoverable(self) -> None:
        if self._watch.cause is not None:
            raise KafkaDeliveryError(self._watch.cause)

    def _explain_delivery(self, error: KafkaError, topic: str) -> str:
        note = self._cluster_note(topic) if error.code() == KafkaError._MSG_TIMED_OUT else ""
        return self._scrub(explain_delivery_error(error, topic, self._config, self._last_error_note(), note))

    def _cluster_note(self, topic: str) -> str:
        """Why a delivery timed out, asked of the cluster itself: the topic's leaders, in-sync replicas and
        min.insync.replicas (librdkafka tells NOT_ENOUGH_REPLICAS only in its debug log)."""
        from confluent_kafka.admin import AdminClient, ConfigResource

        if not self._reached:  # no broker ever answered: asking again would only add to the wait
            return ""
        try:
            metadata = self._producer.list_topics(topic, timeout=_DIAGNOSIS_SECONDS).topics.get(topic)
        except KafkaException:
            return ""
        if metadata is None or metadata.error is not None:
            return ""
        min_insync: int | None = None
        config: dict[str, Any] = {k: v for k, v in self._config.items() if k != "transactional.id"}
        config["logger"] = _diagnosis_log
        admin = new_client(AdminClient, config)
        resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
        try:
            entries = admin.describe_configs([resource])[resource].result(timeout=_DIAGNOSIS_SECONDS)
            min_insync = int(entries["min.insync.replicas"].value)
        except Exception:  # best effort: without the setting the note still names partitions without a leader
            pass
        return replica_shortfall(topic, metadata.partitions, min_insync)

    def _last_error_note(self) -> str:
        last = self._watch.last_error
        return "" if last is None else f"; the last client error was: {self._scrub(last.str())}"

    def _scrub(self, text: str) -> str:
        return scrub(text, self._secrets)
