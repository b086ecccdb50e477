"""Nothing is lost or duplicated, and nothing leaks: broker restarts, a large batch, many tasks in one process."""

from __future__ import annotations

import os
import threading
import time
from collections import defaultdict

import pytest

from airflow_provider_kafka_connector.hooks.kafka_producer import KafkaProducerHook
from airflow_provider_kafka_connector.producer import OutgoingMessage
from airflow_provider_kafka_connector.serialization import ANY_PARTITION, NO_TIMESTAMP

pytestmark = pytest.mark.broker


def requires_own_broker(broker):
    if not getattr(broker, "_command", None):
        pytest.skip("needs the broker that the harness started (it restarts it)")


def in_background(target, *args):
    outcome: dict = {}

    def run():
        try:
            outcome["result"] = target(*args)
        except Exception as error:
            outcome["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def assert_exactly_once_in_order(records, count):
    values = [int(r.value()) for r in records]
    assert sorted(values) == list(range(count)), "lost or duplicated messages"
    by_partition = defaultdict(list)
    for record in records:
        by_partition[record.partition()].append(int(record.value()))
    for partition_values in by_partition.values():
        assert partition_values == sorted(partition_values), "out of order within a partition"


def test_message_sent_while_the_broker_restarts_is_acknowledged_once(broker, new_topic, kafka_connection):
    requires_own_broker(broker)
    topic = new_topic(partitions=1)
    hook = KafkaProducerHook(kafka_connection(host=broker.plaintext))
    with hook.get_producer() as producer:
        producer.send(OutgoingMessage(topic, None, b"0", []))
        broker.stop()
        thread, outcome = in_background(producer.send, OutgoingMessage(topic, None, b"1", []))
        time.sleep(2)
        broker.restart()
        thread.join(60)
    assert "error" not in outcome, outcome.get("error")
    assert outcome["result"]["offset"] == 1
    assert_exactly_once_in_order(broker.consume(topic, 2), 2)


def test_batch_across_a_broker_restart_arrives_exactly_once_in_order(broker, new_topic, kafka_connection):
    requires_own_broker(broker)
    topic = new_topic(partitions=3)
    count = 30_000
    records = ((str(i % 97).encode(), str(i).encode(), None, ANY_PARTITION, NO_TIMESTAMP) for i in range(count))
    hook = KafkaProducerHook(kafka_connection(host=broker.plaintext))
    with hook.get_producer({"linger.ms": 20}, batch=True) as producer:  # counted by the plugin, as a task's batch
        thread, outcome = in_background(producer.send_many, topic, records)
        time.sleep(0.3)
        broker.restart()
        thread.join(90)
    assert "error" not in outcome, outcome.get("error")
    assert outcome["result"]["count"] == count
    assert_exactly_once_in_order(broker.consume(topic, count, timeout=120), count)


def test_stress_100k_messages_through_one_producer(broker, new_topic, kafka_connection):
    topic = new_topic(partitions=3)
    count = 100_000
    hook = KafkaProducerHook(kafka_connection(host=broker.plaintext))
    with hook.get_producer(batch=True) as producer:
        summary = producer.send_many(
            topic, ((str(i % 1000).encode(), str(i).encode(), None, ANY_PARTITION, NO_TIMESTAMP) for i in range(count))
        )
    assert summary["count"] == count
    records = broker.consume(topic, count, timeout=180)
    assert_exactly_once_in_order(records, count)
    for partition, span in summary["partitions"].items():
        offsets = [r.offset() for r in records if r.partition() == int(partition)]
        assert (span["first_offset"], span["last_offset"]) == (min(offsets), max(offsets))


def process_resources():
    with open("/proc/self/status") as status:
        fields = dict(line.split(":", 1) for line in status)
    return {
        "threads": int(fields["Threads"]),
        "fds": len(os.listdir("/proc/self/fd")),
        "rss_kb": int(fields["VmRSS"].split()[0]),
    }


def test_soak_200_single_message_sends_leak_nothing(broker, topic, kafka_connection):
    hook = KafkaProducerHook(kafka_connection(host=broker.plaintext))
    # librdkafka takes about 0.5 s to get an idempotent producer id; without it the soak runs in seconds.
    quick = {"enable.idempotence": False}

    def send_one(i):
        with hook.get_producer(quick) as producer:
            producer.send(OutgoingMessage(topic, None, str(i).encode(), []))

    for i in range(20):
        send_one(i)
    time.sleep(0.5)
    before = process_resources()
    for i in range(200):
        send_one(i)
    time.sleep(0.5)
    after = process_resources()
    assert after["threads"] == before["threads"]
    assert after["fds"] <= before["fds"] + 2
    assert after["rss_kb"] - before["rss_kb"] < 30_000, (before, after)
