"""DAG that tests/test_wheels.py runs in an environment where the provider is installed from a built wheel."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_provider_kafka_connector.operators.kafka_producer import KafkaProducerOperator

with DAG(
    dag_id="installed_batch",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    params={"topic": "unset", "count": 1000},
):
    KafkaProducerOperator(
        task_id="batch",
        topic="{{ params.topic }}",
        messages=lambda: ({"key": str(n), "value": {"n": n}} for n in range(1000)),
    )
