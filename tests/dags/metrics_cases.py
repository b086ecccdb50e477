"""DAG that tests/test_metrics.py runs through real Airflow with StatsD metrics pointed at a listener of the test."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_provider_kafka_connector.operators.kafka_producer import KafkaProducerOperator

with DAG(
    dag_id="metrics_cases",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    params={"topic": "unset", "missing_topic": "unset"},
):
    KafkaProducerOperator(task_id="single", topic="{{ params.topic }}", key="k", value="twelve bytes")
    KafkaProducerOperator(
        task_id="batch",
        topic="{{ params.topic }}",
        messages=[{"key": b"k", "value": b"0123456789"} for _ in range(5)],
    )
    KafkaProducerOperator(
        task_id="batch_to_missing_topic",
        topic="{{ params.missing_topic }}",
        messages=[{"value": b"lost"} for _ in range(4)],
    )
