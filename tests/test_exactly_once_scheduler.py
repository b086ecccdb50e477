"""exactly_once under a real Airflow scheduler: tries killed after and before commit, a zombie, a Clear.

The deployment (harness.airflow_deployment) retries a failed try at once and declares a try dead after a few
seconds without heartbeat. The DAG tests/dags/deployment/exactly_once_faults.py injects the fault into try 1.
Every case is triggered at once (module fixture) so their waits overlap; each test then checks its own run.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_kafka_connector.operators.kafka_producer import RESPONSE_XCOM_KEY

pytestmark = pytest.mark.broker

DAG_ID = "exactly_once_faults"
TASK_ID = "publish"
ONE_MESSAGE = [b"the one message"]
CASES = {
    "committed_then_killed": {"exactly_once": True, "count": 0, "fault": "after_commit"},
    "without_exactly_once": {"exactly_once": False, "count": 0, "fault": "after_commit"},
    "killed_before_commit": {"exactly_once": True, "count": 10, "fault": "before_commit"},
    "zombie": {"exactly_once": True, "count": 10, "fault": "zombie"},
    "batch_committed_then_killed": {"exactly_once": True, "count": 10_000, "fault": "after_commit"},
    "batch_killed_before_commit": {"exactly_once": True, "count": 10_000, "fault": "before_commit"},
}


@dataclass(frozen=True)
class Run:
    topic: str
    run_id: str
    state_dir: Path
    conf: dict[str, Any]


@pytest.fixture(scope="module")
def runs(airflow_deployment, broker, tmp_path_factory) -> dict[str, Run]:
    airflow_deployment.wait_for_dag(DAG_ID)
    started = {}
    for name, conf in CASES.items():
        topic = f"eos-{name}-{os.urandom(4).hex()}"
        broker.create_topic(topic, partitions=3)
        state_dir = tmp_path_factory.mktemp(name)
        full_conf = {**conf, "topic": topic, "state_dir": str(state_dir)}
        started[name] = Run(topic, airflow_deployment.trigger(DAG_ID, full_conf), state_dir, full_conf)
    return started


def values(broker, topic: str, isolation: str) -> Counter[bytes]:
    return Counter(message.value() for message in broker.read_all(topic, isolation))


def expected(run: Run) -> Counter[bytes]:
    count = run.conf["count"]
    return Counter(ONE_MESSAGE if not count else [f"message {n}".encode() for n in range(count)])


def finished_after_two_tries(deployment, run: Run) -> dict[str, Any]:
    assert deployment.wait_for_run(DAG_ID, run.run_id, timeout=240) == "success", deployment.output_tail()
    ti = deployment.task_instance(DAG_ID, run.run_id, TASK_ID)
    assert (ti["state"], ti["try_number"]) == ("success", 2)
    return ti


def response_of(deployment, run: Run) -> Any:
    return deployment.xcom(DAG_ID, run.run_id, TASK_ID, RESPONSE_XCOM_KEY)


def report(name: str, broker, run: Run) -> tuple[Counter[bytes], Counter[bytes]]:
    committed = values(broker, run.topic, "read_committed")
    uncommitted = values(broker, run.topic, "read_uncommitted")
    print(
        f"\n{name}: read_committed {sum(committed.values())} records ({len(committed)} distinct), "
        f"read_uncommitted {sum(uncommitted.values())} records"
    )
    return committed, uncommitted


@pytest.mark.parametrize("name", ["committed_then_killed", "batch_committed_then_killed"])
def test_a_try_killed_after_its_commit_is_retried_without_sending(airflow_deployment, broker, runs, name):
    run = runs[name]
    finished_after_two_tries(airflow_deployment, run)
    first_response = json.loads((run.state_dir / "first_try_response.json").read_text())
    assert response_of(airflow_deployment, run) == first_response
    committed, uncommitted = report(name, broker, run)
    assert committed == uncommitted == expected(run)
    assert "already published its messages" in airflow_deployment.task_log(DAG_ID, run.run_id, TASK_ID, 2)


def test_without_exactly_once_the_same_failure_publishes_twice(airflow_deployment, broker, runs):
    run = runs["without_exactly_once"]
    finished_after_two_tries(airflow_deployment, run)
    committed, _ = report("without_exactly_once", broker, run)
    assert committed == Counter({ONE_MESSAGE[0]: 2})


@pytest.mark.parametrize("name", ["killed_before_commit", "batch_killed_before_commit"])
def test_a_try_killed_before_commit_is_aborted_and_the_retry_sends(airflow_deployment, broker, runs, name):
    run = runs[name]
    finished_after_two_tries(airflow_deployment, run)
    committed, uncommitted = report(name, broker, run)
    assert committed == expected(run)
    # The first try's records are in the log, aborted: read_uncommitted consumers see them twice.
    assert uncommitted == expected(run) + expected(run)
    assert response_of(airflow_deployment, run)["count"] == run.conf["count"]


def test_a_zombie_try_resumed_after_its_retry_is_fenced_and_fails(airflow_deployment, broker, runs):
    run = runs["zombie"]
    zombie_file = run.state_dir / "zombie.json"
    try:
        finished_after_two_tries(airflow_deployment, run)
    finally:
        pids = json.loads(zombie_file.read_text()) if zombie_file.exists() else {}
        for pid in (pids.get("task"), pids.get("supervisor")):  # the try first: it must meet the fence itself
            if pid:
                os.kill(pid, signal.SIGCONT)
                time.sleep(0.5)
    assert pids, "the first try never paused"
    log = ""
    deadline = time.monotonic() + 60
    while "A newer try of this task instance took over" not in log and time.monotonic() < deadline:
        time.sleep(0.5)
        log = airflow_deployment.task_log(DAG_ID, run.run_id, TASK_ID, 1)
    assert "KafkaTransactionError" in log and "A newer try of this task instance took over" in log, log[-3000:]
    committed, uncommitted = report("zombie", broker, run)
    assert committed == expected(run)
    assert uncommitted == expected(run) + expected(run)
    assert airflow_deployment.dag_run(DAG_ID, run.run_id)["state"] == "success"


def test_a_clear_publishes_again_while_a_retry_did_not(airflow_deployment, broker, runs):
    """Clear versus retry: a Clear increments the DAG run's clear_number, a retry does not."""
    run = runs["committed_then_killed"]
    finished_after_two_tries(airflow_deployment, run)
    before = response_of(airflow_deployment, run)
    airflow_deployment.clear(DAG_ID, run.run_id, TASK_ID)
    assert airflow_deployment.wait_for_run(DAG_ID, run.run_id, timeout=120) == "success"
    after = response_of(airflow_deployment, run)
    assert after["offset"] != before["offset"] or after["partition"] != before["partition"]
    committed, _ = report("cleared", broker, run)
    assert committed == Counter({ONE_MESSAGE[0]: 2})
