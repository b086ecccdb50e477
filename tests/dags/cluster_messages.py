"""Test-only: single-message tasks through Airflow's task runner, one mapped task instance per message.

tests/test_cluster.py runs it (`airflow dags test`) with a conf:
    topic, count (how many tasks), conn_id (the connection every task uses)
Task instance N sends the value "message N"; its `response` XCom says where the broker put it. No retries: a
failed task is reported as failed, with its cause in its log.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import DAG, task

from airflow_provider_kafka_connector.operators.kafka_producer import KafkaProducerOperator

with DAG(
    dag_id="cluster_messages",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    default_args={"retries": 0},
    max_active_tasks=64,
):

    @task
    def messages(dag_run: Any = None) -> list[dict[str, str]]:
        conf = dag_run.conf
        return [{"value": f"message {n}", "kafka_conn_id": conf["conn_id"]} for n in range(conf["count"])]

    KafkaProducerOperator.partial(task_id="publish", topic="{{ dag_run.conf['topic'] }}").expand_kwargs(messages())
