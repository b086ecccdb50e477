"""Against a real three-node cluster (RF 3, min.insync.replicas 2): a broker dies and nothing is lost or duplicated."""

from __future__ import annotations

import itertools
import time
import uuid
from collections import defaultdict

import pytest

from airflow_provider_kafka_connector.exceptions import KafkaDeliveryError
from airflow_provider_kafka_connector.hooks.kafka_producer import KafkaProducerHook
from airflow_provider_kafka_connector.serialization import ANY_PARTITION
from harness.pytest_plugin import FIGURES

pytestmark = [pytest.mark.broker, pytest.mark.cluster]


def new_cluster_topic(cluster, partitions, **config):
    name = f"cluster-{uuid.uuid4().hex[:8]}"
    cluster.create_topic(name, partitions=partitions, config=config)
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
    with hook.get_producer() as producer:
        summary = producer.send_many(topic, records())
    elapsed = time.monotonic() - started
    assert killed_at, "the leader was never killed"
    assert cluster.leader_of(topic, 0) not in (victim, -1), "partition 0 did not move to another node"
    records_read = cluster.read_all(topic)  # from the two nodes left (the next test's fixture restarts the third)

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


def test_too_few_in_sync_replicas_fails_within_the_delivery_timeout_naming_the_cause(kafka_cluster, kafka_connection):
    # Two of three combined nodes down would also lose the controller quorum (and a new producer its producer id).
    # The failure meant here is a partition with fewer in-sync replicas than min.insync.replicas while the cluster
    # is otherwise healthy: the topic asks for all 3 replicas in sync, and one node is stopped.
    cluster = kafka_cluster
    topic = new_cluster_topic(cluster, partitions=1, **{"min.insync.replicas": "3"})
    stopped = next(node for node in cluster.nodes if node != cluster.leader_of(topic, 0))
    count, timeout_ms = 20, 6000
    hook = KafkaProducerHook(kafka_connection(host=cluster.plaintext))
    cluster.stop_node(stopped)
    cluster.wait_in_sync(topic, in_sync=2)
    records = ((None, str(i).encode(), None, ANY_PARTITION) for i in range(count))
    started = time.monotonic()
    with (
        hook.get_producer({"delivery.timeout.ms": timeout_ms}) as producer,
        pytest.raises(KafkaDeliveryError) as failure,
    ):
        producer.send_many(topic, records)
    elapsed = time.monotonic() - started
    message = str(failure.value)
    FIGURES.append(
        f"min.insync.replicas not met: failed after {elapsed:.1f} s (delivery.timeout.ms {timeout_ms}): {message}"
    )
    assert f"{count} of {count} messages sent were not acknowledged" in message
    assert "NOT_ENOUGH_REPLICAS" in message
    assert "partition 0: 2 of 3 replicas in sync" in message
    assert "min.insync.replicas=3" in message
    assert timeout_ms / 1000 <= elapsed < timeout_ms / 1000 + 20
    # Nothing was acknowledged, and the topic holds nothing once every node is back.
    cluster.ensure_all_running()
    cluster.wait_in_sync(topic)
    assert cluster.read_all(topic) == []
