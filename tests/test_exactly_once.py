"""exactly_once: the names and the marker (pure), and the transactional send against the real broker.

The same failures under a real Airflow scheduler (SIGKILL, a zombie, clears): tests/test_exactly_once_scheduler.py.
"""

from __future__ import annotations

import json
import uuid

import pytest
from confluent_kafka import IsolationLevel, KafkaError, TopicPartition
from confluent_kafka.admin import OffsetSpec

from airflow_provider_kafka_connector.config import MISCELLANEOUS_DEFAULTS, ConnectionSettings, build_producer_config
from airflow_provider_kafka_connector.exactly_once import (
    MAX_MARKER_CHARS,
    PREFIX,
    TaskInstanceIdentity,
    TransactionalProducer,
    decode_marker,
    encode_marker,
    explain_transaction_error,
    marker_consumer_config,
)
from airflow_provider_kafka_connector.exceptions import (
    KafkaConfigurationError,
    KafkaDeliveryError,
    KafkaTransactionError,
)
from airflow_provider_kafka_connector.producer import KafkaProducer, OutgoingMessage

IDENTITY = TaskInstanceIdentity("a_dag", "a_task", "manual__2026-11-30T00:00:00+00:00", map_index=-1)


def batch_summary(partitions: int) -> dict[str, object]:
    return {
        "topic": "orders",
        "count": 10 * partitions,
        "partitions": {str(p): {"first_offset": 123456789, "last_offset": 123456798} for p in range(partitions)},
        "first_timestamp": 1796000000000,
        "last_timestamp": 1796000000999,
    }


# --- pure ---------------------------------------------------------------------------------------


def test_the_transactional_id_is_a_short_hash_under_the_prefix_stable_across_tries_and_clears():
    tid = IDENTITY.transactional_id
    assert tid.startswith(PREFIX) and len(tid) == len(PREFIX) + 32
    later = TaskInstanceIdentity(IDENTITY.dag_id, IDENTITY.task_id, IDENTITY.run_id, clear_number=3, try_number=7)
    assert later.transactional_id == tid
    assert IDENTITY.marker_group == tid
    long_names = TaskInstanceIdentity("d" * 250, "t" * 250, "r" * 250)
    assert len(long_names.transactional_id) == len(tid)


@pytest.mark.parametrize(
    "other",
    [
        TaskInstanceIdentity("other", "a_task", IDENTITY.run_id),
        TaskInstanceIdentity("a_dag", "other", IDENTITY.run_id),
        TaskInstanceIdentity("a_dag", "a_task", "other"),
        TaskInstanceIdentity("a_dag", "a_task", IDENTITY.run_id, map_index=0),
        # The names are hashed as a list: moving a character between them gives another id.
        TaskInstanceIdentity("a_dag", "_a_task", IDENTITY.run_id[1:]),
    ],
)
def test_every_part_of_the_task_instance_changes_the_transactional_id(other):
    assert other.transactional_id != IDENTITY.transactional_id


def test_a_single_message_response_round_trips_through_the_marker():
    response = {"timestamp": 1796000000000, "offset": 41, "partition": 2, "topic": "orders"}
    text = encode_marker(response, clear_number=0)
    assert decode_marker(text, clear_number=0) == response


def test_a_batch_summary_is_stored_compactly_and_read_back_as_it_was():
    summary = batch_summary(3)
    text = encode_marker(summary, clear_number=2)
    assert '"partitions"' not in text and len(text) < len(json.dumps(summary))
    assert decode_marker(text, clear_number=2) == summary


def test_a_marker_of_another_clear_is_not_this_clears():
    text = encode_marker(batch_summary(1), clear_number=0)
    assert decode_marker(text, clear_number=1) is None


@pytest.mark.parametrize("text", [None, "", "not json", "[1]", '{"v": 99, "c": 0, "r": {}}'])
def test_no_marker_or_a_foreign_one_reads_as_none(text):
    assert decode_marker(text, clear_number=0) is None


def test_a_batch_over_150_partitions_fits_and_one_too_large_fails_with_the_fix():
    assert len(encode_marker(batch_summary(150), clear_number=0)) <= MAX_MARKER_CHARS
    with pytest.raises(KafkaTransactionError) as raised:
        encode_marker(batch_summary(400), clear_number=0)
    message = str(raised.value)
    assert "400 partitions" in message and "Nothing was published" in message and "fewer" in message
    assert isinstance(raised.value, KafkaDeliveryError)


def test_the_marker_consumer_gets_the_connection_and_security_settings_only():
    config = {
        "bootstrap.servers": "b:9093",
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "PLAIN",
        "sasl.username": "u",
        "sasl.password": "p",
        "ssl.ca.location": "/ca.pem",
        "client.id": "c",
        "transactional.id": "x",
        **MISCELLANEOUS_DEFAULTS,
        "linger.ms": "5",
    }
    consumer = marker_consumer_config(config, "g")
    assert consumer == {
        "bootstrap.servers": "b:9093",
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "PLAIN",
        "sasl.username": "u",
        "sasl.password": "p",
        "ssl.ca.location": "/ca.pem",
        "client.id": "c",
        "client.dns.lookup": "use_all_dns_ips",
        "reconnect.backoff.ms": "20",
        "group.id": "g",
        "isolation.level": "read_committed",
        "enable.auto.commit": "false",
        "enable.auto.offset.store": "false",
    }
    # Try 1 reads no marker: its consumer only names the group, and connects to nothing.
    assert marker_consumer_config(config, "g", reads=False) == {"group.id": "g"}


@pytest.mark.parametrize(
    ("code", "fix"),
    [
        (KafkaError._FENCED, "A newer try of this task instance took over"),
        (KafkaError.PRODUCER_FENCED, "A newer try of this task instance took over"),
        (
            KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
            f"WRITE (and DESCRIBE) on TransactionalId with the prefix {PREFIX!r}",
        ),
        (KafkaError.GROUP_AUTHORIZATION_FAILED, f"READ on Group with the prefix {PREFIX!r}"),
        (KafkaError.TOPIC_AUTHORIZATION_FAILED, "READ and WRITE on topic 'orders'"),
        (KafkaError._TIMED_OUT, "transaction coordinator did not answer in time"),
    ],
)
def test_each_transaction_failure_names_its_cause_and_fix(code, fix):
    message = explain_transaction_error(KafkaError(code), "init_transactions", IDENTITY, "orders")
    assert message.startswith("exactly_once: init_transactions failed for topic 'orders': ")
    assert fix in message and message.endswith("Nothing of this try is visible to read_committed consumers.")


def test_a_transactional_id_of_ones_own_is_refused_with_exactly_once_as_the_way():
    with pytest.raises(KafkaConfigurationError, match=r"exactly_once=True"):
        build_producer_config(ConnectionSettings("c", host="b:9092"), {"transactional.id": "mine"})


# --- against the broker ---------------------------------------------------------------------------

pytest_broker = pytest.mark.broker


def producer_for(broker, identity: TaskInstanceIdentity) -> KafkaProducer:
    config = {"bootstrap.servers": broker.plaintext, **MISCELLANEOUS_DEFAULTS}
    return KafkaProducer(TransactionalProducer.config(config, identity))


def publish_one(broker, identity: TaskInstanceIdentity, topic: str, value: bytes = b"v"):
    with producer_for(broker, identity) as producer:
        return TransactionalProducer(producer, identity).publish(
            topic, lambda p: p.send(OutgoingMessage(topic, b"k", value, []))
        )


def try_of(identity: TaskInstanceIdentity, try_number: int, clear_number: int = 0) -> TaskInstanceIdentity:
    return TaskInstanceIdentity(
        identity.dag_id, identity.task_id, identity.run_id, identity.map_index, clear_number, try_number
    )


def new_identity() -> TaskInstanceIdentity:
    return TaskInstanceIdentity("eos_dag", "publish", f"run-{uuid.uuid4()}", try_number=1)


def no_open_transaction(broker, topic: str) -> bool:
    """The last stable offset is the high watermark on every partition: no transaction left open."""
    admin = broker.admin()
    partitions = admin.list_topics(topic, timeout=10).topics[topic].partitions
    specs = {TopicPartition(topic, p): OffsetSpec.latest() for p in partitions}
    stable = admin.list_offsets(specs, isolation_level=IsolationLevel.READ_COMMITTED)
    latest = admin.list_offsets(specs, isolation_level=IsolationLevel.READ_UNCOMMITTED)
    return all(stable[tp].result().offset == latest[tp].result().offset for tp in specs)


@pytest_broker
def test_a_retry_after_a_committed_try_sends_nothing_and_returns_the_same_response(broker, topic):
    first = new_identity()
    response, published = publish_one(broker, first, topic)
    assert published and response["topic"] == topic
    again, published_again = publish_one(broker, try_of(first, 2), topic)
    assert (again, published_again) == (response, False)
    assert len(broker.read_all(topic, "read_committed")) == 1
    assert len(broker.read_all(topic, "read_uncommitted")) == 1


@pytest_broker
def test_a_clear_sends_again(broker, topic):
    first = new_identity()
    publish_one(broker, first, topic)
    cleared, published = publish_one(broker, try_of(first, 2, clear_number=1), topic)
    assert published
    # A retry of the cleared task instance finds the clear's own marker.
    assert publish_one(broker, try_of(first, 3, clear_number=1), topic) == (cleared, False)
    assert len(broker.read_all(topic, "read_committed")) == 2


@pytest_broker
def test_a_try_that_never_committed_is_aborted_by_the_retry_and_fenced_when_it_resumes(broker, topic):
    first = new_identity()
    # The first try: its message is written in an open transaction, and then it hangs (or dies).
    zombie = producer_for(broker, first)
    zombie.warm_up(topic)
    zombie.client.init_transactions(10)
    zombie.client.begin_transaction()
    zombie.send(OutgoingMessage(topic, b"k", b"first try", []))
    try:
        assert publish_one(broker, try_of(first, 2), topic, b"retry")[1]
        committed = broker.read_all(topic, "read_committed")
        assert [m.value() for m in committed] == [b"retry"]
        assert sorted(m.value() for m in broker.read_all(topic, "read_uncommitted")) == [b"first try", b"retry"]
        # The zombie resumes and tries to commit: fenced, it fails, and nothing more becomes visible.
        with pytest.raises(Exception) as raised:
            zombie.client.commit_transaction(10)
        assert raised.value.args[0].code() in (KafkaError._FENCED, KafkaError.PRODUCER_FENCED)
    finally:
        zombie.close()
    assert len(broker.read_all(topic, "read_committed")) == 1


@pytest_broker
def test_a_resumed_zombie_fails_with_the_fencing_explained(broker, topic):
    first = new_identity()
    with producer_for(broker, first) as zombie:
        transactional = TransactionalProducer(zombie, first)

        def send_then_stall(producer: KafkaProducer):
            response = producer.send(OutgoingMessage(topic, b"k", b"zombie", []))
            publish_one(broker, try_of(first, 2), topic, b"retry")  # the retry runs while this try stalls
            return response

        with pytest.raises(KafkaTransactionError, match="A newer try of this task instance took over"):
            transactional.publish(topic, send_then_stall)
    assert [m.value() for m in broker.read_all(topic, "read_committed")] == [b"retry"]
    assert no_open_transaction(broker, topic)


@pytest_broker
def test_a_batch_is_published_once_and_its_summary_comes_back_to_the_retry(broker, new_topic):
    topic = new_topic(partitions=3)
    first = new_identity()
    records = [(str(i).encode(), b"x" * 100, None, -1, 0) for i in range(5000)]
    with producer_for(broker, first) as producer:
        summary, published = TransactionalProducer(producer, first).publish(
            topic, lambda p: p.send_many(topic, iter(records))
        )
    assert published and summary["count"] == 5000 and len(summary["partitions"]) == 3
    with producer_for(broker, try_of(first, 2)) as producer:
        again, published = TransactionalProducer(producer, try_of(first, 2)).publish(
            topic, lambda p: pytest.fail("a retry of a committed try must not send")
        )
    assert (again, published) == (summary, False)
    assert len(broker.read_all(topic, "read_committed")) == 5000


@pytest_broker
def test_a_failure_inside_the_transaction_aborts_it(broker, topic):
    first = new_identity()
    records = [(b"k", b"small", None, -1, 0), (b"k", b"x" * 2_000_000, None, -1, 0)]
    with producer_for(broker, first) as producer, pytest.raises(KafkaDeliveryError, match="larger than allowed"):
        TransactionalProducer(producer, first).publish(topic, lambda p: p.send_many(topic, iter(records)))
    assert no_open_transaction(broker, topic)
    assert broker.read_all(topic, "read_committed") == []
    # The retry finds no marker and publishes.
    assert publish_one(broker, try_of(first, 2), topic)[1]
