"""A real three-node Apache Kafka cluster (KRaft) for failover tests, built from the single broker's parts.

Each node is a combined broker+controller (harness.kafka_broker.prepare_node) with the single broker's listeners,
certificates (one CA for all nodes) and users. The three nodes are the static controller quorum, so one node down
keeps the quorum (2 of 3) and every partition keeps min.insync.replicas=2 of its 3 replicas; two nodes down lose
both the quorum and the in-sync replicas.
"""

from __future__ import annotations

import contextlib
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from confluent_kafka import KafkaException

from harness.certificates import Certificate
from harness.kafka_broker import (
    HOST,
    TRICKY_USER,
    BrokerError,
    KafkaBroker,
    _Node,
    _Ports,
    _random_cluster_id,
    _upsert_scram,
    _wait_ready,
    fetch_jars,
    prepare_node,
)
from harness.services import running

SIZE = 3
REPLICAS = 3
MIN_INSYNC = 2
# Three JVMs share the machine with Airflow: a smaller heap than the single broker's.
JVM_OPTS = ("-Xms128m", "-Xmx384m")
# A dead node is fenced (and its partitions get new leaders) after broker.session.timeout.ms: 9 s by default.
FAILOVER_SETTINGS = (("broker.session.timeout.ms", "4000"), ("broker.heartbeat.interval.ms", "500"))


@dataclass
class KafkaCluster(KafkaBroker):
    """The cluster as a client sees it (plaintext and friends list every node), plus control of each node."""

    nodes: dict[int, KafkaBroker] = field(default_factory=dict)

    def stop(self) -> None:
        """SIGKILL every node: the data is thrown away, and a graceful stop of the last nodes would wait
        (10 s each) for a controller quorum that is already gone."""
        for node in self.nodes.values():
            node.kill()

    def restart(self, down_seconds: float = 0) -> None:
        raise BrokerError("restart the cluster's nodes one at a time: restart_node(node_id)")

    def kill_node(self, node_id: int) -> None:
        self.nodes[node_id].kill()

    def stop_node(self, node_id: int) -> None:
        self.nodes[node_id].stop()

    def restart_node(self, node_id: int) -> None:
        """Start a stopped or killed node again (a running one is stopped first); returns once it answers."""
        self.nodes[node_id].restart()

    def ensure_all_running(self) -> None:
        """Start every stopped or killed node again, and wait until the cluster shows all its brokers."""
        down = [node for node in self.nodes.values() if node._process is None or node._process.poll() is not None]
        for node in down:
            node._start_process()
        for node in down:
            _wait_ready(node)
        _wait_for_brokers(self, len(self.nodes))

    def leader_of(self, topic: str, partition: int) -> int:
        """The node id that leads the partition now, as the cluster's metadata says."""
        metadata = self.admin().list_topics(topic, timeout=10).topics[topic]
        if metadata.error is not None:
            raise KafkaException(metadata.error)
        return metadata.partitions[partition].leader

    def wait_in_sync(self, topic: str, in_sync: int | None = None, timeout: float = 60) -> None:
        """Wait until every partition of topic has in_sync replicas in sync (default all: a restarted node caught
        up; fewer: a stopped node left the in-sync replicas)."""
        admin = self.admin()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(KafkaException):
                metadata = admin.list_topics(topic, timeout=5).topics[topic]
                if metadata.partitions and all(
                    p.leader >= 0 and len(set(p.isrs)) == (in_sync or len(p.replicas))
                    for p in metadata.partitions.values()
                ):
                    return
            time.sleep(0.1)
        raise BrokerError(f"{topic!r}: not {in_sync or 'all'} replicas in sync after {timeout:.0f} s")

    def rss_bytes(self) -> dict[int, int]:
        """Resident memory of each running node's JVM."""
        sizes = {}
        for node_id, node in self.nodes.items():
            process = node._process
            if process is not None and process.poll() is None:
                with contextlib.suppress(OSError):
                    pages = int(Path(f"/proc/{process.pid}/statm").read_text().split()[1])
                    sizes[node_id] = pages * os.sysconf("SC_PAGE_SIZE")
        return sizes


def start_cluster(work_dir: Path, size: int = SIZE) -> KafkaCluster:
    """Start a fresh cluster; node N's certificates, configuration, data and log live in work_dir/node-N."""
    fetch_jars()
    ca = Certificate.authority("harness-ca")
    ports = dict(enumerate(_Ports.free_for(size), start=1))
    voters = ",".join(f"{node_id}@{HOST}:{p.controller}" for node_id, p in ports.items())
    cluster_id = _random_cluster_id()

    def prepare(node_id: int) -> KafkaBroker:
        node = _Node(node_id, voters, REPLICAS, MIN_INSYNC, FAILOVER_SETTINGS, JVM_OPTS)
        return prepare_node(work_dir / f"node-{node_id}", ca, ports[node_id], cluster_id, node)

    with ThreadPoolExecutor(size) as pool:  # each node's storage format is a JVM run of a few seconds
        nodes = dict(zip(ports, pool.map(prepare, ports), strict=True))
    first = nodes[1]

    def listeners(attribute: str) -> str:
        return ",".join(getattr(node, attribute) for node in nodes.values())

    cluster = KafkaCluster(
        plaintext=listeners("plaintext"),
        sasl_plaintext=listeners("sasl_plaintext"),
        sasl_ssl=listeners("sasl_ssl"),
        ssl=listeners("ssl"),
        ca_file=first.ca_file,
        client_certificates=first.client_certificates,  # issued by the CA every node trusts
        plain_user=first.plain_user,
        scram_user=first.scram_user,
        tricky_user=first.tricky_user,
        unicode_user=first.unicode_user,
        work_dir=work_dir,
        nodes=nodes,
    )
    try:
        for node in nodes.values():  # all at once: a node answers only once a quorum of controllers runs
            node._start_process()
        for node in nodes.values():
            _wait_ready(node)
        _wait_for_brokers(cluster, size)
        _upsert_scram(cluster, [TRICKY_USER])
    except BaseException:
        cluster.stop()
        raise
    return cluster


def _wait_for_brokers(cluster: KafkaCluster, size: int, timeout: float = 60) -> None:
    admin = cluster.admin()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(KafkaException):
            if len(admin.list_topics(timeout=2).brokers) == size:
                return
        time.sleep(0.1)
    raise BrokerError(f"the cluster did not show {size} brokers within {timeout:.0f} s")


def running_cluster(work_dir: Path | None = None) -> contextlib.AbstractContextManager[KafkaCluster]:
    """Start a cluster, yield it, always stop it; a temporary work_dir is removed afterwards."""
    return running(start_cluster, work_dir, "kafka-cluster-")
