"""Exactly once across Airflow task retries: a task instance's messages reach ``read_committed`` consumers once.

Each task instance gets its own ``transactional.id`` and a marker consumer group, both ``PREFIX`` plus a hash of
(dag_id, task_id, run_id, map_index). A try sends its messages in a transaction that also commits an offset of
the marker group, on partition 0 of the destination topic, whose metadata holds the task's ``response``:

1. ``init_transactions()`` fences any older try of the same task instance still running (a zombie) and aborts
   its open transaction;
2. only then is the marker read, with stable offsets: if it is there (for the same clear of the DAG run), an
   earlier try committed and died before the task ended; the stored response is returned and nothing is sent
   (try number 1 skips the read: no earlier try exists);
3. otherwise: begin, send, commit the marker with the response, commit the transaction. Any failure aborts.

Clear versus retry: an automatic retry keeps the DAG run's ``clear_number``; a user's Clear of the task (with its
DAG run reset, Airflow's default) increments it. The marker records the ``clear_number`` it was written under, so a
retry finds it and sends nothing, while a cleared task sends its messages again.

The pure part (names, the marker's text) needs no confluent_kafka; ``TransactionalProducer`` does.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_kafka_connector.callbacks import new_client
from airflow_provider_kafka_connector.config import client_connection_config
from airflow_provider_kafka_connector.exceptions import KafkaTransactionError

if TYPE_CHECKING:
    from confluent_kafka import Consumer, KafkaError

    from airflow_provider_kafka_connector.producer import KafkaProducer

log = logging.getLogger(__name__)

#: The start of every transactional id and marker group this provider uses: grant ACLs on it as a prefix.
PREFIX = "airflow-kafka-eos-"
#: Kafka refuses offset metadata longer than this (``offset.metadata.max.bytes``, 4096, counts the terminator).
MAX_MARKER_CHARS = 4095
MARKER_PARTITION = 0
# Offset -1 is silently not stored; any offset >= 0 is.
MARKER_OFFSET = 0
_MARKER_VERSION = 1
# The marker reads back UNSTABLE_OFFSET_COMMIT for a few ms after a commit (and while a transaction is open).
_UNSTABLE_RETRY_SECONDS = 0.02


@dataclass(frozen=True)
class TaskInstanceIdentity:
    """What names a task instance across its tries, and which clear of its DAG run this try belongs to."""

    dag_id: str
    task_id: str
    run_id: str
    map_index: int = -1
    clear_number: int = 0
    #: Airflow's try number; 1 means no earlier try of this task instance ever ran (clears do not reset it).
    try_number: int = 0

    @property
    def transactional_id(self) -> str:
        """Stable across tries and clears, so a new try fences every older one; short whatever the names."""
        key = json.dumps([self.dag_id, self.task_id, self.run_id, self.map_index], ensure_ascii=False)
        return PREFIX + hashlib.sha256(key.encode()).hexdigest()[:32]

    @property
    def marker_group(self) -> str:
        return self.transactional_id


def identity_of(context: Mapping[str, Any]) -> TaskInstanceIdentity:
    """The running task instance's identity, from its Airflow context."""
    ti, dag_run = context["ti"], context["dag_run"]
    map_index = getattr(ti, "map_index", -1)
    return TaskInstanceIdentity(
        dag_id=ti.dag_id,
        task_id=ti.task_id,
        run_id=ti.run_id,
        map_index=-1 if map_index is None else map_index,
        clear_number=getattr(dag_run, "clear_number", None) or 0,
        try_number=getattr(ti, "try_number", None) or 0,
    )


def encode_marker(response: Mapping[str, Any], clear_number: int) -> str:
    """The marker's text: the response and the clear it belongs to, compact enough for 4095 characters.

    A batch summary's partitions become [partition, first_offset, last_offset] triples, so a topic of up to
    about 150 partitions fits; a larger one raises ``KafkaTransactionError`` (before the transaction commits).
    """
    body: dict[str, Any] = dict(response)
    partitions = body.pop("partitions", None)
    if isinstance(partitions, Mapping):
        body["p"] = [[int(p), span["first_offset"], span["last_offset"]] for p, span in partitions.items()]
    text = json.dumps({"v": _MARKER_VERSION, "c": clear_number, "r": body}, separators=(",", ":"))
    if len(text) > MAX_MARKER_CHARS:
        raise KafkaTransactionError(
            f"The response of this task is {len(text)} characters in its compact form, more than the "
            f"{MAX_MARKER_CHARS} Kafka keeps with a committed offset, so exactly_once cannot record it "
            f"(it wrote to {len(partitions or ())} partitions). Nothing was published. Send the batch to fewer "
            "partitions (a 'partition' per message), or split it over several tasks."
        )
    return text


def decode_marker(text: str | None, clear_number: int) -> dict[str, Any] | None:
    """The response an earlier try of the same clear committed; None if there is none for this clear."""
    if not text:
        return None
    try:
        marker = json.loads(text)
    except ValueError:
        return None
    if not isinstance(marker, dict) or marker.get("v") != _MARKER_VERSION or marker.get("c") != clear_number:
        return None
    response: dict[str, Any] = dict(marker["r"])
    triples = response.pop("p", None)
    if triples is not None:
        response["partitions"] = {str(p): {"first_offset": first, "last_offset": last} for p, first, last in triples}
    return response


def marker_consumer_config(config: Mapping[str, str], group: str, reads: bool = True) -> dict[str, str]:
    """The marker consumer's configuration: the producer's connection and security, the marker's group.

    A consumer that does not read the marker (try 1: no earlier try exists) only names the group for
    ``send_offsets_to_transaction``: given no broker, it opens no connection (a connected one, which also looks
    up its group coordinator, made a first try ~3 ms slower on 2 busy cores).
    """
    if not reads:
        return {"group.id": group}
    return {
        **client_connection_config(config),
        "group.id": group,
        "isolation.level": "read_committed",
        "enable.auto.commit": "false",
        "enable.auto.offset.store": "false",
    }


def explain_transaction_error(error: KafkaError, step: str, identity: TaskInstanceIdentity, topic: str) -> str:
    """A failed transactional call, with its cause and what to change."""
    from confluent_kafka import KafkaError

    code = error.code()
    reason = error.str()
    tid = identity.transactional_id
    if code in (KafkaError._FENCED, KafkaError.PRODUCER_FENCED, KafkaError.INVALID_PRODUCER_EPOCH):
        hint = (
            f"A newer try of this task instance took over the transactional id {tid!r}: Airflow presumably judged "
            "this try dead (heartbeat timeout) and started a retry, which aborted this try's messages and publishes "
            "them itself. Nothing to fix, unless two tasks share a transactional id."
        )
    elif code == KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
        hint = f"Grant the user WRITE (and DESCRIBE) on TransactionalId with the prefix {PREFIX!r}."
    elif code == KafkaError.GROUP_AUTHORIZATION_FAILED:
        hint = f"Grant the user READ on Group with the prefix {PREFIX!r} (exactly_once's marker groups)."
    elif code == KafkaError.TOPIC_AUTHORIZATION_FAILED:
        hint = f"Grant the user READ and WRITE on topic {topic!r} (exactly_once reads its marker there)."
    elif code == KafkaError.CLUSTER_AUTHORIZATION_FAILED:
        hint = "Grant the user IDEMPOTENT_WRITE on the cluster, or WRITE on TransactionalId with the prefix."
    elif code in (KafkaError._TIMED_OUT, KafkaError.REQUEST_TIMED_OUT, KafkaError.COORDINATOR_NOT_AVAILABLE):
        hint = (
            "The broker's transaction coordinator did not answer in time: check that the cluster is up and has "
            "at least 'transaction.state.log.min.isr' brokers for the transaction state topic."
        )
    elif code == KafkaError.OFFSET_METADATA_TOO_LARGE:
        hint = "The broker's 'offset.metadata.max.bytes' is below 4096: raise it to at least 4096."
    else:
        hint = ""
    return (
        f"exactly_once: {step} failed for topic {topic!r}: {reason}. {hint} Nothing of this try is visible to "
        "read_committed consumers."
    ).replace("  ", " ")


def _kafka_error(error: BaseException) -> KafkaError | None:
    from confluent_kafka import KafkaError, KafkaException

    if isinstance(error, KafkaException) and error.args and isinstance(error.args[0], KafkaError):
        return error.args[0]
    return None


class TransactionalProducer:
    """Sends a task instance's messages in one transaction with its marker; see the module's description.

    Wraps a ``KafkaProducer`` made with this task instance's ``transactional.id`` and uses its ``send`` or
    ``send_many`` inside the transaction.
    """

    def __init__(self, producer: KafkaProducer, identity: TaskInstanceIdentity) -> None:
        self._producer = producer
        self._identity = identity

    @staticmethod
    def config(config: Mapping[str, str], identity: TaskInstanceIdentity) -> dict[str, str]:
        return {**config, "transactional.id": identity.transactional_id}

    def publish(self, topic: str, send: Callable[[KafkaProducer], dict[str, Any]]) -> tuple[dict[str, Any], bool]:
        """Run ``send`` in a transaction with the marker; return (response, whether this try published it).

        A response an earlier try committed for the same clear is returned as it is, and nothing is sent.
        """
        from confluent_kafka import Consumer, TopicPartition

        producer, client = self._producer, self._producer.client
        timeout = producer.delivery_timeout
        # The first try has no earlier one to look for: it saves the read (a round trip to the group coordinator).
        # A retry's consumer is made first, so it finds its group coordinator while the producer gets its id.
        reads_marker = self._identity.try_number != 1
        consumer = new_client(
            Consumer,
            {
                **marker_consumer_config(producer.config, self._identity.marker_group, reads_marker),
                "error_cb": producer.watch.error,
                "logger": producer.watch,
            },
        )
        try:
            producer.warm_up(topic)  # without it init_transactions waits ~500 ms for a producer id (see _start)
            self._call("init_transactions", topic, client.init_transactions, timeout)
            earlier = self._read_marker(consumer, topic, timeout) if reads_marker else None
            if earlier is not None:
                return earlier, False
            self._call("begin_transaction", topic, client.begin_transaction)
            try:
                response = send(producer)
                marker_text = encode_marker(response, self._identity.clear_number)
                marker = TopicPartition(topic, MARKER_PARTITION, MARKER_OFFSET, marker_text)
                self._call(
                    "committing the marker",
                    topic,
                    client.send_offsets_to_transaction,
                    [marker],
                    consumer.consumer_group_metadata(),
                    timeout,
                )
                self._call("commit_transaction", topic, client.commit_transaction, timeout)
            except BaseException:
                self._abort(timeout)
                raise
            return response, True
        finally:
            consumer.close()

    def _read_marker(self, consumer: Consumer, topic: str, timeout: float) -> dict[str, Any] | None:
        from confluent_kafka import KafkaError, TopicPartition

        deadline = time.monotonic() + timeout
        while True:
            [found] = self._call(
                "reading the marker", topic, consumer.committed, [TopicPartition(topic, MARKER_PARTITION)], timeout
            )
            error = found.error
            if error is None:
                return decode_marker(found.metadata if found.offset >= 0 else None, self._identity.clear_number)
            if error.code() != KafkaError.UNSTABLE_OFFSET_COMMIT or time.monotonic() > deadline:
                raise KafkaTransactionError(self._explain(error, "reading the marker", topic))
            time.sleep(_UNSTABLE_RETRY_SECONDS)

    def _abort(self, timeout: float) -> None:
        """Abort the open transaction; a fenced or fatally failed producer has nothing left to abort."""
        try:
            self._producer.client.abort_transaction(timeout)
        except Exception as error:
            kafka_error = _kafka_error(error)
            if kafka_error is None or not kafka_error.fatal():
                # The broker aborts it when the next try calls init_transactions, or after transaction.timeout.ms.
                log.warning("exactly_once: aborting the transaction failed: %s", self._producer.scrub(str(error)))

    def _call(self, step: str, topic: str, call: Callable[..., Any], *args: Any) -> Any:
        try:
            return call(*args)
        except Exception as error:
            kafka_error = _kafka_error(error)
            if kafka_error is None:
                raise
            raise KafkaTransactionError(self._explain(kafka_error, step, topic)) from None

    def _explain(self, error: KafkaError, step: str, topic: str) -> str:
        return self._producer.scrub(explain_transaction_error(error, step, self._identity, topic))
