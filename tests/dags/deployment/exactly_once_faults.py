"""Test-only: the operator under a real scheduler, with a fault injected into the first try of a task instance.

tests/test_exactly_once_scheduler.py triggers it with a conf:
    topic, exactly_once (bool), count (0: one message, else a batch of that many), state_dir (where this DAG
    leaves what the test reads), fault (on try 1 only):
    after_commit   the task's messages are acknowledged (and, with exactly_once, committed), then SIGKILL
    before_commit  a batch's records reach the broker, then SIGKILL before the end of the batch (no commit)
    zombie         as before_commit, but the try and its supervisor stop (SIGSTOP) until the test resumes them
Nothing here is part of the provider: the fault lives in this subclass and in the batch's generator.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import DAG

from airflow_provider_kafka_connector.operators.kafka_producer import KafkaProducerOperator

# Time for records produced before a fault to reach the broker (they then sit in the open transaction).
_LET_RECORDS_ARRIVE_SECONDS = 2


def _batch(count: int, fault: str | None, state_dir: Path) -> Iterator[dict[str, Any]]:
    for number in range(count):
        yield {"key": str(number), "value": f"message {number}"}
    if fault in ("before_commit", "zombie"):
        time.sleep(_LET_RECORDS_ARRIVE_SECONDS)
    if fault == "before_commit":
        os.kill(os.getpid(), signal.SIGKILL)
    if fault == "zombie":
        (state_dir / "zombie.json").write_text(json.dumps({"task": os.getpid(), "supervisor": os.getppid()}))
        os.kill(os.getppid(), signal.SIGSTOP)  # its heartbeats stop: Airflow declares the try dead and retries
        os.kill(os.getpid(), signal.SIGSTOP)


class FaultyProducerOperator(KafkaProducerOperator):
    def execute(self, context: Any) -> dict[str, Any]:
        conf = context["dag_run"].conf
        state_dir = Path(conf["state_dir"])
        fault = conf.get("fault") if context["ti"].try_number == 1 else None
        self.exactly_once = bool(conf["exactly_once"])
        if conf.get("count"):
            self.messages = lambda: _batch(conf["count"], fault, state_dir)
        else:
            self.key, self.value = "the key", "the one message"
        response = super().execute(context)
        if fault == "after_commit":
            (state_dir / "first_try_response.json").write_text(json.dumps(response))
            os.kill(os.getpid(), signal.SIGKILL)
        return response


with DAG(
    dag_id="exactly_once_faults",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    default_args={"retries": 1, "retry_delay": timedelta(seconds=0)},
):
    FaultyProducerOperator(task_id="publish", topic="{{ dag_run.conf['topic'] }}", kafka_conn_id="kafka_harness")
