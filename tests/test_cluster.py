"""Against a real three-node cluster (RF 3, min.insync.replicas 2): a broker dies and nothing is lost or duplicated."""

from __future__ import annotations

import itertools
import time
import uuid
from collections import defaultdict

import pytest

from airflow_provider_kafka_connector.hooks.kafka_producer import KafkaProducerHook
from airflow_provider_kafka_connector.serialization import ANY_PARTITION
from harness.pytest_plugin import FIGURES

pytestmark = [pytest.mark.broker, pytest.mark.cluster]


def new_cluster_topic(cluster, partitions):
    name = f"cluster-{uuid.uuid4().hex[:8]}"
    cluster.create_topic(name, partitions=partitions)
    cluster.wait_in_sync(name)
    return name


def test_leader_killed_mid_batch_every_message_arrives_once_in_order(kafka_cluster, kafka_connection):
    cluster = kafka_cluster
    topic = new_cluster_topic(cluster, partitions=6)
    count, kill_at = 100_000, 40_000
    victim = cluster.leader_of(topic, 0)
    killed_at: list[float] = []

    def records():
        for i in range(count):
            if i == kill_at:  # the batch is in flight: 40,000 messages handed to the producer, 60,000 to come
                cluster.kill_node(victim)
                killed_at.append(time.monotonic())
            yield str(i % 97).encode(), str(i).encode(), None, ANY_PARTITION

    hook = KafkaProducerHook(kafka_connection(host=cluster.plaintext))
    started = time.monotonic()
    try:
        with hook.get_producer() as producer:
            summary = producer.send_many(topic, records())
        elapsed = time.monotonic() - started
        assert killed_at, "the leader was never killed"
        assert cluster.leader_of(topic, 0) not in (victim, -1), "partition 0 did not move to another node"
        records_read = cluster.read_all(topic)
    finally:
        cluster.restart_node(victim)
        cluster.wait_in_sync(topic)

    values = [int(r.value()) for r in records_read]
    duplicates = len(values) - len(set(values))
    by_partition = defaultdict(list)
    for record in records_read:
        by_partition[record.partition()].append(record)
    out_of_order = sum(
        1
        for partition_records in by_partition.values()
        for before, after in itertools.pairwise(partition_records)
        if int(before.value()) > int(after.value())
    )
    FIGURES.append(
        f"leader of partition 0 (node {victim}) SIGKILLed mid-batch: sent {count}, acknowledged {summary['count']}, "
        f"read {len(values)}, duplicates {duplicates}, out of order {out_of_order}; the batch took {elapsed:.1f} s"
    )
    assert summary["count"] == count
    assert sorted(values) == list(range(count)), "lost or duplicated messages"
    assert out_of_order == 0, "out of order within a partition"
    assert summary["partitions"] == {
        str(partition): {"first_offset": got[0].offset(), "last_offset": got[-1].offset()}
        for partition, got in sorted(by_partition.items())
    }
