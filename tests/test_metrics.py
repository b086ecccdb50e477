"""What a task sent, through Airflow's own StatsD metrics, as a StatsD server receives them: a real Airflow task run
with [metrics] statsd_on pointed at a UDP listener of the test; and with metrics off, nothing."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from harness.airflow_dag_run import AirflowHome

pytestmark = pytest.mark.broker

DAGS = Path(__file__).parent / "dags"
PREFIX = "airflow.kafka_connector."


def received(listener: socket.socket) -> list[str]:
    """Every StatsD line the listener has received, one datagram may hold several."""
    lines = []
    listener.settimeout(0.5)
    while True:
        try:
            data = listener.recv(65536)
        except TimeoutError:
            return lines
        lines += data.decode().splitlines()


def run_with_metrics(broker, tmp_path: Path, statsd_on: bool) -> tuple[object, list[str], str]:
    topic = f"metrics-{time.monotonic_ns()}"
    broker.create_topic(topic, partitions=1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as listener:
        listener.bind(("127.0.0.1", 0))
        airflow = AirflowHome(
            tmp_path,
            {"kafka_producer_default": {"conn_type": "kafka_producer", "host": broker.plaintext}},
            dags_folder=DAGS,
        )
        airflow.env.update(
            {
                "AIRFLOW__METRICS__STATSD_ON": str(statsd_on),
                "AIRFLOW__METRICS__STATSD_HOST": "127.0.0.1",
                "AIRFLOW__METRICS__STATSD_PORT": str(listener.getsockname()[1]),
                "AIRFLOW__METRICS__STATSD_PREFIX": "airflow",
            }
        )
        run = airflow.test_dag("metrics_cases", {"topic": topic, "missing_topic": f"{topic}-missing"})
        return run, received(listener), topic


def test_each_task_reports_what_it_sent_once_named_by_its_topic(broker, tmp_path):
    run, lines, topic = run_with_metrics(broker, tmp_path, statsd_on=True)
    assert run.task_states == {"single": "success", "batch": "success", "batch_to_missing_topic": "failed"}
    ours = [line for line in lines if line.startswith(PREFIX)]
    counters = [line for line in ours if line.endswith("|c")]
    assert sorted(counters) == sorted(
        [
            # single: one message of a 1-byte key and a 12-byte value
            f"{PREFIX}messages_acknowledged:1|c",
            f"{PREFIX}messages_acknowledged.{topic}:1|c",
            f"{PREFIX}bytes_sent:13|c",
            f"{PREFIX}bytes_sent.{topic}:13|c",
            # batch: five messages of 1 + 10 bytes
            f"{PREFIX}messages_acknowledged:5|c",
            f"{PREFIX}messages_acknowledged.{topic}:5|c",
            f"{PREFIX}bytes_sent:55|c",
            f"{PREFIX}bytes_sent.{topic}:55|c",
            # the batch to a missing topic: its first message (4 bytes) goes alone and fails; the rest is not sent
            f"{PREFIX}messages_acknowledged:0|c",
            f"{PREFIX}messages_acknowledged.{topic}-missing:0|c",
            f"{PREFIX}messages_failed:1|c",
            f"{PREFIX}messages_failed.{topic}-missing:1|c",
            f"{PREFIX}bytes_sent:4|c",
            f"{PREFIX}bytes_sent.{topic}-missing:4|c",
        ]
    )
    timers = [line for line in ours if line.endswith("|ms")]
    names = sorted(line.split(":")[0] for line in timers)
    assert names == sorted(
        [f"{PREFIX}time_to_last_ack"] * 3
        + [f"{PREFIX}time_to_last_ack.{topic}"] * 2
        + [f"{PREFIX}time_to_last_ack.{topic}-missing"]
    )
    assert all(0 < float(line.split(":")[1].split("|")[0]) < 30_000 for line in timers)


def test_with_metrics_off_nothing_is_sent(broker, tmp_path):
    run, lines, _ = run_with_metrics(broker, tmp_path, statsd_on=False)
    assert run.task_states["batch"] == "success"
    assert lines == []
