"""A fresh idempotent producer acknowledges its first message in milliseconds, and a missing topic fails at once.

librdkafka 2.10+ leaves an idempotent producer waiting a fixed 500 ms for its producer id unless a metadata answer
arrives while a learned broker's connection is up (KafkaProducer._start asks for one). These are guards of that
workaround, not benchmarks (bench/run.py --only startup measures it): 200 ms is far below the 500 ms timer and far
above what the workaround takes here (about 20 ms in plaintext, 30 to 70 ms over SASL_SSL).
"""

from __future__ import annotations

import re
import statistics
import threading
import time
import uuid

import pytest

from airflow_provider_kafka_connector.exceptions import KafkaDeliveryError
from airflow_provider_kafka_connector.hooks.kafka_producer import KafkaProducerHook
from airflow_provider_kafka_connector.producer import OutgoingMessage
from airflow_provider_kafka_connector.serialization import ANY_PARTITION, NO_TIMESTAMP
from harness.ports import free_port
from harness.pytest_plugin import require

pytestmark = pytest.mark.broker

RUNS = 5
FIRST_ACK_SECONDS = 0.2


def connection_fields(broker, listener: str) -> dict[str, object]:
    if listener == "PLAINTEXT":
        return {"host": broker.plaintext}
    if listener == "PLAINTEXT, first bootstrap server down":
        return {"host": f"127.0.0.1:{free_port()},{broker.plaintext}"}
    require(broker.sasl_ssl and broker.plain_user and broker.scram_user, "SASL_SSL listener with users")
    mechanism = listener.removeprefix("SASL_SSL ")
    user = broker.plain_user if mechanism == "PLAIN" else broker.scram_user
    return {
        "host": broker.sasl_ssl,
        "login": user.name,
        "password": user.password,
        "extra": {"ssl.ca.location": str(broker.ca_file), "sasl.mechanism": mechanism},
    }


@pytest.mark.parametrize(
    "listener",
    ["PLAINTEXT", "PLAINTEXT, first bootstrap server down", "SASL_SSL PLAIN", "SASL_SSL SCRAM-SHA-256"],
)
def test_a_fresh_idempotent_producer_acknowledges_its_first_message_in_milliseconds(
    broker, new_topic, kafka_connection, listener
):
    topic = new_topic(partitions=3)
    hook = KafkaProducerHook(kafka_connection(**connection_fields(broker, listener)))
    config = hook.producer_config()
    assert (config["enable.idempotence"], config["acks"]) == ("true", "all")
    seconds = []
    for _ in range(RUNS):
        started = time.monotonic()
        with hook.get_producer() as producer:
            receipt = producer.send(OutgoingMessage(topic=topic, key=None, value=b"v", headers=[]))
        seconds.append(time.monotonic() - started)
        assert receipt["topic"] == topic and receipt["offset"] >= 0
    assert statistics.median(seconds) < FIRST_ACK_SECONDS, [f"{s * 1000:.0f} ms" for s in seconds]


def test_a_batch_from_a_fresh_idempotent_producer_starts_at_once(broker, new_topic, kafka_connection):
    topic = new_topic(partitions=3)
    hook = KafkaProducerHook(kafka_connection(host=broker.plaintext))
    started = time.monotonic()
    with hook.get_producer() as producer:
        summary = producer.send_many(topic, ((None, b"v", None, ANY_PARTITION, NO_TIMESTAMP) for _ in range(10)))
    assert summary["count"] == 10
    assert time.monotonic() - started < 0.5


@pytest.mark.parametrize("listener", ["PLAINTEXT", "SASL_SSL SCRAM-SHA-256"])
def test_a_missing_topic_fails_within_a_second_naming_it(broker, kafka_connection, listener):
    hook = KafkaProducerHook(kafka_connection(**connection_fields(broker, listener)))
    started = time.monotonic()
    with pytest.raises(KafkaDeliveryError) as raised, hook.get_producer() as producer:
        producer.send(OutgoingMessage(topic="no-such-topic", key=None, value=b"v", headers=[]))
    assert time.monotonic() - started <= 1
    servers = hook.producer_config()["bootstrap.servers"]
    assert str(raised.value) == (
        "Kafka did not accept the message for topic 'no-such-topic': Broker: Unknown topic or partition. "
        f"Topic 'no-such-topic' does not exist on {servers}: create it, or check the topic name."
    )


def test_a_batch_to_a_missing_topic_fails_within_a_second_before_sending_the_rest(broker, kafka_connection):
    hook = KafkaProducerHook(kafka_connection(host=broker.plaintext))
    taken = 0

    def records():
        nonlocal taken
        for _ in range(1_000_000):
            taken += 1
            yield None, b"v", None, ANY_PARTITION, NO_TIMESTAMP

    started = time.monotonic()
    with pytest.raises(KafkaDeliveryError) as raised, hook.get_producer() as producer:
        producer.send_many("no-such-topic-for-a-batch", records())
    assert time.monotonic() - started <= 1
    assert taken == 1
    assert re.fullmatch(
        r"1 of 1 messages sent were not acknowledged; the first reason: Kafka did not accept the message for topic "
        r"'no-such-topic-for-a-batch': Broker: Unknown topic or partition\. Topic 'no-such-topic-for-a-batch' does "
        r"not exist on 127\.0\.0\.1:\d+: create it, or check the topic name\.",
        str(raised.value),
    )


def test_a_topic_created_while_the_producer_waits_is_found(broker, kafka_connection):
    # Within 'topic.metadata.propagation.max.ms' a missing topic is asked for again, not failed at once.
    topic = f"appears-later-{uuid.uuid4().hex[:8]}"
    hook = KafkaProducerHook(kafka_connection(host=broker.plaintext))
    with hook.get_producer({"topic.metadata.propagation.max.ms": 10_000}) as producer:
        created = []

        def later():
            time.sleep(0.3)
            broker.create_topic(topic)
            created.append(time.monotonic())

        thread = threading.Thread(target=later)
        thread.start()
        try:
            receipt = producer.send(OutgoingMessage(topic=topic, key=None, value=b"v", headers=[]))
        finally:
            thread.join()
    assert receipt["topic"] == topic and created
