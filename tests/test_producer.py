"""A batch through KafkaProducer.send_many against the real broker: plain dicts go through produce_batch, the rest
one produce() each, and the summary matches what a consumer reads back. Each test runs with the delivery outcomes
counted by the Python callback and by the librdkafka plugin (native_tally.py), which a task's batch uses."""

from __future__ import annotations

import gc
import os

import pytest
from confluent_kafka import Consumer, TopicPartition

from airflow_provider_kafka_connector.exceptions import KafkaDeliveryError
from airflow_provider_kafka_connector.hooks.kafka_producer import KafkaProducerHook
from airflow_provider_kafka_connector.serialization import serialized_records

pytestmark = pytest.mark.broker

# get_producer(batch=...): True counts in the plugin, False with DeliveryTally's Python callback.
counting = pytest.mark.parametrize("batch", [True, False], ids=["plugin", "python-callback"])


def counts_as_asked(producer, batch: bool) -> None:
    assert (producer._tally_slot is not None) == batch


def read_back(broker, topic: str, partitions: int = 3) -> dict[int, list[bytes]]:
    """Every value of the topic, per partition, in offset order."""
    consumer = Consumer(
        {"bootstrap.servers": broker.plaintext, "group.id": f"read-{os.getpid()}", "enable.auto.commit": False}
    )
    try:
        values: dict[int, list[bytes]] = {}
        for partition in range(partitions):
            high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)[1]
            consumer.assign([TopicPartition(topic, partition, 0)])
            values[partition] = []
            while len(values[partition]) < high:
                for message in consumer.consume(high, timeout=10):
                    assert message.error() is None
                    values[partition].append(message.value())
        return values
    finally:
        consumer.close()


@counting
def test_a_mixed_batch_is_acknowledged_in_order_and_summarized(broker, topic, kafka_connection, batch):
    # A small local queue makes produce_batch refuse part of a chunk: those wait for room and keep their order.
    hook = KafkaProducerHook(kafka_connection(host=broker.plaintext, extra={"queue.buffering.max.messages": "1500"}))
    plain = [{"value": b"%d" % i} for i in range(6000)]
    others = [{"value": str(i), "headers": {"n": i}} for i in range(6000, 6500)]
    with hook.get_producer(batch=batch) as producer:
        counts_as_asked(producer, batch)
        summary = producer.send_many(topic, serialized_records([*plain, *others]))
    assert summary["count"] == 6500
    assert all("_error" not in message for message in plain)  # the caller's dicts are left as they were
    values = read_back(broker, topic)
    assert sum(map(len, values.values())) == 6500
    # Keyless messages stick to a partition for a while (sticky partitioning): a partition may get none.
    assert summary["partitions"] == {
        str(partition): {"first_offset": 0, "last_offset": len(found) - 1}
        for partition, found in values.items()
        if found
    }
    for found in values.values():
        assert [int(value) for value in found] == sorted(int(value) for value in found)  # in the order given


@counting
def test_a_message_the_client_refuses_fails_the_batch_and_counts_what_was_sent(broker, topic, kafka_connection, batch):
    hook = KafkaProducerHook(kafka_connection(host=broker.plaintext, extra={"message.max.bytes": "2000"}))
    messages = [{"value": b"v"} for _ in range(1500)]
    messages[1200] = {"value": b"x" * 5000}
    with pytest.raises(KafkaDeliveryError) as raised, hook.get_producer(batch=batch) as producer:
        counts_as_asked(producer, batch)
        producer.send_many(topic, serialized_records(messages))
    # produce_batch queues the rest of its chunk; the one refused counts as sent and not acknowledged.
    assert str(raised.value).startswith("1 of 1500 messages sent were not acknowledged; the first reason: ")
    assert "too large" in str(raised.value).lower()
    assert "_error" not in messages[1200]
    assert gc.isenabled()  # a failed batch gives the cyclic garbage collector back too


def test_a_batch_pauses_the_cyclic_garbage_collector_while_it_sends(broker, topic, kafka_connection):
    collector_running: list[bool] = []

    def messages():
        for _ in range(2500):
            collector_running.append(gc.isenabled())
            yield {"value": b"v"}

    hook = KafkaProducerHook(kafka_connection(host=broker.plaintext))
    assert gc.isenabled()
    with hook.get_producer(batch=True) as producer:
        assert producer.send_many(topic, serialized_records(messages()))["count"] == 2500
    assert collector_running == [False] * 2500
    assert gc.isenabled()
    gc.disable()  # a process that runs without it keeps it off
    try:
        with hook.get_producer(batch=True) as producer:
            producer.send_many(topic, serialized_records({"value": b"w"} for _ in range(10)))
        assert not gc.isenabled()
    finally:
        gc.enable()
