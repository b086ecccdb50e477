"""Against a real three-node cluster (RF 3, min.insync.replicas 2): a broker dies and nothing is lost or duplicated.

Tasks run through real Airflow (`airflow dags test`: Airflow's own task runner, one task at a time) with the DAG
tests/dags/cluster_messages.py: one mapped task instance per single message.
"""

from __future__ import annotations

import itertools
import statistics
import threading
import time
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_kafka_connector.exceptions import KafkaDeliveryError
from airflow_provider_kafka_connector.hooks.kafka_producer import KafkaProducerHook
from airflow_provider_kafka_connector.operators.kafka_producer import RESPONSE_XCOM_KEY
from airflow_provider_kafka_connector.producer import OutgoingMessage
from airflow_provider_kafka_connector.serialization import ANY_PARTITION, NO_TIMESTAMP
from harness.airflow_dag_run import AirflowHome, DagRunResult
from harness.ports import free_port
from harness.pytest_plugin import FIGURES

pytestmark = [pytest.mark.broker, pytest.mark.cluster]

DAG_ID = "cluster_messages"
TASK_ID = "publish"
TASKS = 200


@pytest.fixture(scope="module")
def dead_server() -> str:
    """A loopback address nobody listens on."""
    return f"127.0.0.1:{free_port()}"


@pytest.fixture(scope="module")
def airflow_home(module_kafka_cluster, dead_server, tmp_path_factory) -> AirflowHome:
    """Connections kafka_cluster, and kafka_cluster_dead_first (the dead server first in the bootstrap list)."""
    servers = module_kafka_cluster.plaintext
    connections = {
        conn_id: {"conn_type": "kafka_producer", "host": host}
        for conn_id, host in [("kafka_cluster", servers), ("kafka_cluster_dead_first", f"{dead_server},{servers}")]
    }
    return AirflowHome(tmp_path_factory.mktemp("airflow"), connections, dags_folder=Path(__file__).parent / "dags")


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
            yield str(i % 97).encode(), str(i).encode(), None, ANY_PARTITION, NO_TIMESTAMP

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
    records = ((None, str(i).encode(), None, ANY_PARTITION, NO_TIMESTAMP) for i in range(count))
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


def outcomes(run: DagRunResult, cluster, topic: str) -> dict[str, Any]:
    """Each task's outcome, checked against what a consumer reads: a success's response offset must hold its
    message."""
    records = {(r.partition(), r.offset()): r.value().decode() for r in cluster.read_all(topic)}
    table: Counter[str] = Counter()
    wrong, failed = [], []
    for (task_id, index), state in sorted(run.mapped_states.items()):
        if state != "success":
            table[state] += 1
            failed.append(index)
            continue
        response = run.mapped_xcoms[(task_id, index, RESPONSE_XCOM_KEY)]
        found = records.get((response["partition"], response["offset"]))
        table["succeeded, its offset holds its message" if found == f"message {index}" else "succeeded, WRONG"] += 1
        if found != f"message {index}":
            wrong.append((index, response, found))
    return {"table": dict(table), "wrong": wrong, "failed": failed, "records": Counter(records.values())}


def test_a_dead_server_first_in_the_bootstrap_list_costs_no_more_than_twice_the_time(
    kafka_cluster, airflow_home, dead_server, kafka_connection
):
    cluster = kafka_cluster
    topic = new_cluster_topic(cluster, partitions=3)
    run = airflow_home.test_dag(DAG_ID, {"topic": topic, "count": 1, "conn_id": "kafka_cluster_dead_first"})
    assert run.state == "success", run.output[-5000:]
    result = outcomes(run, cluster, topic)
    assert result["table"] == {"succeeded, its offset holds its message": 1}, result

    # A fresh producer's single message, which waits for its producer id, with either list in turn.
    hooks = {
        "all live": KafkaProducerHook(kafka_connection("live", host=cluster.plaintext)),
        "dead first": KafkaProducerHook(kafka_connection("dead_first", host=f"{dead_server},{cluster.plaintext}")),
    }
    seconds: dict[str, list[float]] = {name: [] for name in hooks}
    for _ in range(15):
        for name, hook in hooks.items():
            started = time.monotonic()
            with hook.get_producer() as producer:
                producer.send(OutgoingMessage(topic=topic, key=None, value=b"timed", headers=[]))
            seconds[name].append(time.monotonic() - started)
    medians = {name: statistics.median(values) for name, values in seconds.items()}
    FIGURES.append(
        "1 message from a fresh producer on the cluster, median of 15: "
        + ", ".join(f"{name} {median * 1000:.0f} ms" for name, median in medians.items())
        + f" ({medians['dead first'] / medians['all live']:.2f}x); slowest: "
        + ", ".join(f"{name} {max(values) * 1000:.0f} ms" for name, values in seconds.items())
    )
    # Medians on a shared 2-core machine: 2x plus 50 ms for the noise, still far below another 500 ms wait.
    assert medians["dead first"] <= 2 * medians["all live"] + 0.05, seconds


def test_a_rolling_restart_under_200_airflow_tasks_loses_no_acknowledged_message(kafka_cluster, airflow_home):
    cluster = kafka_cluster
    topic = new_cluster_topic(cluster, partitions=3)
    restarts: list[str] = []
    run_done = threading.Event()

    def rolling_restart() -> None:
        for node_id in sorted(cluster.nodes):
            if run_done.is_set():
                return
            at = time.monotonic()
            cluster.restart_node(node_id)  # SIGTERM, wait for the process to end, start it, until it answers
            cluster.wait_in_sync(topic)  # back in every partition's in-sync replicas
            restarts.append(f"node {node_id} {at - started:.1f}..{time.monotonic() - started:.1f} s")

    started = time.monotonic()
    with ThreadPoolExecutor(1) as pool:
        restarting = pool.submit(rolling_restart)
        try:
            run = airflow_home.test_dag(DAG_ID, {"topic": topic, "count": TASKS, "conn_id": "kafka_cluster"})
            ran = time.monotonic() - started
        finally:
            run_done.set()
        restarting.result()  # a node that did not come back fails the test here
    result = outcomes(run, cluster, topic)
    FIGURES.append(
        f"rolling restart under {TASKS} single-message Airflow tasks (run {run.state} after {ran:.0f} s): "
        f"{result['table']}; restarts (from the run's start): {', '.join(restarts)}"
    )
    assert len(restarts) == len(cluster.nodes), f"the run ended before the rolling restart did: {restarts}"
    assert sum(result["table"].values()) == TASKS, result["table"]
    assert not result["wrong"], result["wrong"][:10]
    # A failed task says why: the provider's error (its one exception hierarchy) in the run's output.
    causes = [line for line in run.output.splitlines() if "airflow_provider_kafka_connector.exceptions." in line]
    assert len(causes) >= len(result["failed"]), (result["failed"], run.output[-3000:])
    acknowledged = {f"message {n}" for n in range(TASKS)} - {f"message {n}" for n in result["failed"]}
    missing = acknowledged - set(result["records"])
    duplicated = sum(count - 1 for count in result["records"].values())
    FIGURES.append(f"... acknowledged messages missing: {len(missing)}, duplicates: {duplicated}; causes: {causes[:3]}")
    assert not missing, sorted(missing)[:10]
    assert duplicated == 0


def test_the_connection_test_lists_every_broker_and_names_the_one_down(kafka_cluster, kafka_connection):
    # Last in the module: the node it kills is not started again (the module's cluster is stopped after it).
    cluster = kafka_cluster
    hook = KafkaProducerHook(kafka_connection(host=cluster.plaintext))
    addresses = {node_id: node.plaintext for node_id, node in cluster.nodes.items()}
    started = time.monotonic()
    ok, message = hook.test_connection()
    all_up = time.monotonic() - started
    assert ok, message
    assert "3 brokers reachable: " in message and "Did not answer" not in message, message
    assert all(f"{address} (id {node_id})" in message for node_id, address in addresses.items()), message

    # SIGKILL: for a few seconds the cluster still lists the dead broker, then no longer; either way it is named.
    victim = max(cluster.nodes)
    cluster.kill_node(victim)
    started = time.monotonic()
    ok, message = hook.test_connection()
    one_down = time.monotonic() - started
    FIGURES.append(f"Connections Test, cluster: {all_up:.2f} s; node {victim} killed: {one_down:.2f} s, {message}")
    assert ok, message
    assert "2 brokers reachable: " in message, message
    assert f"Did not answer: {addresses[victim]} (Connection refused)." in message, message
    assert f"{addresses[victim]} (id" not in message, message
    assert one_down < 5
